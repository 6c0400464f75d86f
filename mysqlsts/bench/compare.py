"""The ratios between two bench runs of the same inputs on the same machine. Pure.

Each figure that both runs measured is paired by what it measures (clone of N MB, lag at
R rows/s on replica X, recovery of an event); the ratio is B / A, so above 1 means B took
longer (or, for throughput, moved more data per second).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mysqlsts.bench.results import BenchRun


@dataclass(frozen=True)
class Ratio:
    figure: str
    a: float
    b: float

    @property
    def ratio(self) -> float:
        return self.b / self.a if self.a else math.nan


def figures(run: BenchRun) -> dict[str, float]:
    """Every comparable figure of a run, by name."""
    found: dict[str, float] = {}
    for c in run.clone:
        found[f"clone {c.size_mb} MB: total s"] = c.total_s
        found[f"clone {c.size_mb} MB: stream MB/s"] = c.throughput_mb_s
    for r in run.lag:
        for replica in r.samples:
            d = r.distribution(replica)
            for name in ("p50", "p95", "p99"):
                found[f"lag {r.rate} rows/s {replica}: {name} s"] = getattr(d, name)
    for e in run.recovery:
        found[f"recovery {e.event} ({e.pod}): to Ready s"] = e.ready_s
        found[f"recovery {e.event} ({e.pod}): to caught up s"] = e.caught_up_s
        if e.writes_down_s is not None:
            found[f"recovery {e.event} ({e.pod}): writes down s"] = e.writes_down_s
    if run.suite_cost:
        found["suite: wall s"] = run.suite_cost.wall_s
        for area, seconds in run.suite_cost.per_suite.items():
            found[f"suite {area}: s"] = seconds
    return found


def compare(a: BenchRun, b: BenchRun) -> tuple[list[Ratio], list[str]]:
    """(the paired figures, the figures only one of the runs has)."""
    fa, fb = figures(a), figures(b)
    paired = [Ratio(name, fa[name], fb[name]) for name in fa if name in fb]
    alone = sorted(set(fa) ^ set(fb))
    return paired, alone


def render(paired: list[Ratio], alone: list[str], inputs_differ: list[str]) -> str:
    lines = [f"{'figure':<58} {'A':>10} {'B':>10} {'B/A':>7}"]
    for r in paired:
        lines.append(f"{r.figure:<58} {r.a:>10.3f} {r.b:>10.3f} {r.ratio:>7.2f}")
    if alone:
        lines.append("measured in one run only: " + ", ".join(alone))
    if inputs_differ:
        lines.append(
            "inputs differ (the ratios compare different loads): " + ", ".join(inputs_differ)
        )
    return "\n".join(lines)
