"""From JUnit results to verdicts: a catch counts only for the reason the defect names.

For each claimed check of a defect:

- ``BASELINE FAILED``: the check did not pass on the healthy deployment, so its failure
  on the defect proves nothing;
- ``caught``: it FAILED and its failure message matches the claim's reason;
- ``WRONG REASON``: it failed with another message (both texts are shown);
- ``MISSED``: it passed, was skipped, erred in setup, timed out (pytest-timeout or a
  bounded wait, unless the reason names that timeout), or did not run.

The other checks of the defect's areas that failed are its collateral: not an error, but
they show how sharp the defect is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mysqlsts.errors import EXIT_SECRET_FOUND, EXIT_SETUP_FAILED
from mysqlsts.negative_controls.catalogue import Claim, Defect
from mysqlsts.negative_controls.junit import ERROR, FAILED, PASSED, SKIPPED, CaseResult

CAUGHT = "caught"
WRONG_REASON = "WRONG REASON"
MISSED = "MISSED"
BASELINE_FAILED = "BASELINE FAILED"

# pytest exit codes the runner tells apart (mysqlsts.errors adds 4, 6 and 7).
EXIT_OK = 0
EXIT_TESTS_FAILED = 1
EXIT_NO_TESTS = 5

# pytest-timeout's "Failed: Timeout >900.0s" and the suite's bounded waits.
_TIMEOUT = re.compile(r"^(Failed: Timeout >|(\S+\.)?WaitTimeout: )")


def is_timeout(message: str) -> bool:
    return _TIMEOUT.search(message.strip()) is not None


@dataclass(frozen=True)
class ClaimVerdict:
    check: str
    verdict: str
    detail: str  # why, in a few words: "passed", "timed out", "failed on the baseline: ..."
    message: str  # what the check said on the defect (first line of its failure), if anything
    expected: str  # the claim's reason

    @property
    def caught(self) -> bool:
        return self.verdict == CAUGHT


@dataclass(frozen=True)
class Collateral:
    check: str
    outcome: str  # failed | error
    message: str
    also_on_baseline: bool


@dataclass
class DefectResult:
    defect: Defect
    exit_code: int | None  # None: did not finish within the timeout
    claims: list[ClaimVerdict] = field(default_factory=list)
    collateral: list[Collateral] = field(default_factory=list)
    folder: Path | None = None
    seconds: float = 0.0

    @property
    def all_caught(self) -> bool:
        return bool(self.claims) and all(c.caught for c in self.claims)

    @property
    def verdict(self) -> str:
        if self.all_caught:
            return CAUGHT
        for worst in (BASELINE_FAILED, MISSED, WRONG_REASON):
            if any(c.verdict == worst for c in self.claims):
                return worst
        return MISSED

    @property
    def problems(self) -> list[str]:
        """What is wrong with the run itself, beyond its verdicts."""
        found = []
        if self.exit_code == EXIT_SECRET_FOUND:
            found.append("the run's reports contain the root password")
        if self.exit_code == EXIT_NO_TESTS:
            found.append("no tests collected (check the node ids in caught_by)")
        if self.exit_code is not None and self.exit_code not in (0, 1, 5, 6, 7):
            found.append(f"pytest ended with exit code {self.exit_code}")
        return found


def _not_run(exit_code: int | None) -> str:
    if exit_code is None:
        return "the run timed out before it"
    if exit_code == EXIT_SETUP_FAILED:
        return "the deployment did not come up (setup failed)"
    return "not run"


def judge_claim(
    claim: Claim,
    result: CaseResult | None,
    baseline: CaseResult | None,
    exit_code: int | None,
) -> ClaimVerdict:
    said = result.first_line if result else ""

    def verdict(kind: str, detail: str) -> ClaimVerdict:
        return ClaimVerdict(claim.check, kind, detail, said, claim.reason.pattern)

    if baseline is None or baseline.outcome != PASSED:
        seen = "not run" if baseline is None else f"{baseline.outcome} {baseline.first_line}"
        return verdict(BASELINE_FAILED, f"on the healthy deployment: {seen.strip()}")
    if result is None:
        return verdict(MISSED, _not_run(exit_code))
    if result.outcome == FAILED:
        if claim.matches(result.message):
            return verdict(CAUGHT, "failed for the expected reason")
        if is_timeout(result.message):
            return verdict(MISSED, "timed out")
        return verdict(WRONG_REASON, "failed for another reason")
    if result.outcome == ERROR:
        return verdict(MISSED, "error outside the check (setup or teardown)")
    if result.outcome == SKIPPED:
        return verdict(MISSED, "skipped")
    return verdict(MISSED, "passed")


def judge_setup(
    claim: Claim, exit_code: int | None, line: str | None, baseline_up: bool
) -> ClaimVerdict:
    """A defect that must stop the deployment: the setup failed, and its line says why."""

    def verdict(kind: str, detail: str) -> ClaimVerdict:
        return ClaimVerdict(claim.check, kind, detail, line or "", claim.reason.pattern)

    if not baseline_up:
        return verdict(BASELINE_FAILED, "the healthy deployment did not come up either")
    if exit_code != EXIT_SETUP_FAILED:
        return verdict(MISSED, "the deployment came up" if exit_code is not None else "timed out")
    if line and claim.matches(line):
        return verdict(CAUGHT, "the setup stopped for the expected reason")
    return verdict(WRONG_REASON, "the setup stopped for another reason")


def judge(
    defect: Defect,
    exit_code: int | None,
    results: Mapping[str, CaseResult],
    baseline: Mapping[str, CaseResult],
    ran: Sequence[str],
    setup_line: str | None = None,
) -> DefectResult:
    """Verdicts of the defect's claims, and the collateral among the other checks ``ran``."""
    outcome = DefectResult(defect, exit_code)
    for claim in defect.claims:
        if claim.is_setup:
            outcome.claims.append(judge_setup(claim, exit_code, setup_line, bool(baseline)))
            continue
        outcome.claims.append(
            judge_claim(claim, results.get(claim.check), baseline.get(claim.check), exit_code)
        )
    for check in ran:
        result = results.get(check)
        if check in defect.checks or result is None or result.outcome not in (FAILED, ERROR):
            continue
        healthy = baseline.get(check)
        outcome.collateral.append(
            Collateral(
                check,
                result.outcome,
                result.first_line,
                also_on_baseline=healthy is not None and healthy.outcome != PASSED,
            )
        )
    return outcome


def baseline_failures(
    checks: Sequence[str], baseline: Mapping[str, CaseResult]
) -> list[tuple[str, str]]:
    """(check, what happened) for each check that did not pass on the healthy deployment."""
    found = []
    for check in checks:
        result = baseline.get(check)
        if result is None:
            found.append((check, "not run"))
        elif result.outcome != PASSED:
            found.append((check, f"{result.outcome}: {result.first_line}".rstrip(": ")))
    return found
