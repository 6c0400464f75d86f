"""The suite's pytest wiring: options, the run's lifecycle, fixtures, evidence, reports.

Lifecycle: the controller process (no xdist, or xdist's coordinator) sets the environment
up in ``pytest_sessionstart`` — only when the invocation targets the e2e suites, so unit
test runs never touch Docker or a cluster — and tears it down in ``pytest_sessionfinish``
(``pytest_unconfigure`` is the safety net). xdist workers receive the run's description
through ``workerinput`` and share the one cluster. Problems the user must fix end the run
at once with one line and a distinct exit code, after removing whatever was created.
"""

from __future__ import annotations

import html
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mysqlsts import (
    allure_content,
    attach,
    durations,
    evidence,
    guard,
    reports,
    secretscan,
    settings,
)
from mysqlsts.deployment import Deployment
from mysqlsts.disruption import require_as_declared
from mysqlsts.environment import Run, RunInfo, new_run_id
from mysqlsts.errors import EXIT_BAD_INPUT, SuiteError
from mysqlsts.kube import Kube, KubeError
from mysqlsts.mysql import MySQL
from mysqlsts.redaction import contains_secret, redact, registered_secrets

WORKERINPUT_KEY = "mysqlsts_run"
RUN_KEY = pytest.StashKey[Run]()
INFO_KEY = pytest.StashKey[RunInfo]()
CONTEXT_KEY = pytest.StashKey["Context"]()
SETTINGS_KEY = pytest.StashKey[settings.Settings]()
REPORTS_KEY = pytest.StashKey["ReportRun"]()
SESSION_KEY = pytest.StashKey[pytest.Session]()
REPORTS_WORKERINPUT_KEY = "mysqlsts_allure_results"
# Tests that use any of these are e2e tests: they get evidence attached on failure.
E2E_FIXTURES = frozenset({"mysqlsts_run", "deployment", "kube", "mysql"})


# -- options ----------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mysqlsts", "MySQL StatefulSet conformance suite")
    for spec in settings.OPTIONS:
        if spec.is_flag:
            group.addoption(
                spec.flag,
                action="store_true",
                default=False,
                dest=spec.dest,
                help=settings.help_text(spec),
            )
        else:
            group.addoption(
                spec.flag,
                dest=spec.dest,
                default=None,
                metavar=spec.metavar,
                help=settings.help_text(spec),
            )


def resolve_settings(config: pytest.Config) -> settings.Settings:
    if SETTINGS_KEY not in config.stash:
        values = {spec.dest: config.getoption(spec.dest) for spec in settings.OPTIONS}
        config.stash[SETTINGS_KEY] = settings.resolve(values)
    return config.stash[SETTINGS_KEY]


# -- when to set up ---------------------------------------------------------------------
def e2e_requested(args: list[str], invocation_dir: Path, suites_dir: Path) -> bool:
    """Whether the test paths given to pytest include (part of) the e2e suites."""
    if not suites_dir.is_dir():
        return False
    suites = suites_dir.resolve()
    for arg in args:
        if arg.startswith("-"):
            continue
        path = (invocation_dir / arg.split("::", 1)[0]).resolve()
        if path == suites or suites in path.parents or path in suites.parents:
            return True
    return False


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _armed(config: pytest.Config) -> bool:
    option = config.option
    if any(
        getattr(option, name, False)
        for name in (
            "collectonly",
            "showfixtures",
            "show_fixtures_per_test",
            "setuponly",
            "setupplan",
        )
    ):
        return False
    return is_controller(config) and e2e_requested(
        list(config.args), config.invocation_params.dir, config.rootpath / "suites"
    )


# -- signals ----------------------------------------------------------------------------
def _terminate_as_interrupt(signum: int, _frame: object) -> None:
    # CI stops jobs with SIGTERM; turning it into KeyboardInterrupt lets the same
    # teardown run as for Ctrl-C, so no cluster or PV is left behind.
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def _uninterruptible() -> Iterator[None]:
    """Teardown must finish (it is bounded): a second Ctrl-C would leave debris."""
    saved: list[tuple[int, Any]] = []
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved.append((sig, signal.signal(sig, signal.SIG_IGN)))
    except ValueError:
        pass  # not the main thread: signals cannot be changed, nothing to restore
    try:
        yield
    finally:
        for sig, handler in saved:
            signal.signal(sig, handler)


# -- lifecycle (controller) ---------------------------------------------------------------
def _say(config: pytest.Config) -> Callable[[str], None]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def say(line: str) -> None:
        if reporter is not None:
            reporter.write_line(redact(line))
        else:
            print(redact(line), file=sys.stderr)

    return say


