"""Readiness means "mysqld answers": a frozen mysqld leaves the read Service, and returns.

The readiness probe (``mysqladmin ping`` in the article) is what takes a pod out of
``mysql-read``'s endpoints when its server stops serving, so that clients reading through
the Service are answered by the other pods. The check freezes mysqld with SIGSTOP, sent
from the node, where mysqld is not PID 1 (inside its container the kernel ignores a
SIGSTOP to PID 1): the process exists, its port accepts TCP connections into the
backlog, but it answers nothing, which is what a hung or swapped-out server looks like.
It is resumed with SIGCONT whatever happens, before the liveness probe (30 s in the
article) would restart it. Without access to the nodes' processes (clusters other than
kind) the check is skipped, with the reason.
"""

from __future__ import annotations

import time

import pytest

from mysqlsts.cluster.node_faults import NodeFaults
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s import pods
from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.clients import answers_through, mysql_client
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.pod_identity import identity, mysql_container_of
from mysqlsts.settings import Settings
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]

CONNECTIONS = 12  # through the read Service while the pod is out (bounded, a few seconds)


def readiness_bound(deployment: Deployment, settings: Settings) -> float:
    """The user's bound (``--readiness-bound``, by default what the article's probe
    gives), never one derived from the manifests under test: a probe that takes minutes
    to act must not widen its own bound. The manifests' probe is attached beside it."""
    probe = deployment.mysql_container_spec.get("readinessProbe") or {}
    attachments.data(
        "readiness bound and the manifests' readinessProbe",
        {
            "bound_seconds (--readiness-bound)": settings.readiness_bound,
            "readinessProbe": probe or "(none)",
        },
    )
    return float(settings.readiness_bound)


def endpoints_seen(
    kube: Kube, deployment: Deployment, service: str, pod: str, *, behind: bool
) -> Seen[None]:
    """Done when ``pod`` is (``behind``) or is not a ready endpoint of ``service``."""
    ready = kube.service_pods(deployment.namespace, service)
    return Seen((pod in ready) == behind, f"ready endpoints of {service}: {ready}")


@step("{pod} leaves the endpoints of {service} within {bound:.0f}s")
def leaves_the_endpoints(
    kube: Kube, deployment: Deployment, service: str, pod: str, bound: float
) -> float:
    """Seconds it took the readiness probe to take the frozen pod out (not a restart)."""
    restarts = identity(kube, deployment, pod).mysql_restarts
    started = time.monotonic()
    wait_for(
        f"{pod} to leave the ready endpoints of Service {service}",
        lambda: endpoints_seen(kube, deployment, service, pod, behind=False),
        timeout=bound,
        interval=0.5,
        transient=TRANSIENT,
    )
    took = time.monotonic() - started
    attachments.text("time out of the endpoints", f"{pod} left {service} after {took:.1f}s")
    # Out because the liveness probe killed it is not readiness doing its job.
    now = identity(kube, deployment, pod).mysql_restarts
    assert now == restarts, (
        f"{pod} left {service} only because its {deployment.mysql_container} container "
        f"restarted (restarts {restarts} -> {now}), not because a readiness probe took it out"
    )
    return took


@step("{count} connections through {service} are answered by the other pods")
def answered_by_the_others(
    client: pods.RunningPod, deployment: Deployment, service: str, frozen: str, count: int
) -> None:
    tally = answers_through(client, deployment, service, count)
    attachments.table(
        f"answers through {service} while {frozen} is frozen",
        [{"answered by": k, "connections": v} for k, v in tally.most_common()],
    )
    others = set(deployment.pod_names()) - {frozen}
    strangers = {k: v for k, v in tally.items() if k not in others}
    assert not strangers, f"connections through {service} not answered by another pod: {strangers}"
    assert sum(tally.values()) == count, f"{count} connections, answers: {dict(tally)}"


@step("{pod} returns to the endpoints of {service}")
def returns_to_the_endpoints(kube: Kube, deployment: Deployment, service: str, pod: str) -> None:
    wait_for(
        f"{pod} to be a ready endpoint of Service {service} again",
        lambda: endpoints_seen(kube, deployment, service, pod, behind=True),
        timeout=90,
        interval=1,
        transient=TRANSIENT,
    )


def freeze_and_read_around(
    kube: Kube,
    mysql: MySQL,
    deployment: Deployment,
    run: RunInfo,
    faults: NodeFaults,
    pod: str,
    settings: Settings,
) -> None:
    service, bound = deployment.read_service, readiness_bound(deployment, settings)
    assert pod in kube.service_pods(deployment.namespace, service), f"{pod} not behind {service}"
    with (
        disturbance(kube, mysql, deployment, f"ready_{pod}"),
        mysql_client(kube, deployment, run, "ready-client") as client,
    ):
        node, container = mysql_container_of(kube, deployment, pod)
        with faults.frozen(node, container, f"mysqld of {pod}"):
            leaves_the_endpoints(kube, deployment, service, pod, bound)
            answered_by_the_others(client, deployment, service, pod, CONNECTIONS)
        returns_to_the_endpoints(kube, deployment, service, pod)


@pytest.mark.parametrize("role", ["replica", "master"])
def test_a_frozen_pod_leaves_the_read_service_and_returns(
    role: str,
    deployment: Deployment,
    kube: Kube,
    mysql: MySQL,
    mysqlsts_run: RunInfo,
    faults: NodeFaults,
    mysqlsts_settings: Settings,
) -> None:
    """SIGSTOP the mysqld of the last replica, or of the master: within the readiness
    bound (``--readiness-bound``, by default what the article's probe gives) it leaves the
    read Service's ready endpoints; meanwhile every connection through the Service is answered by
    another pod (reads go on without the master); after SIGCONT it is a ready endpoint
    again."""
    pod = deployment.master_pod if role == "master" else deployment.replica_pods()[-1]
    freeze_and_read_around(kube, mysql, deployment, mysqlsts_run, faults, pod, mysqlsts_settings)
