"""The StorageClass of the data claims: static local volumes, bound when a pod needs them.

The article's claims use a StorageClass with no provisioner (its PVs are created by hand
as local volumes) and ``volumeBindingMode: WaitForFirstConsumer``: a claim is bound only
once a pod using it is scheduled, so that the scheduler picks a PV on a node where the pod
can run. With ``Immediate`` binding a claim could be bound to a local PV on a node the
pod cannot use, and the pod would never start.
"""

from __future__ import annotations

from typing import Any

import pytest

from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments

# Local PVs only: with dynamic provisioning the class is the provisioner's to choose.
pytestmark = pytest.mark.local_pvs

REQUIRED = {
    "provisioner": "kubernetes.io/no-provisioner",
    "volumeBindingMode": "WaitForFirstConsumer",
}
# What the API fills in when a StorageClass leaves these out.
API_DEFAULTS = {"volumeBindingMode": "Immediate", "reclaimPolicy": "Delete"}
COMPARED_FIELDS = ("provisioner", "volumeBindingMode", "reclaimPolicy", "allowVolumeExpansion")


def test_storage_class_has_no_provisioner_and_waits_for_first_consumer(
    deployment: Deployment, kube: Kube
) -> None:
    """The StorageClass the claim templates name, read from the cluster, is
    ``kubernetes.io/no-provisioner`` with ``WaitForFirstConsumer``, and it is the one the
    manifests declare (same provisioner, binding mode, reclaim policy, expansion; fields
    left out compare as the API's defaults), not a class of that name found in the cluster.
    """
    name = deployment.storage_class
    assert name, (
        f"the volumeClaimTemplates of StatefulSet {deployment.statefulset} name no "
        "storageClassName: the claims would use whatever class the cluster defaults to"
    )
    live = kube.get_object("storage.k8s.io/v1", "StorageClass", name)
    assert live is not None, f"StorageClass {name} (used by the data claims) does not exist"
    declared = [
        o for o in deployment.objects_of_kind("StorageClass") if o["metadata"]["name"] == name
    ]
    manifest: dict[str, Any] = declared[0] if declared else {}
    rows = [
        {
            "field": field,
            "required": REQUIRED.get(field, "-"),
            "cluster": live.get(field, API_DEFAULTS.get(field)),
            "manifests": manifest.get(field, API_DEFAULTS.get(field)) if declared else "(absent)",
        }
        for field in COMPARED_FIELDS
    ]
    attachments.table(f"StorageClass {name}: required, in the cluster, in the manifests", rows)
    wrong = {
        r["field"]: r["cluster"]
        for r in rows
        if r["field"] in REQUIRED and r["cluster"] != r["required"]
    }
    assert not wrong, f"StorageClass {name} in the cluster has {wrong}; required: {REQUIRED}"
    assert declared, f"StorageClass {name}, used by the data claims, is not in the manifests"
    differing = [r["field"] for r in rows if r["cluster"] != r["manifests"]]
    assert not differing, (
        f"StorageClass {name} in the cluster differs from the manifests in {differing}"
    )
