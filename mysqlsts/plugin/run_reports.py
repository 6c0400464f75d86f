"""Each e2e run's reports: one folder, Allure's tree, redaction, evidence, the secret scan.

The plugin sets pytest's own report options (JUnit, pytest-html, Allure) to the run's
folder at configure time. Every test report and Allure result is redacted; a failed e2e
test carries the namespace's evidence; at the end the Allure HTML is generated,
``reports/latest`` updated and the whole folder searched for the password.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mysqlsts.errors import EXIT_BAD_INPUT, EXIT_SECRET_FOUND, NotDeclared, SuiteError
from mysqlsts.plugin import fixtures
from mysqlsts.plugin.options import resolve_settings
from mysqlsts.plugin.state import (
    E2E_FIXTURES,
    INFO_KEY,
    REPORTS_KEY,
    REPORTS_WORKERINPUT_KEY,
    SESSION_KEY,
    armed,
    is_controller,
    say,
)
from mysqlsts.redaction import contains_secret, redact, registered_secrets
from mysqlsts.reporting import (
    allure_results,
    attachments,
    durations,
    folders,
    namespace_evidence,
    secretscan,
    summary,
)
from mysqlsts.repository import reports_base
from mysqlsts.run.broken_state import broken_state
from mysqlsts.run.environment import new_run_id


@dataclass
class ReportRun:
    run_id: str
    base: Path
    folder: folders.RunFolder
    made_base: bool  # whether this run created ``base`` (removed with a bad-input run's folder)


class HtmlHooks:
    """Registered only when pytest-html is active: the run's changes in the summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str]
    ) -> None:
        info = self.config.stash.get(INFO_KEY, None)
        if info is None:
            return
        items = "".join(f"<li>{html.escape(line)}</li>" for line in [*info.changes, *info.notes])
        prefix.append(
            f"<h2>mysqlsts: {html.escape(info.source)} on {html.escape(info.provider)}</h2>"
        )
        prefix.append(
            f"<p>Changes to the manifests and the cluster made by this run:</p><ul>{items}</ul>"
        )


@pytest.hookimpl(tryfirst=True)  # before junitxml, pytest-html and allure read their options
def pytest_configure(config: pytest.Config) -> None:
    _configure_reports(config)
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(HtmlHooks(config), "mysqlsts-html")


def _configure_reports(config: pytest.Config) -> None:
    """e2e runs: JUnit, pytest-html and Allure results go to reports/<time>-<run id>/."""
    if not is_controller(config):
        given = config.workerinput.get(REPORTS_WORKERINPUT_KEY)  # type: ignore[attr-defined]
        if given and not getattr(config.option, "allure_report_dir", None):
            config.option.allure_report_dir = given
    elif armed(config):
        run_id = new_run_id()
        base = reports_base(config.rootpath)
        made_base = not base.exists()
        folder = folders.new_run_folder(base, run_id)
        folders.apply_options(config.option, folder)
        config.stash[REPORTS_KEY] = ReportRun(run_id, base, folder, made_base)
    # Any Allure output (also a user's own --alluredir) is redacted.
    results = getattr(config.option, "allure_report_dir", None)
    if results and config.pluginmanager.hasplugin("allure_pytest"):
        # Absolute now, as allure-pytest makes it: tests may change the directory.
        config.add_cleanup(
            allure_results.register_allure_redactor(Path(results).absolute(), redact)
        )


def record_setup_failure(
    config: pytest.Config, headline: str, evidence: Path, started: float
) -> None:
    """A run that ends in setup: its Allure report's one entry carries the line and the
    evidence file, so that a reviewer of the reports sees why nothing ran (pytest-html and
    JUnit write nothing when the session ends before any test)."""
    results = getattr(config.option, "allure_report_dir", None)
    if results:
        allure_results.write_setup_failure(
            Path(results), headline, evidence, int(started * 1000), int(time.time() * 1000)
        )
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is None:
        return
    folder = reporting.folder
    present = evidence.is_file()
    folder.junit.write_text(
        summary.setup_failure_junit(
            headline, time.time() - started, redact(evidence.read_text()) if present else ""
        )
    )
    (folder.path / summary.SUMMARY_FILE).write_text(
        summary.setup_failure_markdown(_title(config), headline, evidence.name if present else None)
    )


