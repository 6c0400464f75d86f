"""The deployment as its manifests declare it: checking it, and putting it back.

"As declared": no node cordoned, the manifests' replica count, every pod ready, each
replica running both replication threads and caught up with the master. A test that
changes the deployment starts from that state (the plugin's deployment guard calls
:func:`require_as_declared` in setup, so a deployment left broken by an earlier test makes
the next one an error rather than a failed check) and ends in it (:func:`restore`, from
the checks' :func:`mysqlsts.checks.disturbance.disturbance`).
"""

from __future__ import annotations

from collections.abc import Iterable

import allure

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment


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
    timeout: float = 300,
) -> None:
    """Put the deployment back as the manifests describe it, and wait until it is so.

    Nodes in ``uncordon`` are made schedulable; the StatefulSet gets the manifests'
    replica count; every pod is ready; each replica runs both replication threads and has
    applied everything the master wrote. A scaled-in pod's claim stays (as StatefulSets do).
    """
    with allure.step(f"restore: {deployment.replicas} ready pods, replication running"):
        for node in uncordon:
            kube.patch_node(node, {"spec": {"unschedulable": False}})
        sts = kube.get_statefulset(deployment.namespace, deployment.statefulset)
        assert sts is not None, f"StatefulSet {deployment.statefulset} is gone"
        if (sts.get("spec") or {}).get("replicas") != deployment.replicas:
            kube.scale_statefulset(
                deployment.namespace, deployment.statefulset, deployment.replicas
            )
        kube.wait_statefulset_ready(
            deployment.namespace,
            deployment.statefulset,
            replicas=deployment.replicas,
            timeout=timeout,
        )
        for pod in deployment.replica_pods():
            mysql.wait_replication_running(pod)
        mysql.wait_replicas_caught_up()


def require_as_declared(kube: Kube, mysql: MySQL, deployment: Deployment) -> None:
    """Before a disturbing test: the deployment is as declared (waits briefly if needed)."""
    left = cordoned(kube)
    assert not left, f"nodes are cordoned before the test: {left}"
    restore(kube, mysql, deployment)
