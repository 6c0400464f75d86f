"""WaitForFirstConsumer, watched on a claim of our own: Pending while unused, then bound
on the node where its first pod was scheduled.

The StatefulSet's own claims were bound long before any test runs, so the behaviour is
observed on a throwaway local PV and claim of the deployment's StorageClass: the PV lives
in a fresh directory on the local-PV node, carries a label that only our claim selects
(so neither the StatefulSet's claims nor ours can take another PV), and is smaller than
the StatefulSet's claims request. Everything is deleted at the end.
"""

from __future__ import annotations

import secrets
import shlex
from typing import Any

from mysqlsts import attach, hostpaths, incluster
from mysqlsts.deployment import Deployment
from mysqlsts.environment import RunInfo
from mysqlsts.kube import TRANSIENT, Kube, KubeError
from mysqlsts.transformations import RUN_LABEL_KEY
from mysqlsts.waiting import Seen, WaitTimeout, wait_for

Obj = dict[str, Any]
WAIT_EVENT_REASON = "WaitForFirstConsumer"
# The node directory that holds the throwaway PV's directory (exists on every Linux node).
NODE_PARENT_DIR = "/tmp"
PV_CAPACITY = "64Mi"
CLAIM_REQUEST = "32Mi"
CHECK_LABEL_KEY = "mysqlsts.io/storage-check"


def _pv(name: str, path: str, node: str, storage_class: str, run_id: str, check: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {RUN_LABEL_KEY: run_id, CHECK_LABEL_KEY: check}},
        "spec": {
            "capacity": {"storage": PV_CAPACITY},
            "volumeMode": "Filesystem",
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class,
            "local": {"path": path},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": [node],
                                }
                            ]
                        }
                    ]
                }
            },
        },
    }


def _claim(name: str, namespace: str, storage_class: str, run_id: str, check: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": {RUN_LABEL_KEY: run_id}},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage_class,
            "selector": {"matchLabels": {CHECK_LABEL_KEY: check}},
            "resources": {"requests": {"storage": CLAIM_REQUEST}},
        },
    }


def _claim_row(moment: str, pvc: Obj, pv: Obj | None) -> dict[str, Any]:
    return {
        "moment": moment,
        "claim phase": (pvc.get("status") or {}).get("phase"),
        "claim volumeName": (pvc.get("spec") or {}).get("volumeName") or "-",
        "PV phase": ((pv or {}).get("status") or {}).get("phase"),
        "PV claimRef": ((pv or {}).get("spec") or {}).get("claimRef", {}).get("name", "-"),
    }


def _wait_for_first_consumer_event(kube: Kube, namespace: str, claim: str) -> Obj:
    """The claim's WaitForFirstConsumer event; fails at once if the claim gets bound."""

    def probe() -> Seen[Obj]:
        pvc = kube.get_pvc(namespace, claim)
        assert pvc is not None, f"claim {claim} disappeared"
        phase = (pvc.get("status") or {}).get("phase")
        if phase == "Bound":
            raise AssertionError(
                f"claim {claim} was bound to {pvc['spec'].get('volumeName')} while no pod used "
                "it: the StorageClass binds immediately instead of waiting for the first consumer"
            )
        events = [
            e
            for e in kube.events(namespace)
            if (e.get("involvedObject") or {}).get("kind") == "PersistentVolumeClaim"
            and (e.get("involvedObject") or {}).get("name") == claim
        ]
        waiting = [e for e in events if e.get("reason") == WAIT_EVENT_REASON]
        reasons = sorted({str(e.get("reason")) for e in events}) or ["no events"]
        return Seen(
            bool(waiting),
            f"claim {claim} phase {phase}, events: {', '.join(reasons)}",
            waiting[-1] if waiting else None,
        )

    event = wait_for(
        f"a {WAIT_EVENT_REASON} event on claim {namespace}/{claim}",
        probe,
        timeout=60,
        transient=TRANSIENT,
    )
    assert event is not None
    return event


