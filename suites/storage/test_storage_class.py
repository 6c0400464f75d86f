"""The StorageClass of the data claims: static local volumes, bound when a pod needs them.

The article's claims use a StorageClass with no provisioner (its PVs are created by hand
as local volumes) and ``volumeBindingMode: WaitForFirstConsumer``: a claim is bound only
once a pod using it is scheduled, so that the scheduler picks a PV on a node where the pod
can run. With ``Immediate`` binding a claim could be bound to a local PV on a node the
pod cannot use, and the pod would never start.
"""

from __future__ import annotations

from typing import Any

from mysqlsts import attach
from mysqlsts.deployment import Deployment
from mysqlsts.kube import Kube

NO_PROVISIONER = "kubernetes.io/no-provisioner"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
# What the API fills in when a StorageClass leaves these out.
API_DEFAULTS = {"volumeBindingMode": "Immediate", "reclaimPolicy": "Delete"}
COMPARED_FIELDS = ("provisioner", "volumeBindingMode", "reclaimPolicy", "allowVolumeExpansion")


def _claims_class(deployment: Deployment) -> str:
    name = deployment.storage_class
    assert name, (
        f"the volumeClaimTemplates of StatefulSet {deployment.statefulset} name no "
        "storageClassName: the claims would use whatever class the cluster defaults to"
    )
    return name


def _live_class(kube: Kube, name: str) -> dict[str, Any]:
    live = kube.get_object("storage.k8s.io/v1", "StorageClass", name)
    assert live is not None, f"StorageClass {name} (used by the data claims) does not exist"
    return live


def test_cluster_storage_class_is_the_one_in_the_manifests(
    deployment: Deployment, kube: Kube
) -> None:
    """The StorageClass the claims name exists in the cluster exactly as the manifests say.

    Reads the live object, so the next test judges what the cluster really does and not a
    class left over from somebody else (fields the manifests leave out are compared with
    the API's defaults).
    """
    name = _claims_class(deployment)
    live = _live_class(kube, name)
    declared = [
        o for o in deployment.objects_of_kind("StorageClass") if o["metadata"]["name"] == name
    ]
    assert declared, f"StorageClass {name}, used by the data claims, is not in the manifests"
    manifest = declared[0]
    rows = []
    for field in COMPARED_FIELDS:
        want = manifest.get(field, API_DEFAULTS.get(field))
        have = live.get(field, API_DEFAULTS.get(field))
        rows.append({"field": field, "manifests": want, "cluster": have, "same": want == have})
    attach.table(f"StorageClass {name}: manifests vs cluster", rows)
    differing = [r["field"] for r in rows if not r["same"]]
    assert not differing, (
        f"StorageClass {name} in the cluster differs from the manifests in {differing}"
    )


def test_storage_class_has_no_provisioner_and_waits_for_first_consumer(
    deployment: Deployment, kube: Kube
) -> None:
    """The claims' StorageClass is ``kubernetes.io/no-provisioner`` + ``WaitForFirstConsumer``.

    Read from the cluster: no provisioner means only the manifests' local PVs can satisfy
    a claim; WaitForFirstConsumer means binding waits for the pod's scheduling.
    """
    name = _claims_class(deployment)
    live = _live_class(kube, name)
    rows = [
        {"field": "provisioner", "required": NO_PROVISIONER, "cluster": live.get("provisioner")},
        {
            "field": "volumeBindingMode",
            "required": WAIT_FOR_FIRST_CONSUMER,
            "cluster": live.get("volumeBindingMode", API_DEFAULTS["volumeBindingMode"]),
        },
    ]
    attach.table(f"StorageClass {name} in the cluster", rows)
    wrong = {r["field"]: r["cluster"] for r in rows if r["cluster"] != r["required"]}
    assert not wrong, f"StorageClass {name}: {wrong}, expected " + ", ".join(
        f"{r['field']}={r['required']}" for r in rows
    )
