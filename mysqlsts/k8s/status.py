"""Reading pods and StatefulSets: readiness, one-line summaries, hopeless states.

Pure functions of the objects as the API returns them in JSON (camelCase keys, the same
shape as ``kubectl get -o json``), so that the judgement is unit-tested without a cluster
and the wait helpers only fetch and ask.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

Obj = dict[str, Any]

# Waiting reasons after which a container never starts without someone changing the
# image or the node: waiting for them would only end in a timeout.
IMAGE_PULL_REASONS = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "RegistryUnavailable",
    }
)


def name_of(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True") and not (pod.get("metadata") or {}).get(
        "deletionTimestamp"
    )


def is_node_ready(node: Obj) -> bool:
    cond = condition(node, "Ready")
    return bool(cond and cond.get("status") == "True")


def is_schedulable(node: Obj) -> bool:
    """Not cordoned and without a taint that keeps pods off (NoSchedule, NoExecute)."""
    spec = node.get("spec") or {}
    if spec.get("unschedulable"):
        return False
    return not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or [])


def container_statuses(pod: Obj) -> list[tuple[str, Obj]]:
    """(``init`` or ``main``, status) for every container status, init containers first."""
    status = pod.get("status") or {}
    return [("init", s) for s in status.get("initContainerStatuses") or []] + [
        ("main", s) for s in status.get("containerStatuses") or []
    ]


def container_status(pod: Obj, name: str) -> Obj:
    """The status of container ``name`` (init or main); {} when the pod has none yet."""
    for _, status in container_statuses(pod):
        if status.get("name") == name:
            return status
    return {}


def pod_claims(pod: Obj) -> list[str]:
    """The names of the PersistentVolumeClaims the pod's volumes use."""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return [
        str(v["persistentVolumeClaim"]["claimName"])
        for v in volumes
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    ]


def quantity(value: str | int | None) -> Decimal:
    """A resource quantity ("15Gi", "500m") as a number of base units."""
    return Decimal(parse_quantity(value if value is not None else 0))


def _state_text(status: Obj) -> str:
    state = status.get("state") or {}
    if "running" in state:
        text = "running" + ("" if status.get("ready") else " (not ready)")
    elif "waiting" in state:
        waiting = state["waiting"] or {}
        text = f"waiting {waiting.get('reason', '')}".rstrip()
    elif "terminated" in state:
        term = state["terminated"] or {}
        text = f"terminated {term.get('reason', '')} exit {term.get('exitCode')}"
    else:
        text = "unknown"
    restarts = status.get("restartCount") or 0
    return text + (f", {restarts} restarts" if restarts else "")


def summarize_pod(pod: Obj) -> str:
    """One line: phase, readiness, each container's state, why it is not scheduled."""
    status = pod.get("status") or {}
    parts = [f"{(pod.get('metadata') or {}).get('name')} {status.get('phase', 'Unknown')}"]
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        parts.append("terminating")
    parts.append("ready" if is_pod_ready(pod) else "not ready")
    scheduled = condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        parts.append(f"unschedulable: {scheduled.get('message') or scheduled.get('reason')}")
    containers = [f"{s.get('name')}: {_state_text(s)}" for _, s in container_statuses(pod)]
    if containers:
        parts.append("[" + "; ".join(containers) + "]")
    return " ".join(parts)


def image_pull_failures(pod: Obj) -> list[str]:
    """A line per container whose image cannot be pulled, with the runtime's message."""
    failures = []
    for _, status in container_statuses(pod):
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_PULL_REASONS:
            message = (waiting.get("message") or "").strip().replace("\n", " ")
            failures.append(
                f"pod {name_of(pod)} container {status.get('name')} image {status.get('image')}: "
                f"{waiting['reason']}: {message or 'no message from the runtime'}"
            )
    return failures


# An init container that has failed this many times in a row will not start by waiting: its
# script fails the same way each time (e.g. ``hostname: command not found``).
CRASH_LOOP_RESTARTS = 3


