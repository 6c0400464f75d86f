"""Reports: run folders, Allure environment and labels, Hypothesis lines, the secret scan."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import article
import pytest
from allure_commons import model2
from allure_commons.model2 import Label, StatusDetails
from hypothesis import given, settings
from hypothesis import strategies as st

from mysqlsts import repository
from mysqlsts.cli import allure_html as cli_reports
from mysqlsts.cli import scan_secrets as cli_secretscan
from mysqlsts.errors import EXIT_SECRET_FOUND, DeploymentFailed
from mysqlsts.manifests.model import discover
from mysqlsts.plugin import fixtures, lifecycle
from mysqlsts.redaction import redact, register_secret
from mysqlsts.reporting import allure_results as allure_content
from mysqlsts.reporting import folders as reports
from mysqlsts.reporting import secretscan
from mysqlsts.run.environment import RunInfo

NOON = datetime(2026, 11, 25, 12, 0, 5, tzinfo=UTC)


# -- the run's folder -------------------------------------------------------------------------
def test_run_folder_is_named_by_utc_time_and_run_id(tmp_path: Path) -> None:
    folder = reports.new_run_folder(tmp_path, "8828dd64", NOON)
    assert folder.path == tmp_path / "20261125T120005Z-8828dd64"
    assert folder.path.is_dir()
    assert folder.junit.name == "junit.xml" and folder.html.name == "report.html"
    assert folder.allure_index == folder.path / "allure-report" / "index.html"
    with pytest.raises(FileExistsError):
        reports.new_run_folder(tmp_path, "8828dd64", NOON)


def test_reports_base_from_the_environment(tmp_path: Path) -> None:
    assert repository.reports_base(tmp_path, {}) == tmp_path / "reports"
    other = tmp_path / "elsewhere"
    assert repository.reports_base(tmp_path, {"MYSQLSTS_REPORTS_DIR": str(other)}) == other


def test_latest_points_at_the_last_run(tmp_path: Path) -> None:
    first = reports.new_run_folder(tmp_path, "aaaa", NOON)
    second = reports.new_run_folder(tmp_path, "bbbb", NOON)
    latest = reports.update_latest(tmp_path, first)
    assert latest.is_symlink() and os.readlink(latest) == first.path.name  # relative
    reports.update_latest(tmp_path, second)
    assert latest.resolve() == second.path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["latest", first.path.name, second.path.name]
    )


def test_latest_is_a_copy_where_symlinks_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = reports.new_run_folder(tmp_path, "aaaa", NOON)
    folder.junit.write_text("<testsuites/>")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("symlinks not supported")

    monkeypatch.setattr(Path, "symlink_to", refuse)
    latest = reports.update_latest(tmp_path, folder)
    assert not latest.is_symlink() and (latest / "junit.xml").read_text() == "<testsuites/>"
    reports.update_latest(tmp_path, folder)  # replaces the earlier copy
    assert (latest / "junit.xml").is_file()


def test_report_options_fill_only_what_the_user_left_unset(tmp_path: Path) -> None:
    folder = reports.RunFolder(tmp_path)
    option = SimpleNamespace(
        xmlpath=None, htmlpath="mine.html", self_contained_html=False, allure_report_dir=None
    )
    applied = reports.apply_options(option, folder)
    assert applied == ["xmlpath", "self_contained_html", "allure_report_dir"]
    assert option.xmlpath == str(tmp_path / "junit.xml")
    assert option.htmlpath == "mine.html"
    assert option.self_contained_html is True
    assert option.allure_report_dir == str(tmp_path / "allure-results")
    # A plugin that is not installed has no option: nothing is invented for it.
    assert reports.apply_options(SimpleNamespace(xmlpath=None), folder) == ["xmlpath"]


# -- Allure: environment ----------------------------------------------------------------------
def objects(run: str, replicas: int = 3) -> list[dict[str, object]]:
    return [
        {"kind": "Namespace", "metadata": {"name": "mysql", "labels": {"mysqlsts.io/run": run}}},
        {
            "kind": "StatefulSet",
            "metadata": {"name": "mysql", "labels": {"app": "mysql", "mysqlsts.io/run": run}},
            "spec": {"replicas": replicas},
        },
    ]


def test_manifests_digest_ignores_the_run_label_only() -> None:
    digest = allure_content.manifests_digest(objects("aaaa"))
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert allure_content.manifests_digest(objects("bbbb")) == digest
    assert allure_content.manifests_digest(objects("aaaa", replicas=2)) != digest
    original = objects("aaaa")
    allure_content.manifests_digest(original)
    assert original == objects("aaaa")  # the objects themselves are not changed


def test_environment_entries_and_properties() -> None:
    entries = allure_content.environment_entries(
        source="profile offline",
        provider="kind",
        cluster_name="rep-x",
        kubernetes_version="v1.34.4",
        node_image="kindest/node:v1.32.2",
        images=["mysql:5.7", "gcr.io/google-samples/xtrabackup:1.0"],
        objects=objects("aaaa"),
        run_id="aaaa",
        changes=["PV x: nodeAffinity a -> b"],
    )
    assert list(entries) == [
        "cluster",
        "kubernetes",
        "manifests",
        "manifests.digest",
        "images",
        "run",
        "kind.node.image",
        "change.1",
    ]
    assert entries["images"] == "mysql:5.7, gcr.io/google-samples/xtrabackup:1.0"
    text = allure_content.render_properties(
        {"a key=x": "line\nnext \\ end", "cluster": "kind rep-x"}
    )
    assert text == "a\\ key\\=x=line\\nnext \\\\ end\ncluster=kind rep-x\n"


# -- Allure: suites ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("nodeid", "labels"),
    [
        (
            "suites/replication/test_server_ids.py::test_distinct",
            {"parent_suite": "replication", "suite": "server ids"},
        ),
        (
            "suites/failover/test_master_loss.py::TestMaster::test_back[1]",
            {"parent_suite": "failover", "suite": "master loss", "sub_suite": "TestMaster"},
        ),
        (
            "suites/storage/test_storage_binding.py::test_waits",
            {"parent_suite": "storage", "suite": "binding"},
        ),
        ("suites/test_loose.py::test_x", {"parent_suite": "other", "suite": "loose"}),
    ],
)
def test_suite_labels_come_from_the_directory(nodeid: str, labels: dict[str, str]) -> None:
    assert allure_content.suite_labels(nodeid) == labels


def test_the_hooks_suite_labels_win_over_later_ones() -> None:
    labels = [
        Label("parentSuite", "scaling"),
        Label("suite", "walkthrough"),
        Label("tag", "slow"),
        Label("suite", "scaling"),  # the test's own allure.suite marker, added at teardown
        Label("parentSuite", "suites.scaling"),  # allure-pytest's package default
    ]
    allure_content.keep_first_suite_labels(labels)
    assert [(label.name, label.value) for label in labels] == [
        ("parentSuite", "scaling"),
        ("suite", "walkthrough"),
        ("tag", "slow"),
    ]


def test_allure_results_are_redacted_in_place() -> None:
    register_secret("s3cret")
    result = model2.TestResult(
        name="check",
        statusDetails=StatusDetails(message="AssertionError: pw s3cret", trace="-ps3cret"),
        steps=[model2.TestStepResult(name="login with s3cret", parameters=[])],
        labels=[Label("tag", "s3cret")],
    )
    allure_content.redact_in_place(result, redact)
    assert result.statusDetails.message == "AssertionError: pw ***"
    assert result.statusDetails.trace == "-p***"
    assert result.steps[0].name == "login with ***"
    assert result.labels[0].value == "***"


def test_allure_redactor_fixes_attachment_files(tmp_path: Path) -> None:
    register_secret("s3cret")
    redactor = allure_content.AllureRedactor(tmp_path, redact)
    (tmp_path / "a-attachment.txt").write_text("mysql -ps3cret")
    (tmp_path / "b-attachment.png").write_bytes(b"\x89PNG\xff\xfe")
    for name in ("a-attachment.txt", "b-attachment.png"):
        hook = redactor.report_attached_data(b"", name)
        next(hook)
        with pytest.raises(StopIteration):
            next(hook)  # the file is fixed after allure-pytest wrote it
    assert (tmp_path / "a-attachment.txt").read_text() == "mysql -p***"
    assert (tmp_path / "b-attachment.png").read_bytes() == b"\x89PNG\xff\xfe"


# -- Hypothesis -----------------------------------------------------------------------------
def hypothesis_failure() -> BaseException:
    @settings(print_blob=True, database=None, derandomize=True)
    @given(st.integers())
    def small(x: int) -> None:
        assert x < 10

    try:
        small()
    except AssertionError as error:
        return error
    raise AssertionError("Hypothesis found no failing case")


def test_hypothesis_reproduction_from_the_exceptions_notes() -> None:
    text = allure_content.hypothesis_reproduction(hypothesis_failure())
    assert text is not None
    assert text.startswith("Failing test case: small(")
    assert "@reproduce_failure(" in text


def test_hypothesis_reproduction_from_the_longrepr() -> None:
    longrepr = "\n".join(
        [
            "    def test_x(): ...",
            "E       assert 7 < 7",
            "E       Failing test case: <state machine>",
            "E       state = M()",
            "E       state.add(k=5)",
            "E       ",
            "E       You can reproduce this test case by temporarily adding "
            "@reproduce_failure('6.170.17', b'AAB=') as a decorator on your test function",
            "",
            "suites/replication/test_random.py:12: AssertionError",
        ]
    )
    text = allure_content.hypothesis_reproduction(None, longrepr)
    assert text is not None
    assert text.splitlines()[:3] == [
        "Failing test case: <state machine>",
        "state = M()",
        "state.add(k=5)",
    ]
    assert text.endswith("as a decorator on your test function")
    only_blob = "E   @reproduce_failure('6.170.17', b'AAB=')"
    assert (
        allure_content.hypothesis_reproduction(None, only_blob)
        == "@reproduce_failure('6.170.17', b'AAB=')"
    )


def test_no_hypothesis_no_reproduction() -> None:
    assert (
        allure_content.hypothesis_reproduction(AssertionError("plain"), "E   assert 1 == 2") is None
    )


# -- the Allure HTML ---------------------------------------------------------------------------
def test_find_allure(tmp_path: Path) -> None:
    assert reports.find_allure(tmp_path, {}) is None
    binary = tmp_path / "node_modules" / ".bin" / "allure"
    binary.parent.mkdir(parents=True)
    binary.write_text("")
    assert reports.find_allure(tmp_path, {}) == binary
    assert reports.find_allure(tmp_path, {"MYSQLSTS_ALLURE": "/opt/allure"}) == Path("/opt/allure")


FAKE_ALLURE = """
import os, sys
# allure generate <results> --config <file> --output <dir> --name <name>
args = sys.argv[1:]
if os.environ.get("FAIL"):
    sys.exit(print("boom: bad results", file=sys.stderr) or 3)
