"""Scaling in and out again: the removed pod's claim stays and is reused, not re-cloned.

A StatefulSet scaled in deletes its highest pods but, by default
(``persistentVolumeClaimRetentionPolicy`` ``whenScaled: Retain``), keeps their claims; a
later scale-out gives the same ordinal the same claim back. The article's ``clone-mysql``
init container then finds the datadir (``[[ -d /var/lib/mysql/mysql ]] && exit 0``) and
skips the clone; mysqld resumes replication from where it stopped.
"""

from __future__ import annotations

import allure
import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pod_waits import wait_pod_instance_gone
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.scenarios.clone import check_clone_skipped
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.pod_identity import PodIdentity, identity
from mysqlsts.scenarios.statefulset_acts import scale_to

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]


@step("{removed.name} is gone, the other pods untouched, {removed.claim} kept")
def only_the_top_pod_left(
    kube: Kube, deployment: Deployment, kept: list[PodIdentity], removed: PodIdentity
) -> None:
    ns = deployment.namespace
    pods = {p["metadata"]["name"]: p for p in kube.list_pods(ns, deployment.label_selector)}
    claim = str(removed.claim)
    pvc = kube.get_pvc(ns, claim)
    attachments.table(
        "after scale-in",
        [
            *({"pod": n, "uid": p["metadata"]["uid"]} for n, p in pods.items()),
            {
                "claim": claim,
                "uid": pvc and pvc["metadata"]["uid"],
                "phase": pvc and pvc["status"].get("phase"),
                "deletionTimestamp": pvc and pvc["metadata"].get("deletionTimestamp"),
                "volume": pvc and pvc["spec"].get("volumeName"),
            },
        ],
    )
    assert removed.name not in pods, f"{removed.name} still exists after scaling in"
    for survivor in kept:
        assert survivor.name in pods, f"{survivor.name} was removed instead of {removed.name}"
        assert pods[survivor.name]["metadata"]["uid"] == survivor.uid, (
            f"{survivor.name} was replaced while scaling in"
        )
    assert pvc is not None, f"claim {claim} was deleted when {removed.name} was scaled in"
    # A Terminating claim still exists for a moment: it is being deleted, not kept.
    assert not pvc["metadata"].get("deletionTimestamp"), (
        f"claim {claim} was deleted when {removed.name} was scaled in (Terminating since "
        f"{pvc['metadata']['deletionTimestamp']})"
    )
    assert pvc["metadata"]["uid"] == removed.claim_uid, f"{claim} is a new claim"
    assert pvc["status"].get("phase") == "Bound", pvc["status"]
    assert pvc["spec"].get("volumeName") == removed.volume, (
        f"{claim} moved from PV {removed.volume} to {pvc['spec'].get('volumeName')}"
    )


@step("{removed.name} got {removed.claim} back and did not clone")
def came_back_on_its_claim(kube: Kube, deployment: Deployment, removed: PodIdentity) -> None:
    back = identity(kube, deployment, removed.name)
    attachments.table(
        "pod before scale-in and after scale-out", [removed.row("before"), back.row("after")]
    )
    assert back.uid != removed.uid
    assert back.same_claim(removed), f"{removed.name} came back with another claim or PV"
    check_clone_skipped(kube, deployment, removed.name)


@allure.title("Scaling in keeps the claim; scaling out again reuses it without cloning")
def test_scale_in_keeps_the_claim_and_scaling_out_again_reuses_it_without_cloning(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """Scale in by one, write, scale out by one.

    Scaling in must remove the highest pod only (the others keep their uid) and keep its
    claim Bound to the same PV. Scaling out again must give the pod that same claim (same
    uid, same PV); its clone init container must not stream anything (its trace runs no
    ncat/xbstream: the data exists); and it must hold the rows written before the
    scale-in and catch up on those written while it was away.
    """
    top = deployment.replicas - 1
    with disturbance(kube, mysql, deployment, "scale_in") as disturbed:
        before = disturbed.scratch.write("before scale-in")
        mysql.wait_replicas_caught_up()
        kept = [identity(kube, deployment, p) for p in deployment.pod_names()]
        removed = kept[top]
        with allure.step(f"scale {deployment.statefulset} in to {top} replicas"):
            kube.scale_statefulset(deployment.namespace, deployment.statefulset, top)
            wait_pod_instance_gone(kube, deployment.namespace, removed.name, removed.uid)
            wait_statefulset_ready(kube, deployment.namespace, deployment.statefulset, replicas=top)
        only_the_top_pod_left(kube, deployment, kept[:top], removed)
        meanwhile = disturbed.scratch.write("while scaled in")
        scale_to(kube, deployment, deployment.replicas)
        came_back_on_its_claim(kube, deployment, removed)
        with allure.step(f"{removed.name} keeps its rows and catches up on the writes it missed"):
            mysql.wait_replication_running(removed.name)
            mysql.wait_replica_caught_up(removed.name)
            disturbed.scratch.assert_identical(
                removed.name, [*before, *meanwhile], "after scaling out again"
            )
