"""When each pod instance was created and first became ready: OrderedReady, judged."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from mysqlsts.k8s.events import parse_time
from mysqlsts.k8s.status import condition

Obj = dict[str, Any]


@dataclass
class PodTimeline:
    """When each pod instance was created and when it first became ready."""

    created: dict[str, datetime | None] = field(default_factory=dict)
    ready: dict[str, datetime | None] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)

    def observe(self, pods: Iterable[Obj], ignore_uids: Collection[str] = ()) -> None:
        for pod in pods:
            meta = pod["metadata"]
            if meta["uid"] in ignore_uids:
                continue
            name = meta["name"]
            if self.uids.get(name) != meta["uid"]:  # a new instance: start over
                self.uids[name] = meta["uid"]
                self.created[name] = parse_time(meta.get("creationTimestamp"))
                self.ready.pop(name, None)
            cond = condition(pod, "Ready") or {}
            if name not in self.ready and cond.get("status") == "True":
                self.ready[name] = parse_time(cond.get("lastTransitionTime"))

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "pod": name,
                "uid": self.uids[name],
                "created": self.created[name],
                "ready": self.ready.get(name),
            }
            for name in sorted(self.uids, key=lambda n: (len(n), n))
        ]


def ordering_violations(timeline: PodTimeline, ordered: Sequence[str]) -> list[str]:
    """Pods of ``ordered`` created before their predecessor in the list was ready."""
    problems = []
    for previous, current in pairwise(ordered):
        created = timeline.created.get(current)
        ready = timeline.ready.get(previous)
        if created is None:
            problems.append(f"{current}: no creation time observed")
        elif ready is None:
            problems.append(f"{current} created at {created} but {previous} was never seen ready")
        elif created < ready:
            problems.append(
                f"{current} created at {created:%H:%M:%S}, before {previous} was ready "
                f"at {ready:%H:%M:%S}"
            )
    return problems