assert args[0] == "generate" and args[2] == "--config" and args[4] == "--output", args
os.makedirs(args[5], exist_ok=True)
with open(os.path.join(args[5], "index.html"), "w") as page:
    page.write(
        '<html><script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>\\n'
        "    <script>\\n gtag('config', 'G-X', {});\\n    </script>\\n<p>" + args[1] + "</p></html>"
    )
"""


@pytest.fixture
def fake_allure(tmp_path: Path) -> Path:
    binary = tmp_path / "allure"
    binary.write_text(f"#!{sys.executable}\n{FAKE_ALLURE}")
    binary.chmod(0o755)
    return binary


def test_generate_allure_html(tmp_path: Path, fake_allure: Path) -> None:
    folder = reports.new_run_folder(tmp_path, "aaaa", NOON)
    config = tmp_path / "allurerc.json"
    with pytest.raises(reports.ReportError, match="no Allure results"):
        reports.generate_allure_html(fake_allure, folder, config=config)
    folder.allure_results.mkdir()
    with pytest.raises(reports.ReportError, match=r"allurerc\.json is missing"):
        reports.generate_allure_html(fake_allure, folder, config=config)
    config.write_text("{}")
    index = reports.generate_allure_html(fake_allure, folder, config=config)
    html = index.read_text()
    assert str(folder.allure_results) in html
    assert "googletagmanager" not in html and "gtag" not in html  # no call home from disk


def test_generate_allure_html_failure_is_one_line(
    tmp_path: Path, fake_allure: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = reports.new_run_folder(tmp_path, "aaaa", NOON)
    folder.allure_results.mkdir()
    (tmp_path / "allurerc.json").write_text("{}")
    monkeypatch.setenv("FAIL", "1")
    with pytest.raises(reports.ReportError, match=r"^allure generate failed \(exit 3\): boom"):
        reports.generate_allure_html(fake_allure, folder, config=tmp_path / "allurerc.json")


REAL_ALLURE = reports.find_allure()


@pytest.mark.skipif(REAL_ALLURE is None, reason="the Allure 3 CLI is not installed (npm ci)")
def test_real_allure_writes_one_file_that_opens_from_disk(tmp_path: Path) -> None:
    assert REAL_ALLURE is not None
    folder = reports.new_run_folder(tmp_path, "aaaa", NOON)
    folder.allure_results.mkdir()
    result = {
        "uuid": "1",
        "name": "server ids are distinct",
        "status": "passed",
        "start": 1,
        "stop": 2,
        "labels": [{"name": "parentSuite", "value": "replication"}],
    }
    (folder.allure_results / "1-result.json").write_text(json.dumps(result))
    index = reports.generate_allure_html(REAL_ALLURE, folder, timeout=120)
    # Single file: the page's data is inlined, nothing else to load next to it.
    assert [p.name for p in folder.allure_report.iterdir() if p.suffix in (".js", ".css")] == []
    html = index.read_text()
    assert 'd("data/test-results/' in html and "googletagmanager" not in html


def test_report_command_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_reports.main([str(tmp_path / "nope")]) == 4
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


# -- the secret scan ----------------------------------------------------------------------------
def test_scanner_finds_the_password_in_every_form(tmp_path: Path) -> None:
    password = 'p@ss<"w0rd>'
    b64 = base64.b64encode(password.encode()).decode()
    (tmp_path / "clean.txt").write_text("mysql -p***\n")
    (tmp_path / "plain.log").write_text(f"mysql -p{password}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "secret.yaml").write_text(f"data:\n  password: {b64}\n")
    (tmp_path / "page.html").write_text(f"<td>{'p@ss&lt;&quot;w0rd&gt;'}</td>")
    (tmp_path / "result.json").write_text(json.dumps({"message": f"pw {password}"}))
    # pytest-html inlines extras as data: URIs; Allure's single file as quoted base64.
    inlined = base64.b64encode(f"log line -p{password} end".encode()).decode()
    (tmp_path / "report.html").write_text(f'<a href="data:text/plain;base64,{inlined}">log</a>')
    nested = base64.b64encode(json.dumps({"attachment": inlined}).encode()).decode()
    (tmp_path / "allure.html").write_text(f'd("data/attachments/1.txt","{nested}")')
    found = {f.line(tmp_path) for f in secretscan.scan(tmp_path, [password])}
    assert found == {
        "plain.log: secret",
        "sub/secret.yaml: secret, base64",
        "page.html: secret, HTML-escaped",
        "result.json: secret, JSON-escaped",
        "report.html: secret (inside an embedded base64 blob)",
        "allure.html: secret (inside an embedded base64 blob)",
    }


def test_scanner_ignores_a_digit_password_inside_longer_numbers(tmp_path: Path) -> None:
    (tmp_path / "timings.json").write_text('{"start": 1764071234567, "size": 91234560}')
    assert secretscan.scan(tmp_path, ["123456"]) == []
    (tmp_path / "leak.log").write_text("mysql -uroot -p123456\n")
    assert [f.line(tmp_path) for f in secretscan.scan(tmp_path, ["123456"])] == ["leak.log: secret"]


def test_scanner_skips_symlinks_and_knows_no_secret(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "leak.txt").write_text("s3cret")
    (tmp_path / "latest").symlink_to("run", target_is_directory=True)
    assert [f.path for f in secretscan.scan(tmp_path, ["s3cret"])] == [run / "leak.txt"]
    assert secretscan.scan(tmp_path, []) == []
    assert secretscan.scan(tmp_path, [""]) == []


def test_redact_files_masks_text_files_only(tmp_path: Path) -> None:
    b64 = base64.b64encode(b"s3cret").decode()
    (tmp_path / "pod.log").write_text(f"-ps3cret and {b64}\n")
    (tmp_path / "core.bin").write_bytes(b"\0\0s3cret")
    changed = secretscan.redact_files(tmp_path, ["s3cret"])
    assert changed == [tmp_path / "pod.log"]
    assert (tmp_path / "pod.log").read_text() == "-p*** and ***\n"
    assert secretscan.scan(tmp_path / "pod.log", ["s3cret"]) == []


def test_scan_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The offline profile's password is the article's; its manifests are in the repository.
    (tmp_path / "ok.txt").write_text("nothing here")
    assert cli_secretscan.main(["scan", str(tmp_path), "--profile", "upstream"]) == 0
    (tmp_path / "leak.txt").write_text("-p123456")
    assert cli_secretscan.main(["scan", str(tmp_path), "--profile", "upstream"]) == 7
    assert "SECRET FOUND: " in capsys.readouterr().out
    assert cli_secretscan.main(["redact", str(tmp_path), "--profile", "upstream"]) == 0
    assert (tmp_path / "leak.txt").read_text() == "-p***"
    assert cli_secretscan.main(["scan", str(tmp_path / "nope")]) == 4
    assert cli_secretscan.main(["scan", str(tmp_path), "--profile", "nope"]) == 4


# -- the plugin: a whole e2e-style run, the cluster replaced by a stand-in ------------------------
class FakeRun:
    """Run's interface, without a cluster: the deployment is the article's objects."""

    def __init__(self, _settings: object, _say: object, report_dir: Path, run_id: str) -> None:
        self.report_dir, self.run_id = report_dir, run_id
        self.kube = self.provider = None

    def preflight(self) -> None:
        # As the real run does once it has read the manifests.
        register_secret(discover(article.objects()).root_password)

    def up(self) -> RunInfo:
        return RunInfo(
            self.run_id,
            "profile offline",
            article.objects(),
            ["a change"],
            "kind",
            "rep-test",
            "/nonexistent",
            "/tmp",
            "localhost/lab/toolbox:bookworm",
            pv_placement={"example-mysql-pv": ["rep-test-worker"]},
        )

    def down(self) -> list[str]:
        return []


SUITE_TESTS = """
import allure
import pytest

