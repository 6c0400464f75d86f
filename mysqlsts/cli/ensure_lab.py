"""``python -m mysqlsts.cli.ensure_lab PYTEST_ARGS``: build the offline lab if a suite run
with these pytest arguments needs it (cached: seconds when nothing changed)."""

from __future__ import annotations

import argparse
import sys

from mysqlsts import option_table, settings
from mysqlsts.errors import SuiteError
from mysqlsts.lab import build, config
from mysqlsts.manifests import source


def lab_needed(pytest_args: list[str]) -> bool:
    """Whether a suite run with these pytest arguments needs the lab's images.

    It does for a kind cluster whose manifests run the lab's stand-in images (the offline
    profiles, offline-debian the default, and manifests derived from them). Manifests whose
    images come from registries (the upstream profiles, a user's) run on kind's own node
    image: nothing is built for them.
    """
    parser = argparse.ArgumentParser(add_help=False)
    for spec in option_table.OPTIONS:
        if spec.is_flag:
            parser.add_argument(spec.flag, dest=spec.dest, action="store_true")
        elif spec.repeatable:
            parser.add_argument(spec.flag, dest=spec.dest, action="append")
        else:
            parser.add_argument(spec.flag, dest=spec.dest)
    known, _ = parser.parse_known_args(pytest_args)
    try:
        chosen = settings.resolve(vars(known))
    except SuiteError:
        return False  # the suite itself reports bad options, with its one line
    try:
        located = source.locate(chosen.profile, chosen.manifests)
    except SuiteError:
        return False
    return chosen.cluster == "kind" and source.uses_lab_images(located.path)


def main(argv: list[str] | None = None) -> int:
    pytest_args = sys.argv[1:] if argv is None else argv
    if lab_needed(pytest_args):
        build.build(config.load())
    else:
        print("[lab] not needed: the run's images come from registries, or its cluster is not kind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