def test_unused_claim_waits_for_first_consumer_then_binds_to_a_pv_of_the_pods_node(
    deployment: Deployment, kube: Kube, mysqlsts_run: RunInfo
) -> None:
    """A claim of the deployment's StorageClass stays Pending, with the WaitForFirstConsumer
    event, while no pod uses it; once a pod using it is scheduled it is bound to the PV
    whose node affinity admits the pod's node, and the pod writes into that PV's directory.
    """
    storage_class = deployment.storage_class
    assert storage_class, "the StatefulSet's claim templates name no StorageClass"
    namespace = deployment.namespace
    node = mysqlsts_run.local_pv_node
    check = secrets.token_hex(3)
    directory = f"mysqlsts-wffc-{mysqlsts_run.run_id}-{check}"
    host_dir = f"{NODE_PARENT_DIR}/{directory}"
    pv_name = f"mysqlsts-wffc-{mysqlsts_run.run_id}-{check}"
    claim_name = f"mysqlsts-wffc-{check}"
    image = hostpaths.helper_image(deployment.mysql_image)
    marker = f"written by the first consumer of claim {claim_name}"
    rows: list[dict[str, Any]] = []

    node_tool = incluster.scratch_pod_manifest(
        f"mysqlsts-wffc-node-{check}",
        namespace,
        image,
        run_id=mysqlsts_run.run_id,
        node=node,
        host_mounts=[incluster.HostMount(NODE_PARENT_DIR, "/host-parent", read_only=False)],
        as_root=True,
    )
    with incluster.scratch_pod(kube, node_tool) as tool:
        tool.sh(f"mkdir /host-parent/{directory}").check(f"mkdir {host_dir} on node {node}")
        try:
            kube.apply(_pv(pv_name, host_dir, node, storage_class, mysqlsts_run.run_id, check))
            kube.apply(_claim(claim_name, namespace, storage_class, mysqlsts_run.run_id, check))

            event = _wait_for_first_consumer_event(kube, namespace, claim_name)
            pvc = kube.get_pvc(namespace, claim_name)
            pv = kube.get_pv(pv_name)
            assert pvc is not None and pv is not None
            rows.append(_claim_row("no pod uses the claim", pvc, pv))
            attach.text(
                "event while unused",
                f"{event.get('type')} {event.get('reason')}: {event.get('message')}",
            )
            assert pvc["status"].get("phase") == "Pending" and not pvc["spec"].get("volumeName"), (
                f"claim {claim_name} is not Pending and unbound while unused: {rows[-1]}"
            )

            consumer = incluster.scratch_pod_manifest(
                f"mysqlsts-wffc-consumer-{check}",
                namespace,
                image,
                run_id=mysqlsts_run.run_id,
                claims={claim_name: "/data"},
                as_root=True,
            )
            with incluster.scratch_pod(kube, consumer) as pod:
                pvc = kube.wait_pvc_phase(namespace, claim_name, "Bound", timeout=60)
                pv = kube.get_pv(pv_name)
                assert pv is not None
                rows.append(_claim_row(f"pod {pod.name} scheduled on {pod.node}", pvc, pv))
                attach.table(f"claim {claim_name} and PV {pv_name}", rows)
                nodes = {n["metadata"]["name"]: n for n in kube.list_nodes()}
                affinity = pv["spec"].get("nodeAffinity")
                attach.data(
                    f"PV {pv_name} node affinity and node {pod.node}'s labels",
                    {
                        "nodeAffinity": affinity,
                        "pod node labels": nodes[pod.node]["metadata"].get("labels"),
                    },
                )
                assert pvc["spec"].get("volumeName") == pv_name, (
                    f"claim {claim_name} was bound to {pvc['spec'].get('volumeName')}, "
                    f"not to {pv_name}, the only PV its selector allows"
                )
                assert incluster.node_matches(nodes[pod.node], affinity), (
                    f"pod {pod.name} runs on {pod.node}, which PV {pv_name}'s node affinity "
                    f"does not admit: {affinity}"
                )
                pod.sh(f"echo {shlex.quote(marker)} > /data/marker").check("write /data/marker")
                seen = tool.sh(f"cat /host-parent/{directory}/marker")
                attach.text(f"{host_dir}/marker on node {node}", seen.stdout or seen.stderr)
                assert seen.returncode == 0 and seen.stdout.strip() == marker, (
                    f"what the pod wrote to its claim is not in {host_dir} on node {node}: "
                    f"{(seen.stdout or seen.stderr).strip()}"
                )
        finally:
            cleanup_errors = _delete_claim_and_pv(kube, namespace, claim_name, pv_name)
            tool.sh(f"rm -rf /host-parent/{directory}")
    assert not cleanup_errors, f"could not delete the check's objects: {cleanup_errors}"


def _delete_claim_and_pv(kube: Kube, namespace: str, claim: str, pv: str) -> list[str]:
    """Delete the claim, then the PV; return what could not be deleted."""
    errors = []
    for api_kind, name, ns in (
        ("PersistentVolumeClaim", claim, namespace),
        ("PersistentVolume", pv, None),
    ):
        try:
            kube.delete_object("v1", api_kind, name, ns)
            kube.wait_object_gone("v1", api_kind, name, ns, timeout=60)
        except (KubeError, WaitTimeout) as error:
            errors.append(f"{api_kind} {name}: {error}")
    return errors
