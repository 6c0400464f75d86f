"""The run's summary as Markdown (``summary.md``: the nightly's ``$GITHUB_STEP_SUMMARY``)
and the JUnit file of a run that ended in setup (one error entry, so that a CI's test tab
shows why nothing ran instead of nothing at all)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

SUMMARY_FILE = "summary.md"
# pytest's outcome words, in the order a reviewer reads them.
OUTCOMES = ("failed", "error", "passed", "skipped", "xfailed", "xpassed")
SETUP_CASE = "setup"


@dataclass(frozen=True)
class Row:
    nodeid: str
    outcome: str  # one of OUTCOMES
    message: str  # first line of the failure, or the skip's reason; "" for a pass


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(title: str, rows: list[Row], times: list[str], notes: list[str]) -> str:
    """Counts, then every test that did not pass with its message, then times and notes."""
    counts = Counter(row.outcome for row in rows)
    head = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]) or "no test ran"
    lines = [f"## mysqlsts: {title}", "", f"**{head}**", ""]
    others = [row for row in rows if row.outcome != "passed"]
    if others:
        lines += ["| check | outcome | why |", "|---|---|---|"]
        lines += [f"| `{_cell(r.nodeid)}` | {r.outcome} | {_cell(r.message)} |" for r in others]
        lines.append("")
    if times:
        lines += ["Time per suite:", "", *[f"- {text}" for text in times], ""]
    if notes:
        lines += ["<details><summary>Changes made by the suite</summary>", ""]
        lines += [f"- {_cell(text)}" for text in notes]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def setup_failure_markdown(title: str, headline: str, evidence_file: str | None) -> str:
    lines = [f"## mysqlsts: {title}", "", "**the setup failed: no check ran**", "", "```"]
    lines += [headline, "```", ""]
    if evidence_file:
        lines += [f"Events and logs: `{evidence_file}` in the run's reports.", ""]
    return "\n".join(lines)


def setup_failure_junit(headline: str, seconds: float, evidence: str = "") -> str:
    """JUnit XML with one ``setup`` test case in error, its message the diagnosis."""
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="mysqlsts",
        tests="1",
        errors="1",
        failures="0",
        skipped="0",
        time=f"{seconds:.3f}",
    )
    case = ET.SubElement(suite, "testcase", classname="mysqlsts", name=SETUP_CASE)
    case.set("time", f"{seconds:.3f}")
    error = ET.SubElement(case, "error", message=headline)
    error.text = evidence or headline
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