def _teardown(config: pytest.Config) -> list[str]:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return []
    say = _say(config)
    with _uninterruptible():
        lines = run.down()
        del config.stash[RUN_KEY]  # done: the unconfigure safety net must not repeat it
    for line in lines:
        say(f"mysqlsts: {line}")
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    config.stash[SESSION_KEY] = session  # the secret scan at unconfigure sets its exit status
    if not _armed(config):
        return
    say = _say(config)
    try:
        run_settings = resolve_settings(config)
    except SuiteError as error:
        pytest.exit(redact(str(error)), returncode=error.exit_code)
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is not None:
        run = Run(run_settings, say, reporting.folder.path, run_id=reporting.run_id)
    else:
        run = Run(run_settings, say, config.rootpath / "reports")
    config.stash[RUN_KEY] = run
    with suppress(ValueError):
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    capture = config.pluginmanager.getplugin("capturemanager")
    try:
        run.preflight()
        # kind's own progress (and errors) should reach the terminal as it happens.
        if capture is not None:
            with capture.global_and_fixture_disabled():
                info = run.up()
        else:
            info = run.up()
    except SuiteError as error:
        _teardown(config)
        pytest.exit(redact(str(error)), returncode=error.exit_code)
    except BaseException:
        _teardown(config)
        raise
    config.stash[INFO_KEY] = info
    _write_allure_environment(config, info, run)
    say(f"mysqlsts: {run_settings.describe()} is up (run {info.run_id})")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if is_controller(session.config):
        _teardown(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    # sessionfinish does not run when sessionstart was interrupted; this always does.
    if is_controller(config):
        _teardown(config)
    context = config.stash.get(CONTEXT_KEY, None)
    if context is not None:
        context.kube.api_client.close()
    if is_controller(config):
        _finish_reports(config)


class XdistHooks:
    """Registered only when pytest-xdist is active (its hook would be unknown otherwise)."""

    @pytest.hookimpl
    def pytest_configure_node(self, node: Any) -> None:
        info = node.config.stash.get(INFO_KEY, None)
        if info is not None:
            node.workerinput[WORKERINPUT_KEY] = info.to_json()
        # Workers write their own Allure results; xdist does not pass options on.
        results = getattr(node.config.option, "allure_report_dir", None)
        if results:
            node.workerinput[REPORTS_WORKERINPUT_KEY] = results


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
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(), "mysqlsts-xdist")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(HtmlHooks(config), "mysqlsts-html")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    info = config.stash.get(INFO_KEY, None)
    if info is None or not is_controller(config):
        return
    terminalreporter.section("mysqlsts")
    terminalreporter.write_line(
        f"{info.source} on {info.provider} cluster {info.cluster_name}, local PVs on node "
        f"{info.local_pv_node} (run {info.run_id})"
    )
    terminalreporter.write_line("changes made by the suite:")
    for line in [*info.changes, *info.notes]:
        terminalreporter.write_line(f"  - {redact(line)}")
    reported = [
        (report.nodeid, report.when, report.duration)
        for category in terminalreporter.stats.values()
        for report in category
        if isinstance(report, pytest.TestReport)
    ]
    times = durations.by_suite(reported)
    if times:
        terminalreporter.write_line("time per suite (setup, tests and teardown; summed):")
        for line in durations.lines(times):
            terminalreporter.write_line(f"  {line}")


def _write_allure_environment(config: pytest.Config, info: RunInfo, run: Run) -> None:
    directory = getattr(config.option, "allure_report_dir", None)
    if not directory:
        return
    try:
        version = run.kube.version() if run.kube is not None else "unknown"
    except KubeError as error:
        version = f"unknown ({error})"
    deployment = info.deployment()
    entries = allure_content.environment_entries(
        source=info.source,
        provider=info.provider,
        cluster_name=info.cluster_name,
        kubernetes_version=version,
        node_image=getattr(run.provider, "node_image", None),
        images=deployment.images,
        objects=info.objects,
        run_id=info.run_id,
        changes=[*info.changes, *info.notes],
    )
    path = Path(directory) / "environment.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(allure_content.render_properties({k: redact(v) for k, v in entries.items()}))


# -- per-process context and fixtures -------------------------------------------------------
@dataclass
class Context:
    info: RunInfo
    deployment: Deployment
    kube: Kube
    mysql: MySQL


