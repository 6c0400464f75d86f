"""Waits on pods, apart from the reads and acts of :class:`mysqlsts.k8s.client.Kube` (the
split of the Kubernetes e2e framework's ``pod/wait.go``). Each goes through the one wait
(:func:`mysqlsts.waiting.wait_for`) and fails at once on what waiting cannot mend: an image
that cannot be pulled, an init container that crash-loops (when asked)."""

from __future__ import annotations

from mysqlsts.errors import CrashLoop, DeploymentFailed
from mysqlsts.k8s.api_errors import TRANSIENT, KubeError
from mysqlsts.k8s.client import Kube, Obj
from mysqlsts.k8s.diagnosis import unplaced_reason, waits_unexplained
from mysqlsts.k8s.status import (
    image_pull_failures,
    init_crash_loop,
    is_pod_ready,
    pull_failure_events,
    summarize_pod,
)
from mysqlsts.redaction import redact
from mysqlsts.waiting import Seen, wait_for


def must(value: Obj | None) -> Obj:
    assert value is not None, "a successful wait returns the object it waited for"
    return value


def pod_state(kube: Kube, pod: Obj) -> str:
    """One line for a wait's last state: :func:`summarize_pod`, and for a pod on no node
    yet whose conditions say nothing, the last event about it or its claims."""
    summary = summarize_pod(pod)
    if not waits_unexplained(pod):
        return summary  # the usual case: no events to read
    try:
        reason = unplaced_reason(pod, kube.events(pod["metadata"]["namespace"]))
    except KubeError:
        return summary  # the events only add detail to what the pod says
    return f"{summary} ({reason})" if reason else summary


def raise_if_init_crash_loops(pod: Obj) -> None:
    crash_loop = init_crash_loop(pod)
    if crash_loop:
        raise CrashLoop(f"{crash_loop}: it will not start by waiting")


def raise_if_image_pull_fails(kube: Kube, pod: Obj) -> None:
    """Raise DeploymentFailed naming the image and the runtime's reason, if any."""
    failures = image_pull_failures(pod)
    if not failures:
        return
    detail = ""
    try:
        events = pull_failure_events(
            kube.events(pod["metadata"]["namespace"]), pod["metadata"]["name"]
        )
        if events:
            detail = f" (event: {events[-1]})"
    except KubeError:
        pass  # the container status already carries a message; events only add detail
    raise DeploymentFailed(redact(f"image cannot be pulled: {failures[0]}{detail}"))


def wait_pod_ready(
    kube: Kube, namespace: str, name: str, *, timeout: float = 300, crash_loop_fails: bool = False
) -> Obj:
    """Wait until the pod is ready. Fails at once when its image cannot be pulled and,
    with ``crash_loop_fails``, when an init container crash-loops (raises CrashLoop)."""

    def probe() -> Seen[Obj]:
        pod = kube.get_pod(namespace, name)
        if pod is None:
            return Seen(False, f"pod {name} does not exist")
        raise_if_image_pull_fails(kube, pod)
        if crash_loop_fails:
            raise_if_init_crash_loops(pod)
        return Seen(is_pod_ready(pod), pod_state(kube, pod), pod)

    return must(
        wait_for(f"pod {namespace}/{name} to be ready", probe, timeout=timeout, transient=TRANSIENT)
    )


def wait_pod_replaced(
    kube: Kube, namespace: str, name: str, old_uid: str, *, timeout: float = 300
) -> Obj:
    """Wait until a pod of that name with another uid is ready (after a delete)."""

    def probe() -> Seen[Obj]:
        pod = kube.get_pod(namespace, name)
        if pod is None:
            return Seen(False, f"pod {name} does not exist")
        if pod["metadata"]["uid"] == old_uid:
            return Seen(False, f"pod {name} is still the old instance ({summarize_pod(pod)})")
        raise_if_image_pull_fails(kube, pod)
        return Seen(is_pod_ready(pod), pod_state(kube, pod), pod)

    return must(
        wait_for(
            f"pod {namespace}/{name} to be replaced and ready",
            probe,
            timeout=timeout,
            transient=TRANSIENT,
        )
    )


def wait_pod_instance_gone(
    kube: Kube, namespace: str, name: str, uid: str, *, timeout: float = 120
) -> Obj | None:
    """Wait until the instance ``uid`` of pod ``name`` is gone; return its successor, if any."""

    def probe() -> Seen[Obj]:
        pod = kube.get_pod(namespace, name)
        if pod is None:
            return Seen(True, "gone", None)
        if pod["metadata"]["uid"] != uid:
            return Seen(True, "replaced", pod)
        return Seen(False, summarize_pod(pod))

    return wait_for(
        f"the old instance of pod {namespace}/{name} to be gone",
        probe,
        timeout=timeout,
        transient=TRANSIENT,
    )


def wait_pod_finished(kube: Kube, namespace: str, name: str, *, timeout: float) -> Obj:
    """Wait until a run-to-completion pod has Succeeded or Failed; return it.

    Fails at once when the pod cannot pull its image.
    """

    def probe() -> Seen[Obj]:
        current = kube.get_pod(namespace, name)
        if current is None:
            return Seen(False, f"pod {name} does not exist yet")
        raise_if_image_pull_fails(kube, current)
        phase = (current.get("status") or {}).get("phase")
        return Seen(phase in ("Succeeded", "Failed"), pod_state(kube, current), current)

    return must(
        wait_for(
            f"pod {namespace}/{name} to run to completion",
            probe,
            timeout=timeout,
            transient=TRANSIENT,
        )
    )


def wait_pod_gone(kube: Kube, namespace: str, name: str, *, timeout: float = 120) -> None:
    def probe() -> Seen[None]:
        pod = kube.get_pod(namespace, name)
        return Seen(pod is None, "gone" if pod is None else summarize_pod(pod))

    wait_for(f"pod {namespace}/{name} to be gone", probe, timeout=timeout, transient=TRANSIENT)
