"""Evidence a check attaches to its report: what it judged, for a reviewer to read.

``text``, ``table``, ``data`` and ``png`` attach to the Allure result at once and are kept
for the test's pytest-html row (added when its report is made). Every text is redacted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

import allure

from mysqlsts.redaction import redact

# Attachments of the test now running in this process, for pytest-html.
_current: list[tuple[str, str]] = []
# A picture is kept as this prefix and its base64 (pytest-html shows it as an image).
PNG_PREFIX = "data:image/png;base64,"


def begin() -> None:
    _current.clear()


def taken() -> list[tuple[str, str]]:
    """The attachments made since ``begin`` (and forget them)."""
    items = list(_current)
    _current.clear()
    return items


def text(name: str, body: str) -> None:
    body = redact(body)
    allure.attach(body, name=name, attachment_type=allure.attachment_type.TEXT)
    _current.append((name, body))


def render_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as an aligned plain-text table (columns in first-seen order)."""
    rows = list(rows)
    if not rows:
        return "(no rows)"
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def table(name: str, rows: Iterable[Mapping[str, Any]]) -> None:
    text(name, render_table(rows))


def data(name: str, value: Any) -> None:
    """Any JSON-able value (an object's state, query results)."""
    text(name, json.dumps(value, indent=2, sort_keys=True, default=str))


def png(name: str, image: bytes) -> None:
    """A picture (a plot), shown as an image in Allure and in pytest-html."""
    allure.attach(image, name=name, attachment_type=allure.attachment_type.PNG)
    _current.append((name, PNG_PREFIX + base64.b64encode(image).decode()))
