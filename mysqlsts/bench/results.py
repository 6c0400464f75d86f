"""What a bench run measured, as one JSON document (``reports/<run>/bench.json``) and a
Markdown table. Pure: samples in, text out.

Every sample is kept (not only its summary), so that two runs can be compared later and a
reader can redraw any plot from the file alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mysqlsts.bench.stats import Distribution, Line

SCHEMA = "mysqlsts-bench/1"


@dataclass
class CloneSample:
    """One scale-out by a replica that clones ``data_bytes`` of InnoDB data."""

    size_mb: int  # the size asked for (--bench-sizes)
    data_bytes: int  # data + index length on the master when the clone started
    new_pod: str
    source_pod: str
    stream_s: float  # the backup stream, from the new pod's clone log (set -x times)
    prepare_s: float  # xtrabackup --prepare, to the clone container's exit
    start_s: float  # the clone container's exit to the pod being Ready (mysqld's start)
    catch_up_s: float  # Ready to having applied the master's binlog
    total_s: float  # the scale-out request to caught up
    source_backup_s: float | None = None  # the backup as the source's sidecar logged it

    @property
    def throughput_mb_s(self) -> float:
        return self.data_bytes / 1e6 / self.stream_s if self.stream_s > 0 else math.nan


@dataclass
class ConsistencySample:
    """One whole-dataset comparison (mysqlsts.db.consistency) of ``data_bytes`` on the master."""

    data_bytes: int
    tables: int
    rows: int
    chunks: int
    seconds: float
    replicas: int

    @property
    def seconds_per_gb(self) -> float:
        return self.seconds / (self.data_bytes / 1e9) if self.data_bytes else math.nan


@dataclass
class LagRun:
    """Replication lag under a steady write load of ``rate`` rows/s of ``row_bytes`` each:
    per replica, (seconds since the load started, lag in seconds) of every heartbeat."""

    rate: int
    row_bytes: int
    seconds: float
    rows_written: int
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    heartbeats: int = 0  # heartbeat rows committed on the master
    # Heartbeats a replica never showed before the run ended, per replica.
    unseen: dict[str, int] = field(default_factory=dict)

    @property
    def achieved_rate(self) -> float:
        return self.rows_written / self.seconds if self.seconds > 0 else 0.0

    @property
    def sustained(self) -> bool:
        """The master took the asked rate (within 5 %)."""
        return self.achieved_rate >= 0.95 * self.rate

    def distribution(self, replica: str) -> Distribution:
        return Distribution.of([lag for _t, lag in self.samples.get(replica, [])])


@dataclass
class RecoverySample:
    """A pod made to go away, and how long until it was back."""

    event: str  # e.g. "replica pod deleted"
    pod: str
    ready_s: float  # the event to the pod being Ready again
    caught_up_s: float  # the event to every replica having applied the master's binlog
    # The longest time without an acknowledged write, when writes ran through the event.
    writes_down_s: float | None = None


@dataclass
class SuiteCost:
    """The suite's own cost: wall time, the first verdict, per area and per check."""

    wall_s: float
    first_verdict_s: float | None
    per_suite: dict[str, float]
    per_check: dict[str, float]


