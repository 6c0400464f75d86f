"""The deployment as its manifests declare it: checking it, and putting it back.

"As declared": no node cordoned, the manifests' replica count, every pod ready, each
replica running both replication threads and caught up with the master. A test that
changes the deployment starts from that state (the plugin's deployment guard calls
:func:`require_as_declared` in setup, so a deployment left broken by an earlier test makes
the next one an error rather than a failed check) and ends in it (:func:`restore`, from
the checks' :func:`mysqlsts.scenarios.disturbance.disturbance`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import allure

from mysqlsts.db.mysql import MySQL, describe_error
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.manifests.model import Deployment

RESTORE_TIMEOUT = 300.0  # a disturbed deployment is back within about two minutes
REPLICATION_TIMEOUT = 120.0  # each replica's threads running, then caught up
# After a restore that failed (it has waited its bound already), the next check looks
# again only this long: otherwise every later check that changes the deployment would
# wait the whole bound again, in setup, for a deployment an earlier check left broken.
RECHECK_TIMEOUT = 60.0


@dataclass
class _Restores:
    # What the first of the failed restores said, until one succeeds: the rechecks that
    # follow fail too, but the first failure is the one that waited the whole bound and
    # names the cause.
    failed: str | None = None


# One per process: the checks that change the deployment run in one process (xdist group).
_restores = _Restores()


def cordoned(kube: Kube) -> list[str]:
    """The names of the cluster's unschedulable nodes."""
    return [
        n["metadata"]["name"]
        for n in kube.list_nodes()
        if (n.get("spec") or {}).get("unschedulable")
    ]


def restore(
    kube: Kube,
    mysql: MySQL,
    deployment: Deployment,
    *,
    uncordon: Iterable[str] = (),
    timeout: float = RESTORE_TIMEOUT,
) -> None:
    """Put the deployment back as the manifests describe it, and wait until it is so.

    Nodes in ``uncordon`` are made schedulable; the StatefulSet gets the manifests'
    replica count; every pod is ready; each replica runs both replication threads and has
    applied everything the master wrote. A scaled-in pod's claim stays (as StatefulSets do).
    The first failure is remembered until a restore succeeds (:func:`require_as_declared`).
    """
    try:
        _restore(kube, mysql, deployment, uncordon, timeout=timeout)
    except Exception as error:
        if _restores.failed is None:
            _restores.failed = describe_error(error)
        raise
    _restores.failed = None


def _restore(
    kube: Kube, mysql: MySQL, deployment: Deployment, uncordon: Iterable[str], *, timeout: float
) -> None:
    replication_timeout = min(timeout, REPLICATION_TIMEOUT)
    with allure.step(f"restore: {deployment.replicas} ready pods, replication running"):
        for node in uncordon:
            kube.patch_node(node, {"spec": {"unschedulable": False}})
        sts = kube.get_statefulset(deployment.namespace, deployment.statefulset)
        assert sts is not None, f"StatefulSet {deployment.statefulset} is gone"
        if (sts.get("spec") or {}).get("replicas") != deployment.replicas:
            kube.scale_statefulset(
                deployment.namespace, deployment.statefulset, deployment.replicas
            )
        wait_statefulset_ready(
            kube,
            deployment.namespace,
            deployment.statefulset,
            replicas=deployment.replicas,
            timeout=timeout,
        )
        for pod in deployment.replica_pods():
            mysql.wait_replication_running(pod, timeout=replication_timeout)
        mysql.wait_replicas_caught_up(timeout=replication_timeout)


def require_as_declared(kube: Kube, mysql: MySQL, deployment: Deployment) -> None:
    """Before a disturbing test: the deployment is as declared (waits if needed: the
    restore's bound, or :data:`RECHECK_TIMEOUT` when the last restore failed)."""
    left = cordoned(kube)
    assert not left, f"nodes are cordoned before the test: {left}"
    earlier = _restores.failed
    if earlier is None:
        restore(kube, mysql, deployment)
        return
    try:
        restore(kube, mysql, deployment, timeout=RECHECK_TIMEOUT)
    except Exception as error:
        raise AssertionError(
            f"the deployment is not as declared: an earlier check left it broken (its "
            f"restore failed: {earlier}); looked again for {RECHECK_TIMEOUT:g}s: "
            f"{describe_error(error)}"
        ) from None
