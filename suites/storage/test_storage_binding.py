"""WaitForFirstConsumer, watched on a claim of our own: Pending while unused, then bound
on the node where its first pod was scheduled.

The StatefulSet's own claims were bound long before any test runs, so the behaviour is
observed on a throwaway local PV and claim of the deployment's StorageClass: the PV lives
in a fresh directory on a node of the deployment's PVs, carries a label that only our claim selects
(so neither the StatefulSet's claims nor ours can take another PV), and is smaller than
the StatefulSet's claims request. Everything is deleted at the end.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mysqlsts.deploy.pv_directories import helper_image
from mysqlsts.k8s import pods
from mysqlsts.k8s.affinity import node_matches
from mysqlsts.k8s.api_errors import TRANSIENT, KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.exec_results import ExecResult
from mysqlsts.k8s.local_pv import local_pv
from mysqlsts.k8s.object_waits import wait_object_gone, wait_pvc_phase
from mysqlsts.labels import RUN_LABEL_KEY
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.waiting import Seen, WaitTimeout, wait_for

# Local PVs only: with dynamic provisioning there is no PV of the manifests to check.
pytestmark = pytest.mark.local_pvs

Obj = dict[str, Any]
WAIT_EVENT_REASON = "WaitForFirstConsumer"
# The node directory that holds the throwaway PV's directory (exists on every Linux node).
NODE_PARENT_DIR = "/tmp"
PV_CAPACITY = "64Mi"
CLAIM_REQUEST = "32Mi"
CHECK_LABEL_KEY = "mysqlsts.io/storage-check"


def pv_manifest(
    name: str, path: str, node: str, storage_class: str, run_id: str, check: str
) -> Obj:
    return local_pv(
        name,
        path,
        node,
        storage_class,
        PV_CAPACITY,
        labels={RUN_LABEL_KEY: run_id, CHECK_LABEL_KEY: check},
    )


def claim_manifest(name: str, namespace: str, storage_class: str, run_id: str, check: str) -> Obj:
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


def claim_row(moment: str, pvc: Obj, pv: Obj | None) -> dict[str, Any]:
    return {
        "moment": moment,
        "claim phase": (pvc.get("status") or {}).get("phase"),
        "claim volumeName": (pvc.get("spec") or {}).get("volumeName") or "-",
        "PV phase": ((pv or {}).get("status") or {}).get("phase"),
        "PV claimRef": ((pv or {}).get("spec") or {}).get("claimRef", {}).get("name", "-"),
    }


@dataclass
class ThrowawayClaim:
    """A local PV in a fresh node directory, and the only claim that can take it."""

    kube: Kube
    namespace: str
    node: str
    node_tool: pods.RunningPod  # mounts NODE_PARENT_DIR of the PV's node
    image: str
    run_id: str
    check: str  # a token of this check's own, in every name
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return f"mysqlsts-wffc-{self.run_id}-{self.check}"

    @property
    def pv(self) -> str:
        return f"mysqlsts-wffc-{self.run_id}-{self.check}"

    @property
    def claim(self) -> str:
        return f"mysqlsts-wffc-{self.check}"

    @property
    def host_dir(self) -> str:
        return f"{NODE_PARENT_DIR}/{self.directory}"

    def snapshot(self, moment: str) -> dict[str, Any]:
        pvc = self.kube.get_pvc(self.namespace, self.claim)
        pv = self.kube.get_pv(self.pv)
        assert pvc is not None and pv is not None
        self.rows.append(claim_row(moment, pvc, pv))
        return {"pvc": pvc, "pv": pv}

    def on_node(self, name: str) -> ExecResult:
        return self.node_tool.sh(f"cat /host-parent/{self.directory}/{name}")


def delete_claim_and_pv(kube: Kube, namespace: str, claim: str, pv: str) -> list[str]:
    """Delete the claim, then the PV; return what could not be deleted."""
    errors = []
    for api_kind, name, ns in (
        ("PersistentVolumeClaim", claim, namespace),
        ("PersistentVolume", pv, None),
    ):
        try:
            kube.delete_object("v1", api_kind, name, ns)
            wait_object_gone(kube, "v1", api_kind, name, ns, timeout=60)
        except (KubeError, WaitTimeout) as error:
            errors.append(f"{api_kind} {name}: {error}")
    return errors


@pytest.fixture
def throwaway_claim(
    deployment: Deployment, kube: Kube, mysqlsts_run: RunInfo
) -> Iterator[ThrowawayClaim]:
    """The PV, its directory on the local-PV node and the claim; all removed afterwards."""
    storage_class = deployment.storage_class
    assert storage_class, "the StatefulSet's claim templates name no StorageClass"
    # On a node that holds the deployment's PVs: the throwaway PV's claim must go there.
    run_id, check, node = mysqlsts_run.run_id, secrets.token_hex(3), mysqlsts_run.pv_nodes[0]
    image = helper_image(deployment.mysql_image)
    tool = pods.short_lived_pod(
        f"mysqlsts-wffc-node-{check}",
        deployment.namespace,
        image,
        run_id=run_id,
        purpose="node-tool",
        node=node,
        host_mounts=[pods.HostMount(NODE_PARENT_DIR, "/host-parent", read_only=False)],
        as_root=True,
    )
    with pods.running(kube, tool) as node_tool:
        made = ThrowawayClaim(kube, deployment.namespace, node, node_tool, image, run_id, check)
        node_tool.sh(f"mkdir /host-parent/{made.directory}").check(f"mkdir {made.host_dir}")
        try:
            kube.apply(pv_manifest(made.pv, made.host_dir, node, storage_class, run_id, check))
            kube.apply(claim_manifest(made.claim, made.namespace, storage_class, run_id, check))
            yield made
        finally:
            errors = delete_claim_and_pv(kube, made.namespace, made.claim, made.pv)
            node_tool.sh(f"rm -rf /host-parent/{made.directory}")
    assert not errors, f"could not delete the check's objects: {errors}"


@step("the unused claim waits for its first consumer")
def wait_for_first_consumer_event(kube: Kube, namespace: str, claim: str) -> Obj:
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


@step("a pod uses the claim: it is bound to the PV of the pod's node")
def first_consumer_binds(made: ThrowawayClaim) -> None:
    marker = f"written by the first consumer of claim {made.claim}"
    consumer = pods.short_lived_pod(
        f"mysqlsts-wffc-consumer-{made.check}",
        made.namespace,
        made.image,
        run_id=made.run_id,
        purpose="claim-consumer",
        claims={made.claim: "/data"},
        as_root=True,
    )
    with pods.running(made.kube, consumer) as pod:
        wait_pvc_phase(made.kube, made.namespace, made.claim, "Bound", timeout=60)
        bound = made.snapshot(f"pod {pod.name} scheduled on {pod.node}")
        attachments.table(f"claim {made.claim} and PV {made.pv}", made.rows)
        node = next(n for n in made.kube.list_nodes() if n["metadata"]["name"] == pod.node)
        affinity = bound["pv"]["spec"].get("nodeAffinity")
        attachments.data(
            f"PV {made.pv} node affinity and node {pod.node}'s labels",
            {"nodeAffinity": affinity, "pod node labels": node["metadata"].get("labels")},
        )
        assert bound["pvc"]["spec"].get("volumeName") == made.pv, (
            f"claim {made.claim} was bound to {bound['pvc']['spec'].get('volumeName')}, "
            f"not to {made.pv}, the only PV its selector allows"
        )
        assert node_matches(node, affinity), (
            f"pod {pod.name} runs on {pod.node}, which PV {made.pv}'s node affinity "
            f"does not admit: {affinity}"
        )
        pod.sh(f"echo {shlex.quote(marker)} > /data/marker").check("write /data/marker")
    seen = made.on_node("marker")
    attachments.text(f"{made.host_dir}/marker on node {made.node}", seen.stdout or seen.stderr)
    assert seen.returncode == 0 and seen.stdout.strip() == marker, (
        f"what the pod wrote to its claim is not in {made.host_dir} on node {made.node}: "
        f"{(seen.stdout or seen.stderr).strip()}"
    )


def test_unused_claim_waits_for_first_consumer_then_binds_to_a_pv_of_the_pods_node(
    throwaway_claim: ThrowawayClaim,
) -> None:
    """A claim of the deployment's StorageClass stays Pending, with the WaitForFirstConsumer
    event, while no pod uses it; once a pod using it is scheduled it is bound to the PV
    whose node affinity admits the pod's node, and the pod writes into that PV's directory.
    """
    made = throwaway_claim
    event = wait_for_first_consumer_event(made.kube, made.namespace, made.claim)
    unused = made.snapshot("no pod uses the claim")
    attachments.text(
        "event while unused", f"{event.get('type')} {event.get('reason')}: {event.get('message')}"
    )
    assert unused["pvc"]["status"].get("phase") == "Pending" and not unused["pvc"]["spec"].get(
        "volumeName"
    ), f"claim {made.claim} is not Pending and unbound while unused: {made.rows[-1]}"
    first_consumer_binds(made)
