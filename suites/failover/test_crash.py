"""Hard faults under writes: mysqld killed outright, a pod deleted without grace.

A clean shutdown flushes everything, so it cannot show what a crash loses. Here mysqld is
killed with SIGKILL, sent from the node (inside its container mysqld is PID 1, which the
kernel protects from SIGKILL sent there): no shutdown runs, InnoDB must recover from its
redo log at the next start, and a replica must resume from where its relay log info
says. And a pod is deleted with grace period 0: its containers are killed at once and
the StatefulSet makes it anew on its PV's node. Meanwhile three writers insert on the
master and the ledger (:mod:`mysqlsts.scenarios.ledger`) records every acknowledged, failed
and unknown write; afterwards every acknowledged write is on every pod, once, and
CHECKSUM TABLE agrees everywhere. Only on kind (the nodes are reached from the host);
skipped elsewhere, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mysqlsts.cluster.node_faults import NodeFaults
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pod_waits import wait_pod_instance_gone
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import Writers, background_writer, verify
from mysqlsts.scenarios.pod_identity import (
    PodIdentity,
    identity,
    identity_of,
    mysql_container_of,
    wait_mysql_restarted,
    wait_returned_in_place,
)

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1), pytest.mark.faults]

WRITES_BEFORE, WRITES_AFTER = 100, 100
# What InnoDB prints when it starts from a datadir that was not shut down cleanly
# (MySQL 5.7 and MariaDB alike).
CRASH_RECOVERY = "crash recovery"


@step("SIGKILL mysqld of {pod} from its node, under writes")
def kill_mysqld(
    kube: Kube, deployment: Deployment, faults: NodeFaults, writers: Writers, pod: str
) -> None:
    node, container = mysql_container_of(kube, deployment, pod)
    writers.ledger.mark(f"SIGKILL {pod}")
    pid = faults.kill(node, container, f"mysqld of {pod}")
    attachments.text("the crash", f"SIGKILL to pid {pid} on {node} (container {container[:12]})")


@step("{old.name} restarts in place and InnoDB recovers from the crash")
def recovers_in_place(kube: Kube, deployment: Deployment, old: PodIdentity) -> None:
    pod = wait_mysql_restarted(kube, deployment, old, timeout=240)
    new = identity_of(kube, deployment, pod)
    attachments.table(f"{old.name} before and after", [old.row("before"), new.row("after")])
    assert new.same_place(old) and new.uid == old.uid, f"{old.name} moved: {old} -> {new}"
    log = kube.logs(deployment.namespace, old.name, deployment.mysql_container) or ""
    recovery = [line for line in log.splitlines() if CRASH_RECOVERY in line.lower()]
    attachments.text(f"{old.name}: InnoDB at the restart", "\n".join(recovery) or log[-3000:])
    assert recovery, (
        f"{old.name}'s mysqld started without crash recovery: it was not killed, or its "
        "datadir was not the one it wrote"
    )


def crash_under_writes(
    kube: Kube, mysql: MySQL, deployment: Deployment, run: RunInfo, faults: NodeFaults, pod: str
) -> None:
    """Kill ``pod``'s mysqld while three writers write; verify the ledger on every pod."""
    with disturbance(kube, mysql, deployment, f"crash_{pod}") as disturbed:
        old = identity(kube, deployment, pod)
        with background_writer(
            disturbed.scratch, Path(run.kubeconfig), title=f"SIGKILL {pod}"
        ) as writers:
            writers.wait_acknowledged(WRITES_BEFORE)
            kill_mysqld(kube, deployment, faults, writers, pod)
            recovers_in_place(kube, deployment, old)
            writers.ledger.mark(f"{pod} ready")
            writers.wait_more(WRITES_AFTER, timeout=180)
        verdict = verify(disturbed.scratch, writers.ledger)
        attachments.table("ledger", [verdict.row()])


def test_a_crashed_master_recovers_in_place_with_every_acknowledged_write(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo, faults: NodeFaults
) -> None:
    """SIGKILL of the master's mysqld while three writers insert: the container restarts in
    the same pod (uid, claim, PV, node), InnoDB runs crash recovery, every write the
    master acknowledged is there once (unknown ones once or not at all, failed ones
    not), the replicas reconnect by themselves and hold exactly the master's rows, and
    CHECKSUM TABLE agrees on every pod."""
    crash_under_writes(kube, mysql, deployment, mysqlsts_run, faults, deployment.master_pod)


def test_a_crashed_replica_recovers_and_resumes_from_the_right_position(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo, faults: NodeFaults
) -> None:
    """SIGKILL of the last replica's mysqld while three writers insert on the master: the
    container restarts in place, InnoDB recovers, and replication resumes from the right
    position by itself: no error (1062, 1032, 1236), no row missing or applied twice, and
    CHECKSUM TABLE equal to the master's."""
    crash_under_writes(kube, mysql, deployment, mysqlsts_run, faults, deployment.replica_pods()[-1])


@step("delete {old.name} with grace period 0, under writes")
def force_delete(kube: Kube, deployment: Deployment, writers: Writers, old: PodIdentity) -> None:
    writers.ledger.mark(f"delete {old.name} --grace-period=0")
    kube.delete_pod(deployment.namespace, old.name, grace_period_seconds=0)
    wait_pod_instance_gone(kube, deployment.namespace, old.name, old.uid)


def test_a_force_deleted_master_returns_in_place_with_every_acknowledged_write(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """Delete pod 0 with grace period 0 while three writers insert: it returns with the same
    name, claim, PV and node; the ledger holds on every pod (every acknowledged write
    once, none lost), and CHECKSUM TABLE agrees."""
    master = deployment.master_pod
    with disturbance(kube, mysql, deployment, "force_delete") as disturbed:
        old = identity(kube, deployment, master)
        with background_writer(
            disturbed.scratch, Path(mysqlsts_run.kubeconfig), title="force delete"
        ) as writers:
            writers.wait_acknowledged(WRITES_BEFORE)
            force_delete(kube, deployment, writers, old)
            wait_returned_in_place(kube, deployment, old)
            writers.ledger.mark(f"{master} ready")
            writers.wait_more(WRITES_AFTER, timeout=180)
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger).row()])
