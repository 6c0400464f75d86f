"""The clone init container: what its trace says.

The article's ``clone-mysql`` runs its script with ``set -x``: the trace shows whether it
streamed a backup (``ncat ... | xbstream -x``) and from which pod, or skipped because the
datadir was already on the claim. A claim left behind by a scale-in would be reused
instead of cloned, so a clone check empties it first
(:func:`mysqlsts.scenarios.statefulset_acts.empty_claim`).
"""

from __future__ import annotations

import re
from datetime import datetime

from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.events import parse_time
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step

CLONE_TOOLS = ("ncat", "xbstream")


def clone_container(deployment: Deployment) -> str:
    """The init container that copies the previous pod's data (it runs ncat/xbstream)."""
    for container in deployment.pod_spec.get("initContainers") or []:
        script = " ".join(
            map(str, [*(container.get("command") or []), *(container.get("args") or [])])
        )
        if any(tool in script for tool in CLONE_TOOLS):
            return str(container["name"])
    raise LookupError(
        "no init container of the StatefulSet runs ncat or xbstream (nothing clones data)"
    )


def trace_lines(log: str) -> list[str]:
    """The commands a ``set -x`` script ran (lines starting with ``+``), without the ``+``."""
    return [line.lstrip("+").strip() for line in log.splitlines() if line.startswith("+")]


def streaming_commands(log: str) -> list[str]:
    """Traced commands that receive or unpack a backup stream (ncat, xbstream)."""
    return [
        line
        for line in trace_lines(log)
        if any(re.search(rf"(^|[\s/]){tool}\b", line) for tool in CLONE_TOOLS)
    ]


def stream_window(timestamped_log: str) -> tuple[datetime, datetime] | None:
    """When the clone's backup stream ran, from its log with timestamps.

    From the trace line that starts the stream (``ncat``/``xbstream``: the pipeline's two
    traces come together) to the next traced command (the prepare), which ``set -x``
    prints only once the stream has ended. None when the log shows no complete stream.
    The times are the node's clock: compare them with the master's only where the
    nodes' clocks agree (NTP; one host under kind).
    """
    started: datetime | None = None
    for line in timestamped_log.splitlines():
        stamp, _, text = line.partition(" ")
        if not text.startswith("+"):
            continue
        streaming = bool(streaming_commands(text))
        if started is None and streaming:
            started = parse_time(stamp)
        elif started is not None and not streaming:
            ended = parse_time(stamp)
            return (started, ended) if ended is not None else None
    return None


def cloned_from(log: str, statefulset: str) -> list[int]:
    """Ordinals of the StatefulSet's pods that an ``ncat`` in the trace connected to."""
    pattern = re.compile(rf"^{re.escape(statefulset)}-(\d+)\.")
    found: list[int] = []
    for line in streaming_commands(log):
        if not re.search(r"(^|[\s/])ncat\b", line):
            continue
        for token in line.split():
            match = pattern.match(token)
            if match and int(match[1]) not in found:
                found.append(int(match[1]))
    return found


def check_clone_skipped(kube: Kube, deployment: Deployment, pod: str) -> None:
    """The pod's clone init container found its datadir on the claim and streamed nothing.

    A pod that comes back to its own claim must not need a clone; one that clones again
    lost its data (and a clone from the previous pod would hide that loss).
    """
    container = clone_container(deployment)
    log = kube.logs(deployment.namespace, pod, container) or ""
    attachments.text(f"{pod}/{container} log", log)
    assert log.strip(), f"{container} of {pod} logged nothing: cannot tell whether it cloned"
    streams = streaming_commands(log)
    assert not streams, (
        f"{pod} cloned its data again, so it did not find its own datadir: {streams}"
    )


@step("scale {deployment.statefulset} to {replicas} replicas")
@step("{new_pod}'s clone log shows a clone from ordinal {source}")
def cloned_from_previous(kube: Kube, deployment: Deployment, new_pod: str, source: int) -> None:
    container = clone_container(deployment)
    log = kube.logs(deployment.namespace, new_pod, container) or ""
    attachments.text(f"{new_pod}/{container} log", log)
    sources = cloned_from(log, deployment.statefulset)
    streams = streaming_commands(log)
    attachments.text("streaming commands in the trace", "\n".join(streams) or "(none)")
    assert sources == [source], (
        f"{new_pod} should clone from {deployment.pod_host(source)}; its "
        f"{container} trace connects to ordinals {sources}: {streams}"
    )
    assert any("xbstream" in command for command in streams), (
        f"{new_pod}'s {container} trace shows no xbstream extraction: {streams}"
    )
