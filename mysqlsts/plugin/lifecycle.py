"""The run's environment: up once on the controller, shared with xdist workers, down once.

``pytest_sessionstart`` brings the cluster and the deployment up (only when the
invocation targets the e2e suites), ``pytest_sessionfinish`` tears them down, and
``pytest_unconfigure`` is the safety net (it always runs, also after an interrupted
start). SIGTERM, the way CI stops jobs, becomes Ctrl-C so that the same teardown runs.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mysqlsts.errors import EXIT_BAD_INPUT, SuiteError
from mysqlsts.interrupts import sigterm_as_interrupt
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.plugin import run_reports
from mysqlsts.plugin.options import resolve_settings
from mysqlsts.plugin.state import (
    CONTEXT_KEY,
    INFO_KEY,
    REPORTS_KEY,
    REPORTS_WORKERINPUT_KEY,
    RUN_KEY,
    SESSION_KEY,
    WORKERINPUT_KEY,
    armed,
    is_controller,
    say,
)
from mysqlsts.redaction import redact
from mysqlsts.reporting import allure_results
from mysqlsts.repository import reports_base
from mysqlsts.run.environment import Run, RunInfo


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


def _teardown(config: pytest.Config) -> list[str]:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return []
    line = say(config)
    with _uninterruptible():
        lines = run.down()
        del config.stash[RUN_KEY]  # done: the unconfigure safety net must not repeat it
    for text in lines:
        line(f"mysqlsts: {text}")
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    config.stash[SESSION_KEY] = session  # the secret scan at unconfigure sets its exit status
    if not armed(config):
        return
    line = say(config)
    try:
        run_settings = resolve_settings(config)
    except SuiteError as error:
        pytest.exit(redact(str(error)), returncode=error.exit_code)
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is not None:
        run = Run(run_settings, line, reporting.folder.path, run_id=reporting.run_id)
    else:
        run = Run(run_settings, line, reports_base(config.rootpath))
    config.stash[RUN_KEY] = run
    sigterm_as_interrupt()
    capture = config.pluginmanager.getplugin("capturemanager")
    started = time.time()
    try:
        run.preflight()
        # kind's own progress (and errors) should reach the terminal as it happens.
        if capture is not None:
            with capture.global_and_fixture_disabled():
                info = run.up()
        else:
            info = run.up()
    except SuiteError as error:
        message = redact(str(error))
        if error.exit_code != EXIT_BAD_INPUT:
            # No test will run: the reports carry the diagnosis as their one entry.
            run_reports.record_setup_failure(config, message, run.setup_evidence, started)
        _teardown(config)
        pytest.exit(message, returncode=error.exit_code)
    except BaseException:
        _teardown(config)
        raise
    config.stash[INFO_KEY] = info
    _write_allure_environment(config, info, run)
    line(
        f"mysqlsts: {run_settings.describe()} is up in {time.time() - started:.0f}s "
        f"(run {info.run_id})"
    )


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
        run_reports.finish_reports(config)


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


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(), "mysqlsts-xdist")


def _write_allure_environment(config: pytest.Config, info: RunInfo, run: Run) -> None:
    directory = getattr(config.option, "allure_report_dir", None)
    if not directory:
        return
    try:
        version = run.kube.version() if run.kube is not None else "unknown"
    except KubeError as error:
        version = f"unknown ({error})"
    entries = allure_results.environment_entries(
        source=info.source,
        provider=info.provider,
        cluster_name=info.cluster_name,
        kubernetes_version=version,
        node_image=getattr(run.provider, "node_image", None),
        images=info.deployment().images,
        objects=info.objects,
        run_id=info.run_id,
        changes=[*info.changes, *info.notes],
    )
    path = Path(directory) / "environment.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(allure_results.render_properties({k: redact(v) for k, v in entries.items()}))
