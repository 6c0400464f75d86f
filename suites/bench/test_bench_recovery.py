"""How long a pod is away: deleted (replica, then master), its mysqld crashed, or the
node of its PV frozen.

The frozen node is a measurement of the platform, not a check of the manifests: the node
of the master's PV (with the article's layout, every pod's) is frozen (``docker pause`` of
its kind container: kubelet, containers and disk stop answering, as a hung or unreachable
machine does) under writes until the control plane marks it NotReady, then resumed. No
manifest can make a paused node's pods move or lose data within the pause (a pod on an
unreachable node is evicted only after ``tolerationSeconds: 300``, and a paused node keeps
its memory and disk); what it shows is how long writes are down and how long until every
pod is back, which is what a user of this design pays for a node that hangs. It still
fails when a pod moves, does not come back in place, or an acknowledged write is lost.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from mysqlsts.bench import measure
from mysqlsts.bench.results import BenchRun, RecoverySample
from mysqlsts.cluster.node_faults import NodeFaults
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.object_waits import wait_node_ready
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.k8s.status import condition
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import background_writer, verify
from mysqlsts.scenarios.pod_identity import (
    identity,
    mysql_container_of,
    wait_mysql_restarted,
    wait_returned_in_place,
)
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.bench, pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]
BACK_WITHIN = 300
# kube-controller-manager's --node-monitor-grace-period (50 s since Kubernetes 1.32),
# plus the time to notice: the node must be seen NotReady within this.
NOT_READY_WITHIN = 120


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


def node_ready(kube: Kube, node: str) -> str:
    found = kube.get_node(node)
    return str((condition(found, "Ready") or {}).get("status")) if found else "absent"


@step("{node} is seen NotReady, and no pod of the StatefulSet moves elsewhere")
def node_not_ready_and_pods_stay(
    kube: Kube, deployment: Deployment, node: str, before: dict[str, str]
) -> None:
    """Polls until the node's Ready condition is no longer True; the pods' nodes on the way
    must stay those of ``before`` (pod -> node before the freeze)."""
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

    try:
        wait_for(
            f"node {node} to be NotReady",
            probe,
            timeout=NOT_READY_WITHIN,
            interval=3,
            transient=TRANSIENT,
        )
    finally:
        attachments.text(f"{node} and the pods while it was frozen", "\n".join(seen))


@step("after {node} is back every pod is ready again, in place")
def everything_back(
    kube: Kube, deployment: Deployment, node: str, before: dict[str, object]
) -> None:
    wait_node_ready(kube, node, timeout=180)
    wait_statefulset_ready(kube, deployment.namespace, deployment.statefulset, timeout=BACK_WITHIN)
    for name, old in before.items():
        new = identity(kube, deployment, name)
        assert (new.node, new.claim, new.volume) == (old.node, old.claim, old.volume), (  # type: ignore[attr-defined]
            f"{name} is not where it was: {old} -> {new}"
        )


def test_the_masters_node_frozen_until_not_ready_writes_stop_then_every_pod_is_back(
    deployment: Deployment,
    kube: Kube,
    mysql: MySQL,
    mysqlsts_run: RunInfo,
    faults: NodeFaults,
    bench: BenchRun,
) -> None:
    """The node of the master's PV frozen under writes until NotReady, then resumed: how
    long writes were down, to every pod Ready in place, to caught up; no pod moved and no
    acknowledged write was lost."""
    with disturbance(kube, mysql, deployment, "bench_node_freeze") as disturbed:
        before = {p: identity(kube, deployment, p) for p in deployment.pod_names()}
        node = str(before[deployment.master_pod].node)
        places = {name: str(old.node) for name, old in before.items()}
        with background_writer(
            disturbed.scratch, Path(mysqlsts_run.kubeconfig), title=f"freeze {node}"
        ) as writers:
            writers.wait_acknowledged(100)

            def freeze_until_not_ready() -> None:
                writers.ledger.mark(f"docker pause {node}")
                with faults.paused(node):
                    node_not_ready_and_pods_stay(kube, deployment, node, places)
                writers.ledger.mark(f"docker unpause {node}")

            sample = measure.recovery(
                "master's node frozen until NotReady",
                deployment.master_pod,
                mysql,
                freeze_until_not_ready,
                lambda: everything_back(kube, deployment, node, before),
            )
            writers.wait_more(100, timeout=240)
        sample = dataclasses.replace(sample, writes_down_s=writers.ledger.longest_outage())
        bench.recovery.append(sample)
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger, timeout=300).row()])
    attachments.table("recovery", [sample.__dict__])