def _title(config: pytest.Config) -> str:
    """What ran where: the manifests (profile or path) and the cluster."""
    info = config.stash.get(INFO_KEY, None)
    if info is not None:
        return f"{info.source} on {info.provider} cluster {info.cluster_name}"
    try:
        return resolve_settings(config).describe()
    except SuiteError:  # a title is not worth a second failure
        return "the conformance suite"


def finish_reports(config: pytest.Config) -> None:
    """After everything is written: the Allure HTML, reports/latest, the secret scan."""
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is None:
        return
    del config.stash[REPORTS_KEY]  # once, even if unconfigure is reached twice
    session = config.stash.get(SESSION_KEY, None)
    if session is not None and session.exitstatus == EXIT_BAD_INPUT:
        # Nothing ran and one line said why: a bad-input run leaves nothing behind.
        folders.discard(reporting.folder, reporting.base if reporting.made_base else None)
        return
    line = say(config)
    folder = reporting.folder
    _generate_allure_html(config, folder, line)
    folders.update_latest(reporting.base, folder)
    line(f"mysqlsts: reports in {folder.path} (also {reporting.base / folders.LATEST})")
    findings = secretscan.scan(folder.path, registered_secrets())
    if findings:
        banner = "!" * 78
        for text in (
            banner,
            f"SECRET LEAK: the root password is in {len(findings)} report file(s) "
            "under " + str(folder.path) + "; do not share them:",
            *[f"  {finding.line(folder.path)}" for finding in findings],
            banner,
        ):
            line(text)
        if session is not None:
            session.exitstatus = EXIT_SECRET_FOUND


def _generate_allure_html(config: pytest.Config, folder: folders.RunFolder, line: Any) -> None:
    if not folder.allure_results.is_dir():
        return  # no test ran (the setup failed): nothing for Allure to show
    allure_cli = folders.find_allure(config.rootpath)
    if allure_cli is None:
        line(
            f"mysqlsts: Allure HTML not generated, its generator is not installed: "
            f"{folders.INSTALL_HINT}"
        )
        return
    try:
        index = folders.generate_allure_html(allure_cli, folder)
        line(f"mysqlsts: Allure report {index} ({folders.describe_size(index)})")
    except folders.ReportError as error:
        line(f"mysqlsts: Allure HTML not generated: {error}")


def collected_reports(terminalreporter: Any) -> list[pytest.TestReport]:
    """Every test report of the run (setup, call, teardown; xdist workers' included)."""
    return [
        report
        for category in terminalreporter.stats.values()
        for report in category
        if isinstance(report, pytest.TestReport)
    ]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    info = config.stash.get(INFO_KEY, None)
    if info is None or not is_controller(config):
        return
    terminalreporter.section("mysqlsts")
    terminalreporter.write_line(
        f"{info.source} on {info.provider} cluster {info.cluster_name}, PVs on "
        f"{', '.join(info.pv_nodes) or 'no node'} (run {info.run_id})"
    )
    terminalreporter.write_line("changes made by the suite:")
    for text in [*info.changes, *info.notes]:
        terminalreporter.write_line(f"  - {redact(text)}")
    reports = collected_reports(terminalreporter)
    reported = [(r.nodeid, r.when, r.duration) for r in reports]
    times = durations.by_suite(reported)
    if times:
        terminalreporter.write_line("time per suite (setup, tests and teardown; summed):")
        for text in durations.lines(times):
            terminalreporter.write_line(f"  {text}")
    rows = summary_rows(reports)
    skipped = [row for row in rows if row.outcome == "skipped"]
    if skipped:
        terminalreporter.write_line(f"skipped checks ({len(skipped)}), each with its reason:")
        for row in skipped:
            terminalreporter.write_line(f"  {row.nodeid}: {row.message}")
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is not None:
        text = summary.markdown(
            _title(config),
            rows,
            durations.lines(times) if times else [],
            [redact(t) for t in [*info.changes, *info.notes]],
        )
        (reporting.folder.path / summary.SUMMARY_FILE).write_text(redact(text))


