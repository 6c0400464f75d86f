"""Putting the deployment back as declared: after a failed restore, the next check does not
wait the whole bound again."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mysqlsts.run import declared
from mysqlsts.waiting import WaitTimeout

NOT_READY = WaitTimeout("StatefulSet mysql to be ready", 300, "ready 1/2")
STILL_NOT_READY = WaitTimeout("StatefulSet mysql to be ready", 60, "ready 1/2 (recheck)")


@dataclass
class FakeDeployment:
    """Stands in for the cluster: each restore's bound, and whether it comes back."""

    broken: bool = False
    bounds: list[float] = field(default_factory=list)

    def restore(self, *_objects: object, timeout: float) -> None:
        self.bounds.append(timeout)
        if self.broken:
            raise NOT_READY if len(self.bounds) == 1 else STILL_NOT_READY


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeDeployment:
    fake = FakeDeployment()
    monkeypatch.setattr(declared, "_restores", declared._Restores())
    monkeypatch.setattr(declared, "cordoned", lambda _kube: [])
    monkeypatch.setattr(declared, "_restore", fake.restore)
    return fake


def restore() -> None:
    declared.restore(None, None, None)  # type: ignore[arg-type]


def require() -> None:
    declared.require_as_declared(None, None, None)  # type: ignore[arg-type]


@pytest.fixture
def left_broken(cluster: FakeDeployment) -> FakeDeployment:
    """A check's restore has failed: the deployment did not come back."""
    cluster.broken = True
    with pytest.raises(WaitTimeout):
        restore()
    return cluster


def test_after_a_failed_restore_the_next_check_looks_again_briefly(
    left_broken: FakeDeployment,
) -> None:
    cluster = left_broken
    with pytest.raises(AssertionError, match="an earlier check left it broken") as caught:
        require()
    assert cluster.bounds == [declared.RESTORE_TIMEOUT, declared.RECHECK_TIMEOUT]
    assert "ready 1/2" in str(caught.value)  # what the failed restore last saw


def test_once_a_restore_succeeds_the_next_check_gets_the_whole_bound_again(
    left_broken: FakeDeployment,
) -> None:
    cluster = left_broken
    cluster.broken = False
    require()  # looks again briefly: the deployment is back
    require()
    assert cluster.bounds == [
        declared.RESTORE_TIMEOUT,
        declared.RECHECK_TIMEOUT,
        declared.RESTORE_TIMEOUT,
    ]


def test_every_later_check_names_the_first_failed_restore_not_the_last_recheck(
    left_broken: FakeDeployment,
) -> None:
    for _ in range(2):
        with pytest.raises(AssertionError) as caught:
            require()
        assert "its restore failed: WaitTimeout: timed out after 300s" in str(caught.value)
    assert "ready 1/2 (recheck)" in str(caught.value)  # what the recheck itself saw
