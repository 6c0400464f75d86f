"""A replica cut off from the master, under writes.

The traffic between the last replica and the master is dropped (iptables in the replica
pod's network namespace, from the node) under writes: the replica reports the IO error
within a fixed bound (MySQL 5.7's default ``slave_net_timeout`` of 60 s, which the article
leaves as it is, plus the reconnect attempts; the replica's own setting is read and
reported, never used to widen the bound), the master goes on acknowledging writes; once
healed the replica reconnects by itself and catches up, nothing lost or duplicated.

Only on kind (the nodes are reached from the host); skipped elsewhere, with the reason.
A node frozen outright is a measurement of the platform, not a check of the manifests
(no manifest can make a paused node's pods move or lose data within the pause): it is in
``suites/bench/test_bench_recovery.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mysqlsts.cluster.node_faults import NodeFaults
from mysqlsts.db.mysql import MYSQL_TRANSIENT, Connections, MySQL
from mysqlsts.db.server import global_variable
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import Writers, background_writer, verify
from mysqlsts.scenarios.pod_identity import mysql_container_of
from mysqlsts.waiting import Seen, WaitTimeout, wait_for

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1), pytest.mark.faults]

# How long a cut-off replica may take to report the lost master: the article sets no
# slave_net_timeout, so MySQL 5.7's default (60 s) applies, plus 90 s for the reconnect
# attempts to fail and be reported. A fixed bound: the replica's own setting is read and
# reported, never used to widen it.
IO_ERROR_WITHIN = 150


@step("{replica}'s effective timeouts, as it will apply them")
def replica_timeouts(mysql: MySQL, replica: str, opened: Connections) -> str:
    """``slave_net_timeout`` (how long a silent master goes unnoticed) and the reconnect
    interval, read from the server: what the wait below measures against its bound."""
    net_timeout = global_variable(opened.get(replica), "slave_net_timeout")
    status = mysql.replica_status(replica, via=opened)
    retry = status.get("Connect_Retry") if status else None
    said = f"slave_net_timeout={net_timeout} s, Connect_Retry={retry} s"
    attachments.text(f"{replica}'s timeouts", said)
    return said


@step("{replica} reports the IO error of the lost master, the master goes on writing")
def replica_reports_the_io_error(
    mysql: MySQL, writers: Writers, replica: str, opened: Connections, timeouts: str
) -> str:
    """Read on a connection opened before the fault (a new port-forward to a pod under a
    fault may be refused for a while); a broken one is reopened on the next poll."""

    def probe() -> Seen[str]:
        status = mysql.replica_status(replica, via=opened)
        assert status is not None, f"{replica} is no longer a replica"
        broken = status.io_running != "Yes" and bool(status.last_io_error)
        return Seen(broken, f"{replica}: {status}", status.last_io_error)

    error = wait_for(
        f"{replica} to report an IO error ({timeouts}; bound {IO_ERROR_WITHIN} s)",
        probe,
        timeout=IO_ERROR_WITHIN,
        interval=3,
        transient=(*MYSQL_TRANSIENT, WaitTimeout),
    )
    attachments.text(f"{replica}'s IO error while cut off", str(error))
    writers.wait_more(50, timeout=60)  # the master is unaffected
    return str(error)


def test_a_replica_cut_off_from_the_master_reconnects_and_catches_up(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo, faults: NodeFaults
) -> None:
    """Drop the traffic between the last replica and the master (both ways, in the replica
    pod's network namespace) under writes: the replica reports an IO error, the master
    keeps acknowledging writes; healed, the replica reconnects by itself and the ledger
    holds on every pod."""
    replica = deployment.replica_pods()[-1]
    master_ip = str(
        (kube.get_pod(deployment.namespace, deployment.master_pod) or {})["status"]["podIP"]
    )
    with disturbance(kube, mysql, deployment, "partition") as disturbed:
        node, container = mysql_container_of(kube, deployment, replica)
        with background_writer(
            disturbed.scratch, Path(mysqlsts_run.kubeconfig), title="partition"
        ) as writers:
            writers.wait_acknowledged(50)
            with mysql.connections() as opened:
                timeouts = replica_timeouts(mysql, replica, opened)
                writers.ledger.mark(f"partition {replica} | master")
                with faults.partitioned(node, container, master_ip, f"{replica} from {master_ip}"):
                    replica_reports_the_io_error(mysql, writers, replica, opened, timeouts)
            writers.ledger.mark("healed")
            writers.wait_more(50, timeout=60)
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger, timeout=240).row()])
