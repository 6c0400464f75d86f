"""The ledger's judgement and the classification of failed writes (no server)."""

from __future__ import annotations

import pymysql

from mysqlsts.reporting import plots
from mysqlsts.scenarios import ledger as L


def ledger_of(*writes: tuple[int, str]) -> L.Ledger:
    made = L.Ledger()
    for key, outcome in writes:
        made.record(L.Write(key, 0.0, 0.01, outcome))
    return made


def test_a_clean_run_has_no_problem() -> None:
    book = ledger_of((1_000_000, L.ACKNOWLEDGED), (1_000_001, L.UNKNOWN), (1_000_002, L.FAILED))
    judged = L.judge([1_000_000, 1_000_001], book)
    assert judged.problems() == []
    assert judged.row() == {
        "acknowledged": 1,
        "failed": 1,
        "unknown": 1,
        "lost": 0,
        "duplicated": 0,
    }
    assert L.judge([1_000_000], book).problems() == []  # an unknown write may be absent


def test_lost_duplicated_failed_and_strange_keys_are_each_named() -> None:
    book = ledger_of(
        (1_000_000, L.ACKNOWLEDGED), (1_000_001, L.ACKNOWLEDGED), (1_000_002, L.FAILED)
    )
    judged = L.judge([1_000_001, 1_000_001, 1_000_002, 1_000_009, 7], book)
    assert judged.lost == [1_000_000]
    assert judged.duplicated == {1_000_001: 2}
    assert judged.failed_but_present == [1_000_002]
    assert judged.strangers == [1_000_009]  # 7 is the test's own key, not a writer's
    assert len(judged.problems()) == 4


def test_a_server_error_failed_and_a_broken_link_is_unknown() -> None:
    assert L.classify(pymysql.err.OperationalError(1290, "read-only")) == L.FAILED
    assert L.classify(pymysql.err.OperationalError(2013, "Lost connection")) == L.UNKNOWN
    assert L.classify(pymysql.err.InterfaceError(0, "")) == L.UNKNOWN
    assert L.classify(OSError("port-forward closed")) == L.UNKNOWN


def test_the_plot_is_a_png() -> None:
    image = plots.latency_and_lag(
        {"acknowledged": [(0.0, 0.01), (1.0, 0.02)], "unknown": [(2.0, 5.0)]},
        {"mysql-1": [(0.0, 0.0), (3.0, 4.0)]},
        [(1.5, "fault")],
        title="test",
    )
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 5000


def test_the_longest_outage_is_the_widest_gap_between_acknowledged_writes() -> None:
    ledger = L.Ledger()
    for key, at, outcome in (
        (1, 0.0, L.ACKNOWLEDGED),
        (2, 1.0, L.ACKNOWLEDGED),
        (3, 2.0, L.FAILED),
        (4, 9.0, L.ACKNOWLEDGED),
        (5, 9.5, L.ACKNOWLEDGED),
    ):
        ledger.record(L.Write(key, at, 0.5, outcome))
    assert ledger.longest_outage() == 8.0  # acknowledged at 1.5, then at 9.5
    assert L.Ledger().longest_outage() == 0.0
