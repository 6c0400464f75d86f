"""Negative controls: each broken variant of the manifests must be caught, for its reason.

    python -m mysqlsts.cli.defects [NAME ...]         baseline, then every (named) defect
    python -m mysqlsts.cli.defects --coverage         which defect claims each check
    python -m mysqlsts.cli.defects --sample 3 --seed <commit>   a rotating sample (CI)

A run first checks the baseline: every check the defects' runs make, on the healthy
profile they are overlays of (one cluster, all together; or ``--baseline-junit`` to reuse
an e2e run's JUnit of the same manifests). Then each defect is deployed on a fresh kind
cluster of its own and its claimed checks run first, followed by the other checks of
their areas (the collateral). The verdicts are in :mod:`mysqlsts.negative_controls.verdicts`; the
table is printed and written to ``reports/defects-<ts>.md``, each run's full reports to
``reports/defects-<ts>/<name>/``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from mysqlsts.errors import EXIT_BAD_INPUT, InputError
from mysqlsts.interrupts import sigterm_as_interrupt
from mysqlsts.negative_controls import catalogue, junit, runner, selection, table, verdicts
from mysqlsts.negative_controls.catalogue import Defect
from mysqlsts.negative_controls.junit import CaseResult
from mysqlsts.negative_controls.selection import Plan, Suite
from mysqlsts.negative_controls.verdicts import DefectResult
from mysqlsts.repository import REPO_ROOT, reports_base
from mysqlsts.stopwatch import Stopwatch

# One defect = a fresh 1+3-node cluster (~60 s), a deployment (~90 s), its area's checks.
DEFAULT_TIMEOUT = 2700.0
DEPLOY_TIMEOUT = 300.0  # the healthy deployment is up in about 90 s on 2 cores
BASELINE = "baseline"
EXIT_INTERRUPTED = 130  # as a shell reports Ctrl-C


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mysqlsts.cli.defects",
        description="Run each defect in manifests/defects/ and judge the checks that claim it.",
    )
    parser.add_argument("names", nargs="*", help="defects to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the defects and exit")
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="print which defects claim each check (or why none can) and fail when a check "
        "is in neither defect.yaml nor UNCOVERED.md; runs nothing",
    )
    parser.add_argument(
        "--defects-dir",
        type=Path,
        help=f"where the defects are (default: {catalogue.DEFECTS_DIR.relative_to(REPO_ROOT)})",
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
        help=f"seconds one run may take (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--deploy-timeout",
        type=float,
        default=DEPLOY_TIMEOUT,
        help=f"seconds each run waits for its deployment (default {DEPLOY_TIMEOUT:g}: a "
        "defect that keeps it down ends its run sooner than the suite's own default)",
    )
    parser.add_argument(
        "--pytest-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for each pytest run (repeatable)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="defects run at once, each on its own kind cluster (default 1; each takes about "
        "1.5 GB, and on 2 cores a starved check times out, which counts as MISSED)",
    )
    parser.add_argument(
        "--baseline-junit",
        type=Path,
        metavar="JUNIT",
        help="judge against this JUnit of a run of the healthy profile (e.g. the e2e run of "
        "the same CI job) instead of running the baseline",
    )
    parser.add_argument(
        "--no-collateral",
        action="store_true",
        help="run only the claimed checks (faster; the table then shows no collateral)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="run N defects, a window of the list chosen by --seed (every defect comes "
        "round within ceil(count/N) different seeds)",
    )
    parser.add_argument("--seed", default="", help="what picks the --sample window (a commit)")
    parser.add_argument(
        "--always",
        action="append",
        default=[],
        metavar="NAME",
        help="run this defect besides the --sample, whatever the seed (repeatable; CI: "
        "mysql-image-without-hostname, the negative control of the setup diagnosis)",
    )
    parser.add_argument(
        "--rejudge",
        type=Path,
        metavar="DIR",
        help="judge a finished run's reports/defects-<ts>/ again with today's defect.yaml "
        "(after correcting a reason), without running anything",
    )
    args = parser.parse_args(argv)
    args.pytest_arg = ["--deploy-timeout", f"{args.deploy_timeout:g}", *args.pytest_arg]
    return args


def choose(args: argparse.Namespace) -> tuple[list[Defect], list[Defect], Path]:
    """(all defects, the ones to run, their defects folder)."""
    directory = (args.defects_dir or catalogue.DEFECTS_DIR).resolve()
    if args.defects_dir and not directory.is_dir():
        raise InputError(f"--defects-dir {args.defects_dir}: no such directory")
    everything = catalogue.find_defects(directory, REPO_ROOT)
    if not everything:
        raise InputError(f"no defects under {directory} (each: kustomization + defect.yaml)")
    chosen = catalogue.select(everything, args.names)
    if args.always and args.sample is None and not args.names:
        raise InputError("--always adds to a --sample or to named defects; alone, name them")
    always = catalogue.select(everything, args.always) if args.always else []
    return everything, selection.with_always(chosen, always, args.sample, args.seed), directory


def print_coverage(everything: Sequence[Defect], suite: Suite, directory: Path) -> int:
    uncovered_file = directory / catalogue.UNCOVERED_FILE
    text = uncovered_file.read_text(encoding="utf-8") if uncovered_file.is_file() else ""
    uncovered = catalogue.read_uncovered(text)
    rows = catalogue.coverage(suite.checks, everything, uncovered)
    print(table.render_coverage(rows))
    neither = [r.check for r in rows if not r.covered]
    stale = catalogue.stale_uncovered(suite.checks, uncovered)
    claimed = sum(bool(r.defects) for r in rows)
    print(
        f"\n{len(rows)} checks: {claimed} claimed by a defect, "
        f"{len(rows) - claimed - len(neither)} listed in {catalogue.UNCOVERED_FILE}, "
        f"{len(neither)} in neither"
    )
    for check in stale:
        print(f"error: {uncovered_file.name} lists {check}, which is not a collected check")
    if neither:
        print(
            f"error: no defect claims, and {catalogue.UNCOVERED_FILE} does not list: "
            + ", ".join(neither),
            file=sys.stderr,
        )
    return 1 if neither or stale else 0


def read_junit_file(path: Path, checks: Sequence[str]) -> dict[str, CaseResult]:
    if not path.is_file():
        return {}
    return junit.read_results(path.read_text(encoding="utf-8"), checks)


def run_baseline(
    args: argparse.Namespace, plan: Plan, base: Path, out: Path
) -> dict[str, CaseResult]:
    if args.baseline_junit:
        if not args.baseline_junit.is_file():
            raise InputError(f"--baseline-junit {args.baseline_junit}: no such file")
        print(f"baseline: {args.baseline_junit} (a run of the healthy manifests)", flush=True)
        return read_junit_file(args.baseline_junit, plan.ran)
    cluster = runner.cluster_name(args.cluster_prefix, BASELINE)
    print(
        f"[baseline] {len(plan.ran)} checks on the healthy {base.relative_to(REPO_ROOT)} "
        f"(kind cluster {cluster})",
        flush=True,
    )
    watch = Stopwatch()
    done = runner.run_plan(plan, base, out / BASELINE, cluster, args.timeout, args.pytest_arg)
    print(
        f"[baseline] pytest exit {done.exit_code} in {watch} (log {done.log})",
        flush=True,
    )
    return read_junit_file(done.junit, plan.ran)


def run_defects(
    args: argparse.Namespace,
    plans: dict[str, Plan],
    defects: Sequence[Defect],
    baseline: dict[str, CaseResult],
    out: Path,
) -> list[DefectResult]:
    total = len(defects)

    def one(number: int, defect: Defect) -> DefectResult:
        plan = plans[defect.name]
        cluster = runner.cluster_name(args.cluster_prefix, defect.name)
        print(
            f"[{number}/{total}] {defect.name} on kind cluster {cluster}: "
            f"{len(plan.claimed)} claimed, {len(plan.collateral)} collateral",
            flush=True,
        )
        watch = Stopwatch()
        folder = out / defect.name
        done = runner.run_plan(plan, defect.path, folder, cluster, args.timeout, args.pytest_arg)
        result = judge_folder(defect, plan, folder, baseline)
        result.seconds = watch.seconds
        print(
            f"[{number}/{total}] {defect.name}: {result.verdict} (pytest exit "
            f"{done.exit_code}, {result.seconds:.0f}s, {len(result.collateral)} collateral; "
            f"log {done.log})",
            flush=True,
        )
        return result

    # Threads only wait on pytest subprocesses; each defect has a cluster of its own.
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = [pool.submit(one, n, d) for n, d in enumerate(defects, 1)]
        return [future.result() for future in futures]
    except BaseException:
        # Ctrl-C reaches this thread only: stop the runs under way before waiting for
        # their threads (each pytest tears its cluster down), and start no other.
        pool.shutdown(wait=False, cancel_futures=True)
        runner.stop_all()
        raise
    finally:
        pool.shutdown(wait=True)


def judge_folder(
    defect: Defect, plan: Plan, folder: Path, baseline: dict[str, CaseResult]
) -> DefectResult:
    exit_code = runner.read_exit_code(folder)
    results = read_junit_file(folder / "junit.xml", plan.ran)
    line = runner.setup_line(folder / "pytest.log")
    result = verdicts.judge(defect, exit_code, results, baseline, plan.ran, line)
    result.folder = folder
    return result


def table_path(out: Path, started: datetime, rejudged: bool) -> Path:
    """Where the table goes: beside the run's folder. A re-judgement gets a file of its
    own, so that the verdicts the run itself gave stay as they were written."""
    if rejudged:
        return out.with_name(f"{out.name}.rejudged-{started.strftime('%Y%m%dT%H%M%SZ')}.md")
    return out.with_name(f"{out.name}.md")


def report(
    results: list[DefectResult],
    baseline_failed: list[tuple[str, str]],
    source: str,
    started: datetime,
    table_path: Path,
) -> int:
    print()
    if baseline_failed:
        print(f"BASELINE: {len(baseline_failed)} check(s) did not pass on the healthy profile:")
        for check, what in baseline_failed:
            print(f"  {check}: {table.shorten(what)}")
    print(table.render_text(results))
    table_path.write_text(
        table.render_markdown(results, started, baseline_failed, source), encoding="utf-8"
    )
    problems = [(r.defect.name, p) for r in results for p in r.problems]
    for name, problem in problems:
        print(f"{name}: {problem}")
    print(f"\ntable: {table_path}")
    missed = [f"{r.defect.name} ({r.verdict})" for r in results if not r.all_caught]
    if missed or problems or baseline_failed:
        print(
            f"FAILED: not caught for the expected reason: {', '.join(missed) or 'none'}"
            + ("; the baseline is not green" if baseline_failed else ""),
            file=sys.stderr,
        )
        return 1
    print(f"all {len(results)} defects caught for the expected reason; baseline green")
    return 0


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (a CI job cancelled) stops the runs under way as Ctrl-C does.
    sigterm_as_interrupt()
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(
            "interrupted: the runs under way were stopped and their clusters removed",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    if args.timeout <= 0 or args.jobs < 1:
        print("error: --timeout must be positive and --jobs at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        everything, defects, directory = choose(args)
        if args.list:
            for defect in defects:
                print(f"{defect.name}: {defect.description}")
                for claim in defect.claims:
                    print(f"    {claim.check}\n        reason: /{claim.reason.pattern}/")
            return 0
        suite = runner.collect_suite()
        catalogue.require_collected(everything, suite.checks)
        if args.coverage:
            return print_coverage(everything, suite, directory)
        base = catalogue.common_base(defects, directory)
        plans = {d.name: selection.plan(d, suite, not args.no_collateral) for d in defects}
        baseline_plan = selection.baseline_plan(list(plans.values()), suite)
        started = datetime.now(UTC)
        if args.rejudge:
            out = args.rejudge.resolve()
            if not out.is_dir():
                raise InputError(f"--rejudge {args.rejudge}: no such directory")
            baseline_file = args.baseline_junit or out / BASELINE / "junit.xml"
            baseline = read_junit_file(baseline_file, baseline_plan.ran)
            source = str(baseline_file)
        else:
            reports = reports_base()
            out = reports / f"defects-{started.strftime('%Y%m%dT%H%M%SZ')}"
            baseline = run_baseline(args, baseline_plan, base, out)
            source = str(args.baseline_junit or out / BASELINE)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code

    baseline_failed = verdicts.baseline_failures(baseline_plan.ran, baseline)
    if args.rejudge:
        results = [judge_folder(d, plans[d.name], out / d.name, baseline) for d in defects]
    else:
        results = run_defects(args, plans, defects, baseline, out)
    return report(
        results,
        baseline_failed,
        source,
        started,
        table_path(out, started, args.rejudge is not None),
    )


if __name__ == "__main__":
    sys.exit(main())
