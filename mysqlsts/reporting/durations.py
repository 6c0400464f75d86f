"""Time spent in each suite (suites/<area>/), summed from pytest's reports.

Setup and teardown count with the test that ran them: a module fixture that redeploys is
part of its suite's cost. Under pytest-xdist the suites overlap, so the sum of the areas
is more than the run's wall-clock time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mysqlsts.reporting.allure_results import suite_labels


@dataclass
class SuiteTime:
    area: str
    seconds: float = 0.0
    tests: int = 0


def by_suite(reports: Iterable[tuple[str, str, float]]) -> list[SuiteTime]:
    """``(nodeid, when, duration)`` of each report -> time and test count per area."""
    areas: dict[str, SuiteTime] = {}
    for nodeid, when, duration in reports:
        area = suite_labels(nodeid)["parent_suite"]
        entry = areas.setdefault(area, SuiteTime(area))
        entry.seconds += duration
        if when == "call":
            entry.tests += 1
    return sorted(areas.values(), key=lambda entry: entry.area)


def clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def lines(times: list[SuiteTime]) -> list[str]:
    width = max((len(t.area) for t in times), default=0)
    return [f"{t.area:<{width}}  {t.tests:>3} tests  {clock(t.seconds):>7}" for t in times]
