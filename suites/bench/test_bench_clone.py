"""Clone time and throughput of a new replica against the master's data size, and the
cost of the whole-dataset comparison (mysqlsts.db.consistency) at each size."""

from __future__ import annotations

import pytest

from mysqlsts.bench import charts, measure
from mysqlsts.bench.results import BenchRun, CloneSample, ConsistencySample
from mysqlsts.db.mysql import MySQL
from mysqlsts.errors import EXIT_BAD_INPUT
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import quantity
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.scratch import scratch_database
from mysqlsts.settings import Settings

pytestmark = [pytest.mark.bench, pytest.mark.mutates_deployment]
# A clone of N MB needs room for the data, the binary log that carried it and the redo
# log on the master's claim, and as much again on the new replica's.
SPACE_PER_MB = 2.5


def claim_mb(deployment: Deployment) -> float:
    sts = deployment.objects_of_kind("StatefulSet")[0]
    templates = sts["spec"].get("volumeClaimTemplates") or []
    asked = ((templates[0]["spec"].get("resources") or {}).get("requests") or {}).get("storage")
    return float(quantity(asked)) / 1e6 if asked else float("inf")


@pytest.fixture
def sizes(mysqlsts_settings: Settings, deployment: Deployment) -> tuple[int, ...]:
    """--bench-sizes, refused in one line before any load when they cannot fit."""
    room = claim_mb(deployment)
    largest = max(mysqlsts_settings.bench_sizes)
    if largest * SPACE_PER_MB > room:
        pytest.exit(
            f"--bench-sizes {largest} MB does not fit: each pod's claim holds {room:.0f} MB "
            f"and a clone of N MB needs about {SPACE_PER_MB} x N",
            returncode=EXIT_BAD_INPUT,
        )
    if deployment.replicas >= deployment.max_replicas:
        pytest.skip(
            f"the manifests' {len(deployment.pvs)} PVs are all used by the "
            f"{deployment.replicas} replicas: no PV is left for a scale-out"
        )
    return mysqlsts_settings.bench_sizes


@step("load the master to {size} MB of InnoDB data")
def load(mysql: MySQL, database: str, size: int) -> int:
    data = measure.fill_to(mysql, database, size)
    attachments.text("data on the master", f"{data / 1e6:.1f} MB in {database}")
    return data


@step("compare the whole dataset ({data} bytes on the master) with every replica")
def compare_whole_dataset(mysql: MySQL, data: int) -> ConsistencySample:
    comparison = mysql.compare_dataset()
    assert not comparison.differences, comparison.report()
    return ConsistencySample(
        data, comparison.tables, comparison.rows, comparison.chunks, comparison.seconds,
        len(comparison.replicas),
    )  # fmt: skip


@step("scale out by one replica, which clones {data} bytes")
def clone(
    kube: Kube, mysql: MySQL, deployment: Deployment, run: RunInfo, size: int, data: int
) -> CloneSample:
    sample = measure.clone_once(kube, mysql, deployment, run.run_id, size, data)
    attachments.data("clone phases", sample.__dict__ | {"MB/s": sample.throughput_mb_s})
    return sample


def test_a_new_replica_clones_each_data_size_and_catches_up(
    deployment: Deployment,
    kube: Kube,
    mysql: MySQL,
    mysqlsts_run: RunInfo,
    bench: BenchRun,
    sizes: tuple[int, ...],
) -> None:
    """For each size (ascending, the data grows between them): a new replica clones the
    previous ordinal, applies the master's binlog, and is scaled away again."""
    with (
        disturbance(kube, mysql, deployment, "bench_clone"),
        scratch_database(mysql, "bench") as database,
    ):
        measure.create_tables(mysql, database)
        for size in sizes:
            data = load(mysql, database, size)
            bench.consistency.append(compare_whole_dataset(mysql, data))
            bench.clone.append(clone(kube, mysql, deployment, mysqlsts_run, size, data))
    chart = charts.clone_chart(bench)
    assert chart is not None, "no clone was measured"
    attachments.png("clone time against data size", chart)
    assert all(c.stream_s > 0 for c in bench.clone), bench.clone
