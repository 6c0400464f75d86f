"""Each pod's data claim: bound to its own local PV, big enough, on the pod's node.

The article gives every replica a claim from ``volumeClaimTemplates`` and provides local
PVs pinned to a node. A claim bound to a PV another pod also uses, a PV smaller than the
claim asks, a non-local volume, or a pod running on a node its PV does not admit would
each break the design (lost data, or a pod that cannot start after a reschedule).
"""

from __future__ import annotations

from typing import Any

from mysqlsts.k8s.affinity import node_matches
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import quantity
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments

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


def mounts_claim(pod: Obj, claim: str) -> bool:
    return any(
        (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim
        for volume in pod["spec"].get("volumes") or []
    )


def claim_row(pod: Obj, pvc: Obj, pv: Obj | None, node: Obj | None) -> dict[str, Any]:
    """What the table shows of one pod's claim and its PV."""
    spec = (pv or {}).get("spec") or {}
    return {
        "pod": pod["metadata"]["name"],
        "node": str(pod["spec"].get("nodeName")),
        "claim": pvc["metadata"]["name"],
        "phase": (pvc.get("status") or {}).get("phase"),
        "request": (pvc["spec"].get("resources") or {}).get("requests", {}).get("storage"),
        "PV": pvc["spec"].get("volumeName") or "-",
        "capacity": (spec.get("capacity") or {}).get("storage"),
        "class (claim/PV)": f"{pvc['spec'].get('storageClassName')}/{spec.get('storageClassName')}",
        "local path": (spec.get("local") or {}).get("path", "- (not a local volume)"),
        "PV admits node": node_matches(node, spec.get("nodeAffinity"))
        if pv and node is not None
        else "-",
    }


def claim_problems(
    row: dict[str, Any], pod: Obj, pvc: Obj, pv: Obj | None, deployment: Deployment
) -> list[str]:
    """What is wrong with one pod's claim and PV (empty when nothing is)."""
    where = f"{row['claim']} (pod {row['pod']})"
    volume = row["PV"]
    if row["phase"] != "Bound" or pv is None:
        return [f"{where} is {row['phase']}, bound to {pvc['spec'].get('volumeName') or 'nothing'}"]
    spec = pv["spec"]
    problems = []
    if "local" not in spec:
        problems.append(
            f"{where}: PV {volume} is a {sorted(set(spec) - PV_SPEC_FIELDS)} volume, "
            "not a local one"
        )
    if volume not in {p.name for p in deployment.pvs}:
        problems.append(f"{where}: PV {volume} is not one of the manifests' PVs")
    if pvc["spec"].get("storageClassName") != deployment.storage_class:
        problems.append(f"{where}: claim class {pvc['spec'].get('storageClassName')}")
    if spec.get("storageClassName") != deployment.storage_class:
        problems.append(f"{where}: PV class {spec.get('storageClassName')}")
    if quantity(row["capacity"]) < quantity(row["request"]):
        problems.append(
            f"{where}: PV {volume} holds {row['capacity']} < requested {row['request']}"
        )
    claim_ref = spec.get("claimRef") or {}
    if (claim_ref.get("namespace"), claim_ref.get("name")) != (
        deployment.namespace,
        row["claim"],
    ) or claim_ref.get("uid") != pvc["metadata"]["uid"]:
        problems.append(f"{where}: PV {volume} claimRef is {claim_ref}")
    if not mounts_claim(pod, row["claim"]):
        problems.append(f"{where}: pod {row['pod']} does not mount claim {row['claim']}")
    if row["PV admits node"] is not True:
        problems.append(
            f"{where}: pod runs on {row['node']}, which PV {volume}'s node affinity "
            f"does not admit ({spec.get('nodeAffinity')})"
        )
    return problems


def shared_pv(row: dict[str, Any], pv: Obj | None, owners: dict[str, str]) -> list[str]:
    """A PV that an earlier claim of the loop is bound to as well (``owners`` remembers)."""
    if pv is None or row["phase"] != "Bound":
        return []
    volume, claim = row["PV"], row["claim"]
    earlier = owners.setdefault(volume, claim)
    if earlier == claim:
        return []
    return [f"{claim} (pod {row['pod']}): PV {volume} is also bound to {earlier}"]


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
    nodes = {n["metadata"]["name"]: n for n in kube.list_nodes()}
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    owners: dict[str, str] = {}
    for ordinal in range(deployment.replicas):
        pod = kube.get_pod(deployment.namespace, deployment.pod_name(ordinal))
        assert pod is not None, f"pod {deployment.pod_name(ordinal)} does not exist"
        for template in deployment.claim_templates:
            pvc = kube.get_pvc(deployment.namespace, deployment.pvc_name(ordinal, template))
            if pvc is None:
                problems.append(f"claim {deployment.pvc_name(ordinal, template)} does not exist")
                continue
            pv = kube.get_pv(pvc["spec"]["volumeName"]) if pvc["spec"].get("volumeName") else None
            rows.append(claim_row(pod, pvc, pv, nodes.get(str(pod["spec"].get("nodeName")))))
            problems += claim_problems(rows[-1], pod, pvc, pv, deployment)
            problems += shared_pv(rows[-1], pv, owners)
    attachments.table("data claims, their PVs and the pods' nodes", rows)
    assert not problems, "\n".join(problems)
