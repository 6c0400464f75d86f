"""The negative-control runner without a cluster: defect.yaml, JUnit judging, the table."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mysqlsts.cli import defects
from mysqlsts.cli.defects import Defect, DefectResult
from mysqlsts.errors import InputError

GOOD = """
description: replicas are writable (super_read_only removed)
caught_by:
  - suites/replication/test_roles.py::test_replica_refuses_writes
  - suites/replication/test_roles.py::TestRoles::test_read_only
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "suites" / "replication").mkdir(parents=True)
    (tmp_path / "suites" / "replication" / "test_roles.py").write_text("")
    return tmp_path


def parse(root: Path, text: str) -> Defect:
    return defects.parse_defect("writable", root / "manifests/defects/writable", text, root)


def test_a_good_defect_yaml(root: Path) -> None:
    defect = parse(root, GOOD)
    assert defect.description == "replicas are writable (super_read_only removed)"
    assert defect.caught_by == (
        "suites/replication/test_roles.py::test_replica_refuses_writes",
        "suites/replication/test_roles.py::TestRoles::test_read_only",
    )
    assert defect.test_files == ["suites/replication/test_roles.py"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("description: [", "invalid YAML"),
        ("- a list", "expected a mapping"),
        ("caught_by: [suites/replication/test_roles.py::t]", "description must be"),
        ("description: x\ncaught_by: []", "caught_by must be a non-empty list"),
        ("description: x\ncaught_by: suites/replication/test_roles.py::t", "non-empty list"),
        ("description: x\ncaught_by: [suites/replication/test_roles.py]", "is not a node id"),
        ("description: x\ncaught_by: [tests/unit/test_x.py::t]", "not a test under suites/"),
        ("description: x\ncaught_by: [suites/storage/test_pv.py::t]", "no such file"),
        (
            "description: x\ncaught_by: [suites/replication/test_roles.py::t, "
            "suites/replication/test_roles.py::t]",
            "lists a check twice",
        ),
        (
            "description: x\ncaught_by: [suites/replication/test_roles.py::t]\nseverity: 1",
            "unknown",
        ),
    ],
)
def test_bad_defect_yaml_is_one_line(root: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        parse(root, text)
    assert "\n" not in str(raised.value)
    assert "defect.yaml" in str(raised.value)


def test_find_defects_requires_a_defect_yaml_in_each_overlay(root: Path) -> None:
    directory = root / "manifests" / "defects"
    assert defects.find_defects(directory, root) == []  # no directory: no defects
    (directory / "b-writable").mkdir(parents=True)
    (directory / "b-writable" / "defect.yaml").write_text(GOOD)
    (directory / "a-other").mkdir()
    (directory / "a-other" / "defect.yaml").write_text(GOOD)
    assert [d.name for d in defects.find_defects(directory, root)] == ["a-other", "b-writable"]
    (directory / "c-no-spec").mkdir()
    with pytest.raises(InputError, match=r"c-no-spec: no defect\.yaml"):
        defects.find_defects(directory, root)


def test_select_by_name(root: Path) -> None:
    defect = parse(root, GOOD)
    assert defects.select([defect], []) == [defect]
    assert defects.select([defect], ["writable"]) == [defect]
    with pytest.raises(InputError, match="unknown defect\\(s\\) nope \\(known: writable\\)"):
        defects.select([defect], ["nope"])


def test_junit_key_follows_pytests_classname() -> None:
    assert defects.junit_key("suites/storage/test_pv.py::test_bound") == (
        "suites.storage.test_pv",
        "test_bound",
    )
    assert defects.junit_key("suites/storage/test_pv.py::TestX::test_y[a-1]") == (
        "suites.storage.test_pv.TestX",
        "test_y[a-1]",
    )


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="suites.replication.test_roles" name="test_replica_refuses_writes">
    <failure message="assert 1290 == 0">...</failure></testcase>
  <testcase classname="suites.replication.test_roles.TestRoles" name="test_read_only">
    <error message="error at setup">...</error></testcase>
  <testcase classname="suites.replication.test_roles" name="test_skipped">
    <skipped message="x"/></testcase>
  <testcase classname="suites.replication.test_roles" name="test_passes"/>
  <testcase classname="suites.replication.test_roles" name="test_both">
    <failure message="f"/><error message="teardown"/></testcase>
</testsuite></testsuites>
"""


def test_outcomes_from_junit() -> None:
    outcomes = defects.outcomes_from_junit(JUNIT)
    module = "suites.replication.test_roles"
    assert outcomes == {
        (module, "test_replica_refuses_writes"): "failed",
        (f"{module}.TestRoles", "test_read_only"): "error",
        (module, "test_skipped"): "skipped",
        (module, "test_passes"): "passed",
        (module, "test_both"): "failed",  # its own failure, plus a teardown error
    }


def test_judge_caught_only_when_the_check_failed(root: Path) -> None:
    defect = parse(root, GOOD)
    result = defects.judge(defect, 1, JUNIT)
    first, second = defect.caught_by
    assert result.caught(first)
    assert not result.caught(second)  # an error in setup is not the check's failure
    assert result.outcome(second) == "error"
    assert not result.all_caught
    assert result.messages == {first: "assert 1290 == 0"}  # failures only


def test_judge_runs_that_produced_nothing(root: Path) -> None:
    defect = parse(root, GOOD)
    node = defect.caught_by[0]
    assert defects.judge(defect, 6, None).outcome(node) == "setup failed"
    assert defects.judge(defect, None, None).outcome(node) == "timed out"
    assert defects.judge(defect, 1, "<testsuites/>").outcome(node) == "not run"
    assert defects.judge(defect, 5, None).problems == [
        "no tests collected (check the node ids in caught_by)"
    ]
    assert defects.judge(defect, 7, JUNIT).problems == [
        "the run's reports contain the root password"
    ]
    assert defects.judge(defect, 3, None).problems == ["pytest ended with exit code 3"]


def results_for_table(root: Path) -> list[DefectResult]:
    writable = parse(root, GOOD)
    other = Defect(
        "no-binlog",
        root,
        "the master has no binary log",
        (
            "suites/replication/test_roles.py::test_replica_refuses_writes",
            "suites/storage/test_pv.py::test_read_only",
        ),
    )
    all_failed = JUNIT.replace('<error message="error at setup">', '<failure message="x">')
    all_failed = all_failed.replace("...</error></testcase>", "...</failure></testcase>", 1)
    return [defects.judge(writable, 1, all_failed), defects.judge(other, 6, None)]


def test_table_rows_defects_columns_checks(root: Path) -> None:
    header, rows = defects.table_rows(results_for_table(root))
    # The two test_read_only checks clash by name: their columns show the full node id.
    assert header == [
        "defect",
        "test_replica_refuses_writes",
        "suites/replication/test_roles.py::TestRoles::test_read_only",
        "suites/storage/test_pv.py::test_read_only",
    ]
    assert rows == [
        ["writable", "caught", "caught", "·"],
        ["no-binlog", "MISSED (setup failed)", "·", "MISSED (setup failed)"],
    ]


def test_rendered_tables(root: Path) -> None:
    results = results_for_table(root)
    text = defects.render_text(results)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["defect", "test_replica_refuses_writes"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith("writable ")
    markdown = defects.render_markdown(results, datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    assert "# Negative controls, 2026-11-25 13:00 UTC" in markdown
    assert "1 of 2 defects caught" in markdown
    assert "| writable | caught | caught | · |" in markdown
    assert "- `no-binlog` (**MISSED**): the master has no binary log" in markdown
    assert "  - `test_replica_refuses_writes`: caught: assert 1290 == 0\n" in markdown
    assert "  - `test_read_only`: MISSED (setup failed)\n" in markdown


def test_long_failure_messages_are_shortened() -> None:
    assert defects.shorten("x" * 300, 10) == "x" * 9 + "…"
    assert defects.shorten("short", 10) == "short"


def test_cluster_names_are_valid_and_distinct() -> None:
    assert defects.cluster_name("rep", "Replica_Writable!") == "rep-replica-writable"
    long = defects.cluster_name("defect", "x" * 80)
    assert len(long) <= 40 and not long.endswith("-")


def test_pytest_command_runs_only_the_needed_files(root: Path) -> None:
    defect = parse(root, GOOD)
    command = defects.pytest_command(defect, Path("/out/junit.xml"), "rep-writable", ["-x"])
    assert command[:3] == [sys.executable, "-m", "pytest"]
    assert command.count("suites/replication/test_roles.py") == 1
    assert command[command.index("--manifests") + 1] == str(defect.path)
    assert command[command.index("--cluster-name") + 1] == "rep-writable"
    assert "--junitxml=/out/junit.xml" in command and command[-1] == "-x"


# A stand-in project: the real options exist (as no-ops), the tests fail or pass.
STANDIN_CONFTEST = """
import os
def pytest_addoption(parser):
    parser.addoption("--manifests")
    parser.addoption("--cluster-name")

def pytest_configure(config):
    with open("seen.txt", "w") as f:
        f.write(f"{config.getoption('manifests')} {config.getoption('cluster_name')} "
                f"{os.environ['MYSQLSTS_REPORTS_DIR']}")
"""
STANDIN_TESTS = """
def test_replica_refuses_writes():
    assert False, "the replica accepted a write"

class TestRoles:
    def test_read_only(self):
        pass
"""


def test_run_defect_end_to_end_with_a_stand_in_suite(root: Path, tmp_path: Path) -> None:
    (root / "conftest.py").write_text(STANDIN_CONFTEST)
    (root / "suites" / "replication" / "test_roles.py").write_text(STANDIN_TESTS)
    defect = parse(root, GOOD)
    out = tmp_path / "out" / "writable"
    result = defects.run_defect(
        defect, out, "rep-writable", 120, ["-p", "no:pytest-kind"], root=root
    )
    assert result.exit_code == 1
    assert result.outcomes == {
        defect.caught_by[0]: "failed",
        defect.caught_by[1]: "passed",
    }
    assert [defects.cell(result, n) for n in defect.caught_by] == ["caught", "MISSED (passed)"]
    assert (root / "seen.txt").read_text() == f"{defect.path} rep-writable {out}"
    assert "the replica accepted a write" in (out / "pytest.log").read_text()


def test_run_all_keeps_defect_order_whichever_finishes_first(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = parse(root, GOOD), parse(root, GOOD)
    second = Defect("second", second.path, second.description, second.caught_by)
    release = threading.Event()
    calls: list[tuple[str, str]] = []

    def fake_run(defect, out_dir, cluster, timeout, extra):  # type: ignore[no-untyped-def]
        calls.append((defect.name, cluster))
        if defect.name == "second":
            release.set()  # the second ends first: both ran at once
        else:
            assert release.wait(10), "the defects did not run concurrently"
        result = DefectResult(defect, 1, {n: "failed" for n in defect.caught_by})
        result.folder = out_dir
        return result

    monkeypatch.setattr(defects, "run_defect", fake_run)
    results = defects.run_all([first, second], tmp_path, "pre", 60, [], jobs=2)
    assert [r.defect.name for r in results] == [first.name, "second"]
    assert sorted(calls) == sorted([(first.name, f"pre-{first.name}"), ("second", "pre-second")])


def test_main_bad_input_is_one_line(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = root / "manifests" / "defects"
    monkeypatch.setattr(defects, "DEFECTS_DIR", directory)
    monkeypatch.setattr(defects, "REPO_ROOT", root)
    assert defects.main([]) == 4
    assert capsys.readouterr().err.startswith("error: no defects under ")
    (directory / "writable").mkdir(parents=True)
    (directory / "writable" / "defect.yaml").write_text(GOOD)
    assert defects.main(["nope"]) == 4
    assert capsys.readouterr().err == "error: unknown defect(s) nope (known: writable)\n"
    assert defects.main(["--timeout", "0"]) == 4
    assert defects.main(["--jobs", "0"]) == 4
    assert defects.main(["--defects-dir", str(root / "nope")]) == 4
    assert "--defects-dir" in capsys.readouterr().err
    assert defects.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("writable: replicas are writable")
    assert "    suites/replication/test_roles.py::TestRoles::test_read_only" in out
