"""Where the repository's own files are: the one home of the repository root.

The manifests, suites, lab inputs and the reports folder are all found from here; no
other module works them out again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Where every run's reports folder goes (the defects runner gives each run its own).
REPORTS_ENV = "MYSQLSTS_REPORTS_DIR"


def reports_base(rootpath: Path = REPO_ROOT, environ: Mapping[str, str] | None = None) -> Path:
    """The folder each run's reports folder goes in: $MYSQLSTS_REPORTS_DIR, else reports/."""
    env = os.environ if environ is None else environ
    given = env.get(REPORTS_ENV)
    return Path(given).expanduser().resolve() if given else rootpath / "reports"
