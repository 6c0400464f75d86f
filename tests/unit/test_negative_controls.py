"""The negative controls without a cluster: defect.yaml, verdicts, selection, the tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mysqlsts.cli import defects as cli
from mysqlsts.errors import InputError
from mysqlsts.negative_controls import catalogue, junit, runner, selection, table, verdicts
from mysqlsts.negative_controls.catalogue import Claim, Defect
from mysqlsts.negative_controls.junit import CaseResult

ROLES = "suites/replication/test_roles.py"
GOOD = f"""
description: replicas are writable (super_read_only removed)
caught_by:
  - check: {ROLES}::test_replica_refuses_writes
    reason: 'error 1290|accepted a write'
  - check: {ROLES}::TestRoles::test_read_only[replica]
    reason: 'super_read_only is OFF'
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "suites" / "replication").mkdir(parents=True)
    (tmp_path / "suites" / "replication" / "test_roles.py").write_text("")
    return tmp_path


def parse(root: Path, text: str = GOOD, name: str = "writable") -> Defect:
    return catalogue.parse_defect(name, root / "manifests/defects" / name, text, root)


# -- defect.yaml ---------------------------------------------------------------------------------
def test_a_good_defect_yaml_names_each_check_and_its_reason(root: Path) -> None:
    defect = parse(root)
    assert defect.checks == (
        f"{ROLES}::test_replica_refuses_writes",
        f"{ROLES}::TestRoles::test_read_only[replica]",
    )
    assert defect.areas == ["suites/replication"]
    assert defect.claims[0].matches("pymysql...: error 1290: read-only")
    assert not defect.claims[0].matches("timed out after 60s waiting for x")


