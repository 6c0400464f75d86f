"""The performance profile's plots, drawn from a :class:`BenchRun`: the same pictures are
attached to the reports by the bench tests and written next to bench.json."""

from __future__ import annotations

from mysqlsts.bench.results import BenchRun, LagRun
from mysqlsts.reporting import plots


def clone_chart(run: BenchRun) -> bytes | None:
    if not run.clone:
        return None
    fit = run.clone_fit()
    return plots.clone_time_vs_size(
        [(c.data_bytes / 1e6, c.total_s) for c in run.clone],
        (fit.slope, fit.intercept) if fit else None,
        title="a new replica: scale-out to caught up, against the master's data",
    )


def lag_distribution_chart(run: BenchRun) -> bytes | None:
    if not run.lag:
        return None
    return plots.lag_distribution(
        {
            f"{r.rate}/s {pod}": [lag for _t, lag in r.samples[pod]]
            for r in run.lag
            for pod in sorted(r.samples)
        },
        title="replication lag of every heartbeat, per write rate and replica",
    )


def lag_over_time_chart(lag: LagRun) -> bytes:
    return plots.lag_over_time(lag.samples, title=f"{lag.rate} rows/s x {lag.row_bytes} B")


def all_charts(run: BenchRun) -> dict[str, bytes]:
    """File name -> PNG, for every plot the run has data for."""
    found: dict[str, bytes] = {}
    clone = clone_chart(run)
    if clone:
        found["bench-clone-time-vs-size.png"] = clone
    distribution = lag_distribution_chart(run)
    if distribution:
        found["bench-lag-distribution.png"] = distribution
    for lag in run.lag:
        found[f"bench-lag-over-time-{lag.rate}.png"] = lag_over_time_chart(lag)
    return found
