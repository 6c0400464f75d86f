"""Rolling restarts under writes: what ``kubectl rollout restart`` does to the deployment.

A restart is a change of the pod template (the ``kubectl.kubernetes.io/restartedAt``
annotation, set through the API as kubectl sets it). With the StatefulSet's default
``RollingUpdate`` strategy the controller replaces the pods one at a time, from the
highest ordinal down, each only once the one before it is ready again; every new pod gets
its own claim back. With ``rollingUpdate.partition: P`` only the ordinals at or above P
are replaced. The restart annotation stays in the template afterwards, as it does after
``kubectl rollout restart``; the partition is put back as the manifests declare it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import is_pod_ready, summarize_statefulset
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.creation_order import PodTimeline, ordering_violations
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import background_writer, verify
from mysqlsts.scenarios.pod_identity import PodIdentity, identity
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1), pytest.mark.faults]

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def restart(kube: Kube, deployment: Deployment) -> None:
    """What ``kubectl rollout restart statefulset/<name>`` sends."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    kube.patch_statefulset(deployment.namespace, deployment.statefulset, patch)


def set_partition(kube: Kube, deployment: Deployment, partition: int | None) -> None:
    """``rollingUpdate.partition`` (None: removed, the manifests' own)."""
    patch = {
        "spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}
        }
    }
    kube.patch_statefulset(deployment.namespace, deployment.statefulset, patch)


@step("the pods {pods} are replaced, one at a time")
def watch_replacements(
    kube: Kube, deployment: Deployment, before: dict[str, PodIdentity], pods: list[str]
) -> PodTimeline:
    """Polls until each of ``pods`` is a new, ready instance; their creation and readiness."""
    timeline = PodTimeline()
    old_uids = {i.uid for i in before.values()}

    def probe() -> Seen[None]:
        current = kube.list_pods(deployment.namespace, deployment.label_selector)
        timeline.observe(current, ignore_uids=old_uids)
        new_ready = {
            p["metadata"]["name"]
            for p in current
            if p["metadata"]["uid"] not in old_uids and is_pod_ready(p)
        }
        sts = kube.get_statefulset(deployment.namespace, deployment.statefulset) or {}
        return Seen(
            set(pods) <= new_ready,
            f"{summarize_statefulset(sts)}; new and ready: {sorted(new_ready)}",
        )

    wait_for(
        f"pods {pods} to be replaced and ready", probe, timeout=360, interval=1, transient=TRANSIENT
    )
    attachments.table("new instances: creation and first readiness", timeline.rows())
    return timeline


def same_claims(kube: Kube, deployment: Deployment, before: dict[str, PodIdentity]) -> None:
    rows, moved = [], []
    for name, old in before.items():
        new = identity(kube, deployment, name)
        rows += [old.row("before"), new.row("after")]
        if not new.same_place(old):
            moved.append(f"{name}: {old} -> {new}")
    attachments.table("pods before and after the restart", rows)
    assert not moved, "pods came back with another claim, PV or node: " + "; ".join(moved)


def test_a_rolling_restart_replaces_the_pods_in_reverse_order_one_at_a_time_under_writes(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """Restart the StatefulSet through the API while three writers insert: every pod is
    replaced, from the highest ordinal down, each new one created only once the one
    replaced before it is ready; each comes back with its claim, PV and node; replication
    resumes on each; the ledger holds on every pod."""
    order = list(reversed(deployment.pod_names()))
    with disturbance(kube, mysql, deployment, "rolling_restart") as disturbed:
        before = {p: identity(kube, deployment, p) for p in deployment.pod_names()}
        with background_writer(
            disturbed.scratch, Path(mysqlsts_run.kubeconfig), title="rollout restart"
        ) as writers:
            writers.wait_acknowledged(50)
            writers.ledger.mark("rollout restart")
            restart(kube, deployment)
            timeline = watch_replacements(kube, deployment, before, order)
            writers.ledger.mark("all replaced")
            writers.wait_more(50, timeout=120)
        problems = ordering_violations(timeline, order)
        assert not problems, "pods were replaced out of order or at once: " + "; ".join(problems)
        same_claims(kube, deployment, before)
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger).row()])


@step("the StatefulSet reports the update done at and above ordinal {partition}")
def update_done_above(kube: Kube, deployment: Deployment, partition: int) -> None:
    def probe() -> Seen[None]:
        sts = kube.get_statefulset(deployment.namespace, deployment.statefulset) or {}
        status = sts.get("status") or {}
        done = (status.get("updatedReplicas") or 0) == deployment.replicas - partition and (
            status.get("readyReplicas") or 0
        ) == deployment.replicas
        return Seen(done, summarize_statefulset(sts))

    wait_for(
        "the partitioned update to be done", probe, timeout=300, interval=2, transient=TRANSIENT
    )


def test_a_partitioned_update_replaces_only_the_ordinals_at_or_above_the_partition(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """With ``rollingUpdate.partition`` at the highest ordinal, a restart replaces that pod
    only: every lower ordinal keeps its instance (same uid) once the StatefulSet reports
    the update done; the partition is then put back as the manifests declare it."""
    top = deployment.replicas - 1
    with disturbance(kube, mysql, deployment, "partitioned_update"):
        before = {p: identity(kube, deployment, p) for p in deployment.pod_names()}
        try:
            set_partition(kube, deployment, top)
            restart(kube, deployment)
            watch_replacements(kube, deployment, before, [deployment.pod_name(top)])
            update_done_above(kube, deployment, top)
            kept = {p: identity(kube, deployment, p).uid for p in deployment.pod_names(top)}
            replaced = [p for p, uid in kept.items() if uid != before[p].uid]
            assert not replaced, f"pods below the partition {top} were replaced: {replaced}"
        finally:
            set_partition(kube, deployment, None)
