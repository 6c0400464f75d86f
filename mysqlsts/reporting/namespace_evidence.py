"""What a failed test's report carries: events, pod descriptions, every container's logs.

Collected from the deployment's namespace right after the failure, redacted, and
returned as named texts; the pytest plugin attaches them to pytest-html and Allure. Each
API call is bounded; a call that fails becomes a line in the evidence instead of hiding
the test's own failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.events import event_time
from mysqlsts.k8s.status import summarize_pod
from mysqlsts.redaction import redact

Obj = dict[str, Any]
LOG_TAIL_LINES = 500


def format_events(events: list[Obj]) -> str:
    lines = []
    for event in events:
        involved = event.get("involvedObject") or {}
        when = event_time(event) or "-"
        count = event.get("count") or 1
        lines.append(
            f"{when} {event.get('type', '-')} {event.get('reason', '-')} "
            f"{involved.get('kind', '-')}/{involved.get('name', '-')} (x{count}): "
            f"{(event.get('message') or '').strip()}"
        )
    return "\n".join(lines) or "(no events)"


def describe_pod(pod: Obj) -> str:
    """A summary line, the conditions, then the whole pod as YAML (minus managedFields)."""
    pod = {
        **pod,
        "metadata": {k: v for k, v in (pod.get("metadata") or {}).items() if k != "managedFields"},
    }
    conditions = (pod.get("status") or {}).get("conditions") or []
    lines = [summarize_pod(pod), "", "conditions:"]
    for cond in conditions:
        lines.append(
            f"  {cond.get('type')}={cond.get('status')} {cond.get('reason') or ''} "
            f"{cond.get('message') or ''}".rstrip()
        )
    lines += ["", yaml.safe_dump(pod, sort_keys=False)]
    return "\n".join(lines)


def container_names(pod: Obj) -> list[str]:
    """Init containers first, then the others: the order in which they run."""
    spec = pod.get("spec") or {}
    return [c["name"] for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def _safely(what: str, call: Callable[[], str]) -> str:
    try:
        return call()
    except KubeError as error:
        return f"(could not get {what}: {error})"


def collect(kube: Kube, namespace: str, label_selector: str | None = None) -> list[tuple[str, str]]:
    """(name, text) pairs: events, then per pod its description and its logs."""
    found: list[tuple[str, str]] = []
    found.append(("events", _safely("events", lambda: format_events(kube.events(namespace)))))
    try:
        pods = kube.list_pods(namespace, label_selector)
    except KubeError as error:
        return [*found, ("pods", f"(could not list pods: {error})")]
    for pod in pods:
        name = pod["metadata"]["name"]
        found.append((f"pod {name}", describe_pod(pod)))
        for container in container_names(pod):
            for previous in (False, True):

                def read(
                    name: str = name, container: str = container, previous: bool = previous
                ) -> str:
                    text = kube.logs(
                        namespace, name, container, previous=previous, tail_lines=LOG_TAIL_LINES
                    )
                    return "" if text is None else text

                text = _safely(f"logs of {container}", read)
                if previous and not text:
                    continue  # no earlier instance: nothing to show
                label = "previous log" if previous else "log"
                found.append((f"{name}/{container} {label}", text or "(empty)"))
    return [(title, redact(text)) for title, text in found]


def _summary(obj: Obj) -> str:
    """An object as YAML without managedFields (what ``kubectl get -o yaml`` shows)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return yaml.safe_dump({**obj, "metadata": meta}, sort_keys=False)


def cluster_objects(kube: Kube, namespace: str) -> list[tuple[str, str]]:
    """The namespace's StatefulSets and claims, the PVs and the nodes, as the API has them."""
    found: list[tuple[str, str]] = []
    for title, listing in (
        ("StatefulSets", lambda: kube.list_objects("apps/v1", "StatefulSet", namespace=namespace)),
        ("PersistentVolumeClaims", lambda: kube.list_pvcs(namespace)),
        ("PersistentVolumes", lambda: kube.list_objects("v1", "PersistentVolume")),
        ("nodes", lambda: kube.list_nodes()),
    ):
        found.append(
            (title, _safely(title, lambda listing=listing: "---\n".join(map(_summary, listing()))))
        )
    return [(title, redact(text or "(none)")) for title, text in found]


def as_text(evidence: list[tuple[str, str]]) -> str:
    """All evidence in one text (for a file when no test report exists)."""
    return "\n\n".join(f"===== {title} =====\n{text}" for title, text in evidence)
