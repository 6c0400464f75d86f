"""The verdict table (terminal and Markdown) and the coverage table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mysqlsts.negative_controls.catalogue import CoverageRow
from mysqlsts.negative_controls.verdicts import CAUGHT, ClaimVerdict, DefectResult

MESSAGE_LIMIT = 200  # characters of a message in a table cell


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_check(check: str) -> str:
    """``suites/a/test_f.py::test_x`` -> ``test_f::test_x`` (the area is the defect's)."""
    file, sep, test = check.partition("::")
    if not sep:
        return check  # the setup
    return f"{file.rsplit('/', 1)[-1].removesuffix('.py')}::{test}"


def _said(claim: ClaimVerdict) -> str:
    if claim.verdict == CAUGHT:
        return f"matched /{claim.expected}/: {shorten(claim.message, 120)}"
    said = f"; said: {shorten(claim.message)}" if claim.message else ""
    return f"{claim.detail}; expected /{claim.expected}/{said}"


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def render_text(results: Sequence[DefectResult]) -> str:
    rows = []
    for result in results:
        for index, claim in enumerate(result.claims):
            rows.append(
                [
                    result.defect.name if index == 0 else "",
                    short_check(claim.check),
                    claim.verdict,
                    shorten(claim.message if claim.verdict == CAUGHT else _said(claim), 100),
                ]
            )
        if result.collateral:
            rows.append(["", f"+ {len(result.collateral)} collateral", "", ""])
    return _grid(["defect", "check", "verdict", "why"], rows)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(
    results: Sequence[DefectResult],
    started: datetime,
    baseline: Sequence[tuple[str, str]],
    baseline_source: str,
) -> str:
    caught = sum(r.all_caught for r in results)
    lines = [
        f"# Negative controls, {started.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"{caught} of {len(results)} defects caught by every claimed check for the expected "
        "reason.",
        "",
        f"Baseline ({_md(baseline_source)}): "
        + ("every claimed check passed." if not baseline else f"{len(baseline)} did not pass:"),
    ]
    lines += [f"- `{check}`: {_md(shorten(what))}" for check, what in baseline]
    lines += [
        "",
        "| defect | check | verdict | reason matched / what it said | seconds |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        for index, claim in enumerate(result.claims):
            first = index == 0
            lines.append(
                f"| {'`' + result.defect.name + '`' if first else ''} "
                f"| `{short_check(claim.check)}` | {claim.verdict} | {_md(_said(claim))} "
                f"| {f'{result.seconds:.0f}' if first else ''} |"
            )
    lines += ["", "## Collateral (unclaimed checks of the same areas that failed)", ""]
    for result in results:
        if not result.collateral:
            lines.append(f"- `{result.defect.name}`: none")
            continue
        lines.append(f"- `{result.defect.name}`: {len(result.collateral)}")
        for item in result.collateral:
            also = " (failed on the baseline too)" if item.also_on_baseline else ""
            lines.append(
                f"  - `{short_check(item.check)}` {item.outcome}{also}: "
                f"{_md(shorten(item.message))}"
            )
    lines += ["", "## Defects", ""]
    for result in results:
        lines.append(f"- `{result.defect.name}`: {_md(result.defect.description)}")
        lines += [f"  - problem: {p}" for p in result.problems]
        if result.folder is not None:
            lines.append(f"  - reports: `{result.folder}`")
    return "\n".join(lines) + "\n"


def render_coverage(rows: Sequence[CoverageRow]) -> str:
    table = [
        [
            short_check(r.check),
            ", ".join(r.defects) if r.defects else "-",
            ""
            if r.defects
            else (
                f"uncovered: {shorten(r.uncovered_because or '', 80)}"
                if r.uncovered_because
                else "NEITHER CLAIMED NOR LISTED"
            ),
        ]
        for r in rows
    ]
    return _grid(["check", "claimed by", "note"], table)
