"""``python -m mysqlsts.cli.expected_failure --like DEFECT --exit-code N RUN_FOLDER``.

Judges a run that is expected to stop in setup, as the article's manifests as published
do on today's ``mysql:5.7`` (the nightly's ``upstream`` leg): it passes only when the run
ended in setup (exit 6) with the one-line diagnosis that the setup claim of
``manifests/defects/DEFECT/defect.yaml`` names, the same judgement the negative controls
make. Any other outcome (the deployment came up, another reason, no report) fails, saying
which.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from mysqlsts.errors import EXIT_BAD_INPUT, InputError
from mysqlsts.negative_controls import catalogue, verdicts
from mysqlsts.reporting import folders, summary


def setup_line(run_folder: Path) -> str | None:
    """The diagnosis the run's setup stopped with (its JUnit's one ``setup`` error)."""
    junit = folders.RunFolder(run_folder).junit
    if not junit.is_file():
        return None
    for case in ET.parse(junit).iter("testcase"):
        error = case.find("error")
        if case.get("name") == summary.SETUP_CASE and error is not None:
            return error.get("message")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mysqlsts.cli.expected_failure")
    parser.add_argument("--like", required=True, metavar="DEFECT", help="a defect claiming setup")
    parser.add_argument("--exit-code", required=True, type=int, help="the suite run's exit code")
    parser.add_argument("run_folder", type=Path, help="the run's reports (reports/latest)")
    args = parser.parse_args(argv)
    try:
        (defect,) = catalogue.select(catalogue.find_defects(), [args.like])
    except InputError as error:
        print(f"expected failure: {error}")
        return EXIT_BAD_INPUT
    claim = next((c for c in defect.claims if c.is_setup), None)
    if claim is None:
        print(f"expected failure: defect {defect.name} claims no setup failure")
        return EXIT_BAD_INPUT
    line = setup_line(args.run_folder)
    verdict = verdicts.judge_setup(claim, args.exit_code, line, baseline_up=True)
    print(f"expected failure ({defect.name}): {verdict.verdict}: {verdict.detail}")
    print(f"  wanted: /{verdict.expected}/")
    print(f"  said:   {line or '(no setup diagnosis in ' + str(args.run_folder) + ')'}")
    return 0 if verdict.verdict == verdicts.CAUGHT else 1


if __name__ == "__main__":
    sys.exit(main())