def _run_info(config: pytest.Config) -> RunInfo | None:
    if is_controller(config):
        return config.stash.get(INFO_KEY, None)
    payload = config.workerinput.get(WORKERINPUT_KEY)  # type: ignore[attr-defined]
    return RunInfo.from_json(payload) if payload else None


def context(config: pytest.Config) -> Context | None:
    """The run's clients in this process, built once; None when no run is set up."""
    if CONTEXT_KEY in config.stash:
        return config.stash[CONTEXT_KEY]
    info = _run_info(config)
    if info is None:
        return None
    process = "main" if is_controller(config) else str(config.workerinput["workerid"])  # type: ignore[attr-defined]
    deployment = info.deployment()
    kube = info.kube(process)
    config.stash[CONTEXT_KEY] = Context(info, deployment, kube, MySQL(kube, deployment))
    return config.stash[CONTEXT_KEY]


def _require(request: pytest.FixtureRequest) -> Context:
    found = context(request.config)
    if found is None:
        pytest.fail(
            "no mysqlsts environment: it is set up only when pytest is given (part of) suites/ "
            "as test paths, e.g. `tox -e e2e`",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def mysqlsts_settings(request: pytest.FixtureRequest) -> settings.Settings:
    """The run's options (command line, then environment, then defaults)."""
    return resolve_settings(request.config)


@pytest.fixture(scope="session")
def mysqlsts_run(request: pytest.FixtureRequest) -> RunInfo:
    """The run: id, manifest source, objects as applied, changes, cluster and node."""
    return _require(request).info


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> Deployment:
    """What the manifests deploy: namespace, StatefulSet, replicas, Services, password..."""
    return _require(request).deployment


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest) -> Kube:
    """Kubernetes operations on the run's cluster (official client, dicts in and out)."""
    return _require(request).kube


@pytest.fixture(scope="session")
def mysql(request: pytest.FixtureRequest) -> MySQL:
    """MySQL connections to pods and Services, and the replica caught-up wait."""
    return _require(request).mysql


# -- reports: one folder per e2e run ----------------------------------------------------------
@dataclass
class ReportRun:
    run_id: str
    base: Path
    folder: reports.RunFolder
    made_base: bool  # whether this run created ``base`` (removed with a bad-input run's folder)


def _configure_reports(config: pytest.Config) -> None:
    """e2e runs: JUnit, pytest-html and Allure results go to reports/<time>-<run id>/."""
    if not is_controller(config):
        given = config.workerinput.get(REPORTS_WORKERINPUT_KEY)  # type: ignore[attr-defined]
        if given and not getattr(config.option, "allure_report_dir", None):
            config.option.allure_report_dir = given
    elif _armed(config):
        run_id = new_run_id()
        base = reports.reports_base(config.rootpath)
        made_base = not base.exists()
        folder = reports.new_run_folder(base, run_id)
        reports.apply_options(config.option, folder)
        config.stash[REPORTS_KEY] = ReportRun(run_id, base, folder, made_base)
    # Any Allure output (also a user's own --alluredir) is redacted.
    results = getattr(config.option, "allure_report_dir", None)
    if results and config.pluginmanager.hasplugin("allure_pytest"):
        # Absolute now, as allure-pytest makes it: tests may change the directory.
        config.add_cleanup(
            allure_content.register_allure_redactor(Path(results).absolute(), redact)
        )


def _finish_reports(config: pytest.Config) -> None:
    """After everything is written: the Allure HTML, reports/latest, the secret scan."""
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is None:
        return
    del config.stash[REPORTS_KEY]  # once, even if unconfigure is reached twice
    session = config.stash.get(SESSION_KEY, None)
    if session is not None and session.exitstatus == EXIT_BAD_INPUT:
        # Nothing ran and one line said why: a bad-input run leaves nothing behind.
        reports.discard(reporting.folder, reporting.base if reporting.made_base else None)
        return
    say = _say(config)
    folder = reporting.folder
    allure_cli = reports.find_allure(config.rootpath)
    if not folder.allure_results.is_dir():
        pass  # no test ran (the setup failed): nothing for Allure to show
    elif allure_cli is None:
        say(
            f"mysqlsts: Allure HTML not generated, its generator is not installed: "
            f"{reports.INSTALL_HINT}"
        )
    else:
        try:
            index = reports.generate_allure_html(allure_cli, folder)
            say(f"mysqlsts: Allure report {index} ({reports.describe_size(index)})")
        except reports.ReportError as error:
            say(f"mysqlsts: Allure HTML not generated: {error}")
    reports.update_latest(reporting.base, folder)
    say(f"mysqlsts: reports in {folder.path} (also {reporting.base / reports.LATEST})")
    findings = secretscan.scan(folder.path, registered_secrets())
    if findings:
        banner = "!" * 78
        for line in (
            banner,
            f"SECRET LEAK: the root password is in {len(findings)} report file(s) "
            "under " + str(folder.path) + "; do not share them:",
            *[f"  {finding.line(folder.path)}" for finding in findings],
            banner,
        ):
            say(line)
        if session is not None:
            session.exitstatus = secretscan.EXIT_SECRET_FOUND


