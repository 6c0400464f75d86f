"""Waits on the other objects a run meets, apart from their reads and acts: a node Ready,
a namespace's service account, a claim's phase, any object deleted."""

from __future__ import annotations

from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube, Obj
from mysqlsts.k8s.pod_waits import must
from mysqlsts.k8s.status import condition
from mysqlsts.waiting import Seen, wait_for


def wait_node_ready(kube: Kube, name: str, *, timeout: float = 180) -> Obj:
    def probe() -> Seen[Obj]:
        node = kube.get_node(name)
        if node is None:
            return Seen(False, f"node {name} does not exist")
        ready = condition(node, "Ready") or {}
        state = f"node {name} Ready={ready.get('status')} {ready.get('message') or ''}".strip()
        return Seen(ready.get("status") == "True", state, node)

    return must(wait_for(f"node {name} to be Ready", probe, timeout=timeout, transient=TRANSIENT))


def wait_service_account(
    kube: Kube, namespace: str, name: str = "default", *, timeout: float = 60
) -> Obj:
    """Pods cannot be created in a namespace before its service account exists."""

    def probe() -> Seen[Obj]:
        account = kube.get_service_account(namespace, name)
        return Seen(
            account is not None, f"service account {namespace}/{name} not yet created", account
        )

    return must(
        wait_for(f"service account {namespace}/{name}", probe, timeout=timeout, transient=TRANSIENT)
    )


def wait_pvc_phase(
    kube: Kube, namespace: str, name: str, phase: str, *, timeout: float = 120
) -> Obj:
    def probe() -> Seen[Obj]:
        pvc = kube.get_pvc(namespace, name)
        if pvc is None:
            return Seen(False, f"PVC {name} does not exist")
        current = (pvc.get("status") or {}).get("phase")
        volume = (pvc.get("spec") or {}).get("volumeName") or "no volume"
        return Seen(current == phase, f"PVC {name} phase {current}, {volume}", pvc)

    return must(
        wait_for(
            f"PVC {namespace}/{name} to be {phase}", probe, timeout=timeout, transient=TRANSIENT
        )
    )


def wait_object_gone(
    kube: Kube,
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None = None,
    *,
    timeout: float = 180,
) -> None:
    def probe() -> Seen[None]:
        obj = kube.get_object(api_version, kind, name, namespace)
        if obj is None:
            return Seen(True, "gone")
        phase = (obj.get("status") or {}).get("phase")
        return Seen(False, f"{kind} {name} still exists" + (f" (phase {phase})" if phase else ""))

    wait_for(
        f"{kind} {name} to be deleted", probe, timeout=timeout, interval=2, transient=TRANSIENT
    )
