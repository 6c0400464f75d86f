"""Reading Kubernetes events: when each happened, which concern a pod, as table rows.

Pure functions of the events as the API returns them (``core/v1`` Events in JSON). An
event carries up to three times; :func:`event_time` is the one choice of which counts,
used for ordering, filtering and display alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

Obj = dict[str, Any]


def parse_time(value: str | None) -> datetime | None:
    """An API timestamp (RFC 3339, ``Z`` or offset) as an aware datetime."""
    if not value:
        return None
    # Container runtimes give nanoseconds; datetime keeps microseconds.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def event_time(event: Obj) -> str:
    """When the event last happened, as the API spells it ("" when it says nothing).

    ``lastTimestamp`` for events of the core API, ``eventTime`` for those of the
    events.k8s.io API that the scheduler emits, ``firstTimestamp`` as the last resort.
    """
    return str(
        event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or ""
    )


def pod_events(events: Iterable[Obj], pod: str, since: datetime | None = None) -> list[Obj]:
    """The events of pod ``pod`` whose last occurrence is at or after ``since``."""
    return object_events(events, "Pod", pod, since)


def object_events(
    events: Iterable[Obj], kind: str, name: str, since: datetime | None = None
) -> list[Obj]:
    """The events of object ``kind``/``name`` whose last occurrence is at or after ``since``."""
    found = []
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("kind") != kind or involved.get("name") != name:
            continue
        when = parse_time(event_time(event))
        # Event times are whole seconds: compare at that precision.
        if since is not None and (when is None or when < since.replace(microsecond=0)):
            continue
        found.append(event)
    return found


def event_rows(events: Iterable[Obj]) -> list[dict[str, Any]]:
    """Events as rows for an attached table."""
    return [
        {
            "last seen": event_time(e) or "-",
            "type": e.get("type"),
            "reason": e.get("reason"),
            "count": e.get("count") or 1,
            "message": (e.get("message") or "").strip(),
        }
        for e in events
    ]
