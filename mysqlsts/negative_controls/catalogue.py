"""The defects under ``manifests/defects/`` and the checks no defect covers.

Each ``<name>/`` holds a kustomize overlay that breaks one thing and a ``defect.yaml``::

    description: replicas are not read-only (super_read_only missing from slave.cnf)
    caught_by:
      - check: suites/replication/test_replication_roles.py::test_every_replica_is_super_read_only
        reason: 'is not super_read_only'

``reason`` is a regular expression (Python ``re``, searched with DOTALL) that the check's
failure message must match for the catch to count: the message, not the traceback, so
that a pattern cannot match the assertion's own source line. ``check`` is an exact pytest
node id, parameters included (``test_x[replica]``).

A defect that keeps the deployment from coming up at all claims ``check: setup``: its
reason is matched against the one line with which the suite's setup stops (the
diagnosis of :mod:`mysqlsts.k8s.diagnosis`), a negative control of that diagnosis.

``UNCOVERED.md`` lists, as ``- `node id`: why``, the checks that no manifest change can
make fail; every other check must be claimed by a defect (see :func:`coverage`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from mysqlsts.errors import InputError
from mysqlsts.repository import REPO_ROOT

DEFECTS_DIR = REPO_ROOT / "manifests" / "defects"
DEFECT_FILE = "defect.yaml"
UNCOVERED_FILE = "UNCOVERED.md"
REASON_FLAGS = re.DOTALL
SETUP = "setup"  # the claim of a defect that stops the deployment from coming up
# ``- `suites/...::test_x`: why`` (the why may go on over indented lines).
_UNCOVERED_ENTRY = re.compile(r"^- `(?P<node>suites/[^`]+::[^`]+)`:\s*(?P<why>.*)$")


@dataclass(frozen=True)
class Claim:
    """One check that must fail on a defect, and the reason it must give."""

    check: str
    reason: re.Pattern[str]

    @property
    def is_setup(self) -> bool:
        return self.check == SETUP

    @property
    def file(self) -> str:
        return self.check.split("::", 1)[0]

    @property
    def area(self) -> str:
        """``suites/<area>``: the folder whose other checks show the defect's collateral."""
        return str(PurePosixPath(self.file).parent)

    def matches(self, message: str) -> bool:
        return self.reason.search(message) is not None


@dataclass(frozen=True)
class Defect:
    name: str
    path: Path
    description: str
    claims: tuple[Claim, ...]

    @property
    def checks(self) -> tuple[str, ...]:
        """The claimed checks of ``suites/`` (not the setup)."""
        return tuple(c.check for c in self.claims if not c.is_setup)

    @property
    def claims_setup(self) -> bool:
        return any(c.is_setup for c in self.claims)

    @property
    def areas(self) -> list[str]:
        """The claimed checks' folders, in first-mentioned order."""
        return list(dict.fromkeys(c.area for c in self.claims if not c.is_setup))


def _origin(path: Path) -> str:
    return str(path / DEFECT_FILE)


def _parse_claim(origin: str, entry: object, root: Path) -> Claim:
    if not isinstance(entry, dict) or set(entry) != {"check", "reason"}:
        raise InputError(
            f"{origin}: each caught_by entry is a mapping with exactly 'check' and 'reason' "
            f"(got {entry!r})"
        )
    check, reason = entry["check"], entry["reason"]
    if not isinstance(check, str) or not check.strip():
        raise InputError(f"{origin}: check must be a pytest node id, got {check!r}")
    check = check.strip()
    if check == SETUP:
        return Claim(SETUP, _reason(origin, check, reason))
    file, sep, test = check.partition("::")
    if not sep or not test:
        raise InputError(f"{origin}: {check!r} is not a node id (suites/<area>/<file>.py::<test>)")
    parts = PurePosixPath(file).parts
    if len(parts) < 3 or parts[0] != "suites" or not file.endswith(".py"):
        raise InputError(f"{origin}: {check!r} is not a test under suites/<area>/")
    if not (root / file).is_file():
        raise InputError(f"{origin}: {check!r}: no such file {file}")
    return Claim(check, _reason(origin, check, reason))


def _reason(origin: str, check: str, reason: object) -> re.Pattern[str]:
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"{origin}: {check}: reason must be a non-empty regular expression")
    try:
        pattern = re.compile(reason, REASON_FLAGS)
    except re.error as error:
        raise InputError(f"{origin}: {check}: reason {reason!r} is not a regex ({error})") from None
    if pattern.search(""):
        raise InputError(f"{origin}: {check}: reason {reason!r} matches any message")
    return pattern