# -- reports: redaction and evidence ----------------------------------------------------------
def _redact_report(report: pytest.TestReport) -> None:
    if report.longrepr is not None and contains_secret(str(report.longrepr)):
        report.longrepr = redact(str(report.longrepr))
    report.sections = [(title, redact(text)) for title, text in report.sections]


def _attach(report: pytest.TestReport, collected: list[tuple[str, str]]) -> None:
    try:
        import pytest_html

        extras = list(getattr(report, "extras", []))
        extras += [pytest_html.extras.text(text, name=title) for title, text in collected]
        report.extras = extras  # type: ignore[attr-defined]
    except ImportError:
        pass
    try:
        import allure

        for title, text in collected:
            allure.attach(text, name=title, attachment_type=allure.attachment_type.TEXT)
    except ImportError:
        pass


def _attach_to_html(report: pytest.TestReport, collected: list[tuple[str, str]]) -> None:
    """What the test attached itself (already in Allure) goes to its pytest-html row."""
    try:
        import pytest_html
    except ImportError:
        return
    extras = list(getattr(report, "extras", []))
    extras += [pytest_html.extras.text(body, name=name) for name, body in collected]
    report.extras = extras  # type: ignore[attr-defined]


def pytest_runtest_setup(item: pytest.Item) -> None:
    attach.begin()
    _label_suites(item)


def _label_suites(item: pytest.Item) -> None:
    """Allure's tree: area (suites/<area>/) > module > class, whatever the test says."""
    if not item.nodeid.startswith(f"{allure_content.SUITES_DIR}/"):
        return
    try:
        import allure
    except ImportError:
        return
    labels = allure_content.suite_labels(item.nodeid)
    allure.dynamic.parent_suite(labels["parent_suite"])
    allure.dynamic.suite(labels["suite"])
    if "sub_suite" in labels:
        allure.dynamic.sub_suite(labels["sub_suite"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    _redact_report(report)
    if report.failed and report.when == "call":
        reproduction = allure_content.hypothesis_reproduction(
            call.excinfo.value if call.excinfo else None, report.longreprtext
        )
        if reproduction:
            attach.text("Hypothesis: how to reproduce", f"{item.nodeid}\n\n{reproduction}")
    if report.when == "call" or (report.when == "setup" and report.failed):
        _attach_to_html(report, attach.taken())
    if (
        report.failed
        and report.when in ("setup", "call")
        and E2E_FIXTURES & set(getattr(item, "fixturenames", ()))
    ):
        found = context(item.config)
        if found is not None:
            collected = evidence.collect(found.kube, found.deployment.namespace)
            _attach(report, collected)
            if os.environ.get("MYSQLSTS_EVIDENCE_TO_TERMINAL"):
                report.sections.append(("mysqlsts evidence", evidence.as_text(collected)))
    return report


# -- tests that change the deployment ---------------------------------------------------------
# A mutating test may wait this long for readers on other workers to finish their test.
LOCK_TIMEOUT = 1800.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(guard.MARKER):
            item.add_marker(pytest.mark.xdist_group(guard.XDIST_GROUP))


@pytest.fixture(autouse=True)
def _deployment_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Shared lock for e2e tests that read the deployment, exclusive for those that change it.

    A test that changes it also starts from the deployment as declared, checked once the
    lock is held: if an earlier test left it broken, this one is an error in setup, not a
    failure of the check it makes.
    """
    ctx = context(request.config)
    if ctx is None or not E2E_FIXTURES & set(request.fixturenames):
        yield  # not an e2e test, or no environment (its fixtures say why)
        return
    exclusive = request.node.get_closest_marker(guard.MARKER) is not None
    with guard.deployment_lock(Path(ctx.info.state_dir), exclusive=exclusive, timeout=LOCK_TIMEOUT):
        if exclusive:
            require_as_declared(ctx.kube, ctx.mysql, ctx.deployment)
        yield