pytestmark = allure.suite("scaling")  # overruled: the directory decides


@allure.title("The claim binds")
def test_binds():
    with allure.step("look"):
        pass


def test_fails():
    assert "123456" == "x", "the password is 123456"
"""

LEAKING_TEST = """
from mysqlsts.plugin import state

def test_leaks(request):
    folder = request.config.stash[state.REPORTS_KEY].folder
    (folder.path / "leak.txt").write_text("mysql -p123456")
"""


@pytest.fixture
def e2e_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["mysqlsts.plugin"]')
    (pytester.path / "suites" / "storage").mkdir(parents=True)
    monkeypatch.setattr(lifecycle, "Run", FakeRun)
    # No clients: the tests here use no fixtures of the suite.
    monkeypatch.setattr(fixtures, "context", lambda _config: None)
    monkeypatch.delenv("MYSQLSTS_REPORTS_DIR", raising=False)
    monkeypatch.delenv("MYSQLSTS_ALLURE", raising=False)  # and no node_modules here
    # The plugin turns SIGTERM into Ctrl-C for the run; give this process its own back.
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    return pytester


def test_an_e2e_run_writes_its_reports_folder(e2e_project: pytest.Pytester) -> None:
    (e2e_project.path / "suites" / "storage" / "test_claims.py").write_text(SUITE_TESTS)
    result = e2e_project.runpytest("suites", "-p", "no:pytest-kind", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1
    latest = e2e_project.path / "reports" / "latest"
    assert latest.is_symlink()
    folder = latest.resolve()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", folder.name)
    assert (folder / "junit.xml").is_file() and (folder / "report.html").is_file()
    assert not (folder / "assets").exists()  # --self-contained-html: one file
    environment = (folder / "allure-results" / "environment.properties").read_text()
    assert "manifests=profile offline" in environment and "manifests.digest=sha256:" in environment
    results = [json.loads(p.read_text()) for p in (folder / "allure-results").glob("*-result.json")]
    by_name = {r["name"]: r for r in results}
    suites = {
        (label["name"], label["value"])
        for label in by_name["The claim binds"]["labels"]
        if "uite" in label["name"]
    }
    assert suites == {("parentSuite", "storage"), ("suite", "claims")}
    assert "123456" not in json.dumps(by_name["test_fails"])  # exception message redacted
    output = result.stdout.str()
    assert "Allure HTML not generated, its generator is not installed: run `npm ci`" in output
    assert f"mysqlsts: reports in {folder}" in output
    assert "SECRET LEAK" not in output
    summary_md = (folder / "summary.md").read_text()
    assert "**1 failed, 1 passed**" in summary_md
    assert "| `suites/storage/test_claims.py::test_fails` | failed |" in summary_md
    assert "123456" not in summary_md


class SetupFailingRun(FakeRun):
    @property
    def setup_evidence(self) -> Path:
        return self.report_dir / "mysqlsts-setup-failure.txt"

    def up(self) -> RunInfo:
        self.setup_evidence.write_text("events: init-mysql exited 1; -p***")
        raise DeploymentFailed("the deployment did not come up: pod mysql-0: hostname")


def test_a_run_that_ends_in_setup_writes_one_junit_error_and_a_summary(
    e2e_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "Run", SetupFailingRun)
    (e2e_project.path / "suites" / "storage" / "test_claims.py").write_text(SUITE_TESTS)
    result = e2e_project.runpytest("suites", "-p", "no:pytest-kind", "-p", "no:cacheprovider")
    assert result.ret == DeploymentFailed.exit_code
    folder = (e2e_project.path / "reports" / "latest").resolve()
    junit = (folder / "junit.xml").read_text()
    assert 'name="setup"' in junit and 'errors="1"' in junit
    assert "pod mysql-0: hostname" in junit and "init-mysql exited 1" in junit
    assert "the setup failed: no check ran" in (folder / "summary.md").read_text()


def test_a_leak_fails_the_run_loudly(e2e_project: pytest.Pytester) -> None:
    (e2e_project.path / "suites" / "storage" / "test_leak.py").write_text(LEAKING_TEST)
    result = e2e_project.runpytest("suites", "-p", "no:pytest-kind", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == EXIT_SECRET_FOUND
    result.stdout.fnmatch_lines(["*SECRET LEAK: the root password is in 1 report file(s)*"])
    result.stdout.fnmatch_lines(["*  leak.txt: secret"])
    assert "-p123456" not in result.stdout.str()


def test_unit_runs_get_no_reports_folder(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["mysqlsts.plugin"]')
    (pytester.path / "suites").mkdir()
    pytester.makepyfile(test_unit="def test_ok():\n    pass\n")
    result = pytester.runpytest("test_unit.py", "-p", "no:pytest-kind")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


HYPOTHESIS_TEST = """
from hypothesis import given, settings, strategies as st


