"""Each pod's data claim: bound to a volume of its own, big enough; a local PV on the pod's
node where the manifests declare local PVs.

The article gives every replica a claim from ``volumeClaimTemplates`` and provides local
PVs pinned to a node; the Kubernetes tutorial leaves the claims to the cluster's default
StorageClass. Either way a claim bound to a PV another pod also uses, a PV smaller than the
claim asks, or a pod on a node its PV does not admit would break the design (lost data, or
a pod that cannot start after a reschedule); with local PVs, so would a non-local volume or
a PV that is not one of the manifests'.
"""

from __future__ import annotations

from typing import Any

import pytest

from mysqlsts.k8s.affinity import node_matches
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import default_storage_classes, quantity, volume_sources
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments

Obj = dict[str, Any]


def mounts_claim(pod: Obj, claim: str, container: str) -> bool:
    """Whether ``container`` mounts a volume of the pod that is ``claim``. The StatefulSet
    controller adds a volume for every claim template to the pod, mounted or not: only a
    mount in the MySQL container puts the data on the claim."""
    volumes = {
        v["name"]
        for v in pod["spec"].get("volumes") or []
        if (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
    }
    main = next((c for c in pod["spec"].get("containers") or [] if c["name"] == container), {})
    return any(m.get("name") in volumes for m in main.get("volumeMounts") or [])


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


def expected_class(kube: Kube, deployment: Deployment) -> str | None:
    """The class the claims get: the templates' storageClassName, else the cluster's default
    (the admission plugin writes it into a claim that names none)."""
    if deployment.storage_class:
        return deployment.storage_class
    defaults = [
        c["metadata"]["name"]
        for c in default_storage_classes(kube.list_objects("storage.k8s.io/v1", "StorageClass"))
    ]
    return defaults[0] if len(defaults) == 1 else None


def claim_problems(
    row: dict[str, Any],
    pod: Obj,
    pvc: Obj,
    pv: Obj | None,
    storage_class: str | None,
    container: str,
) -> list[str]:
    """What is wrong with one pod's claim and its volume, whatever the storage."""
    where = f"{row['claim']} (pod {row['pod']})"
    volume = row["PV"]
    if row["phase"] != "Bound" or pv is None:
        return [f"{where} is {row['phase']}, bound to {pvc['spec'].get('volumeName') or 'nothing'}"]
    spec = pv["spec"]
    problems = []
    if pvc["spec"].get("storageClassName") != storage_class:
        problems.append(
            f"{where}: claim class {pvc['spec'].get('storageClassName')}, expected {storage_class}"
        )
    if spec.get("storageClassName") != pvc["spec"].get("storageClassName"):
        problems.append(f"{where}: PV class {spec.get('storageClassName')}")
    if quantity(row["capacity"]) < quantity(row["request"]):
        problems.append(
            f"{where}: PV {volume} holds {row['capacity']} < requested {row['request']}"
        )
    claim_ref = spec.get("claimRef") or {}
    if (claim_ref.get("namespace"), claim_ref.get("name")) != (
        pvc["metadata"]["namespace"],
        row["claim"],
    ) or claim_ref.get("uid") != pvc["metadata"]["uid"]:
        problems.append(f"{where}: PV {volume} claimRef is {claim_ref}")
    if not mounts_claim(pod, row["claim"], container):
        problems.append(
            f"{where}: pod {row['pod']} does not mount claim {row['claim']} in its "
            f"{container} container"
        )
    if spec.get("nodeAffinity") and row["PV admits node"] is not True:
        problems.append(
            f"{where}: pod runs on {row['node']}, which PV {volume}'s node affinity "
            f"does not admit ({spec.get('nodeAffinity')})"
        )
    return problems


def local_pv_problems(row: dict[str, Any], pv: Obj | None, deployment: Deployment) -> list[str]:
    """What is wrong with a bound volume for a design of local PVs (the article's)."""
    if row["phase"] != "Bound" or pv is None:
        return []  # claim_problems says so
    where = f"{row['claim']} (pod {row['pod']})"
    volume, spec = row["PV"], pv["spec"]
    problems = []
    if "local" not in spec:
        problems.append(f"{where}: PV {volume} is a {volume_sources(spec)} volume, not a local one")
    if volume not in {p.name for p in deployment.pvs}:
        problems.append(f"{where}: PV {volume} is not one of the manifests' PVs")
    if not spec.get("nodeAffinity"):
        problems.append(f"{where}: PV {volume} has no node affinity: it admits every node")
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


def claims_and_volumes(
    kube: Kube, deployment: Deployment
) -> list[tuple[dict[str, Any], Obj, Obj, Obj | None]]:
    """(table row, pod, claim, bound PV) for every ordinal and claim template."""
    assert deployment.claim_templates, (
        f"StatefulSet {deployment.statefulset} has no volumeClaimTemplates: its data is not "
        "kept on persistent volumes"
    )
    nodes = {n["metadata"]["name"]: n for n in kube.list_nodes()}
    found = []
    for ordinal in range(deployment.replicas):
        pod = kube.get_pod(deployment.namespace, deployment.pod_name(ordinal))
        assert pod is not None, f"pod {deployment.pod_name(ordinal)} does not exist"
        for template in deployment.claim_templates:
            name = deployment.pvc_name(ordinal, template)
            pvc = kube.get_pvc(deployment.namespace, name)
            assert pvc is not None, (
                f"claim {name} of pod {deployment.pod_name(ordinal)} does not exist"
            )
            pv = kube.get_pv(pvc["spec"]["volumeName"]) if pvc["spec"].get("volumeName") else None
            row = claim_row(pod, pvc, pv, nodes.get(str(pod["spec"].get("nodeName"))))
            found.append((row, pod, pvc, pv))
    attachments.table("data claims, their PVs and the pods' nodes", [f[0] for f in found])
    return found


def test_each_pod_claim_is_bound_to_a_volume_of_its_own_of_enough_capacity(
    deployment: Deployment, kube: Kube
) -> None:
    """Whatever the storage (local PVs or a provisioner): for every ordinal N and claim
    template T, claim ``T-<sts>-N`` is Bound, of the templates' StorageClass (or the
    cluster's default one when they name none), to a PV of at least the requested capacity
    whose claimRef is that claim and that no other claim uses; pod N's MySQL container mounts
    the claim and, where the PV has node affinity, the pod runs on a node it admits.
    """
    storage_class = expected_class(kube, deployment)
    problems: list[str] = []
    owners: dict[str, str] = {}
    for row, pod, pvc, pv in claims_and_volumes(kube, deployment):
        problems += claim_problems(row, pod, pvc, pv, storage_class, deployment.mysql_container)
        problems += shared_pv(row, pv, owners)
    assert not problems, "\n".join(problems)


@pytest.mark.local_pvs
def test_each_pod_claim_is_bound_to_its_own_local_pv_of_enough_capacity_on_the_pods_node(
    deployment: Deployment, kube: Kube
) -> None:
    """The check above, plus what the article's local PVs promise: each claim is bound to a
    ``local`` volume, one of the manifests' PVs, whose node affinity admits the pod's node.
    """
    problems: list[str] = []
    owners: dict[str, str] = {}
    for row, pod, pvc, pv in claims_and_volumes(kube, deployment):
        problems += claim_problems(
            row, pod, pvc, pv, deployment.storage_class, deployment.mysql_container
        )
        problems += local_pv_problems(row, pv, deployment)
        problems += shared_pv(row, pv, owners)
    assert not problems, "\n".join(problems)
