from __future__ import annotations

import itertools

import pytest

from mysqlsts.redaction import register_secret
from mysqlsts.waiting import Seen, WaitTimeout, wait_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_value_when_done() -> None:
    clock = FakeClock()
    states = iter([Seen(False, "starting"), Seen(True, "ready", value=42)])
    assert (
        wait_for("x", lambda: next(states), timeout=10, clock=clock.time, sleep=clock.sleep) == 42
    )
    assert clock.sleeps == [1.0]


def test_timeout_names_what_was_awaited_and_the_last_state() -> None:
    clock = FakeClock()
    counter = itertools.count()
    with pytest.raises(WaitTimeout) as caught:
        wait_for(
            "pod mysql/mysql-1 to be ready",
            lambda: Seen(False, f"not ready (poll {next(counter)})"),
            timeout=5,
            interval=2,
            clock=clock.time,
            sleep=clock.sleep,
        )
    assert str(caught.value) == (
        "timed out after 5s waiting for pod mysql/mysql-1 to be ready; "
        "last state: not ready (poll 3)"
    )
    assert clock.now == 5 and clock.sleeps == [2, 2, 1]  # never sleeps past the deadline
    assert isinstance(caught.value, AssertionError)  # a test waiting in vain fails


def test_transient_errors_are_observations_others_end_the_wait() -> None:
    clock = FakeClock()

    def flaky() -> Seen[None]:
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match="last state: ConnectionError: refused"):
        wait_for(
            "db",
            flaky,
            timeout=3,
            transient=(ConnectionError,),
            clock=clock.time,
            sleep=clock.sleep,
        )

    def broken() -> Seen[None]:
        raise RuntimeError("image cannot be pulled")

    with pytest.raises(RuntimeError):
        wait_for("db", broken, timeout=3, clock=clock.time, sleep=clock.sleep)


def test_timeout_message_is_redacted() -> None:
    register_secret("hunter2")
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as caught:
        wait_for(
            "x",
            lambda: Seen(False, "log says hunter2"),
            timeout=1,
            clock=clock.time,
            sleep=clock.sleep,
        )
    assert "hunter2" not in str(caught.value)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        wait_for("x", lambda: Seen(True, ""), timeout=0)
