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
reimplements a report format. Run ``python -m mysqlsts.reports`` (``tox -e report``) to
(re)generate the Allure HTML of a run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import allure_commons

from mysqlsts import tools
from mysqlsts.lab.config import REPO_ROOT
from mysqlsts.transformations import RUN_LABEL_KEY

REPORTS_ENV = "MYSQLSTS_REPORTS_DIR"
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
# Tests live in suites/<area>/test_*.py; the area is the report's top level.
SUITES_DIR = "suites"


class ReportError(Exception):
    """A report could not be made; ``str(error)`` is the one line the user sees."""


# -- the run's folder ---------------------------------------------------------------------
def reports_base(rootpath: Path, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    given = env.get(REPORTS_ENV)
    return Path(given).expanduser().resolve() if given else rootpath / "reports"


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


# -- Allure: environment ------------------------------------------------------------------
def manifests_digest(objects: Iterable[Mapping[str, Any]]) -> str:
    """sha256 of the applied objects, without the run label (same manifests, same digest)."""
    canonical: list[Any] = []
    for obj in objects:
        copy = json.loads(json.dumps(obj))
        labels = (copy.get("metadata") or {}).get("labels") or {}
        labels.pop(RUN_LABEL_KEY, None)
        if "labels" in (copy.get("metadata") or {}) and not labels:
            del copy["metadata"]["labels"]
        canonical.append(copy)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _escape_properties(text: str, *, key: bool) -> str:
    # java.util.Properties syntax, which Allure's reader follows.
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if key:
        for char in " =:#!":
            text = text.replace(char, "\\" + char)
    return text


def render_properties(entries: Mapping[str, str]) -> str:
    return "".join(
        f"{_escape_properties(k, key=True)}={_escape_properties(v, key=False)}\n"
        for k, v in entries.items()
    )


def environment_entries(
    *,
    source: str,
    provider: str,
    cluster_name: str,
    kubernetes_version: str,
    node_image: str | None,
    images: Iterable[str],
    objects: Iterable[Mapping[str, Any]],
    run_id: str,
    changes: Iterable[str],
) -> dict[str, str]:
    """What Allure's Environment section shows, in this order."""
    entries = {
        "cluster": f"{provider} {cluster_name}",
        "kubernetes": kubernetes_version,
        "manifests": source,
        "manifests.digest": manifests_digest(objects),
        "images": ", ".join(images),
        "run": run_id,
    }
    if node_image:
        entries["kind.node.image"] = node_image
    for number, line in enumerate(changes, 1):
        entries[f"change.{number}"] = line
    return entries


# -- Allure: suites ---------------------------------------------------------------------------
def suite_labels(nodeid: str) -> dict[str, str]:
    """parent_suite / suite / sub_suite for a test, from where it lives under suites/.

    ``suites/replication/test_server_ids.py::TestX::test_y`` -> replication / server ids /
    TestX. The directory is the single source: labels a test sets itself are dropped.
    """
    path, _, rest = nodeid.partition("::")
    parts = PurePosixPath(path).parts
    if SUITES_DIR in parts:
        parts = parts[parts.index(SUITES_DIR) + 1 :]
    area = parts[0] if len(parts) > 1 else "other"
    module = PurePosixPath(parts[-1]).stem if parts else "tests"
    module = module.removeprefix("test_").removesuffix("_test")
    module = module.removeprefix(f"{area}_").replace("_", " ")  # test_storage_class -> class
    labels = {"parent_suite": area, "suite": module}
    pieces = rest.split("::")
    if len(pieces) > 1:  # Class::test: the class is the sub-suite
        labels["sub_suite"] = pieces[0]
    return labels


SUITE_LABELS = ("parentSuite", "suite", "subSuite")


def keep_first_suite_labels(labels: list[Any]) -> None:
    """Drop later parentSuite/suite/subSuite labels (in place): the hook's come first.

    allure-pytest adds a test's own ``allure.suite`` markers and its package-based
    defaults at teardown, after the dynamic labels the plugin set at setup.
    """
    seen: set[str] = set()
    kept = []
    for label in labels:
        name = getattr(label, "name", None)
        if name in SUITE_LABELS:
            if name in seen:
                continue
            seen.add(name)
        kept.append(label)
    labels[:] = kept


# -- Allure: nothing unredacted reaches allure-results -----------------------------------------
def redact_in_place(obj: Any, redact: Callable[[str], str], depth: int = 0) -> None:
    """Redact every string of an allure-commons result object (attrs classes, lists)."""
    if depth > 50:  # steps nest, but never this deep; guards against cycles
        return
    if isinstance(obj, list):
        for index, value in enumerate(obj):
            if isinstance(value, str):
                obj[index] = redact(value)
            else:
                redact_in_place(value, redact, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        for name, value in vars(obj).items():
            if isinstance(value, str):
                setattr(obj, name, redact(value))
            elif isinstance(value, list) or hasattr(value, "__dict__"):
                redact_in_place(value, redact, depth + 1)


class AllureRedactor:
    """An allure-commons plugin: redacts results before allure-pytest writes them.

    allure-pytest builds a failed test's message from the exception itself
    (``excinfo.exconly()``), not from the (redacted) pytest report, and tests may call
    ``allure.attach`` directly; both would reach allure-results unredacted otherwise.
    """

    def __init__(self, results_dir: Path, redact: Callable[[str], str]) -> None:
        self.results_dir = results_dir
        self.redact = redact

    def _fix_file(self, file_name: str) -> None:
        path = self.results_dir / file_name
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return  # binary attachments (screenshots) carry no text secrets
        redacted = self.redact(text)
        if redacted != text:
            path.write_text(redacted, encoding="utf-8")

    @allure_commons.hookimpl(hookwrapper=True)
    def report_result(self, result: Any) -> Iterator[None]:
        redact_in_place(result, self.redact)
        keep_first_suite_labels(getattr(result, "labels", []))
        yield

    @allure_commons.hookimpl(hookwrapper=True)
    def report_container(self, container: Any) -> Iterator[None]:
        redact_in_place(container, self.redact)
        yield

    @allure_commons.hookimpl(hookwrapper=True)
    def report_attached_data(self, body: Any, file_name: str) -> Iterator[None]:
        yield
        self._fix_file(file_name)

    @allure_commons.hookimpl(hookwrapper=True)
    def report_attached_file(self, source: Any, file_name: str) -> Iterator[None]:
        yield
        self._fix_file(file_name)


def register_allure_redactor(results_dir: Path, redact: Callable[[str], str]) -> Callable[[], None]:
    """Register an :class:`AllureRedactor`; returns the function that unregisters it."""
    redactor = AllureRedactor(results_dir, redact)
    name = allure_commons.plugin_manager.register(redactor, "mysqlsts-allure-redactor")

    def unregister() -> None:
        if allure_commons.plugin_manager.get_plugin(name) is not None:
            allure_commons.plugin_manager.unregister(name=name)

    return unregister


# -- Hypothesis ---------------------------------------------------------------------------------
_HYPOTHESIS_MARKERS = ("Failing test case", "Falsifying example", "@reproduce_failure", "@seed(")


def _exception_chain(error: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += list(getattr(current, "exceptions", ()))  # ExceptionGroup members
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


def hypothesis_reproduction(error: BaseException | None, longrepr: str = "") -> str | None:
    """Hypothesis's failing case and its ``@reproduce_failure`` line, or None.

    Hypothesis adds them to the exception as notes (PEP 678), which is the exact text;
    the report's longrepr (``E   ...`` lines) is the fallback, e.g. for a report that
    crossed from an xdist worker without its exception.
    """
    if error is not None:
        for current in _exception_chain(error):
            notes = [str(n) for n in getattr(current, "__notes__", ())]
            if any(marker in note for note in notes for marker in _HYPOTHESIS_MARKERS):
                return "\n".join(note.strip("\n") for note in notes).strip()
    lines = [line[1:].strip() if line.startswith("E") else None for line in longrepr.splitlines()]
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if line and line.startswith(("Failing test case", "Falsifying example"))
        ),
        None,
    )
    if start is None:
        found = [line for line in lines if line and "@reproduce_failure" in line]
        return "\n".join(found) or None
    block: list[str] = []
    for line in lines[start:]:
        if line is None:
            break
        block.append(line)
    return "\n".join(block).strip() or None


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
    done = tools.run(
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


# -- command line: tox -e report --------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mysqlsts.reports",
        description="Generate the single-file Allure HTML report of an e2e run.",
    )
    parser.add_argument(
        "run",
        nargs="?",
        help=f"the run's folder (default: {LATEST} under the reports directory)",
    )
    args = parser.parse_args(argv)
    base = reports_base(REPO_ROOT)
    path = Path(args.run) if args.run else base / LATEST
    if not path.is_dir():
        print(f"error: {path}: no such run folder (run `tox -e e2e` first)", file=sys.stderr)
        return 4
    allure = find_allure()
    if allure is None:
        print(f"error: the Allure 3 CLI is not installed: {INSTALL_HINT}", file=sys.stderr)
        return 4
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
