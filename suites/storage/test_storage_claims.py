"""Each pod's data claim: bound to its own local PV, big enough, on the pod's node.

The article gives every replica a claim from ``volumeClaimTemplates`` and provides local
PVs pinned to a node. A claim bound to a PV another pod also uses, a PV smaller than the
claim asks, a non-local volume, or a pod running on a node its PV does not admit would
each break the design (lost data, or a pod that cannot start after a reschedule).
"""

from __future__ import annotations

from typing import Any

from mysqlsts import attach, incluster
from mysqlsts.deployment import Deployment
from mysqlsts.kube import Kube

Obj = dict[str, Any]
# PersistentVolumeSpec fields that are not the volume source (local, hostPath, nfs, csi...).
PV_SPEC_FIELDS = {
    "accessModes",
    "capacity",
    "claimRef",
    "mountOptions",
    "nodeAffinity",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "volumeAttributesClassName",
    "volumeMode",
}


def _claim_volume_name(pod: Obj, claim: str) -> str | None:
    for volume in pod["spec"].get("volumes") or []:
        if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
            return str(volume["name"])
    return None


def test_each_pod_claim_is_bound_to_its_own_local_pv_of_enough_capacity_on_the_pods_node(
    deployment: Deployment, kube: Kube
) -> None:
    """For every ordinal N and claim template T: claim ``T-<sts>-N`` is Bound to a local PV
    of the deployment's StorageClass, one of the manifests' PVs, of at least the requested
    capacity, whose claimRef is that claim and that no other claim uses; pod N mounts the
    claim and runs on a node the PV's node affinity admits.
    """
    assert deployment.claim_templates, (
        f"StatefulSet {deployment.statefulset} has no volumeClaimTemplates: its data is not "
        "kept on persistent volumes"
    )
    ns = deployment.namespace
    manifest_pvs = {pv.name for pv in deployment.pvs}
    nodes = {n["metadata"]["name"]: n for n in kube.list_nodes()}
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    owners: dict[str, str] = {}
    for ordinal in range(deployment.replicas):
        pod_name = deployment.pod_name(ordinal)
        pod = kube.get_pod(ns, pod_name)
        assert pod is not None, f"pod {pod_name} does not exist"
        node_name = str(pod["spec"].get("nodeName"))
        for template in deployment.claim_templates:
            claim_name = deployment.pvc_name(ordinal, template)
            pvc = kube.get_pvc(ns, claim_name)
            if pvc is None:
                problems.append(f"claim {claim_name} does not exist")
                continue
            volume = pvc["spec"].get("volumeName")
            pv = kube.get_pv(volume) if volume else None
            spec = (pv or {}).get("spec") or {}
            request = (pvc["spec"].get("resources") or {}).get("requests", {}).get("storage")
            capacity = (spec.get("capacity") or {}).get("storage")
            affinity = spec.get("nodeAffinity")
            claim_ref = spec.get("claimRef") or {}
            row = {
                "pod": pod_name,
                "node": node_name,
                "claim": claim_name,
                "phase": (pvc.get("status") or {}).get("phase"),
                "request": request,
                "PV": volume or "-",
                "capacity": capacity,
                "class (claim/PV)": f"{pvc['spec'].get('storageClassName')}/"
                f"{spec.get('storageClassName')}",
                "local path": (spec.get("local") or {}).get("path", "- (not a local volume)"),
                "PV admits node": incluster.node_matches(nodes[node_name], affinity)
                if pv and node_name in nodes
                else "-",
            }
            rows.append(row)
            where = f"{claim_name} (pod {pod_name})"
            if row["phase"] != "Bound" or pv is None:
                problems.append(f"{where} is {row['phase']}, bound to {volume or 'nothing'}")
                continue
            if "local" not in spec:
                source = sorted(set(spec) - PV_SPEC_FIELDS)
                problems.append(f"{where}: PV {volume} is a {source} volume, not a local one")
            if volume not in manifest_pvs:
                problems.append(f"{where}: PV {volume} is not one of the manifests' PVs")
            if pvc["spec"].get("storageClassName") != deployment.storage_class:
                problems.append(f"{where}: claim class {pvc['spec'].get('storageClassName')}")
            if spec.get("storageClassName") != deployment.storage_class:
                problems.append(f"{where}: PV class {spec.get('storageClassName')}")
            if incluster.quantity(capacity) < incluster.quantity(request):
                problems.append(f"{where}: PV {volume} holds {capacity} < requested {request}")
            if (claim_ref.get("namespace"), claim_ref.get("name")) != (ns, claim_name) or (
                claim_ref.get("uid") != pvc["metadata"]["uid"]
            ):
                problems.append(f"{where}: PV {volume} claimRef is {claim_ref}")
            if volume in owners:
                problems.append(f"{where}: PV {volume} is also bound to {owners[volume]}")
            owners[volume] = claim_name
            if _claim_volume_name(pod, claim_name) is None:
                problems.append(f"{where}: pod {pod_name} does not mount claim {claim_name}")
            if row["PV admits node"] is not True:
                problems.append(
                    f"{where}: pod runs on {node_name}, which PV {volume}'s node affinity "
                    f"does not admit ({affinity})"
                )
    attach.table("data claims, their PVs and the pods' nodes", rows)
    assert not problems, "\n".join(problems)
