"""Per-suite durations from report tuples."""

from __future__ import annotations

from mysqlsts.reporting import durations


def test_setup_call_and_teardown_count_for_the_suite_of_their_test() -> None:
    reports = [
        ("suites/storage/test_storage_class.py::test_a", "setup", 80.0),
        ("suites/storage/test_storage_class.py::test_a", "call", 1.5),
        ("suites/storage/test_storage_class.py::test_a", "teardown", 0.5),
        ("suites/failover/test_pod_deletion.py::test_b", "setup", 2.0),
        ("suites/failover/test_pod_deletion.py::test_b", "call", 60.0),
        ("suites/failover/test_pod_deletion.py::test_c", "call", 3.0),
    ]
    times = durations.by_suite(reports)
    assert [(t.area, t.tests, t.seconds) for t in times] == [
        ("failover", 2, 65.0),
        ("storage", 1, 82.0),
    ]
    assert durations.lines(times) == [
        "failover    2 tests    1m05s",
        "storage     1 tests    1m22s",
    ]


def test_clock() -> None:
    assert durations.clock(0.4) == "0s"
    assert durations.clock(59.6) == "1m00s"
    assert durations.clock(3725) == "62m05s"
