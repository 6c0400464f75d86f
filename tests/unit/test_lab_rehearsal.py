"""The nightly's rehearsal: expressions, runner files, and the workflow it reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mysqlsts.lab import rehearsal

CONTEXTS = {
    "matrix": {"profile": "upstream"},
    "steps": {"scan": {"outcome": "success", "outputs": {"present": "true"}}},
    "github": {"run_id": "42"},
    "inputs": {"pytest_args": ""},
}


@pytest.mark.parametrize(
    ("expression", "job_ok", "expected"),
    [
        ("always() && steps.scan.outcome == 'success'", False, True),
        (
            "always() && steps.scan.outcome == 'success' && matrix.profile != 'upstream'",
            True,
            False,
        ),
        ("always() && steps.report.outputs.present == 'true'", True, False),  # no such step
        ("steps.scan.outputs.present == 'true'", False, False),  # success() implied
        ("!(matrix.profile == 'x') || failure()", True, True),
    ],
)
def test_conditions_follow_githubs_rules(expression: str, job_ok: bool, expected: bool) -> None:
    assert rehearsal.should_run(expression, CONTEXTS, job_ok) is expected


def test_expressions_are_filled_into_text() -> None:
    text = "reports-${{ matrix.profile }}-${{ github.run_id }} [${{ inputs.pytest_args }}]"
    assert rehearsal.substitute(text, CONTEXTS, True) == "reports-upstream-42 []"


def test_an_unsupported_expression_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        rehearsal.evaluate("fromJSON(inputs.profile)", CONTEXTS, True)
    with pytest.raises(ValueError, match="unsupported"):
        rehearsal.evaluate("__import__('os')", CONTEXTS, True)


def test_runner_files_are_read_as_the_runner_does(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text("A=1\nB=x=y\nC<<EOF\nline 1\nline 2\nEOF\n")
    assert rehearsal.read_pairs(path) == {"A": "1", "B": "x=y", "C": "line 1\nline 2"}


def test_every_step_of_the_nightly_e2e_job_can_be_rehearsed() -> None:
    workflow = yaml.safe_load(rehearsal.WORKFLOW.read_text())
    for step in workflow["jobs"][rehearsal.JOB]["steps"]:
        if "uses" in step:
            assert step["uses"].split("@")[0] in rehearsal.ACTIONS, step["uses"]
        rehearsal.should_run(step.get("if"), CONTEXTS, True)  # evaluates


def test_junit_counts_add_up_every_suite(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1"/>'
        '<testsuite tests="1" failures="0" errors="1" skipped="0"/></testsuites>'
    )
    assert rehearsal.junit_counts(path) == {"tests": 4, "failures": 1, "errors": 1, "skipped": 1}


def test_the_mirror_counts_the_blob_bytes_it_served_per_repository() -> None:
    from mysqlsts.lab import registry

    log = "\n".join(
        [
            '{"http.request.method":"GET","http.request.uri":"/v2/library/mysql/blobs/sha256:a",'
            '"http.response.written":1000}',
            '{"http.request.method":"GET","http.request.uri":"/v2/library/mysql/blobs/sha256:b",'
            '"http.response.written":500}',
            '{"http.request.method":"HEAD","http.request.uri":"/v2/library/mysql/blobs/sha256:b"}',
            '{"http.request.method":"GET","http.request.uri":"/v2/library/mysql/manifests/5.7"}',
            "not json",
        ]
    )
    assert registry.bytes_served(log) == {"library/mysql": 1500}
