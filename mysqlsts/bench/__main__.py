"""``python -m mysqlsts.bench compare A.json B.json``: the ratios between two bench runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mysqlsts.bench.compare import compare, render
from mysqlsts.bench.results import BenchRun
from mysqlsts.errors import EXIT_BAD_INPUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mysqlsts.bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="print B/A for every figure both runs measured")
    cmp.add_argument("a", type=Path, help="bench.json of the first run")
    cmp.add_argument("b", type=Path, help="bench.json of the second run")
    args = parser.parse_args(argv)
    runs = []
    for path in (args.a, args.b):
        try:
            runs.append(BenchRun.from_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"error: {path}: not a readable bench.json ({error})", file=sys.stderr)
            return EXIT_BAD_INPUT
    a, b = runs
    paired, alone = compare(a, b)
    differ = sorted(k for k in set(a.inputs) | set(b.inputs) if a.inputs.get(k) != b.inputs.get(k))
    print(render(paired, alone, differ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
