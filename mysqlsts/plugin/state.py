"""What the plugin's modules share: stash keys, which process this is, when to set up."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mysqlsts.redaction import redact
from mysqlsts.run.environment import Run, RunInfo
from mysqlsts.settings import Settings

if TYPE_CHECKING:
    pass

WORKERINPUT_KEY = "mysqlsts_run"
REPORTS_WORKERINPUT_KEY = "mysqlsts_allure_results"
RUN_KEY = pytest.StashKey[Run]()
INFO_KEY = pytest.StashKey[RunInfo]()
CONTEXT_KEY = pytest.StashKey["Context"]()
SETTINGS_KEY = pytest.StashKey[Settings]()
REPORTS_KEY = pytest.StashKey["ReportRun"]()
SESSION_KEY = pytest.StashKey[pytest.Session]()
# Tests that use any of these are e2e tests: they get evidence attached on failure.
E2E_FIXTURES = frozenset({"mysqlsts_run", "deployment", "kube", "mysql"})


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


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


def armed(config: pytest.Config) -> bool:
    """Whether this process sets the run's environment up (and makes its reports)."""
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


def say(config: pytest.Config) -> Callable[[str], None]:
    """A function that prints one redacted line to the terminal."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def line(text: str) -> None:
        if reporter is not None:
            reporter.write_line(redact(text))
        else:
            print(redact(text), file=sys.stderr)

    return line
