"""Each e2e run's reports: one folder per run, what Allure shows, and the single-file HTML.

Layout (``reports/`` by default, ``$MYSQLSTS_REPORTS_DIR`` to move it)::

    reports/<UTC time>-<run id>/junit.xml          JUnit XML (CI test tabs)
                                report.html        pytest-html, self-contained
                                allure-results/    Allure's raw results + environment.properties
                                allure-report/index.html   Allure 3, one file, opens from disk
                                mysqlsts-setup-failure.txt  only when the deployment failed
    reports/latest -> <the last finished run>

The plugin sets pytest's own options (``--junitxml``, ``--html``, ``--alluredir``) from
this module at configure time, so the usual plugins write the files; nothing here
reimplements a report format (what goes into Allure's results is in
:mod:`mysqlsts.reporting.allure_results`). ``python -m mysqlsts.cli.allure_html``
(``tox -e report``) (re)generates the Allure HTML of a run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mysqlsts import programs
from mysqlsts.repository import REPO_ROOT

ALLURE_ENV = "MYSQLSTS_ALLURE"  # another Allure 3 CLI than the project's node_modules one
LATEST = "latest"
JUNIT_FILE = "junit.xml"
HTML_FILE = "report.html"
ALLURE_RESULTS = "allure-results"
ALLURE_REPORT = "allure-report"
ALLURE_CONFIG = "allurerc.json"
# Generating a report of a few hundred results takes seconds; a stuck node process must
# not hang the end of a run.
ALLURE_TIMEOUT = 300.0
INSTALL_HINT = "run `npm ci` in the project (Node 20+), or `tox -e report`, which does both"


class ReportError(Exception):
    """A report could not be made; ``str(error)`` is the one line the user sees."""


# -- the run's folder ---------------------------------------------------------------------
@dataclass(frozen=True)
class RunFolder:
    path: Path

    @property
    def junit(self) -> Path:
        return self.path / JUNIT_FILE

    @property
    def html(self) -> Path:
        return self.path / HTML_FILE

    @property
    def allure_results(self) -> Path:
        return self.path / ALLURE_RESULTS

    @property
    def allure_report(self) -> Path:
        return self.path / ALLURE_REPORT

    @property
    def allure_index(self) -> Path:
        return self.allure_report / "index.html"


def folder_name(run_id: str, now: datetime) -> str:
    # Sortable by name = sorted by start time; the run id ties it to the cluster's labels.
    return f"{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{run_id}"


def new_run_folder(base: Path, run_id: str, now: datetime | None = None) -> RunFolder:
    path = base / folder_name(run_id, now or datetime.now(UTC))
    path.mkdir(parents=True, exist_ok=False)  # run ids are random: a clash is a bug
    return RunFolder(path)


def discard(folder: RunFolder, base: Path | None = None) -> None:
    """Remove a run's folder, and ``base`` too when given and left empty."""
    shutil.rmtree(folder.path, ignore_errors=True)
    if base is not None:
        with contextlib.suppress(OSError):  # not empty: other runs' reports stay
            base.rmdir()


def update_latest(base: Path, folder: RunFolder) -> Path:
    """Point ``base/latest`` at ``folder`` (a relative symlink, replaced atomically)."""
    latest = base / LATEST
    target = os.path.relpath(folder.path, base)
    temporary = base / f".{LATEST}.{os.getpid()}"
    try:
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(target, target_is_directory=True)
        if latest.is_dir() and not latest.is_symlink():
            shutil.rmtree(latest)  # an earlier copy (no-symlink filesystem)
        os.replace(temporary, latest)
    except OSError:
        # Filesystems without symlinks: a copy is stale-proof enough for "the last run".
        temporary.unlink(missing_ok=True)
        if latest.is_symlink() or latest.is_file():
            latest.unlink()
        elif latest.is_dir():
            shutil.rmtree(latest)
        shutil.copytree(folder.path, latest, symlinks=True)
    return latest