@dataclass
class BenchRun:
    inputs: dict[str, Any]
    environment: dict[str, Any]
    clone: list[CloneSample] = field(default_factory=list)
    lag: list[LagRun] = field(default_factory=list)
    recovery: list[RecoverySample] = field(default_factory=list)
    suite_cost: SuiteCost | None = None
    consistency: list[ConsistencySample] = field(default_factory=list)

    def clone_fit(self) -> Line | None:
        """Clone time (s) against data size (MB): expected linear."""
        return Line.fit([c.data_bytes / 1e6 for c in self.clone], [c.total_s for c in self.clone])

    def consistency_fit(self) -> Line | None:
        """Whole-dataset comparison time (s) against data size (GB): expected linear."""
        return Line.fit(
            [c.data_bytes / 1e9 for c in self.consistency], [c.seconds for c in self.consistency]
        )

    def to_json(self) -> str:
        document: dict[str, Any] = {"schema": SCHEMA, **asdict(self)}
        for entry, sample in zip(document["clone"], self.clone, strict=True):
            entry["throughput_mb_s"] = sample.throughput_mb_s
        for entry, run in zip(document["lag"], self.lag, strict=True):
            entry["achieved_rate"] = run.achieved_rate
            entry["sustained"] = run.sustained
            entry["summary"] = {r: asdict(run.distribution(r)) for r in run.samples}
        fit = self.clone_fit()
        document["clone_fit"] = asdict(fit) if fit else None
        checks = self.consistency_fit()
        document["consistency_fit"] = asdict(checks) if checks else None
        return json.dumps(document, indent=1, allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> BenchRun:
        data = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema {data.get('schema')!r})")
        cost = data.get("suite_cost")
        return cls(
            inputs=data["inputs"],
            environment=data["environment"],
            clone=[
                CloneSample(**{k: v for k, v in c.items() if k != "throughput_mb_s"})
                for c in data["clone"]
            ],
            lag=[
                LagRun(
                    rate=r["rate"],
                    row_bytes=r["row_bytes"],
                    seconds=r["seconds"],
                    rows_written=r["rows_written"],
                    samples={k: [tuple(p) for p in v] for k, v in r["samples"].items()},
                    heartbeats=r.get("heartbeats", 0),
                    unseen=r.get("unseen", {}),
                )
                for r in data["lag"]
            ],
            recovery=[RecoverySample(**r) for r in data["recovery"]],
            suite_cost=SuiteCost(**cost) if cost else None,
            consistency=[ConsistencySample(**c) for c in data.get("consistency", [])],
        )


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def _fit_line(what: str, fit: Line | None, unit: str, digits: int) -> str:
    if fit is None:
        return ""
    return (
        f"\n{what} = {fit.slope:.{digits}f} {unit} x size + {fit.intercept:.1f} s "
        f"(least squares, r2 {fit.r2:.3f})"
    )


def markdown(run: BenchRun) -> str:
    """The tables the terminal prints and the README quotes."""
    out: list[str] = []
    if run.clone:
        out += [
            "| clone | data MB | stream s | MB/s | prepare s | start s | catch-up s | total s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for c in run.clone:
            out.append(
                f"| {c.source_pod} -> {c.new_pod} ({c.size_mb} MB asked) | "
                f"{c.data_bytes / 1e6:.0f} | {c.stream_s:.1f} | {c.throughput_mb_s:.1f} | "
                f"{c.prepare_s:.1f} | {c.start_s:.1f} | {c.catch_up_s:.1f} | {c.total_s:.1f} |"
            )
        out += [_fit_line("clone total time", run.clone_fit(), "s/MB", 3), ""]
    if run.consistency:
        out += [
            "| whole-dataset comparison | tables | rows | chunks | replicas | s | s/GB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {c.data_bytes / 1e6:.0f} MB on the master | {c.tables} | {c.rows} | {c.chunks} | "
            f"{c.replicas} | {c.seconds:.1f} | {c.seconds_per_gb:.0f} |"
            for c in run.consistency
        ]
        out += [_fit_line("comparison time", run.consistency_fit(), "s/GB", 0), ""]
    if run.lag:
        out += [
            "| write load | rows/s reached | replica | heartbeats "
            "| p50 ms | p95 ms | p99 ms | max ms |",
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in run.lag:
            load = f"{r.rate} rows/s x {r.row_bytes} B"
            reached = f"{r.achieved_rate:.0f}" + ("" if r.sustained else " (not sustained)")
            for replica in sorted(r.samples):
                d = r.distribution(replica)
                unseen = r.unseen.get(replica, 0)
                seen = f"{d.count}" + (f" (+{unseen} unseen)" if unseen else "")
                out.append(
                    f"| {load} | {reached} | {replica} | {seen} | {_ms(d.p50)} | {_ms(d.p95)} | "
                    f"{_ms(d.p99)} | {_ms(d.max)} |"
                )
        out.append("")
    if run.recovery:
        out += [
            "| recovery | pod | to Ready s | to caught up s | writes down s |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {r.event} | {r.pod} | {r.ready_s:.1f} | {r.caught_up_s:.1f} | "
            f"{'-' if r.writes_down_s is None else f'{r.writes_down_s:.1f}'} |"
            for r in run.recovery
        ]
        out.append("")
    if run.suite_cost:
        cost = run.suite_cost
        first = "-" if cost.first_verdict_s is None else f"{cost.first_verdict_s:.0f} s"
        out.append(f"suite: {cost.wall_s:.0f} s wall, first verdict after {first}")
        out += ["", "| area | s |", "| --- | ---: |"]
        out += [f"| {area} | {s:.0f} |" for area, s in sorted(cost.per_suite.items())]
        out.append("")
    return "\n".join(out)
