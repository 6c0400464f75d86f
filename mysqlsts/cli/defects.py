"""Negative controls: each broken variant of the manifests must be caught by its checks.

``manifests/defects/<name>/`` holds a kustomize overlay that breaks one thing and a
``defect.yaml``::

    description: replicas are not read-only (super_read_only missing from replica.cnf)
    caught_by:
      - suites/replication/test_roles.py::test_replicas_refuse_writes

For each defect the runner deploys the overlay on its own fresh kind cluster and runs only
the test files its ``caught_by`` names. A defect is caught when every test it names
FAILED (a failure in the test itself, JUnit ``<failure>``). Anything else is MISSED:
passed, skipped, not run, or an error in setup — including a deployment that does not
come up at all: such a defect is caught by the suite's setup, not by the check that
claims it, so it proves nothing about that check. Simple and strict on purpose.

The result is a defect x check table, printed and written to ``reports/defects-<ts>.md``;
each defect's full reports are in ``reports/defects-<ts>/<name>/``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import yaml

from mysqlsts.errors import EXIT_BAD_INPUT, EXIT_SECRET_FOUND, EXIT_SETUP_FAILED, InputError
from mysqlsts.lab.config import REPO_ROOT

DEFECTS_DIR = REPO_ROOT / "manifests" / "defects"
DEFECT_FILE = "defect.yaml"
# One defect = a fresh 1+3-node cluster (~60 s), a deployment (~90 s), a few test files.
DEFAULT_TIMEOUT = 1800.0
COLLECT_TIMEOUT = 120.0
# pytest exit codes the runner tells apart (mysqlsts.errors adds 4, 6 and 7).
EXIT_TESTS_FAILED = 1
EXIT_NO_TESTS = 5

CAUGHT = "caught"
MESSAGE_LIMIT = 240  # characters of a failure message in the table's defect list
MISSED = "MISSED"


@dataclass(frozen=True)
class Defect:
    name: str
    path: Path
    description: str
    caught_by: tuple[str, ...]

    @property
    def test_files(self) -> list[str]:
        """The files to run, in first-mentioned order (no duplicates)."""
        files: list[str] = []
        for node in self.caught_by:
            file = node.split("::", 1)[0]
            if file not in files:
                files.append(file)
        return files


# -- reading defect.yaml ------------------------------------------------------------------
def parse_defect(name: str, path: Path, text: str, root: Path = REPO_ROOT) -> Defect:
    origin = f"{path / DEFECT_FILE}"
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
    caught_by = data.get("caught_by")
    if (
        not isinstance(caught_by, list)
        or not caught_by
        or not all(isinstance(node, str) and node.strip() for node in caught_by)
    ):
        raise InputError(f"{origin}: caught_by must be a non-empty list of pytest node ids")
    nodes = tuple(node.strip() for node in caught_by)
    for node in nodes:
        file, sep, test = node.partition("::")
        if not sep or not test:
            raise InputError(
                f"{origin}: {node!r} is not a node id (suites/<area>/<file>.py::<test>)"
            )
        parts = PurePosixPath(file).parts
        if not parts or parts[0] != "suites" or not file.endswith(".py"):
            raise InputError(f"{origin}: {node!r} is not a test under suites/")
        if not (root / file).is_file():
            raise InputError(f"{origin}: {node!r}: no such file {file}")
    if len(set(nodes)) != len(nodes):
        raise InputError(f"{origin}: caught_by lists a check twice")
    return Defect(name, path, description.strip(), nodes)


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


# -- reading the results --------------------------------------------------------------------
def junit_key(node: str) -> tuple[str, str]:
    """(classname, name) under which pytest's JUnit XML reports a node id."""
    file, _, rest = node.partition("::")
    module = file.removesuffix(".py").replace("/", ".")
    parts = rest.split("::")
    return ".".join([module, *parts[:-1]]), parts[-1]


def _case_key(case: ET.Element) -> tuple[str, str]:
    """(classname, name) of a JUnit test case, as :func:`junit_key` computes it."""
    return case.get("classname", ""), case.get("name", "")


def outcomes_from_junit(text: str) -> dict[tuple[str, str], str]:
    """(classname, name) -> failed | error | skipped | passed, for every test case."""
    root = ET.fromstring(text)
    results: dict[tuple[str, str], str] = {}
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        # A failure with a teardown error is still the check's own failure.
        if "failure" in tags:
            outcome = "failed"
        elif "error" in tags:
            outcome = "error"
        elif "skipped" in tags:
            outcome = "skipped"
        else:
            outcome = "passed"
        results[_case_key(case)] = outcome
    return results