def claim(check: str = f"{ROLES}::t", reason: str = "x") -> str:
    return f"description: x\ncaught_by:\n  - check: {check}\n    reason: '{reason}'\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("description: [", "invalid YAML"),
        ("- a list", "expected a mapping"),
        ("caught_by: []", "description must be"),
        ("description: x\ncaught_by: []", "non-empty list of {check, reason}"),
        (f"description: x\ncaught_by: [{ROLES}::t]", "exactly 'check' and 'reason'"),
        (claim(ROLES), "is not a node id"),
        (claim("tests/unit/test_x.py::t"), "not a test under suites/<area>/"),
        (claim("suites/storage/test_pv.py::t"), "no such file"),
        (claim(reason="("), "is not a regex"),
        (claim(reason="x|"), "matches any message"),
        (claim() + claim().split("\n", 2)[2], "lists a check twice"),
        (claim() + "severity: 1\n", "unknown"),
    ],
)
def test_bad_defect_yaml_is_one_line(root: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as raised:
        parse(root, text)
    assert "\n" not in str(raised.value)
    assert "defect.yaml" in str(raised.value)


def test_find_defects_requires_a_defect_yaml_in_each_overlay(root: Path) -> None:
    directory = root / "manifests" / "defects"
    assert catalogue.find_defects(directory, root) == []
    for name in ("b-writable", "a-other"):
        (directory / name).mkdir(parents=True)
        (directory / name / "defect.yaml").write_text(GOOD)
    assert [d.name for d in catalogue.find_defects(directory, root)] == ["a-other", "b-writable"]
    (directory / "c-no-spec").mkdir()
    with pytest.raises(InputError, match=r"c-no-spec: no defect\.yaml"):
        catalogue.find_defects(directory, root)


def test_select_by_name(root: Path) -> None:
    defect = parse(root)
    assert catalogue.select([defect], []) == [defect]
    with pytest.raises(InputError, match=r"unknown defect\(s\) nope \(known: writable\)"):
        catalogue.select([defect], ["nope"])


def test_a_claim_names_an_exact_collected_case(root: Path) -> None:
    defect = parse(root)
    collected = [
        f"{ROLES}::test_replica_refuses_writes",
        f"{ROLES}::TestRoles::test_read_only[replica]",
    ]
    catalogue.require_collected([defect], collected)
    by_function = parse(root, claim(f"{ROLES}::test_p"))
    with pytest.raises(InputError, match=r"name one of its cases: .*test_p\[a\], .*test_p\[b\]"):
        catalogue.require_collected([by_function], [f"{ROLES}::test_p[a]", f"{ROLES}::test_p[b]"])
    with pytest.raises(InputError, match="is not a collected test"):
        catalogue.require_collected([by_function], [])


def test_the_defects_build_on_one_base_through_nested_overlays(tmp_path: Path) -> None:
    directory = tmp_path / "manifests" / "defects"
    profile = tmp_path / "manifests" / "profiles" / "offline"
    profile.mkdir(parents=True)
    for name, base in (("a", "../../profiles/offline"), ("b", "../a")):
        (directory / name).mkdir(parents=True)
        (directory / name / "kustomization.yaml").write_text(f"resources:\n- {base}\n")
    made = [Defect(n, directory / n, "x", ()) for n in ("a", "b")]
    assert catalogue.common_base(made, directory) == profile.resolve()
    other = tmp_path / "manifests" / "profiles" / "other"
    other.mkdir()
    (directory / "c").mkdir()
    (directory / "c" / "kustomization.yaml").write_text("resources:\n- ../../profiles/other\n")
    with pytest.raises(InputError, match="build on different manifests"):
        catalogue.common_base([*made, Defect("c", directory / "c", "x", ())], directory)


# -- coverage ------------------------------------------------------------------------------------
UNCOVERED = f"""# Checks without a defect
- `{ROLES}::test_walk`: every fault that breaks it
  breaks the setup first.
- `{ROLES}::test_p`: all its cases.

- `{ROLES}::test_gone`: renamed since.
"""


def test_coverage_needs_a_claim_or_a_reason_for_every_check(root: Path) -> None:
    uncovered = catalogue.read_uncovered(UNCOVERED)
    assert uncovered[f"{ROLES}::test_walk"] == "every fault that breaks it breaks the setup first."
    collected = [
        f"{ROLES}::test_replica_refuses_writes",
        f"{ROLES}::test_walk",
        f"{ROLES}::test_p[a]",
        f"{ROLES}::test_new",
    ]
    rows = catalogue.coverage(collected, [parse(root)], uncovered)
    assert [(r.check.split("::")[-1], r.defects, r.covered) for r in rows] == [
        ("test_replica_refuses_writes", ("writable",), True),
        ("test_walk", (), True),
        ("test_p[a]", (), True),
        ("test_new", (), False),
    ]
    assert catalogue.stale_uncovered(collected, uncovered) == [f"{ROLES}::test_gone"]
    assert "NEITHER CLAIMED NOR LISTED" in table.render_coverage(rows)


# -- JUnit and verdicts ---------------------------------------------------------------------------
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="suites.replication.test_roles" name="test_replica_refuses_writes">
    <failure message="AssertionError: mysql-1: INSERT -&gt; error 1290: read-only">tb</failure>
  </testcase>
  <testcase classname="suites.replication.test_roles.TestRoles" name="test_read_only[replica]">
    <error message="failed on setup with LookupError">tb</error></testcase>
  <testcase classname="suites.replication.test_roles" name="test_skipped">
    <skipped message="needs 2 replicas"/></testcase>
  <testcase classname="suites.replication.test_roles" name="test_passes"/>
  <testcase classname="suites.replication.test_roles" name="test_both">
    <failure message="f"/><error message="teardown"/></testcase>
</testsuite></testsuites>
"""


def test_junit_results_by_exact_node_id() -> None:
    nodes = [
        f"{ROLES}::test_replica_refuses_writes",
        f"{ROLES}::TestRoles::test_read_only[replica]",
        f"{ROLES}::TestRoles::test_read_only[master]",  # not in the XML
        f"{ROLES}::test_skipped",
        f"{ROLES}::test_passes",
        f"{ROLES}::test_both",
    ]
    results = junit.read_results(JUNIT, nodes)
    assert {n.split("::")[-1]: r.outcome for n, r in results.items()} == {
        "test_replica_refuses_writes": "failed",
        "test_read_only[replica]": "error",
        "test_skipped": "skipped",
        "test_passes": "passed",
        "test_both": "failed",  # its own failure, plus a teardown error
    }
    assert results[nodes[0]].message == "AssertionError: mysql-1: INSERT -> error 1290: read-only"


PASSED = CaseResult("passed")
REASON = re.compile("error 1290", re.DOTALL)


@pytest.mark.parametrize(
    ("result", "baseline", "exit_code", "verdict", "detail"),
    [
        (CaseResult("failed", "x: error 1290: read-only"), PASSED, 1, "caught", "expected reason"),
        (CaseResult("failed", "IndexError: list index"), PASSED, 1, "WRONG REASON", "another"),
        (CaseResult("failed", "Failed: Timeout >900.0s"), PASSED, 1, "MISSED", "timed out"),
        (
            CaseResult("failed", "mysqlsts.waiting.WaitTimeout: timed out after 9s waiting"),
            PASSED,
            1,
            "MISSED",
            "timed out",
        ),
        (CaseResult("error", "failed on setup"), PASSED, 1, "MISSED", "setup or teardown"),
        (CaseResult("skipped", "why"), PASSED, 0, "MISSED", "skipped"),
        (PASSED, PASSED, 0, "MISSED", "passed"),
        (None, PASSED, 6, "MISSED", "did not come up"),
        (None, PASSED, None, "MISSED", "timed out before it"),
        (CaseResult("failed", "error 1290"), CaseResult("failed", "e"), 1, "BASELINE FAILED", "e"),
        (CaseResult("failed", "error 1290"), None, 1, "BASELINE FAILED", "not run"),
    ],
)
def test_a_catch_counts_only_for_the_expected_reason_on_a_green_baseline(
    result: CaseResult | None,
    baseline: CaseResult | None,
    exit_code: int | None,
    verdict: str,
    detail: str,
) -> None:
    judged = verdicts.judge_claim(Claim("c", REASON), result, baseline, exit_code)
    assert (judged.verdict, detail in judged.detail) == (verdict, True)


def test_a_timeout_counts_when_the_reason_names_it() -> None:
    reason = re.compile(r"waiting for mysql-1 to report an IO error", re.DOTALL)
    message = "WaitTimeout: timed out after 90s waiting for mysql-1 to report an IO error; last"
    claim = Claim("c", reason)
    assert verdicts.judge_claim(claim, CaseResult("failed", message), PASSED, 1).caught


def test_collateral_is_every_other_failure_and_says_if_the_baseline_failed_too(root: Path) -> None:
    defect = parse(root)
    first, second = defect.checks
    other, flaky, fine = (f"{ROLES}::test_{n}" for n in ("other", "flaky", "fine"))
    results = {
        first: CaseResult("failed", "error 1290"),
        second: CaseResult("failed", "super_read_only is OFF on mysql-1"),
        other: CaseResult("error", "failed on setup"),
        flaky: CaseResult("failed", "boom"),
        fine: PASSED,
    }
    baseline = {first: PASSED, second: PASSED, other: PASSED, flaky: CaseResult("failed", "b")}
    judged = verdicts.judge(defect, 1, results, baseline, [first, second, other, flaky, fine])
    assert judged.all_caught and judged.verdict == "caught"
    assert [(c.check, c.outcome, c.also_on_baseline) for c in judged.collateral] == [
        (other, "error", False),
        (flaky, "failed", True),
    ]
    assert verdicts.baseline_failures([first, flaky, fine], baseline) == [
        (flaky, "failed: b"),
        (fine, "not run"),
    ]


def test_run_problems() -> None:
    defect = Defect("d", Path("."), "x", ())
    assert verdicts.DefectResult(defect, 5).problems == [
        "no tests collected (check the node ids in caught_by)"
    ]
    assert verdicts.DefectResult(defect, 7).problems == [
        "the run's reports contain the root password"
    ]
    assert verdicts.DefectResult(defect, 3).problems == ["pytest ended with exit code 3"]
    assert not verdicts.DefectResult(defect, 0).all_caught  # no claims: nothing caught


# -- selection -------------------------------------------------------------------------------------
SUITE = selection.Suite(
    (
        "suites/replication/test_roles.py::test_replica_refuses_writes",
        "suites/replication/test_roles.py::TestRoles::test_read_only[replica]",
        "suites/replication/test_roles.py::test_crash",
        "suites/replication/test_other.py::test_x",
        "suites/storage/test_pv.py::test_bound",
    ),
    frozenset({"suites/replication/test_roles.py::test_crash"}),
)


def test_a_plan_runs_the_claims_first_then_the_rest_of_their_area(root: Path) -> None:
    made = selection.plan(parse(root), SUITE)
    assert made.ran == [*parse(root).checks, "suites/replication/test_other.py::test_x"]
    assert made.deselected == ("suites/replication/test_roles.py::test_crash",)
    args = made.pytest_args
    assert args[:3] == ["suites/replication", "-p", "mysqlsts.negative_controls.claimed_first"]
    assert args[args.index("--claimed-first") + 1] == parse(root).checks[0]
    assert args[-2:] == ["--deselect", "suites/replication/test_roles.py::test_crash"]
    alone = selection.plan(parse(root), SUITE, collateral=False)
    assert alone.ran == list(parse(root).checks) and alone.paths == parse(root).checks


def test_the_baseline_runs_every_planned_check_once_in_suite_order(root: Path) -> None:
    plans = [selection.plan(parse(root), SUITE), selection.plan(parse(root), SUITE, False)]
    assert selection.baseline_plan(plans, SUITE).ran == [
        c for c in SUITE.checks if c not in SUITE.faults and "storage" not in c
    ]


def test_the_sample_rotates_so_that_every_defect_comes_round(root: Path) -> None:
    made = [Defect(f"d{i:02}", root, "x", ()) for i in range(7)]
    seen: set[str] = set()
    windows: set[tuple[str, ...]] = set()
    for commit in (f"{n:040x}" for n in range(40)):
        chosen = selection.sample(made, 3, commit)
        assert len(chosen) == 3 and chosen == selection.sample(made, 3, commit)
        seen |= {d.name for d in chosen}
        windows.add(tuple(d.name for d in chosen))
    assert seen == {d.name for d in made}
    assert len(windows) == 3  # ceil(7 / 3); the last one wraps round
    assert selection.sample(made, 10, "x") == made
    with pytest.raises(InputError, match="at least 1"):
        selection.sample(made, 0, "x")


def test_an_always_defect_runs_first_and_is_not_drawn_again_in_the_sample(root: Path) -> None:
    made = [Defect(f"d{i:02}", root, "x", ()) for i in range(7)]
    for commit in (f"{n:040x}" for n in range(10)):
        chosen = selection.with_always(made, made[3:4], 3, commit)
        assert chosen[0].name == "d03" and len(chosen) == 4
        assert [d.name for d in chosen].count("d03") == 1
    assert selection.with_always(made[:2], made[5:6], None, "") == [made[5], *made[:2]]
    assert selection.with_always(made, [], None, "") == made


def test_cluster_names_are_valid_and_distinct() -> None:
    assert runner.cluster_name("rep", "Replica_Writable!") == "rep-replica-writable"
    long = runner.cluster_name("defect", "x" * 80)
    assert len(long) <= 40 and not long.endswith("-")


# -- tables --------------------------------------------------------------------------------------
def test_the_tables_show_each_claim_its_reason_and_the_collateral(root: Path) -> None:
    defect = parse(root)
    first, second = defect.checks
    results = {
        first: CaseResult("failed", "mysql-1: INSERT -> error 1290: read-only"),
        second: CaseResult("failed", "KeyError: 'Slave_IO_Running'"),
        f"{ROLES}::test_x": CaseResult("failed", "boom | bang"),
    }
    judged = verdicts.judge(defect, 1, results, dict.fromkeys(results, PASSED), list(results))
    judged.seconds = 321
    text = table.render_text([judged])
    assert "test_roles::test_replica_refuses_writes" in text and "WRONG REASON" in text
    markdown = table.render_markdown(
        [judged], datetime(2026, 12, 2, 13, 0, tzinfo=UTC), [], "baseline/"
    )
    assert "0 of 1 defects caught" in markdown
    assert "Baseline (baseline/): every claimed check passed." in markdown
    assert "| caught | matched /error 1290\\|accepted a write/: mysql-1: INSERT" in markdown
    assert "| 321 |" in markdown
    assert (
        "WRONG REASON | failed for another reason; expected /super_read_only is OFF/; "
        "said: KeyError: 'Slave_IO_Running'" in markdown
    )
    assert "  - `test_roles::test_x` failed: boom \\| bang" in markdown
    assert table.shorten("x" * 300, 10) == "x" * 9 + "…"


# -- end to end with a stand-in suite -------------------------------------------------------------
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
import pytest
ORDER = []

def test_other():
    ORDER.append("other")
    assert False, "broken too"

def test_replica_refuses_writes():
    ORDER.append("claimed")
    assert False, "mysql-1 accepted a write"

class TestRoles:
    @pytest.mark.parametrize("role", ["master", "replica"])
    def test_read_only(self, role):
        ORDER.append(role)
        assert role == "master", f"ran in the order {ORDER}"
"""


def test_a_run_orders_the_claims_first_and_is_judged(root: Path, tmp_path: Path) -> None:
    (root / "conftest.py").write_text(STANDIN_CONFTEST)
    (root / "suites" / "replication" / "test_roles.py").write_text(STANDIN_TESTS)
    defect = parse(root)
    suite = selection.Suite(
        (
            f"{ROLES}::test_other",
            f"{ROLES}::test_replica_refuses_writes",
            f"{ROLES}::TestRoles::test_read_only[master]",
            f"{ROLES}::TestRoles::test_read_only[replica]",
        ),
        frozenset(),
    )
    made = selection.plan(defect, suite)
    out = tmp_path / "out" / "writable"
    done = runner.run_plan(
        made, defect.path, out, "rep-writable", 120, ["-p", "no:pytest-kind"], root=root
    )
    assert done.exit_code == 1
    assert runner.read_exit_code(out) == 1  # recorded for --rejudge
    results = junit.read_results(done.junit_text() or "", made.ran)
    judged = verdicts.judge(
        defect, done.exit_code, results, dict.fromkeys(made.ran, PASSED), made.ran
    )
    assert [c.verdict for c in judged.claims] == ["caught", "WRONG REASON"]
    # The claims ran first, in their listed order; the collateral after them.
    assert judged.claims[1].message.startswith(
        "AssertionError: ran in the order ['claimed', 'replica']"
    )
    assert [c.check.split("::")[-1] for c in judged.collateral] == ["test_other"]
    assert (root / "seen.txt").read_text() == f"{defect.path} rep-writable {out}"


def test_main_bad_input_is_one_line(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = root / "manifests" / "defects"
    monkeypatch.setattr(catalogue, "DEFECTS_DIR", directory)
    monkeypatch.setattr(cli, "REPO_ROOT", root)
    assert cli.main(["--defects-dir", str(directory)]) == 4
    assert capsys.readouterr().err.startswith("error: --defects-dir ")
    directory.mkdir(parents=True)
    assert cli.main(["--defects-dir", str(directory)]) == 4
    assert capsys.readouterr().err.startswith("error: no defects under ")
    (directory / "writable").mkdir()
    (directory / "writable" / "defect.yaml").write_text(GOOD)
    assert cli.main(["--defects-dir", str(directory), "nope"]) == 4
    assert capsys.readouterr().err == "error: unknown defect(s) nope (known: writable)\n"
    assert cli.main(["--timeout", "0"]) == 4
    assert cli.main(["--jobs", "0"]) == 4
    assert cli.main(["--defects-dir", str(directory), "--sample", "0"]) == 4
    assert cli.main(["--defects-dir", str(directory), "--list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("writable: replicas are writable")
    assert "reason: /super_read_only is OFF/" in out


SETUP_DEFECT = """
description: the StorageClass names a provisioner that is not running
caught_by:
  - check: setup
    reason: 'claim \\S+ waits: .*external provisioner'
"""


def test_a_defect_that_stops_the_deployment_claims_the_setup_and_its_diagnosis(
    root: Path, tmp_path: Path
) -> None:
    defect = parse(root, SETUP_DEFECT)
    assert defect.claims_setup and defect.checks == () and defect.areas == []
    assert selection.plan(defect, SUITE).paths == (selection.SETUP_PROBE,)
    log = tmp_path / "pytest.log"
    log.write_text(
        "kind create cluster ...\nExit: the deployment did not come up: pod mysql-1 is Pending: "
        "its claim data-mysql-1 waits: Waiting for a volume to be created either by the "
        "external provisioner 'rancher.io/local-path' (events and logs: x)\n"
    )
    line = runner.setup_line(log)
    assert line is not None and line.startswith("the deployment did not come up: pod mysql-1")
    claim = defect.claims[0]
    up = {"c": PASSED}
    assert verdicts.judge(defect, 6, {}, up, [], line).claims[0].verdict == "caught"
    assert verdicts.judge_setup(claim, 6, "image cannot be pulled", True).verdict == "WRONG REASON"
    assert verdicts.judge_setup(claim, 1, None, True).detail == "the deployment came up"
    assert verdicts.judge_setup(claim, 6, line, False).verdict == "BASELINE FAILED"
    with pytest.raises(InputError, match="can claim nothing else"):
        parse(root, SETUP_DEFECT + f"  - check: {ROLES}::t\n    reason: x\n")


class _FakePytest:
    """A pytest run that is interrupted while the runner waits for it."""

    def __init__(self, *_a: object, **_k: object) -> None:
        self.signals: list[str] = []
        self.ended = False
        _FakePytest.last = self

    def wait(self, timeout: float | None = None) -> int:
        if not self.signals:
            raise KeyboardInterrupt  # Ctrl-C while the run is under way
        return -15

    def poll(self) -> int | None:
        return -15 if self.signals else None

    def terminate(self) -> None:
        self.signals.append("TERM")

    def kill(self) -> None:
        self.signals.append("KILL")


def test_an_interrupted_runner_stops_its_pytest_so_that_it_removes_its_cluster(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner.subprocess, "Popen", _FakePytest)
    made = selection.plan(parse(root), SUITE, collateral=False)
    with pytest.raises(KeyboardInterrupt):
        runner.run_plan(made, root, tmp_path / "out", "rep-x", 60, root=root)
    assert _FakePytest.last.signals == ["TERM"]  # SIGTERM: the plugin tears the cluster down
    assert not runner._live  # forgotten once stopped


def test_a_baseline_for_setup_defects_alone_runs_their_probe(root: Path) -> None:
    probe = f"{selection.SETUP_PROBE}::test_class"
    suite = selection.Suite((*SUITE.checks, probe), SUITE.faults)
    plans = [selection.plan(parse(root, SETUP_DEFECT), suite)]
    assert selection.baseline_plan(plans, suite).ran == [probe]


def test_a_rejudgement_writes_a_table_of_its_own_beside_the_runs() -> None:
    out = Path("/reports/defects-20261204T013500Z")
    at = datetime(2026, 12, 4, 6, 1, 2, tzinfo=UTC)
    assert cli.table_path(out, at, rejudged=False) == Path("/reports/defects-20261204T013500Z.md")
    assert cli.table_path(out, at, rejudged=True) == Path(
        "/reports/defects-20261204T013500Z.rejudged-20261204T060102Z.md"
    )
