"""The pure helpers of the scaling and failover suites: logs, keys, ordering."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlsts.k8s.events import parse_time
from mysqlsts.scenarios import disturbance as disturbing
from mysqlsts.scenarios.clone import cloned_from, stream_window, streaming_commands
from mysqlsts.scenarios.creation_order import PodTimeline, ordering_violations
from mysqlsts.scenarios.scratch import ScratchTable, compare_keys

# clone-mysql's trace (set -x) on the stand-ins, as the kubelet returns it.
CLONED = """+ [[ -d /var/lib/mysql/mysql ]]
++ hostname
+ [[ mysql-2 =~ -([0-9]+)$ ]]
+ ordinal=2
+ [[ 2 == 0 ]]
+ ncat --recv-only mysql-1.mysql 3307
+ xbstream -x -C /var/lib/mysql
+ xtrabackup --prepare --target-dir=/var/lib/mysql
mariabackup based on MariaDB server 10.11.18-MariaDB debian-linux-gnu (x86_64)
[00] 2026-11-25 13:04:09 completed OK!
"""
SKIPPED = "+ [[ -d /var/lib/mysql/mysql ]]\n+ exit 0\n"


def test_a_clone_names_the_pod_it_streamed_from() -> None:
    assert cloned_from(CLONED, "mysql") == [1]
    assert streaming_commands(CLONED) == [
        "ncat --recv-only mysql-1.mysql 3307",
        "xbstream -x -C /var/lib/mysql",
    ]


def test_a_clone_from_the_master_is_told_apart() -> None:
    log = CLONED.replace("mysql-1.mysql", "mysql-0.mysql")
    assert cloned_from(log, "mysql") == [0]


def test_a_skipped_clone_streams_nothing() -> None:
    assert streaming_commands(SKIPPED) == []
    assert cloned_from(SKIPPED, "mysql") == []


def test_output_lines_that_mention_tools_are_not_commands() -> None:
    log = "ncat: Connection refused.\n+ echo done\n"
    assert streaming_commands(log) == []


def test_other_statefulsets_pods_are_not_sources() -> None:
    log = "+ ncat --recv-only db-1.db 3307\n"
    assert cloned_from(log, "mysql") == []
    assert cloned_from(log, "db") == [1]


def test_key_comparison_tells_lost_duplicated_and_unexpected_rows_apart() -> None:
    result = compare_keys([1, 2, 3, 4], [1, 2, 2, 4, 9])
    assert result.missing == [3]
    assert result.duplicated == {2: 2}
    assert result.unexpected == [9]
    assert not result.identical
    assert "1 missing (3)" in str(result)
    assert compare_keys([1, 2], [2, 1]).identical
    assert str(compare_keys([], [])) == "identical"


class KeysOnly(ScratchTable):
    """A scratch table whose pods hold the given keys (no MySQL)."""

    def __init__(self, found: list[int]) -> None:
        self.found = found

    def keys(self, pod: str) -> list[int]:
        return self.found


def test_a_key_there_twice_is_explained_only_when_a_key_is_there_twice() -> None:
    with pytest.raises(AssertionError, match=r"1 duplicated \(2 x2\) \(applied twice\)$"):
        KeysOnly([1, 2, 2]).assert_identical("mysql-1", [1, 2], "now", if_twice="applied twice")
    with pytest.raises(AssertionError, match=r"1 missing \(2\)$"):
        KeysOnly([1]).assert_identical("mysql-1", [1, 2], "now", if_twice="applied twice")


def pod(name: str, uid: str, created: str, ready_at: str | None) -> dict[str, Any]:
    conditions = (
        []
        if ready_at is None
        else [{"type": "Ready", "status": "True", "lastTransitionTime": ready_at}]
    )
    return {
        "metadata": {"name": name, "uid": uid, "creationTimestamp": created},
        "status": {"conditions": conditions},
    }


def test_ordered_creation_has_no_violation() -> None:
    timeline = PodTimeline()
    timeline.observe([pod("mysql-0", "a", "2026-01-01T10:00:00Z", "2026-01-01T10:00:20Z")])
    timeline.observe([pod("mysql-1", "b", "2026-01-01T10:01:00Z", None)])
    timeline.observe([pod("mysql-1", "b", "2026-01-01T10:01:00Z", "2026-01-01T10:01:15Z")])
    timeline.observe([pod("mysql-2", "c", "2026-01-01T10:01:15Z", "2026-01-01T10:01:40Z")])
    assert ordering_violations(timeline, ["mysql-0", "mysql-1", "mysql-2"]) == []


def test_parallel_creation_is_a_violation() -> None:
    timeline = PodTimeline()
    timeline.observe(
        [
            pod("mysql-1", "b", "2026-01-01T10:01:00Z", "2026-01-01T10:01:15Z"),
            pod("mysql-2", "c", "2026-01-01T10:01:00Z", "2026-01-01T10:01:30Z"),
        ]
    )
    problems = ordering_violations(timeline, ["mysql-1", "mysql-2"])
    assert problems == ["mysql-2 created at 10:01:00, before mysql-1 was ready at 10:01:15"]


def test_a_replaced_pod_starts_a_new_timeline() -> None:
    timeline = PodTimeline()
    timeline.observe([pod("mysql-1", "old", "2026-01-01T09:00:00Z", "2026-01-01T09:00:10Z")])
    timeline.observe([pod("mysql-1", "new", "2026-01-01T10:00:00Z", None)])
    assert timeline.created["mysql-1"] == parse_time("2026-01-01T10:00:00Z")
    assert "mysql-1" not in timeline.ready


def stamped(log: str, start_second: int = 30) -> str:
    """The log as `kubectl logs --timestamps` gives it: a line every 0.25 s."""
    lines = []
    for index, line in enumerate(log.splitlines()):
        at = start_second * 4 + index
        lines.append(f"2026-11-25T16:55:{at // 4:02d}.{(at % 4) * 25:02d}0000123Z {line}")
    return "\n".join(lines) + "\n"


def test_the_stream_window_runs_from_the_stream_to_the_prepare() -> None:
    start, end = stream_window(stamped(CLONED)) or (None, None)
    assert start == parse_time("2026-11-25T16:55:31.250000Z")  # + ncat (line 6)
    assert end == parse_time("2026-11-25T16:55:31.750000Z")  # + xtrabackup --prepare


def test_no_window_without_a_complete_stream() -> None:
    assert stream_window(stamped(SKIPPED)) is None
    unfinished = "".join(CLONED.splitlines(keepends=True)[:7])  # the stream never ended
    assert stream_window(stamped(unfinished)) is None


def test_nanosecond_timestamps_parse() -> None:
    parsed = parse_time("2026-11-25T16:55:30.123456789Z")
    assert parsed is not None and parsed.microsecond == 123456


class _Scratch:
    database = "sr_x"

    def drop(self) -> None:
        pass


class _MySQL:
    def wait_replicas_caught_up(self) -> None:
        pass


def _disturbed(
    monkeypatch: pytest.MonkeyPatch, restore_error: Exception | None
) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def restore(*_a: object, **_k: object) -> None:
        if restore_error:
            raise restore_error

    monkeypatch.setattr(disturbing.ScratchTable, "create", lambda *_a: _Scratch())
    monkeypatch.setattr(disturbing, "restore", restore)
    monkeypatch.setattr(disturbing, "broken_state", lambda *_a: [("pods", "mysql-1 not ready")])
    monkeypatch.setattr(disturbing.attachments, "text", lambda t, x: seen.append((t, x)))
    return seen


def test_a_failed_restore_does_not_hide_the_checks_own_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _disturbed(monkeypatch, AssertionError("replication broken after the fault"))
    with (
        pytest.raises(AssertionError, match="the check's own reason"),
        disturbing.disturbance(None, _MySQL(), None, "x"),  # type: ignore[arg-type]
    ):
        raise AssertionError("the check's own reason")
    assert seen == [
        ("before restore: pods", "mysql-1 not ready"),
        ("the restore failed too", "AssertionError: replication broken after the fault"),
    ]


def test_a_restore_that_fails_after_a_passing_check_fails_the_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _disturbed(monkeypatch, AssertionError("left broken"))
    with (
        pytest.raises(AssertionError, match="left broken"),
        disturbing.disturbance(None, _MySQL(), None, "x"),  # type: ignore[arg-type]
    ):
        pass
