"""The StatefulSet deleted and its manifest applied again: every pod back with its data.

Users delete a StatefulSet and apply it again to redeploy, or to change a field that
cannot be updated in place (``volumeClaimTemplates``, ``serviceName``, the selector), with
or without ``--cascade=orphan``. The claims outlive the StatefulSet (they are not owned by
it, unless ``persistentVolumeClaimRetentionPolicy.whenDeleted: Delete`` says otherwise), so
the pods the new StatefulSet makes, or adopts, must find their own claims, PVs and data:
replication resumes and nothing acknowledged is lost. Done under the ledger's writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.object_waits import wait_object_gone
from mysqlsts.k8s.pod_waits import wait_pod_instance_gone
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import Writers, background_writer, verify
from mysqlsts.scenarios.pod_identity import identity

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1), pytest.mark.slow]

WRITES_BEFORE = 30
WRITES_AFTER = 30
# kubectl delete --cascade=background|orphan, as the API names them.
CASCADES = {"background": "Background", "orphan": "Orphan"}


def claims_of(kube: Kube, deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Each pod's claim: its uid and the PV it is bound to."""
    found = {}
    for ordinal in range(deployment.replicas):
        claim = kube.get_pvc(deployment.namespace, deployment.pvc_name(ordinal))
        found[deployment.pvc_name(ordinal)] = (
            {"uid": claim["metadata"]["uid"], "volume": claim["spec"].get("volumeName")}
            if claim
            else {"uid": None, "volume": None}
        )
    return found


@step("delete StatefulSet {deployment.statefulset} (cascade {cascade}) under writes")
def delete_statefulset(
    kube: Kube, deployment: Deployment, writers: Writers, cascade: str
) -> dict[str, str]:
    """Returns each pod's uid before the deletion."""
    ns, name = deployment.namespace, deployment.statefulset
    uids = {pod: identity(kube, deployment, pod).uid for pod in deployment.pod_names()}
    writers.ledger.mark(f"delete statefulset --cascade={cascade}")
    kube.delete_object("apps/v1", "StatefulSet", name, ns, propagation=CASCADES[cascade])
    wait_object_gone(kube, "apps/v1", "StatefulSet", name, ns, timeout=120)
    if cascade == "background":
        for pod, uid in uids.items():
            wait_pod_instance_gone(kube, ns, pod, uid, timeout=180)
    return uids


@step("every pod's claim outlives the StatefulSet")
def claims_outlive_the_statefulset(kube: Kube, deployment: Deployment) -> None:
    """Not deleted, nor being deleted (a Terminating claim is not kept)."""
    gone = []
    for ordinal in range(deployment.replicas):
        name = deployment.pvc_name(ordinal)
        claim = kube.get_pvc(deployment.namespace, name)
        if claim is None:
            gone.append(f"{name} (deleted)")
        elif claim["metadata"].get("deletionTimestamp"):
            gone.append(f"{name} (Terminating)")
    assert not gone, f"claims deleted with StatefulSet {deployment.statefulset}: {gone}"


@step("apply the manifests' StatefulSet again and wait for every pod")
def apply_again(kube: Kube, deployment: Deployment, writers: Writers) -> None:
    (statefulset,) = deployment.objects_of_kind("StatefulSet")
    kube.apply(statefulset)
    wait_statefulset_ready(kube, deployment.namespace, deployment.statefulset, timeout=420)
    writers.ledger.mark("StatefulSet ready again")


@pytest.mark.parametrize("cascade", list(CASCADES))
@allure.title("A deleted StatefulSet applied again brings every pod back with its claim and data")
def test_a_deleted_statefulset_applied_again_brings_every_pod_back_with_its_claim_and_data(
    cascade: str, deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """Delete the StatefulSet (``--cascade=background``: its pods go too; ``orphan``: they
    stay) while three writers insert, apply it again: every pod ready with the claim it had
    (same uid, same PV), replication running, and the ledger holds on every pod."""
    before = claims_of(kube, deployment)
    with disturbance(kube, mysql, deployment, f"redeploy_{cascade}") as disturbed:
        with background_writer(
            disturbed.scratch, Path(mysqlsts_run.kubeconfig), title=f"redeploy ({cascade})"
        ) as writers:
            writers.wait_acknowledged(WRITES_BEFORE)
            uids = delete_statefulset(kube, deployment, writers, cascade)
            claims_outlive_the_statefulset(kube, deployment)
            apply_again(kube, deployment, writers)
            writers.wait_more(WRITES_AFTER, timeout=180)
        after = claims_of(kube, deployment)
        attachments.table(
            "each pod's claim before and after",
            [{"claim": c, "before": before[c], "after": after.get(c)} for c in before],
        )
        changed = {c: (before[c], after.get(c)) for c in before if after.get(c) != before[c]}
        assert not changed, f"claims that are not the ones the pods had: {changed}"
        now = {pod: identity(kube, deployment, pod).uid for pod in deployment.pod_names()}
        if cascade == "orphan":
            replaced = [pod for pod in uids if now[pod] != uids[pod]]
            attachments.text("orphaned pods replaced by the new StatefulSet", str(replaced))
        attachments.table("ledger", [verify(disturbed.scratch, writers.ledger).row()])