@dataclass
class DefectResult:
    defect: Defect
    exit_code: int | None  # None: did not finish within the timeout
    outcomes: dict[str, str] = field(default_factory=dict)  # node id -> outcome
    messages: dict[str, str] = field(default_factory=dict)  # node id -> failure, first line
    folder: Path | None = None

    def outcome(self, node: str) -> str:
        if node in self.outcomes:
            return self.outcomes[node]
        if self.exit_code is None:
            return "timed out"
        if self.exit_code == EXIT_SETUP_FAILED:
            return "setup failed"
        return "not run"

    def caught(self, node: str) -> bool:
        return self.outcome(node) == "failed"

    @property
    def all_caught(self) -> bool:
        return all(self.caught(node) for node in self.defect.caught_by)

    @property
    def problems(self) -> list[str]:
        """What is wrong beyond MISSED cells (the run itself)."""
        found = []
        if self.exit_code == EXIT_SECRET_FOUND:
            found.append("the run's reports contain the root password")
        if self.exit_code == EXIT_NO_TESTS:
            found.append("no tests collected (check the node ids in caught_by)")
        if self.exit_code is not None and self.exit_code not in (0, 1, 5, 6, 7):
            found.append(f"pytest ended with exit code {self.exit_code}")
        return found


def failure_messages_from_junit(text: str) -> dict[tuple[str, str], str]:
    """(classname, name) -> the first line of each failed test's message."""
    messages: dict[tuple[str, str], str] = {}
    for case in ET.fromstring(text).iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            first = (failure.get("message") or "").strip().splitlines()
            messages[_case_key(case)] = first[0] if first else ""
    return messages


def judge(defect: Defect, exit_code: int | None, junit_text: str | None) -> DefectResult:
    result = DefectResult(defect, exit_code)
    if junit_text:
        by_key = outcomes_from_junit(junit_text)
        messages = failure_messages_from_junit(junit_text)
        for node in defect.caught_by:
            key = junit_key(node)
            if key in by_key:
                result.outcomes[node] = by_key[key]
            if key in messages:
                result.messages[node] = messages[key]
    return result


# -- the table ----------------------------------------------------------------------------------
def column_names(nodes: Sequence[str]) -> dict[str, str]:
    """Short column titles (the test's name), the full node id where names clash."""
    short = {node: node.split("::")[-1] for node in nodes}
    counts: dict[str, int] = {}
    for name in short.values():
        counts[name] = counts.get(name, 0) + 1
    return {node: (name if counts[name] == 1 else node) for node, name in short.items()}


def cell(result: DefectResult, node: str) -> str:
    if node not in result.defect.caught_by:
        return "·"  # not a check this defect claims
    if result.caught(node):
        return CAUGHT
    return f"{MISSED} ({result.outcome(node)})"


def table_rows(results: Sequence[DefectResult]) -> tuple[list[str], list[list[str]]]:
    nodes: list[str] = []
    for result in results:
        nodes += [n for n in result.defect.caught_by if n not in nodes]
    titles = column_names(nodes)
    header = ["defect", *[titles[n] for n in nodes]]
    rows = [[r.defect.name, *[cell(r, n) for n in nodes]] for r in results]
    return header, rows


