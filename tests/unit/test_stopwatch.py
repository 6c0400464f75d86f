"""Progress lines say a step's duration in whole seconds, from one helper."""

from mysqlsts.stopwatch import Stopwatch


def test_stopwatch_counts_from_when_it_was_made_and_prints_whole_seconds() -> None:
    now = iter([100.0, 141.75, 141.75])
    watch = Stopwatch(clock=lambda: next(now))
    assert watch.seconds == 41.75
    assert str(watch) == "42s"