def summary_rows(reports: list[pytest.TestReport]) -> list[summary.Row]:
    """One row per test: its worst phase (a failed setup is an error, as pytest says)."""
    rows: dict[str, summary.Row] = {}
    for report in reports:
        if report.passed and report.when != "call":
            continue
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        else:
            outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
        if report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)  # the exception's own message
            lines = (getattr(crash, "message", None) or report.longreprtext).strip().splitlines()
            message = lines[0] if crash is not None and lines else (lines[-1] if lines else "")
        else:
            message = ""
        known = rows.get(report.nodeid)
        if known is None or known.outcome == "passed":
            rows[report.nodeid] = summary.Row(report.nodeid, outcome, redact(message))
    return list(rows.values())


# -- each test's report ---------------------------------------------------------------------
def _redact_report(report: pytest.TestReport) -> None:
    if report.longrepr is not None and contains_secret(str(report.longrepr)):
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(title, redact(text)) for title, text in report.sections]


def _to_html(report: pytest.TestReport, collected: list[tuple[str, str]]) -> None:
    """Texts for the test's pytest-html row."""
    try:
        import pytest_html
    except ImportError:
        return
    extras = list(getattr(report, "extras", []))
    for name, body in collected:
        if body.startswith(attachments.PNG_PREFIX):
            extras.append(pytest_html.extras.png(body.removeprefix(attachments.PNG_PREFIX), name))
        else:
            extras.append(pytest_html.extras.text(body, name=name))
    report.extras = extras  # type: ignore[attr-defined]


def _to_allure(collected: list[tuple[str, str]]) -> None:
    try:
        import allure
    except ImportError:
        return
    for title, text in collected:
        allure.attach(text, name=title, attachment_type=allure.attachment_type.TEXT)


def pytest_runtest_setup(item: pytest.Item) -> None:
    attachments.begin()
    _label_suites(item)


def _label_suites(item: pytest.Item) -> None:
    """Allure's tree: area (suites/<area>/) > module > class, whatever the test says."""
    if not item.nodeid.startswith(f"{allure_results.SUITES_DIR}/"):
        return
    try:
        import allure
    except ImportError:
        return
    labels = allure_results.suite_labels(item.nodeid)
    allure.dynamic.parent_suite(labels["parent_suite"])
    allure.dynamic.suite(labels["suite"])
    if "sub_suite" in labels:
        allure.dynamic.sub_suite(labels["sub_suite"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, NotDeclared):
        # What the manifests lack, in one line: a traceback would only hide it.
        report.longrepr = f"{item.nodeid}: {call.excinfo.value}"
    _redact_report(report)
    if report.failed and report.when == "call":
        reproduction = allure_results.hypothesis_reproduction(
            call.excinfo.value if call.excinfo else None, report.longreprtext
        )
        if reproduction:
            attachments.text("Hypothesis: how to reproduce", f"{item.nodeid}\n\n{reproduction}")
    if report.when == "call" or (report.when == "setup" and report.failed):
        # What the test attached itself is in Allure already; pytest-html gets it here.
        _to_html(report, attachments.taken())
    if (
        report.failed
        and report.when in ("setup", "call")
        and E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
    ):
        found = fixtures.context(item.config)
        if found is not None:
            collected = broken_state(found.kube, found.mysql, found.deployment)
            _to_html(report, collected)
            _to_allure(collected)
            if os.environ.get("MYSQLSTS_EVIDENCE_TO_TERMINAL"):
                report.sections.append(("mysqlsts evidence", namespace_evidence.as_text(collected)))
    return report
