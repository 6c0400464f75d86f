"""The performance profile's wiring: ``bench`` tests run only when asked for (``-m bench``,
as ``tox -e bench`` does), they add their samples to the run's :class:`BenchRun`, and every
run writes ``bench.json`` (with the suite's own cost: wall time, time to the first verdict,
time per area and per check) and ``bench.md`` into its reports folder; the terminal prints
the table of what was measured.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import pytest

from mysqlsts import settings
from mysqlsts.bench import charts
from mysqlsts.bench.results import BenchRun, SuiteCost, markdown
from mysqlsts.plugin.options import resolve_settings
from mysqlsts.plugin.run_reports import collected_reports
from mysqlsts.plugin.state import INFO_KEY, REPORTS_KEY, is_controller
from mysqlsts.reporting import durations

MARKER = "bench"
BENCH_KEY = pytest.StashKey[BenchRun]()
STARTED_KEY = pytest.StashKey[float]()


def asked_for(config: pytest.Config) -> bool:
    """Whether the run asks for the bench tests (a -m expression that names them)."""
    return MARKER in (config.getoption("markexpr", "") or "")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STARTED_KEY] = time.time()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Bench tests take minutes and measure rather than check: left out unless asked for."""
    if asked_for(config):
        return
    benched = [item for item in items if item.get_closest_marker(MARKER)]
    if benched:
        items[:] = [item for item in items if not item.get_closest_marker(MARKER)]
        config.hook.pytest_deselected(items=benched)


def bench_inputs(chosen: settings.Settings) -> dict[str, Any]:
    return {
        "sizes_mb": list(chosen.bench_sizes),
        "rates_rows_per_s": list(chosen.bench_rates),
        "duration_s": chosen.bench_duration,
        "row_bytes": 1024,
        "source": chosen.describe(),
    }


def bench_environment(config: pytest.Config) -> dict[str, Any]:
    info = config.stash.get(INFO_KEY, None)
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "provider": info.provider if info else None,
        "cluster": info.cluster_name if info else None,
        "run_id": info.run_id if info else None,
    }


def current(config: pytest.Config) -> BenchRun:
    """The run's BenchRun (made on first use)."""
    if BENCH_KEY not in config.stash:
        chosen = resolve_settings(config)
        config.stash[BENCH_KEY] = BenchRun(bench_inputs(chosen), bench_environment(config))
    return config.stash[BENCH_KEY]


@pytest.fixture(scope="session")
def bench(request: pytest.FixtureRequest) -> BenchRun:
    """The run's performance samples: bench tests append to it; written at the end."""
    return current(request.config)


def suite_cost(reports: list[pytest.TestReport], started: float) -> SuiteCost:
    per_check: dict[str, float] = {}
    for report in reports:
        per_check[report.nodeid] = per_check.get(report.nodeid, 0.0) + report.duration
    verdicts = [r.stop for r in reports if r.when == "call" or (r.when == "setup" and r.skipped)]
    per_suite = {
        t.area: t.seconds
        for t in durations.by_suite([(r.nodeid, r.when, r.duration) for r in reports])
    }
    return SuiteCost(
        wall_s=time.time() - started,
        first_verdict_s=min(verdicts) - started if verdicts else None,
        per_suite=per_suite,
        per_check=per_check,
    )


def write(folder: Path, run: BenchRun) -> list[Path]:
    """bench.json, bench.md and the plots the run has data for."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "bench.json", folder / "bench.md"]
    written[0].write_text(run.to_json(), encoding="utf-8")
    written[1].write_text(markdown(run), encoding="utf-8")
    for name, image in charts.all_charts(run).items():
        (folder / name).write_bytes(image)
        written.append(folder / name)
    return written


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    reporting = config.stash.get(REPORTS_KEY, None)
    if reporting is None or not is_controller(config) or INFO_KEY not in config.stash:
        return
    run = current(config)
    run.suite_cost = suite_cost(collected_reports(terminalreporter), config.stash[STARTED_KEY])
    written = write(reporting.folder.path, run)
    if run.clone or run.lag or run.recovery:
        terminalreporter.section("mysqlsts performance profile")
        for line in markdown(run).splitlines():
            terminalreporter.write_line(line)
    terminalreporter.write_line(f"bench: {', '.join(str(p) for p in written)}")
