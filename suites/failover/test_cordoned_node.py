"""A pod pinned to its local PV: it waits for that node, it does not move elsewhere.

A local PV carries node affinity; a claim bound to it can only be used on that node. With
the node cordoned, a deleted pod of the StatefulSet is recreated but cannot be scheduled:
it stays Pending, and the scheduler says why in its PodScheduled condition and a
FailedScheduling event: the other nodes (the suite's kind cluster has spare workers) do
not match the PV's node affinity. Where no other node is schedulable the check is skipped:
it could not fail there. Uncordoned, the pod starts there again with its data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import allure
import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.affinity import nodes_admitted
from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.events import event_rows, pod_events
from mysqlsts.k8s.pod_waits import wait_pod_ready
from mysqlsts.k8s.status import condition, summarize_pod
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.scenarios.clone import check_clone_skipped
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.pod_identity import (
    PodIdentity,
    identity,
    identity_of,
    require_another_schedulable_node,
)
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]

Obj = dict[str, Any]
# What kube-scheduler's VolumeBinding plugin says of the nodes a pod's PV does not admit
# (Kubernetes 1.30 and later; "had volume node affinity conflict" before): with other
# schedulable nodes in the cluster, this is why the pod does not go there.
VOLUME_AFFINITY_REASONS = (
    "didn't match persistentvolume's node affinity",
    "volume node affinity conflict",
)


@step("PV {old.volume} admits node {old.node} only")
def pv_admits_only_its_node(kube: Kube, old: PodIdentity) -> None:
    assert old.volume is not None
    pv = kube.get_pv(old.volume)
    assert pv is not None
    affinity = (pv.get("spec") or {}).get("nodeAffinity")
    admitted = nodes_admitted(kube.list_nodes(), affinity)
    attachments.data(f"PV {old.volume} nodeAffinity", affinity)
    attachments.text("nodes the PV admits", ", ".join(admitted) or "(none)")
    assert admitted == [old.node], f"PV {old.volume} admits {admitted}, not only {old.node}"


@step("the new {old.name} stays Pending with a scheduling reason")
def stays_pending(kube: Kube, namespace: str, old: PodIdentity, since: datetime) -> Obj:
    """The scheduler's decision on the new instance: Unschedulable, for its PV's node."""

    def probe() -> Seen[Obj]:
        pod = kube.get_pod(namespace, old.name)
        if pod is None or pod["metadata"]["uid"] == old.uid:
            return Seen(False, "old instance still there" if pod else "no pod yet")
        scheduled = condition(pod, "PodScheduled") or {}
        decided = scheduled.get("status") == "False" or bool(pod["spec"].get("nodeName"))
        return Seen(decided, summarize_pod(pod), pod)

    pending = wait_for(
        f"the scheduler's decision on the new {old.name}", probe, timeout=120, transient=TRANSIENT
    )
    assert pending is not None
    scheduled = condition(pending, "PodScheduled") or {}
    attachments.data("PodScheduled condition", scheduled)
    assert not pending["spec"].get("nodeName"), (
        f"{old.name} was scheduled to {pending['spec'].get('nodeName')} while {old.node} "
        "was cordoned"
    )
    message = str(scheduled.get("message") or "")
    assert scheduled.get("reason") == "Unschedulable", scheduled
    assert any(reason in message.lower() for reason in VOLUME_AFFINITY_REASONS), (
        f"the scheduler does not keep {old.name} off the other nodes for its PV's node "
        f"affinity (no {' / '.join(VOLUME_AFFINITY_REASONS)!r}): {message}"
    )
    events = pod_events(kube.events(namespace), old.name, since)
    failed = [e for e in events if e.get("reason") == "FailedScheduling"]
    attachments.table(f"FailedScheduling events of {old.name}", event_rows(failed))
    assert failed, f"no FailedScheduling event for {old.name}"
    return pending


@step("{old.name} is still Pending after the writes")
def still_pending(kube: Kube, namespace: str, old: PodIdentity, pending: Obj) -> None:
    still = kube.get_pod(namespace, old.name)
    assert still is not None and still["metadata"]["uid"] == pending["metadata"]["uid"]
    attachments.text("before uncordoning", summarize_pod(still))
    assert (still.get("status") or {}).get("phase") == "Pending"
    assert not still["spec"].get("nodeName")


@step("{old.name} starts on {old.node} with its claim and data")
def returns_in_place(kube: Kube, mysql: MySQL, deployment: Deployment, old: PodIdentity) -> None:
    returned = wait_pod_ready(kube, deployment.namespace, old.name)
    new = identity_of(kube, deployment, returned)
    attachments.table(f"{old.name} before and after", [old.row("before"), new.row("after")])
    assert new.same_place(old), f"{old.name} came back elsewhere: {old} -> {new}"
    check_clone_skipped(kube, deployment, old.name)
    mysql.wait_replication_running(old.name)
    mysql.wait_replica_caught_up(old.name)


@allure.title("With its PV's node cordoned, a deleted pod stays Pending; uncordoned, it returns")
def test_deleted_pod_stays_pending_while_its_pv_node_is_cordoned_then_returns_with_its_data(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """Cordon the node of the last replica's PV, delete that pod.

    The PV's node affinity must admit that node only. The recreated pod must stay
    Pending and unscheduled although other nodes are schedulable, its PodScheduled
    condition False/Unschedulable with the scheduler's reason for the other nodes: they
    do not match the PV's node affinity; backed by a FailedScheduling event. After uncordoning,
    the pod must start on the same node with the same claim and PV, find its datadir there
    (no clone), hold its rows and catch up on writes made while it was pending.
    """
    replica = deployment.replica_pods()[-1]
    with disturbance(kube, mysql, deployment, "cordon") as disturbed:
        before = disturbed.scratch.write("before cordon")
        mysql.wait_replica_caught_up(replica)
        old = identity(kube, deployment, replica)
        assert old.node and old.volume, f"{replica} has no node or PV: {old}"
        require_another_schedulable_node(kube, old.node)
        pv_admits_only_its_node(kube, old)
        with allure.step(f"cordon {old.node} and delete {replica}"):
            since = disturbed.cordon(old.node)
            kube.delete_pod(deployment.namespace, replica)
        pending = stays_pending(kube, deployment.namespace, old, since)
        meanwhile = disturbed.scratch.write("while pending")
        still_pending(kube, deployment.namespace, old, pending)
        disturbed.uncordon(old.node)
        returns_in_place(kube, mysql, deployment, old)
        disturbed.scratch.assert_identical(replica, [*before, *meanwhile], "after uncordoning")
