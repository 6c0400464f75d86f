"""A pod pinned to its local PV: it waits for that node, it does not move elsewhere.

A local PV carries node affinity; a claim bound to it can only be used on that node. With
the node cordoned, a deleted pod of the StatefulSet is recreated but cannot be scheduled:
it stays Pending, and the scheduler says why in its PodScheduled condition and a
FailedScheduling event. Uncordoned, the pod starts there again with its data.
"""

from __future__ import annotations

from datetime import UTC, datetime

import allure
import pytest

from mysqlsts import attach, podstate
from mysqlsts.deployment import Deployment
from mysqlsts.disruption import (
    check_clone_skipped,
    compare_keys,
    disturbance,
    event_rows,
    events_for,
    identity,
    identity_of,
    wait_replication_running,
)
from mysqlsts.kube import TRANSIENT, Kube
from mysqlsts.mysql import MySQL
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, allure.suite("failover")]

# What the scheduler says when a pod cannot go to a cordoned node, or to another node
# because of its PV (the wording of kube-scheduler's NodeUnschedulable and VolumeBinding).
SCHEDULING_REASONS = ("unschedulable", "node affinity")


def node_selected_by(pv: dict, node: dict) -> bool:
    """Whether a PV's required node affinity (matchExpressions, In/NotIn/Exists) admits ``node``."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    terms = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
        "nodeSelectorTerms"
    ) or []
    if not terms:
        return True

    def matches(expression: dict) -> bool:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In":
            return labels.get(key) in values
        if operator == "NotIn":
            return labels.get(key) not in values
        if operator == "Exists":
            return key in labels
        if operator == "DoesNotExist":
            return key not in labels
        return False

    return any(all(matches(e) for e in term.get("matchExpressions") or []) for term in terms)


@allure.title("With its PV's node cordoned, a deleted pod stays Pending; uncordoned, it returns")
def test_deleted_pod_stays_pending_while_its_pv_node_is_cordoned_then_returns_with_its_data(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """Cordon the node of the last replica's PV, delete that pod.

    The PV's node affinity must admit that node only. The recreated pod must stay
    Pending and unscheduled, its PodScheduled condition False/Unschedulable with a
    message naming the cause (unschedulable node or node affinity), backed by a
    FailedScheduling event. After uncordoning, the pod must start on the same node with
    the same claim and PV, find its datadir there (no clone), hold its rows and catch up
    on writes made while it was pending.
    """
    ns = deployment.namespace
    replica = deployment.replica_pods()[-1]
    with disturbance(kube, mysql, deployment, "cordon") as disturbed:
        scratch = disturbed.scratch
        before = scratch.write("before cordon")
        mysql.wait_replica_caught_up(replica)
        old = identity(kube, deployment, replica)
        assert old.node and old.volume, f"{replica} has no node or PV: {old}"

        with allure.step(f"PV {old.volume} admits node {old.node} only"):
            pv = kube.get_pv(old.volume)
            assert pv is not None
            nodes = kube.list_nodes()
            admitted = [n["metadata"]["name"] for n in nodes if node_selected_by(pv, n)]
            attach.data(f"PV {old.volume} nodeAffinity", (pv.get("spec") or {}).get("nodeAffinity"))
            attach.text("nodes the PV admits", ", ".join(admitted) or "(none)")
            assert admitted == [old.node], f"PV {old.volume} admits {admitted}, not only {old.node}"

        with allure.step(f"cordon {old.node} and delete {replica}"):
            since = datetime.now(UTC)
            disturbed.cordon(old.node)
            kube.delete_pod(ns, replica)

        with allure.step(f"the new {replica} stays Pending with a scheduling reason"):

            def probe() -> Seen[dict]:
                pod = kube.get_pod(ns, replica)
                if pod is None or pod["metadata"]["uid"] == old.uid:
                    return Seen(False, "old instance still there" if pod else "no pod yet")
                scheduled = podstate.condition(pod, "PodScheduled") or {}
                decided = scheduled.get("status") == "False" or bool(pod["spec"].get("nodeName"))
                return Seen(decided, podstate.summarize_pod(pod), pod)

            pending = wait_for(
                f"the scheduler's decision on the new {replica}",
                probe,
                timeout=120,
                transient=TRANSIENT,
            )
            assert pending is not None
            scheduled = podstate.condition(pending, "PodScheduled") or {}
            attach.data("PodScheduled condition", scheduled)
            assert not pending["spec"].get("nodeName"), (
                f"{replica} was scheduled to {pending['spec'].get('nodeName')} while {old.node} "
                "was cordoned"
            )
            message = str(scheduled.get("message") or "")
            assert scheduled.get("reason") == "Unschedulable", scheduled
            assert any(reason in message.lower() for reason in SCHEDULING_REASONS), (
                f"the scheduling message names neither cause {SCHEDULING_REASONS}: {message}"
            )
            failed = [
                e
                for e in events_for(kube, ns, replica, since)
                if e.get("reason") == "FailedScheduling"
            ]
            attach.table(f"FailedScheduling events of {replica}", event_rows(failed))
            assert failed, f"no FailedScheduling event for {replica}"

        meanwhile = scratch.write("while pending")

        with allure.step(f"{replica} is still Pending after the writes; uncordon {old.node}"):
            still = kube.get_pod(ns, replica)
            assert still is not None and still["metadata"]["uid"] == pending["metadata"]["uid"]
            attach.text("before uncordoning", podstate.summarize_pod(still))
            assert (still.get("status") or {}).get("phase") == "Pending"
            assert not still["spec"].get("nodeName")
            disturbed.uncordon(old.node)

        with allure.step(f"{replica} starts on {old.node} with its claim and data"):
            returned = kube.wait_pod_ready(ns, replica)
            new = identity_of(kube, deployment, returned)
            attach.table(f"{replica} before and after", [old.row("before"), new.row("after")])
            assert new.same_place(old), f"{replica} came back elsewhere: {old} -> {new}"
            check_clone_skipped(kube, deployment, replica)
            wait_replication_running(mysql, replica)
            mysql.wait_replica_caught_up(replica)
            comparison = compare_keys([*before, *meanwhile], scratch.keys(replica))
            assert comparison.identical, f"{replica} after uncordoning: {comparison}"
