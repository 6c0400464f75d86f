"""A StatefulSet pod's identity across a disruption, and its MySQL container.

:class:`PodIdentity` is what a replaced pod must keep (name, claim, PV, node) and what
changes (uid, restarts); :func:`wait_mysql_restarted` waits for a container restart in
the same pod; :func:`container_exec` runs a shell command in the MySQL container.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pytest

from mysqlsts.k8s.api_errors import TRANSIENT, KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pod_waits import wait_pod_replaced
from mysqlsts.k8s.status import (
    container_status,
    is_node_ready,
    is_pod_ready,
    is_schedulable,
    summarize_pod,
)
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.waiting import Seen, wait_for

Obj = dict[str, Any]


@dataclass(frozen=True)
class PodIdentity:
    """What a replaced StatefulSet pod must keep (name, claim, PV, node) and what changes."""

    name: str
    uid: str
    node: str | None
    claim: str | None
    claim_uid: str | None
    volume: str | None
    mysql_restarts: int

    def same_place(self, other: PodIdentity) -> bool:
        return (self.name, self.claim, self.claim_uid, self.volume, self.node) == (
            other.name,
            other.claim,
            other.claim_uid,
            other.volume,
            other.node,
        )

    def same_claim(self, other: PodIdentity) -> bool:
        return (self.claim, self.claim_uid, self.volume) == (
            other.claim,
            other.claim_uid,
            other.volume,
        )

    def row(self, label: str) -> dict[str, Any]:
        return {"when": label, **asdict(self)}


def identity(kube: Kube, deployment: Deployment, pod_name: str) -> PodIdentity:
    pod = kube.get_pod(deployment.namespace, pod_name)
    assert pod is not None, f"pod {deployment.namespace}/{pod_name} does not exist"
    return identity_of(kube, deployment, pod)


def identity_of(kube: Kube, deployment: Deployment, pod: Obj) -> PodIdentity:
    name = pod["metadata"]["name"]
    claim = deployment.pvc_name(deployment.ordinal_of(name))
    claims = [
        (v.get("persistentVolumeClaim") or {}).get("claimName")
        for v in (pod.get("spec") or {}).get("volumes") or []
    ]
    pvc = kube.get_pvc(deployment.namespace, claim) if claim in claims else None
    return PodIdentity(
        name=name,
        uid=pod["metadata"]["uid"],
        node=(pod.get("spec") or {}).get("nodeName"),
        claim=claim if claim in claims else None,
        claim_uid=pvc["metadata"]["uid"] if pvc else None,
        volume=(pvc.get("spec") or {}).get("volumeName") if pvc else None,
        mysql_restarts=int(
            container_status(pod, deployment.mysql_container).get("restartCount") or 0
        ),
    )


@step("{old.name} returns with its name, claim, PV and node")
def wait_returned_in_place(kube: Kube, deployment: Deployment, old: PodIdentity) -> PodIdentity:
    """Wait for the new instance of ``old``'s pod, ready; it has the same name, claim, PV
    and node (both identities are attached)."""
    returned = wait_pod_replaced(kube, deployment.namespace, old.name, old.uid)
    new = identity_of(kube, deployment, returned)
    attachments.table(f"{old.name} before and after", [old.row("before"), new.row("after")])
    assert new.same_place(old), f"{old.name} came back elsewhere: {old} -> {new}"
    return new


def wait_mysql_restarted(
    kube: Kube, deployment: Deployment, before: PodIdentity, *, timeout: float
) -> Obj:
    """Wait until the pod ``before`` describes (same instance) has restarted its MySQL
    container and is ready; a replaced pod fails at once."""

    def probe() -> Seen[Obj]:
        current = kube.get_pod(deployment.namespace, before.name)
        if current is None:
            return Seen(False, f"pod {before.name} does not exist")
        if current["metadata"]["uid"] != before.uid:
            raise AssertionError(
                f"pod {before.name} was replaced (uid {before.uid} -> "
                f"{current['metadata']['uid']}) instead of restarting its container"
            )
        status = container_status(current, deployment.mysql_container)
        count = int(status.get("restartCount") or 0)
        done = count > before.mysql_restarts and is_pod_ready(current)
        return Seen(
            done, f"restarts {before.mysql_restarts} -> {count}; {summarize_pod(current)}", current
        )

    found = wait_for(
        f"the {deployment.mysql_container} container of {before.name} to restart and be ready",
        probe,
        timeout=timeout,
        interval=2,
        transient=TRANSIENT,
    )
    assert found is not None
    return found


def mysql_container_of(kube: Kube, deployment: Deployment, pod: str) -> tuple[str, str]:
    """(node, containerd id) of the pod's MySQL container, as it runs now."""
    found = kube.get_pod(deployment.namespace, pod)
    assert found is not None, f"pod {pod} does not exist"
    status = container_status(found, deployment.mysql_container)
    assert status.get("containerID"), (
        f"{pod}'s {deployment.mysql_container} container is not running"
    )
    return str(found["spec"]["nodeName"]), str(status["containerID"]).split("://", 1)[-1]


def require_another_schedulable_node(kube: Kube, node: str) -> list[str]:
    """The Ready, schedulable nodes besides ``node``; skips the check when there are none.

    A check that a pod stays on its PV's node proves nothing where the pod has nowhere
    else to go: it could not fail there.
    """
    others = sorted(
        str(n["metadata"]["name"])
        for n in kube.list_nodes()
        if n["metadata"]["name"] != node and is_node_ready(n) and is_schedulable(n)
    )
    if not others:
        pytest.skip(
            f"no Ready schedulable node besides {node}: a pod that its PV did not pin could "
            "not go elsewhere either, so this check could not fail here (kind: --workers 2+)"
        )
    return others


def container_exec(kube: Kube, deployment: Deployment, pod: str, script: str) -> str:
    """Run ``script`` with sh in the MySQL container (a stream cut by its end is fine)."""
    try:
        result = kube.exec(
            deployment.namespace, pod, deployment.mysql_container, ["sh", "-c", script]
        )
    except KubeError as error:
        return f"exec ended without a status (the container stopped?): {error}"
    result.check(script)
    return (result.stdout + result.stderr).strip() or "(no output)"