@settings(print_blob=True, database=None, derandomize=True, max_examples=50)
@given(st.integers())
def test_small(x):
    assert x < 10
"""


def test_a_failing_hypothesis_test_attaches_its_reproduction(e2e_project: pytest.Pytester) -> None:
    (e2e_project.path / "suites" / "storage" / "test_random.py").write_text(HYPOTHESIS_TEST)
    result = e2e_project.runpytest("suites", "-p", "no:pytest-kind", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    results = e2e_project.path / "reports" / "latest" / "allure-results"
    (found,) = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    (attachment,) = [a for a in found["attachments"] if a["name"] == "Hypothesis: how to reproduce"]
    text = (results / attachment["source"]).read_text()
    assert text.startswith("suites/storage/test_random.py::test_small\n\nFailing test case:")
    assert "@reproduce_failure(" in text


def test_generator_install_is_skipped_when_present_and_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MYSQLSTS_ALLURE", raising=False)
    cli = tmp_path / "node_modules" / ".bin" / "allure"
    cli.parent.mkdir(parents=True)
    cli.touch()
    assert reports.install_generator(tmp_path) == "Allure 3 CLI present"
    cli.unlink()
    # No package.json here: npm ci fails, and the run goes on with one line saying so.
    assert reports.install_generator(tmp_path).startswith("Allure HTML will be skipped")


def test_a_setup_failure_is_one_broken_allure_entry_with_the_evidence(tmp_path: Path) -> None:
    evidence = tmp_path / "mysqlsts-setup-failure.txt"
    evidence.write_text("the deployment did not come up: pod mysql-0: ...\n\nevents ...\n")
    line = "the deployment did not come up: pod mysql-0: init container init-mysql exited 1"
    results = tmp_path / "allure-results"
    written = allure_content.write_setup_failure(results, line, evidence, 1000, 2000)
    result = json.loads(written.read_text())
    assert result["status"] == "broken" and result["statusDetails"]["message"] == line
    assert result["name"] == allure_content.SETUP_RESULT_NAME
    (attachment,) = result["attachments"]
    assert (results / attachment["source"]).read_text() == evidence.read_text()
    bare = allure_content.write_setup_failure(tmp_path / "r2", line, None, 1000, 2000)
    assert json.loads(bare.read_text())["attachments"] == []


SKIPPING_TEST = """
import pytest

def test_needs_pvs():
    pytest.skip("the manifests declare no PersistentVolume")
"""


def test_the_terminal_summary_lists_every_skip_with_its_reason(
    e2e_project: pytest.Pytester,
) -> None:
    (e2e_project.path / "suites" / "storage" / "test_skip.py").write_text(SKIPPING_TEST)
    result = e2e_project.runpytest("suites", "-p", "no:pytest-kind", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "skipped checks (1), each with its reason:",
            "  suites/storage/test_skip.py::test_needs_pvs: the manifests declare no *",
        ]
    )
