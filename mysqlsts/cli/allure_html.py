"""``python -m mysqlsts.cli.allure_html`` (``tox -e report``): the Allure HTML of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mysqlsts.errors import EXIT_BAD_INPUT
from mysqlsts.reporting.folders import (
    INSTALL_HINT,
    LATEST,
    ReportError,
    RunFolder,
    describe_size,
    find_allure,
    generate_allure_html,
    install_generator,
)
from mysqlsts.repository import REPO_ROOT, reports_base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mysqlsts.cli.allure_html",
        description="Generate the single-file Allure HTML report of an e2e run.",
    )
    parser.add_argument(
        "run",
        nargs="?",
        help=f"the run's folder (default: {LATEST} under the reports directory)",
    )
    parser.add_argument(
        "--install-generator",
        action="store_true",
        help="only install the pinned Allure 3 CLI (npm ci) when it is missing",
    )
    args = parser.parse_args(argv)
    if args.install_generator:
        print(f"mysqlsts: {install_generator()}")
        return 0
    base = reports_base(REPO_ROOT)
    path = Path(args.run) if args.run else base / LATEST
    if not path.is_dir():
        print(f"error: {path}: no such run folder (run `tox -e e2e` first)", file=sys.stderr)
        return EXIT_BAD_INPUT
    allure = find_allure()
    if allure is None:
        print(f"error: the Allure 3 CLI is not installed: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_BAD_INPUT
    folder = RunFolder(path.resolve())
    try:
        index = generate_allure_html(allure, folder)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Allure report: {index} ({describe_size(index)}; opens from disk)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
