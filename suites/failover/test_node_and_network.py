"""A node that stops answering, and a replica cut off from the master, under writes.

*Node loss.* In the article's layout every PV, so every pod, is on one node; with dynamic
storage the pods are spread, each pinned to the node of its volume. The check freezes the
master's node (``docker pause`` of its kind container: its kubelet, its containers and
their disk stop answering, as a hung or unreachable machine does) for longer than the
node monitor grace period, so that the control plane marks it NotReady. It is frozen
rather than killed because a kind node restarted with ``docker start`` may come back with
another address, which is not what a node loss with local disks looks like. Meanwhile no
pod may be recreated on a node other than its own (their PVs pin them), writes fail or stay unknown
(recorded as such); after the node is unpaused every pod is back, with its claim and
data, and no acknowledged write is lost.

*Partition.* The traffic between the last replica and the master is dropped (iptables in
the replica pod's network namespace, from the node) for longer than the replica's
``slave_net_timeout`` and reconnect interval: the replica reports the IO error, the
master goes on acknowledging writes; once healed the replica reconnects by itself and
catches up, nothing lost or duplicated.

Only on kind (the nodes are reached from the host); skipped elsewhere, with the reason.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mysqlsts.checks.disturbance import disturbance
from mysqlsts.checks.ledger import Writers, background_writer, verify
from mysqlsts.checks.pods import identity, mysql_container_of
from mysqlsts.cluster.nodes import NodeFaults
from mysqlsts.db.mysql import MYSQL_TRANSIENT, Connections, MySQL
from mysqlsts.k8s.client import TRANSIENT, Kube
from mysqlsts.k8s.status import condition
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.waiting import Seen, WaitTimeout, wait_for

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1), pytest.mark.faults]

# kube-controller-manager's --node-monitor-grace-period (50 s since Kubernetes 1.32),
# plus the time to notice: the node must be seen NotReady within this.
NOT_READY_WITHIN = 120
# The replica notices a silent master after slave_net_timeout (60 s in 5.7 and MariaDB).
IO_ERROR_WITHIN = 150


def node_ready(kube: Kube, node: str) -> str:
    found = next((n for n in kube.list_nodes() if n["metadata"]["name"] == node), None)
    return str((condition(found, "Ready") or {}).get("status")) if found else "absent"


@step("{node} is seen NotReady, and no pod of the StatefulSet moves elsewhere")
def node_not_ready_and_pods_stay(
    kube: Kube, deployment: Deployment, node: str, before: dict[str, str]
) -> list[str]:
    """Polls until the node's Ready condition is no longer True; the pods' nodes on the way
    must stay those of ``before`` (pod -> node before the freeze: with the article's layout
    all the frozen node, with dynamic storage spread over the nodes)."""
    seen: list[str] = []

    def probe() -> Seen[None]:
        pods = kube.list_pods(deployment.namespace, deployment.label_selector)
        places = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in pods}
        elsewhere = {
            n: f"{before.get(n)} -> {where}"
            for n, where in places.items()
            if where and where != before.get(n)
        }
        assert not elsewhere, f"pods recreated on other nodes while {node} was frozen: {elsewhere}"
        state = node_ready(kube, node)
        seen.append(
            f"{time.strftime('%H:%M:%S')} {node} Ready={state}; pods on {set(places.values())}"
        )
        return Seen(state != "True", seen[-1])

    wait_for(
        f"node {node} to be NotReady",
        probe,
        timeout=NOT_READY_WITHIN,
        interval=3,
        transient=TRANSIENT,
    )
    attachments.text(f"{node} and the pods while it was frozen", "\n".join(seen))
    return seen


@step("after {node} is back every pod is ready again, in place")
def everything_back(
    kube: Kube, deployment: Deployment, node: str, before: dict[str, object]
) -> None:
    wait_for(
        f"node {node} to be Ready",
        lambda: Seen(node_ready(kube, node) == "True", f"Ready={node_ready(kube, node)}"),
        timeout=180,
        interval=2,
        transient=TRANSIENT,
    )
    kube.wait_statefulset_ready(deployment.namespace, deployment.statefulset, timeout=300)
    for name, old in before.items():
        new = identity(kube, deployment, name)
        assert (new.node, new.claim, new.volume) == (old.node, old.claim, old.volume), (  # type: ignore[attr-defined]
            f"{name} is not where it was: {old} -> {new}"
        )


def test_a_frozen_pv_node_keeps_its_pods_and_every_acknowledged_write(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo, faults: NodeFaults
) -> None:
    """Freeze the node of the master's PV (with the article's layout, every pod's) under
    writes until the control plane marks it NotReady: no pod is recreated elsewhere, writes
    fail or are unknown meanwhile; unfrozen, every pod is ready in place, and the ledger
    holds on every pod (nothing acknowledged lost or duplicated)."""
    with disturbance(kube, mysql, deployment, "node_freeze") as disturbed:
        before = {p: identity(kube, deployment, p) for p in deployment.pod_names()}
        node = str(before[deployment.master_pod].node)
        with background_writer(
            disturbed.scratch, Path(mysqlsts_run.kubeconfig), title=f"freeze {node}"
        ) as writers:
            writers.wait_acknowledged(100)
            writers.ledger.mark(f"docker pause {node}")
            with faults.paused(node):
                places = {name: str(old.node) for name, old in before.items()}
                node_not_ready_and_pods_stay(kube, deployment, node, places)
            writers.ledger.mark(f"docker unpause {node}")
            everything_back(kube, deployment, node, before)
            writers.wait_more(100, timeout=240)
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger, timeout=300).row()])


@step("{replica} reports the IO error of the lost master, the master goes on writing")
def replica_reports_the_io_error(
    mysql: MySQL, writers: Writers, replica: str, opened: Connections
) -> str:
    """Read on a connection opened before the fault (a new port-forward to a pod under a
    fault may be refused for a while); a broken one is reopened on the next poll."""

    def probe() -> Seen[str]:
        status = mysql.replica_status(replica, via=opened)
        assert status is not None, f"{replica} is no longer a replica"
        broken = status.io_running != "Yes" and bool(status.last_io_error)
        return Seen(broken, f"{replica}: {status}", status.last_io_error)

    error = wait_for(
        f"{replica} to report an IO error",
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
                opened.get(replica)
                writers.ledger.mark(f"partition {replica} | master")
                with faults.partitioned(node, container, master_ip, f"{replica} from {master_ip}"):
                    replica_reports_the_io_error(mysql, writers, replica, opened)
            writers.ledger.mark("healed")
            writers.wait_more(50, timeout=60)
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger, timeout=240).row()])
