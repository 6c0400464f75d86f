"""``python -m mysqlsts.cli.scan_secrets scan|redact PATH...``: the root password in files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mysqlsts.errors import EXIT_BAD_INPUT, EXIT_SECRET_FOUND, SuiteError
from mysqlsts.manifests import source
from mysqlsts.manifests.model import discover
from mysqlsts.option_table import DEFAULT_PROFILE
from mysqlsts.reporting.secretscan import redact_files, scan


def manifests_password(profile: str | None, manifests: str | None) -> str:
    """The root password the manifests of a profile (or a path) give their MySQL."""
    found = source.locate(profile or DEFAULT_PROFILE, Path(manifests) if manifests else None)
    objects, _ = source.load(found)
    return discover(objects, found.label).root_password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mysqlsts.cli.scan_secrets",
        description="Find (or mask) the root password of the manifests in files.",
    )
    parser.add_argument("action", choices=("scan", "redact"))
    parser.add_argument("paths", nargs="+", help="files or directories")
    parser.add_argument("--profile", help="profile whose password to look for (default offline)")
    parser.add_argument("--manifests", help="manifests whose password to look for")
    args = parser.parse_args(argv)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        password = manifests_password(args.profile, args.manifests)
    except SuiteError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    if not password:
        print("the manifests set no root password: nothing to look for")
        return 0
    if args.action == "redact":
        changed = [p for root in args.paths for p in redact_files(Path(root), [password])]
        print(f"masked the root password in {len(changed)} file(s)")
        return 0
    findings = [f for root in args.paths for f in scan(Path(root), [password])]
    for finding in findings:
        print(f"SECRET FOUND: {finding.line(Path.cwd())}")
    if findings:
        return EXIT_SECRET_FOUND
    print(f"no trace of the root password in {', '.join(args.paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
