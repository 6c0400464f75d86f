"""Replication lag under a steady write load, per replica, at each write rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from mysqlsts.bench import charts, measure
from mysqlsts.bench.results import BenchRun, LagRun
from mysqlsts.db.mysql import MySQL
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.scratch import scratch_database
from mysqlsts.settings import Settings

pytestmark = [pytest.mark.bench, pytest.mark.needs_replicas(1)]
# A replica that misses more heartbeats than this did not keep up with the load at all.
UNSEEN_AT_MOST = 0.05


@step("{rate} rows/s for {seconds} s, heartbeats every 100 ms")
def under_load(mysql: MySQL, run: RunInfo, database: str, rate: int, seconds: int) -> LagRun:
    lag = measure.lag_under_load(mysql, Path(run.kubeconfig), database, rate, seconds)
    attachments.table(
        f"lag at {rate} rows/s",
        [
            {
                "replica": pod,
                "rows/s reached": round(lag.achieved_rate),
                "sustained": lag.sustained,
                "heartbeats seen": lag.distribution(pod).count,
                "unseen": lag.unseen.get(pod, 0),
                "p50 ms": round(lag.distribution(pod).p50 * 1000),
                "p99 ms": round(lag.distribution(pod).p99 * 1000),
            }
            for pod in sorted(lag.samples)
        ],
    )
    attachments.png(f"lag over time at {rate} rows/s", charts.lag_over_time_chart(lag))
    return lag


def test_every_replica_shows_the_heartbeats_under_each_write_rate(
    deployment: Deployment,
    mysql: MySQL,
    mysqlsts_run: RunInfo,
    mysqlsts_settings: Settings,
    bench: BenchRun,
) -> None:
    """For each rate: the writer holds it (or the run says it was not sustained), and every
    replica shows at least 95 % of the heartbeats the master committed; their lag is kept."""
    with scratch_database(mysql, "bench") as database:
        measure.create_tables(mysql, database)
        for rate in mysqlsts_settings.bench_rates:
            bench.lag.append(
                under_load(mysql, mysqlsts_run, database, rate, mysqlsts_settings.bench_duration)
            )
        mysql.wait_replicas_caught_up(timeout=300)
    distribution = charts.lag_distribution_chart(bench)
    assert distribution is not None, "no write rate was measured"
    attachments.png("lag distribution per rate and replica", distribution)
    missing = [
        f"{pod} at {r.rate} rows/s: {r.unseen.get(pod, 0)} of {r.heartbeats}"
        for r in bench.lag
        for pod in r.samples
        if r.unseen.get(pod, 0) > UNSEEN_AT_MOST * r.heartbeats
    ]
    assert not missing, f"replicas that never showed the master's heartbeats: {missing}"