def parse_defect(name: str, path: Path, text: str, root: Path = REPO_ROOT) -> Defect:
    origin = _origin(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"{origin}: invalid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"{origin}: expected a mapping with description and caught_by")
    unknown = sorted(set(data) - {"description", "caught_by"})
    if unknown:
        raise InputError(f"{origin}: unknown key(s) {', '.join(unknown)}")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise InputError(f"{origin}: description must be a non-empty string")
    entries = data.get("caught_by")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{origin}: caught_by must be a non-empty list of {{check, reason}}")
    claims = tuple(_parse_claim(origin, entry, root) for entry in entries)
    checks = [c.check for c in claims]
    if SETUP in checks and len(checks) > 1:
        raise InputError(f"{origin}: a defect that claims the setup can claim nothing else")
    if len(set(checks)) != len(checks):
        raise InputError(f"{origin}: caught_by lists a check twice")
    return Defect(name, path, description.strip(), claims)


def find_defects(directory: Path = DEFECTS_DIR, root: Path = REPO_ROOT) -> list[Defect]:
    """Every ``<name>/`` with a defect.yaml, by name; an overlay without one is an error."""
    if not directory.is_dir():
        return []
    defects: list[Defect] = []
    for path in sorted(p for p in directory.iterdir() if p.is_dir()):
        spec = path / DEFECT_FILE
        if not spec.is_file():
            raise InputError(f"{path}: no {DEFECT_FILE} (description and caught_by)")
        defects.append(parse_defect(path.name, path, spec.read_text(encoding="utf-8"), root))
    return defects


def select(defects: list[Defect], names: Sequence[str]) -> list[Defect]:
    if not names:
        return defects
    known = {d.name: d for d in defects}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(
            f"unknown defect(s) {', '.join(unknown)} (known: {', '.join(known) or 'none'})"
        )
    return [known[n] for n in names]


def require_collected(defects: Iterable[Defect], collected: Sequence[str]) -> None:
    """Every claim names a collected test exactly; a parametrized function must name a case."""
    known = set(collected)
    for defect in defects:
        for check in defect.checks:
            if check in known:
                continue
            cases = [c for c in collected if c.startswith(check + "[")]
            hint = (
                f"name one of its cases: {', '.join(cases)}"
                if cases
                else f"pytest --collect-only {check.split('::')[0]}"
            )
            raise InputError(f"{_origin(defect.path)}: {check} is not a collected test ({hint})")


# -- checks no defect covers --------------------------------------------------------------------
def read_uncovered(text: str) -> dict[str, str]:
    """node id (or test function, for all its cases) -> why no defect can make it fail."""
    entries: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        found = _UNCOVERED_ENTRY.match(line)
        if found:
            current = found["node"]
            entries[current] = found["why"].strip()
        elif current and line.startswith("  ") and line.strip():
            entries[current] = f"{entries[current]} {line.strip()}".strip()
        else:
            current = None
    return entries


@dataclass(frozen=True)
class CoverageRow:
    check: str
    defects: tuple[str, ...]
    uncovered_because: str | None

    @property
    def covered(self) -> bool:
        return bool(self.defects) or self.uncovered_because is not None


def coverage(
    collected: Sequence[str], defects: Sequence[Defect], uncovered: dict[str, str]
) -> list[CoverageRow]:
    """One row per collected check: the defects that claim it, or why none can."""
    rows = []
    for check in collected:
        claimed = tuple(d.name for d in defects if check in d.checks)
        function = check.split("[", 1)[0]
        why = uncovered.get(check) or uncovered.get(function)
        rows.append(CoverageRow(check, claimed, why))
    return rows


def stale_uncovered(collected: Sequence[str], uncovered: dict[str, str]) -> list[str]:
    """UNCOVERED.md entries that name no collected check (renamed or deleted)."""
    functions = {c.split("[", 1)[0] for c in collected}
    return [node for node in uncovered if node not in collected and node not in functions]


# -- the healthy profile the defects are overlays of --------------------------------------------
def base_manifests(defect: Defect, directory: Path = DEFECTS_DIR) -> Path:
    """The manifests outside ``directory`` that the defect's overlay (chain) builds on."""
    path = defect.path.resolve()
    seen: set[Path] = set()
    while path.is_relative_to(directory.resolve()) and path not in seen:
        seen.add(path)
        kustomization = path / "kustomization.yaml"
        if not kustomization.is_file():
            raise InputError(f"{path}: no kustomization.yaml")
        data = yaml.safe_load(kustomization.read_text(encoding="utf-8")) or {}
        folders = [(path / r).resolve() for r in data.get("resources") or [] if (path / r).is_dir()]
        if len(folders) != 1:
            raise InputError(f"{kustomization}: expected one base directory in resources")
        path = folders[0]
    return path


def common_base(defects: Sequence[Defect], directory: Path = DEFECTS_DIR) -> Path:
    """The one profile every defect builds on: the baseline runs it, healthy."""
    bases = {base_manifests(d, directory) for d in defects}
    if len(bases) != 1:
        raise InputError(
            f"the defects build on different manifests ({', '.join(map(str, sorted(bases)))}); "
            "run them apart so that each has its own baseline"
        )
    return bases.pop()
