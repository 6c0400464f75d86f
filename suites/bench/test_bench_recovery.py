"""How long a pod is away: deleted (replica, then master), or its mysqld crashed."""

from __future__ import annotations

import pytest

from mysqlsts.bench import measure
from mysqlsts.bench.results import BenchRun, RecoverySample
from mysqlsts.checks.disturbance import disturbance
from mysqlsts.checks.pods import (
    identity,
    mysql_container_of,
    wait_mysql_restarted,
    wait_returned_in_place,
)
from mysqlsts.cluster.nodes import NodeFaults
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments

pytestmark = [pytest.mark.bench, pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]
BACK_WITHIN = 300


def deleted(
    kube: Kube, mysql: MySQL, deployment: Deployment, pod: str, event: str
) -> RecoverySample:
    old = identity(kube, deployment, pod)
    return measure.recovery(
        event,
        pod,
        mysql,
        lambda: kube.delete_pod(deployment.namespace, pod),
        lambda: wait_returned_in_place(kube, deployment, old),
    )


def test_deleted_pods_are_back_and_caught_up(
    deployment: Deployment, kube: Kube, mysql: MySQL, bench: BenchRun
) -> None:
    """The last replica's pod, then the master's, deleted: each back Ready in place and
    every replica caught up within the bound."""
    with disturbance(kube, mysql, deployment, "bench_recovery"):
        replica = deployment.replica_pods()[-1]
        bench.recovery.append(deleted(kube, mysql, deployment, replica, "replica pod deleted"))
        master = deployment.master_pod
        bench.recovery.append(deleted(kube, mysql, deployment, master, "master pod deleted"))
    attachments.table("recovery", [r.__dict__ for r in bench.recovery])


def test_a_crashed_replica_is_back_and_caught_up(
    deployment: Deployment, kube: Kube, mysql: MySQL, bench: BenchRun, faults: NodeFaults
) -> None:
    """mysqld of the last replica killed from its node (SIGKILL): back Ready and caught up."""
    with disturbance(kube, mysql, deployment, "bench_crash"):
        replica = deployment.replica_pods()[-1]
        old = identity(kube, deployment, replica)
        node, container = mysql_container_of(kube, deployment, replica)
        sample = measure.recovery(
            "mysqld killed (replica)",
            replica,
            mysql,
            lambda: faults.kill(node, container, f"mysqld of {replica}"),
            lambda: wait_mysql_restarted(kube, deployment, old, timeout=BACK_WITHIN),
        )
        bench.recovery.append(sample)
    attachments.table("recovery", [sample.__dict__])
