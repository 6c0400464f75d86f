"""The suite's command-line options (each also an environment variable) and their result."""

from __future__ import annotations

import pytest

from mysqlsts import option_table, settings
from mysqlsts.plugin.state import SETTINGS_KEY


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mysqlsts", "MySQL StatefulSet conformance suite")
    for spec in option_table.OPTIONS:
        if spec.is_flag:
            group.addoption(
                spec.flag,
                action="store_true",
                default=False,
                dest=spec.dest,
                help=option_table.help_text(spec),
            )
        elif spec.repeatable:
            group.addoption(
                spec.flag,
                action="append",
                dest=spec.dest,
                default=None,
                metavar=spec.metavar,
                help=option_table.help_text(spec),
            )
        else:
            group.addoption(
                spec.flag,
                dest=spec.dest,
                default=None,
                metavar=spec.metavar,
                help=option_table.help_text(spec),
            )


def resolve_settings(config: pytest.Config) -> settings.Settings:
    """The run's settings (command line, then environment, then defaults), parsed once."""
    if SETTINGS_KEY not in config.stash:
        values = {spec.dest: config.getoption(spec.dest) for spec in option_table.OPTIONS}
        config.stash[SETTINGS_KEY] = settings.resolve(values)
    return config.stash[SETTINGS_KEY]
