"""summary.md and the JUnit of a run that ended in setup."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mysqlsts.reporting import summary


def test_the_summary_counts_and_lists_every_check_that_did_not_pass() -> None:
    rows = [
        summary.Row("suites/a.py::test_ok", "passed", ""),
        summary.Row("suites/a.py::test_bad", "failed", "AssertionError: x | y"),
        summary.Row("suites/b.py::test_skip", "skipped", "no PVs declared"),
    ]
    text = summary.markdown("profile p on kind cluster c", rows, ["storage 12s"], ["note"])
    assert "**1 failed, 1 passed, 1 skipped**" in text
    assert "| `suites/a.py::test_bad` | failed | AssertionError: x \\| y |" in text
    assert "| `suites/b.py::test_skip` | skipped | no PVs declared |" in text
    assert "test_ok" not in text
    assert "- storage 12s" in text


def test_a_setup_failure_is_one_junit_error_named_setup() -> None:
    xml = summary.setup_failure_junit("the deployment did not come up: pod mysql-0: x", 12.5, "ev")
    suite = ET.fromstring(xml.split("\n", 1)[1]).find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "1"
    case = suite.find("testcase")
    assert case is not None and case.get("name") == "setup"
    error = case.find("error")
    assert error is not None
    assert error.get("message") == "the deployment did not come up: pod mysql-0: x"
    assert error.text == "ev"


def test_a_setup_failure_summary_quotes_the_diagnosis() -> None:
    text = summary.setup_failure_markdown("t", "pod mysql-0: hostname: command not found", "f.txt")
    assert "the setup failed: no check ran" in text
    assert "pod mysql-0: hostname: command not found" in text
    assert "`f.txt`" in text
