"""The performance profile's pure parts: statistics, bench.json, the table, compare."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mysqlsts import option_table, settings
from mysqlsts.bench import __main__ as cli
from mysqlsts.bench.compare import compare, figures
from mysqlsts.bench.results import (
    BenchRun,
    CloneSample,
    ConsistencySample,
    LagRun,
    RecoverySample,
    SuiteCost,
    markdown,
)
from mysqlsts.bench.stats import Distribution, Line, percentile


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 95) == 3.0
    assert math.isnan(percentile([], 50))
    d = Distribution.of([0.1, 0.2, 0.3, 0.4])
    assert (d.count, d.max) == (4, 0.4) and d.p50 == pytest.approx(0.25)


def test_a_line_fits_exact_points_and_needs_two_distinct_x() -> None:
    line = Line.fit([10, 100, 500], [21.6, 36.0, 100.0])
    assert line is not None
    assert line.slope == pytest.approx(0.16, abs=1e-9) and line.intercept == pytest.approx(20.0)
    assert line.r2 == pytest.approx(1.0)
    assert Line.fit([5, 5], [1, 2]) is None and Line.fit([1], [1]) is None


def sample_run(scale: float = 1.0) -> BenchRun:
    run = BenchRun({"sizes_mb": [10, 100]}, {"cpus": 2})
    for size in (10, 100):
        run.clone.append(
            CloneSample(
                size_mb=size,
                data_bytes=size * 1_000_000,
                new_pod="mysql-2",
                source_pod="mysql-1",
                stream_s=size / 50 * scale,
                prepare_s=2.0,
                start_s=10.0,
                catch_up_s=1.0,
                total_s=(20 + size * 0.2) * scale,
            )
        )
    run.lag.append(
        LagRun(
            rate=200,
            row_bytes=1024,
            seconds=10,
            rows_written=1500,
            samples={"mysql-1": [(0.1, 0.01 * scale), (0.2, 0.03 * scale)]},
            heartbeats=3,
            unseen={"mysql-1": 1},
        )
    )
    run.recovery.append(RecoverySample("replica pod deleted", "mysql-1", 20 * scale, 22 * scale))
    run.suite_cost = SuiteCost(600 * scale, 95.0, {"storage": 30.0}, {"suites/x::t": 1.0})
    for size in (10, 100):
        run.consistency.append(
            ConsistencySample(
                size * 1_000_000, 3, size * 1000, size // 5, (1 + size / 10) * scale, 1
            )
        )
    return run


def test_bench_json_keeps_every_sample_and_reads_back() -> None:
    run = sample_run()
    text = run.to_json()
    document = json.loads(text)
    assert document["schema"] == "mysqlsts-bench/1"
    assert document["clone"][0]["throughput_mb_s"] == pytest.approx(50.0)
    assert document["lag"][0]["sustained"] is False  # 150 rows/s of the 200 asked
    assert document["lag"][0]["summary"]["mysql-1"]["count"] == 2
    assert document["clone_fit"]["slope"] == pytest.approx(0.2)
    again = BenchRun.from_json(text)
    assert again.clone == run.clone and again.recovery == run.recovery
    assert again.lag[0].samples == run.lag[0].samples and again.suite_cost == run.suite_cost
    assert again.consistency == run.consistency
    assert document["consistency_fit"]["slope"] == pytest.approx(100.0)  # s per GB
    with pytest.raises(ValueError, match="not a mysqlsts-bench/1"):
        BenchRun.from_json('{"schema": "other"}')


def test_the_table_shows_phases_the_fit_and_an_unsustained_rate() -> None:
    table = markdown(sample_run())
    assert "| mysql-1 -> mysql-2 (100 MB asked) | 100 | 2.0 | 50.0 |" in table
    assert "clone total time = 0.200 s/MB x size + 20.0 s" in table
    assert "150 (not sustained)" in table and "2 (+1 unseen)" in table
    assert "first verdict after 95 s" in table
    assert "| 100 MB on the master | 3 | 100000 | 20 | 1 | 11.0 | 110 |" in table
    assert "comparison time = 100 s/GB x size + 1.0 s" in table


def test_compare_gives_b_over_a_for_every_shared_figure(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    paired, alone = compare(sample_run(), sample_run(2.0))
    ratios = {r.figure: r.ratio for r in paired}
    assert ratios["clone 100 MB: total s"] == pytest.approx(2.0)
    assert ratios["clone 100 MB: stream MB/s"] == pytest.approx(0.5)
    assert ratios["lag 200 rows/s mysql-1: p50 s"] == pytest.approx(2.0)
    assert not alone and set(ratios) == set(figures(sample_run()))
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(sample_run().to_json())
    b.write_text(sample_run(2.0).to_json())
    assert cli.main(["compare", str(a), str(b)]) == 0
    assert "clone 100 MB: total s" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("{")
    assert cli.main(["compare", str(a), str(tmp_path / "bad.json")]) == 4


def test_bench_options_are_ascending_distinct_positive_numbers() -> None:
    chosen = settings.resolve({"bench_sizes": "500,10,100,10"}, {"MYSQLSTS_BENCH_RATES": "80"})
    assert chosen.bench_sizes == (10, 100, 500) and chosen.bench_rates == (80,)
    assert settings.resolve({}, {}).bench_duration == option_table.DEFAULT_BENCH_DURATION
    with pytest.raises(settings.InputError, match="--bench-sizes must be at least 1"):
        settings.resolve({"bench_sizes": "10,0"}, {})
    with pytest.raises(settings.InputError, match="--bench-rates needs at least one number"):
        settings.resolve({"bench_rates": ","}, {})


def test_every_run_writes_bench_json_the_table_and_its_plots(tmp_path: Path) -> None:
    from mysqlsts.plugin.bench_profile import write

    written = {p.name for p in write(tmp_path / "run", sample_run())}
    assert written == {
        "bench.json",
        "bench.md",
        "bench-clone-time-vs-size.png",
        "bench-lag-distribution.png",
        "bench-lag-over-time-200.png",
    }
    assert (tmp_path / "run" / "bench-lag-distribution.png").read_bytes()[:4] == b"\x89PNG"
    cost_only = BenchRun({}, {}, suite_cost=SuiteCost(10.0, None, {}, {}))
    assert {p.name for p in write(tmp_path / "e2e", cost_only)} == {"bench.json", "bench.md"}
