"""Why a deployment did not come up, in one line: the pod, the container, its state, the log.

The first pod (in ordinal order) that is not ready is the one to explain: a StatefulSet
with ordered pod management creates the next pod only once this one is ready. In order:

- Pending and unscheduled: the scheduler's message; Pending on a claim that waits (for a
  provisioner, say): what the claim's events say;
- a container (init containers first) whose image cannot be pulled: the image;
- a container that exited non-zero, now or in its last instance (a crash loop): its exit
  code and the log line that explains it (the last one that reads like an error, else
  the last one), e.g. ``init container init-mysql exited 1: bash: hostname: command not
  found``;
- a container running but not ready: the last readiness probe failure the events report.

A wait's last state uses :func:`unplaced_reason` for a pod that is on no node yet: the last
event about it or its claims.

Pure: the pods, the events and a reader of a container's log are given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from mysqlsts.k8s.events import event_time, object_events, parse_time, pod_events
from mysqlsts.k8s.status import (
    IMAGE_PULL_REASONS,
    condition,
    container_statuses,
    is_pod_ready,
    pod_claims,
)

Obj = dict[str, Any]
# (pod, container, previous instance) -> the log, or None
LogReader = Callable[[str, str, bool], str | None]
_ERRORISH = re.compile(
    r"error|not found|no such|denied|refused|fail|fatal|cannot|can't|unable|abort", re.I
)
LINE_LIMIT = 300


def explaining_line(log: str | None) -> str:
    """The log line that explains an exit: the last that reads like an error, else the last."""
    lines = [line.strip() for line in (log or "").splitlines() if line.strip()]
    if not lines:
        return "(no log)"
    for line in reversed(lines):
        if _ERRORISH.search(line):
            return line[:LINE_LIMIT]
    return lines[-1][:LINE_LIMIT]


def _exited(status: Obj) -> tuple[Obj, bool] | None:
    """The terminated state with a non-zero exit: now (False) or the last instance (True)."""
    now = (status.get("state") or {}).get("terminated") or {}
    if now and int(now.get("exitCode") or 0) != 0:
        return now, False
    last = (status.get("lastState") or {}).get("terminated") or {}
    if last and int(last.get("exitCode") or 0) != 0 and not status.get("ready"):
        return last, True
    return None


def _readiness_failure(events: Iterable[Obj], pod: str) -> str | None:
    """The last readiness probe failure the pod's events report (its first line)."""
    failures = [
        str(e.get("message") or "").strip()
        for e in pod_events(events, pod)
        if "Readiness probe failed" in str(e.get("message") or "")
    ]
    return failures[-1].splitlines()[0] if failures else None


def _claim_wait(events: Iterable[Obj], claim: str) -> str | None:
    """The last thing the events say a claim waits for (not the normal first-consumer wait)."""
    waits = [
        " ".join(str(e.get("message") or "").split())
        for e in object_events(events, "PersistentVolumeClaim", claim)
        if e.get("reason") != "WaitForFirstConsumer"
    ]
    waits = [w for w in waits if w]
    return waits[-1][:LINE_LIMIT] if waits else None


def explain_pod(pod: Obj, events: Iterable[Obj], read_log: LogReader) -> str | None:
    """Why this pod is not ready, in one line; None when it is."""
    if is_pod_ready(pod):
        return None
    name = str(pod["metadata"]["name"])
    scheduled = condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        why = scheduled.get("message") or scheduled.get("reason") or "no reason given"
        return f"pod {name} is Pending: {why}"
    if not container_statuses(pod):
        for claim in pod_claims(pod):
            waits = _claim_wait(events, claim)
            if waits:
                return f"pod {name} is Pending: its claim {claim} waits: {waits}"
    for kind, status in container_statuses(pod):
        label = f"{'init container' if kind == 'init' else 'container'} {status.get('name')}"
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_PULL_REASONS:
            message = " ".join(str(waiting.get("message") or "").split())[:LINE_LIMIT]
            return (
                f"pod {name}: {label} cannot pull image {status.get('image')}: "
                f"{waiting['reason']}{': ' + message if message else ''}"
            )
        exited = _exited(status)
        if exited:
            state, previous = exited
            line = explaining_line(read_log(name, str(status.get("name")), previous))
            again = f", restarted {status.get('restartCount', 0)} times" if previous else ""
            return f"pod {name}: {label} exited {state.get('exitCode')}{again}: {line}"
        if kind == "init" and not (status.get("state") or {}).get("terminated"):
            state = next(iter(status.get("state") or {"unknown": {}}))
            return f"pod {name}: {label} is {state} (the pod waits for it)"
    probe = _readiness_failure(events, name)
    if probe:
        return f"pod {name}: running but not ready: {probe}"
    phase = (pod.get("status") or {}).get("phase", "Unknown")
    return f"pod {name} is {phase} and not ready"


def diagnose(
    pods: Iterable[Obj], events: Iterable[Obj], read_log: LogReader, expected: Iterable[str]
) -> str | None:
    """One line for the first of the ``expected`` pods that is missing or not ready."""
    by_name = {str(p["metadata"]["name"]): p for p in pods}
    events = list(events)
    for name in expected:
        pod = by_name.get(name)
        if pod is None:
            return f"pod {name} was not created (the pods before it are ready)"
        line = explain_pod(pod, events, read_log)
        if line:
            return line
    return None


def waits_unexplained(pod: Obj) -> bool:
    """The pod is on no node yet, and no PodScheduled=False condition says why."""
    if (pod.get("spec") or {}).get("nodeName"):
        return False
    return not any(
        c.get("type") == "PodScheduled" and c.get("status") == "False"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def unplaced_reason(pod: Obj, events: Iterable[Obj]) -> str | None:
    """Why a pod that is on no node yet waits, when its own conditions do not say: the last
    event about this pod or one of its claims since the pod was created (a claim waiting
    for its provisioner says so only in its events), as ``<kind> <name>: <reason>:
    <message>``. None when the pod is on a node, when its PodScheduled condition already
    gives the scheduler's message, or when no such event exists."""
    if not waits_unexplained(pod):
        return None
    meta = pod.get("metadata") or {}
    created = parse_time(meta.get("creationTimestamp"))
    related = [
        e
        for kind, name in [
            ("Pod", meta.get("name")),
            *(("PersistentVolumeClaim", c) for c in pod_claims(pod)),
        ]
        for e in object_events(events, kind, str(name), created)
        # An earlier pod of the same name (a StatefulSet's) is not this one.
        if kind != "Pod" or (e.get("involvedObject") or {}).get("uid") in (None, meta.get("uid"))
    ]
    if not related:
        return None
    last = max(related, key=event_time)
    involved = last.get("involvedObject") or {}
    message = " ".join((last.get("message") or "").split())
    return f"{involved.get('kind')} {involved.get('name')}: {last.get('reason')}: {message}"
