"""What each run collects: the claimed checks, the rest of their areas, the CI sample."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from mysqlsts.errors import InputError
from mysqlsts.negative_controls.catalogue import Defect
from mysqlsts.negative_controls.claimed_first import OPTION as CLAIMED_FIRST

# What a defect that claims the setup runs, should the deployment come up after all: a
# check of seconds (the verdict is then MISSED whatever it says).
SETUP_PROBE = "suites/storage/test_storage_class.py"


@dataclass(frozen=True)
class Suite:
    """The collected checks of ``suites/`` (pytest's order) and those marked ``faults``."""

    checks: tuple[str, ...]
    faults: frozenset[str]

    def in_area(self, area: str) -> list[str]:
        return [c for c in self.checks if c.startswith(area + "/")]

    def in_file(self, file: str) -> list[str]:
        return [c for c in self.checks if c.startswith(file + "::")]


@dataclass(frozen=True)
class Plan:
    """One pytest run: the checks it runs (claimed first) and the arguments that say so."""

    claimed: tuple[str, ...]
    collateral: tuple[str, ...]
    deselected: tuple[str, ...]
    paths: tuple[str, ...]

    @property
    def ran(self) -> list[str]:
        return [*self.claimed, *self.collateral]

    @property
    def pytest_args(self) -> list[str]:
        args = [*self.paths, "-p", "mysqlsts.negative_controls.claimed_first"]
        for check in self.claimed:
            args += [CLAIMED_FIRST, check]
        for check in self.deselected:
            args += ["--deselect", check]
        return args


def plan(defect: Defect, suite: Suite, collateral: bool = True) -> Plan:
    """The defect's claimed checks, then (``collateral``) the other checks of their areas.

    Unclaimed hard faults (minutes each) are left out of the collateral: they would double
    a defect's run for checks that a broken deployment fails in setup anyway.
    """
    claimed = defect.checks
    if defect.claims_setup:
        return Plan((), (), (), (SETUP_PROBE,))
    if not collateral:
        return Plan(claimed, (), (), claimed)
    areas = defect.areas
    others = [c for area in areas for c in suite.in_area(area) if c not in claimed]
    deselected = tuple(c for c in others if c in suite.faults)
    kept = tuple(c for c in others if c not in suite.faults)
    return Plan(claimed, kept, deselected, tuple(areas))


def baseline_plan(plans: Sequence[Plan], suite: Suite) -> Plan:
    """Every check any defect's run makes, once, on the healthy deployment (suite order)."""
    wanted = {c for p in plans for c in p.ran}
    # A defect that claims the setup needs a baseline that came up: its probe's checks.
    wanted |= {c for p in plans if not p.ran for c in suite.in_file(SETUP_PROBE)}
    checks = tuple(c for c in suite.checks if c in wanted)
    return Plan(checks, (), (), checks)


def sample(defects: Sequence[Defect], size: int, seed: str) -> list[Defect]:
    """``size`` defects, a window of the name-ordered list chosen by ``seed`` (a commit).

    The list is cut into ceil(n/size) windows (the last one wraps round to the start);
    each commit hash picks one, so every defect comes round within a few commits.
    """
    if size < 1:
        raise InputError(f"--sample must be at least 1, got {size}")
    ordered = sorted(defects, key=lambda d: d.name)
    if size >= len(ordered):
        return ordered
    windows = -(-len(ordered) // size)
    index = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % windows
    start = index * size
    return [ordered[(start + i) % len(ordered)] for i in range(size)]


def with_always(
    chosen: Sequence[Defect], always: Sequence[Defect], size: int | None, seed: str
) -> list[Defect]:
    """The defects ``always`` first, then the ``chosen`` ones (a ``size`` sample of them
    when given, drawn from those not in ``always``)."""
    names = {d.name for d in always}
    rest = [d for d in chosen if d.name not in names]
    if size is not None:
        rest = sample(rest, size, seed)
    return [*always, *rest]