# -- pytest options -------------------------------------------------------------------------
def report_options(folder: RunFolder) -> dict[str, Any]:
    """pytest option dests -> values that make the usual plugins write into ``folder``."""
    return {
        "xmlpath": str(folder.junit),  # --junitxml
        "htmlpath": str(folder.html),  # --html
        "self_contained_html": True,  # --self-contained-html: one file, extras inlined
        "allure_report_dir": str(folder.allure_results),  # --alluredir
    }


def apply_options(option: Any, folder: RunFolder) -> list[str]:
    """Set the report options the user left unset; return the dests that were set."""
    applied: list[str] = []
    for dest, value in report_options(folder).items():
        if not hasattr(option, dest):
            continue  # that plugin is not installed (or disabled with -p no:...)
        if getattr(option, dest) in (None, "", False):
            setattr(option, dest, value)
            applied.append(dest)
    return applied


# -- Allure: the single-file HTML -----------------------------------------------------------
def find_allure(root: Path = REPO_ROOT, environ: Mapping[str, str] | None = None) -> Path | None:
    """The Allure 3 CLI: $MYSQLSTS_ALLURE, else the one `npm ci` installed in the project."""
    env = os.environ if environ is None else environ
    given = env.get(ALLURE_ENV)
    if given:
        return Path(given)
    local = root / "node_modules" / ".bin" / "allure"
    return local if local.exists() else None


def generate_allure_html(
    allure: Path,
    folder: RunFolder,
    *,
    config: Path = REPO_ROOT / ALLURE_CONFIG,
    name: str = "mysqlsts conformance",
    timeout: float = ALLURE_TIMEOUT,
) -> Path:
    """Write ``allure-report/index.html`` (one file: allurerc.json sets singleFile)."""
    if not folder.allure_results.is_dir():
        raise ReportError(f"no Allure results in {folder.path} (was it an e2e run?)")
    if not config.is_file():
        raise ReportError(f"{config} is missing: it makes the report a single file")
    done = programs.run(
        [
            allure,
            "generate",
            folder.allure_results,
            "--config",
            config,
            "--output",
            folder.allure_report,
            "--name",
            name,
        ],
        timeout=timeout,
    )
    if done.returncode != 0:
        detail = done.first_error_line() if done.stderr.strip() else done.stdout.strip()[-300:]
        raise ReportError(f"allure generate failed (exit {done.returncode}): {detail}")
    if not folder.allure_index.is_file():
        raise ReportError(f"allure generate wrote no {folder.allure_index}")
    strip_analytics(folder.allure_index)
    return folder.allure_index


# Allure 3.18's page template always loads Google Analytics (no option turns it off): a
# report opened from disk would call out with the report's id. The block is removed.
_ANALYTICS = re.compile(
    r"\s*<script async src=\"https://www\.googletagmanager\.com/[^\"]*\"></script>"
    r"\s*<script>[^<]*?gtag\('config'[^<]*?</script>"
)


def strip_analytics(index: Path) -> bool:
    text = index.read_text(encoding="utf-8")
    stripped, count = _ANALYTICS.subn("", text, count=1)
    if count:
        index.write_text(stripped, encoding="utf-8")
    return bool(count)


def describe_size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size / 1000:.0f} kB"


def install_generator(root: Path = REPO_ROOT) -> str:
    """Install the pinned Allure 3 CLI with `npm ci` unless it is there; one line back.

    Never fails the caller: without Node/npm the run still writes every other artefact.
    """
    if find_allure(root) is not None:
        return "Allure 3 CLI present"
    # In the project's directory rather than with --prefix: --prefix also moves npm's
    # global config ($PREFIX/etc/npmrc), and with it a machine's cafile or proxy settings.
    done = programs.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], timeout=600, cwd=root
    )
    if done.returncode != 0:
        return f"Allure HTML will be skipped: npm ci failed ({done.first_error_line()})"
    return "Allure 3 CLI installed with npm ci (package-lock.json)"
