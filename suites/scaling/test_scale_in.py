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

from mysqlsts import attach
from mysqlsts.deployment import Deployment
from mysqlsts.disruption import (
    check_clone_skipped,
    compare_keys,
    disturbance,
    identity,
    wait_pod_instance_gone,
    wait_replication_running,
)
from mysqlsts.kube import Kube
from mysqlsts.mysql import MySQL

pytestmark = [pytest.mark.mutates_deployment, allure.suite("scaling")]


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
    assert deployment.replicas >= 2, "scaling in needs at least one replica besides the master"
    ns, sts = deployment.namespace, deployment.statefulset
    top = deployment.replicas - 1
    pod_name, claim = deployment.pod_name(top), deployment.pvc_name(top)
    with disturbance(kube, mysql, deployment, "scale_in") as disturbed:
        scratch = disturbed.scratch
        before = scratch.write("before scale-in")
        mysql.wait_replicas_caught_up()
        kept = [identity(kube, deployment, p) for p in deployment.pod_names()]
        removed = kept[top]

        with allure.step(f"scale {sts} in to {top} replicas"):
            kube.scale_statefulset(ns, sts, top)
            wait_pod_instance_gone(kube, ns, pod_name, removed.uid)
            kube.wait_statefulset_ready(ns, sts, replicas=top)

        with allure.step(f"{pod_name} is gone, the other pods untouched, {claim} kept"):
            pods = {p["metadata"]["name"]: p for p in kube.list_pods(ns, deployment.label_selector)}
            pvc = kube.get_pvc(ns, claim)
            attach.table(
                "after scale-in",
                [
                    *({"pod": n, "uid": p["metadata"]["uid"]} for n, p in pods.items()),
                    {
                        "claim": claim,
                        "uid": pvc and pvc["metadata"]["uid"],
                        "phase": pvc and pvc["status"].get("phase"),
                        "volume": pvc and pvc["spec"].get("volumeName"),
                    },
                ],
            )
            assert pod_name not in pods, f"{pod_name} still exists after scaling in"
            for survivor in kept[:top]:
                assert survivor.name in pods, f"{survivor.name} was removed instead of {pod_name}"
                assert pods[survivor.name]["metadata"]["uid"] == survivor.uid, (
                    f"{survivor.name} was replaced while scaling in"
                )
            assert pvc is not None, f"claim {claim} was deleted when {pod_name} was scaled in"
            assert pvc["metadata"]["uid"] == removed.claim_uid, f"{claim} is a new claim"
            assert pvc["status"].get("phase") == "Bound", pvc["status"]
            assert pvc["spec"].get("volumeName") == removed.volume, (
                f"{claim} moved from PV {removed.volume} to {pvc['spec'].get('volumeName')}"
            )

        meanwhile = scratch.write("while scaled in")

        with allure.step(f"scale {sts} out to {deployment.replicas} replicas again"):
            kube.scale_statefulset(ns, sts, deployment.replicas)
            kube.wait_statefulset_ready(ns, sts, replicas=deployment.replicas)

        with allure.step(f"{pod_name} got {claim} back and did not clone"):
            back = identity(kube, deployment, pod_name)
            attach.table(
                "pod before scale-in and after scale-out",
                [removed.row("before"), back.row("after")],
            )
            assert back.uid != removed.uid
            assert (back.claim, back.claim_uid, back.volume) == (
                removed.claim,
                removed.claim_uid,
                removed.volume,
            ), f"{pod_name} came back with another claim or PV"
            check_clone_skipped(kube, deployment, pod_name)

        with allure.step(f"{pod_name} keeps its rows and catches up on the writes it missed"):
            wait_replication_running(mysql, pod_name)
            mysql.wait_replica_caught_up(pod_name)
            found = scratch.keys(pod_name)
            attach.text(f"keys on {pod_name}", " ".join(map(str, found)))
            comparison = compare_keys([*before, *meanwhile], found)
            assert comparison.identical, f"{pod_name} after scaling out again: {comparison}"
