"""pytest's JUnit XML, read into one result per exact node id (parameters included)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"


@dataclass(frozen=True)
class CaseResult:
    outcome: str  # passed | failed | error | skipped
    message: str = ""  # the failure's (or error's, or skip's) message, not its traceback

    @property
    def first_line(self) -> str:
        lines = self.message.strip().splitlines()
        return lines[0] if lines else ""


def junit_key(node: str) -> tuple[str, str]:
    """(classname, name) under which pytest's JUnit XML reports a node id.

    ``suites/a/test_f.py::TestC::test_x[p]`` -> ``("suites.a.test_f.TestC", "test_x[p]")``.
    """
    file, _, rest = node.partition("::")
    module = file.removesuffix(".py").replace("/", ".")
    parts = rest.split("::")
    return ".".join([module, *parts[:-1]]), parts[-1]


def _case(case: ET.Element) -> CaseResult:
    # In this order: a failure with a teardown error is still the check's own failure.
    for tag, outcome in (("failure", FAILED), ("error", ERROR), ("skipped", SKIPPED)):
        child = case.find(tag)
        if child is not None:
            return CaseResult(outcome, (child.get("message") or "").strip())
    return CaseResult(PASSED)


def read_results(text: str, nodes: Iterable[str]) -> dict[str, CaseResult]:
    """The result of each of ``nodes`` the XML reports; nodes it does not report are absent."""
    by_key = {
        (case.get("classname", ""), case.get("name", "")): _case(case)
        for case in ET.fromstring(text).iter("testcase")
    }
    return {node: by_key[junit_key(node)] for node in nodes if junit_key(node) in by_key}