def init_crash_loop(pod: Obj, restarts: int = CRASH_LOOP_RESTARTS) -> str | None:
    """A line for the first init container that crash-loops (restarted ``restarts`` times or
    more, each time exiting non-zero, now in CrashLoopBackOff), else None."""
    for kind, status in container_statuses(pod):
        if kind != "init":
            continue
        waiting = (status.get("state") or {}).get("waiting") or {}
        last = (status.get("lastState") or {}).get("terminated") or {}
        count = int(status.get("restartCount") or 0)
        if (
            waiting.get("reason") == "CrashLoopBackOff"
            and count >= restarts
            and int(last.get("exitCode") or 0) != 0
        ):
            return (
                f"pod {name_of(pod)} init container {status.get('name')} exited "
                f"{last.get('exitCode')} and was restarted {count} times (CrashLoopBackOff)"
            )
    return None


def pull_failure_events(events: list[Obj], pod_name: str) -> list[str]:
    """Messages of the pod's 'Failed' pull events: they carry the runtime's own reason."""
    found = []
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("kind") == "Pod" and involved.get("name") == pod_name:
            message = (event.get("message") or "").strip()
            if event.get("reason") in ("Failed", "InspectFailed") and "image" in message.lower():
                found.append(message.replace("\n", " "))
    return found


def statefulset_ready(sts: Obj, replicas: int | None = None) -> bool:
    """All wanted replicas exist, are ready and run the current revision."""
    spec = sts.get("spec") or {}
    status = sts.get("status") or {}
    wanted = spec.get("replicas", 1) if replicas is None else replicas
    if spec.get("replicas", 1) != wanted:
        return False
    if (status.get("observedGeneration") or 0) < (
        (sts.get("metadata") or {}).get("generation") or 0
    ):
        return False
    counts_ok = (
        (status.get("replicas") or 0) == wanted
        and (status.get("readyReplicas") or 0) == wanted
        and (status.get("updatedReplicas") or 0) == wanted
    )
    on_delete = ((spec.get("updateStrategy") or {}).get("type")) == "OnDelete"
    revision_ok = on_delete or status.get("currentRevision") == status.get("updateRevision")
    return counts_ok and revision_ok


def summarize_statefulset(sts: Obj) -> str:
    spec = sts.get("spec") or {}
    status = sts.get("status") or {}
    return (
        f"StatefulSet {name_of(sts)}: want {spec.get('replicas', 1)}, "
        f"have {status.get('replicas') or 0}, ready {status.get('readyReplicas') or 0}, "
        f"updated {status.get('updatedReplicas') or 0}"
    )


def ready_endpoint_pods(slices: list[Obj]) -> list[str]:
    """Names of the ready pods behind a Service, from its EndpointSlices."""
    pods: list[str] = []
    for endpoint_slice in slices:
        for endpoint in endpoint_slice.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready")
            target = endpoint.get("targetRef") or {}
            # An absent "ready" means ready (EndpointSlice API contract).
            if ready is not False and target.get("kind") == "Pod" and target.get("name"):
                pods.append(str(target["name"]))
    return sorted(set(pods))


# PersistentVolumeSpec fields that are not the volume source (local, hostPath, nfs, csi...).
_PV_SPEC_FIELDS = {
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


def volume_sources(pv_spec: Obj) -> list[str]:
    """The volume source(s) of a PV's spec: ``["local"]``, ``["hostPath"]``, ``["csi"]``..."""
    return sorted(set(pv_spec) - _PV_SPEC_FIELDS)


DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def default_storage_classes(classes: list[Obj]) -> list[Obj]:
    """The StorageClasses marked as the cluster's default (the class a claim naming none
    gets from the admission plugin; more than one is a misconfigured cluster)."""
    return [
        c
        for c in classes
        if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION)
        == "true"
    ]