def render_text(results: Sequence[DefectResult]) -> str:
    header, rows = table_rows(results)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(results: Sequence[DefectResult], started: datetime) -> str:
    header, rows = table_rows(results)
    caught = sum(r.all_caught for r in results)
    lines = [
        f"# Negative controls, {started.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"{caught} of {len(results)} defects caught by every check that claims them.",
        "",
        "| " + " | ".join(_md(h) for h in header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    lines += ["", "## Defects", ""]
    for r in results:
        status = "caught" if r.all_caught else "**MISSED**"
        lines.append(f"- `{r.defect.name}` ({status}): {_md(r.defect.description)}")
        for problem in r.problems:
            lines.append(f"  - problem: {problem}")
        # What each check said: a reviewer can tell a catch for the right reason.
        for node in r.defect.caught_by:
            said = r.messages.get(node)
            shown = f": {_md(shorten(said))}" if said else ""
            lines.append(f"  - `{node.split('::')[-1]}`: {cell(r, node)}{shown}")
        if r.folder is not None:
            lines.append(f"  - reports: `{r.folder}`")
    lines += ["", "## Checks", ""]
    nodes: list[str] = []
    for r in results:
        nodes += [n for n in r.defect.caught_by if n not in nodes]
    lines += [f"- `{node}`" for node in nodes]
    return "\n".join(lines) + "\n"


# -- running ------------------------------------------------------------------------------------
def cluster_name(prefix: str, defect: str) -> str:
    # kind names become Docker container and DNS names: lowercase, digits, dashes.
    slug = re.sub(r"[^a-z0-9-]+", "-", defect.lower()).strip("-")
    return f"{prefix}-{slug}"[:40].rstrip("-")


def pytest_command(
    defect: Defect, junit: Path, cluster: str, extra: Sequence[str] = ()
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        *defect.test_files,
        "--manifests",
        str(defect.path),
        "--cluster-name",
        cluster,
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
        *extra,
    ]


def check_collected(defects: Sequence[Defect], root: Path = REPO_ROOT) -> None:
    """Every caught_by node id names a collected test (no cluster: collection only)."""
    files = sorted({f for d in defects for f in d.test_files})
    if not files:
        return
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                *files,
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=COLLECT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(f"collecting {', '.join(files)} took over {COLLECT_TIMEOUT:g}s") from None
    collected = {line.strip() for line in done.stdout.splitlines() if "::" in line}
    for defect in defects:
        for node in defect.caught_by:
            # A test function stands for all its parametrized cases.
            if node not in collected and not any(c.startswith(node + "[") for c in collected):
                raise InputError(
                    f"{defect.path / DEFECT_FILE}: {node} is not a collected test "
                    f"(pytest --collect-only {node.split('::')[0]})"
                )


def run_defect(
    defect: Defect,
    out_dir: Path,
    cluster: str,
    timeout: float,
    extra: Sequence[str] = (),
    root: Path = REPO_ROOT,
    environ: Mapping[str, str] | None = None,
) -> DefectResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    junit = out_dir / "junit.xml"
    log = out_dir / "pytest.log"
    env = dict(os.environ if environ is None else environ)
    env["MYSQLSTS_REPORTS_DIR"] = str(out_dir)  # the run's own folder goes in here
    env.pop("MYSQLSTS_PROFILE", None)  # --manifests decides
    command = pytest_command(defect, junit, cluster, extra)
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            exit_code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM: the plugin turns it into Ctrl-C and tears the cluster down.
            process.terminate()
            try:
                process.wait(timeout=300)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
            exit_code = None
    text = junit.read_text(encoding="utf-8") if junit.is_file() else None
    result = judge(defect, exit_code, text)
    result.folder = out_dir
    return result


def run_all(
    defects: Sequence[Defect],
    out: Path,
    prefix: str,
    timeout: float,
    extra: Sequence[str],
    jobs: int,
) -> list[DefectResult]:
    """Run every defect on its own cluster, ``jobs`` at a time; results in defect order."""
    total = len(defects)

    def one(number: int, defect: Defect) -> DefectResult:
        cluster = cluster_name(prefix, defect.name)
        print(
            f"[{number}/{total}] {defect.name} on kind cluster {cluster}: "
            f"{' '.join(defect.test_files)}",
            flush=True,
        )
        started = time.monotonic()
        result = run_defect(defect, out / defect.name, cluster, timeout, extra)
        verdict = CAUGHT if result.all_caught else MISSED
        ended = "timed out" if result.exit_code is None else f"pytest exit {result.exit_code}"
        print(
            f"[{number}/{total}] {defect.name}: {verdict} ({ended}, "
            f"{time.monotonic() - started:.0f}s; log {result.folder}/pytest.log)",
            flush=True,
        )
        return result

    # Threads only wait on pytest subprocesses; each defect has a cluster of its own.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, n, d) for n, d in enumerate(defects, 1)]
        return [future.result() for future in futures]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mysqlsts.cli.defects",
        description="Run the checks that claim each defect in manifests/defects/ against it.",
    )
    parser.add_argument("names", nargs="*", help="defects to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the defects and exit")
    parser.add_argument(
        "--defects-dir",
        type=Path,
        help=f"where the defects are (default: {DEFECTS_DIR.relative_to(REPO_ROOT)})",
    )
    parser.add_argument(
        "--cluster-prefix",
        default="defect",
        help="kind cluster names are <prefix>-<defect> (default: defect)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds one defect's run may take (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--pytest-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for each pytest run (repeatable), e.g. --pytest-arg=-n2",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="defects run at once, each on its own kind cluster (default 1; each cluster "
        "takes about 2 GB of memory, and a slow machine makes timeouts look like catches)",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        print("error: --timeout must be positive", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        directory = args.defects_dir or DEFECTS_DIR
        if args.defects_dir and not directory.is_dir():
            raise InputError(f"--defects-dir {directory}: no such directory")
        defects = select(find_defects(directory.resolve(), REPO_ROOT), args.names)
        if not defects:
            raise InputError(f"no defects under {directory} (each: kustomization + {DEFECT_FILE})")
        if args.list:
            for defect in defects:
                print(f"{defect.name}: {defect.description}")
                for node in defect.caught_by:
                    print(f"    {node}")
            return 0
        check_collected(defects)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code

    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    base = Path(os.environ.get("MYSQLSTS_REPORTS_DIR") or REPO_ROOT / "reports")
    out = base / f"defects-{stamp}"
    results = run_all(defects, out, args.cluster_prefix, args.timeout, args.pytest_arg, args.jobs)

    print()
    print(render_text(results))
    table = base / f"defects-{stamp}.md"
    table.write_text(render_markdown(results, started), encoding="utf-8")
    problems = [(r.defect.name, p) for r in results for p in r.problems]
    for name, problem in problems:
        print(f"{name}: {problem}")
    print(f"\ntable: {table}")
    missed = [r.defect.name for r in results if not r.all_caught]
    if missed or problems:
        print(f"FAILED: not caught as claimed: {', '.join(missed) or 'none'}", file=sys.stderr)
        return 1
    print(f"all {len(results)} defects caught by every check that claims them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
