"""What the Allure results say: environment, suite labels, redaction, Hypothesis lines.

allure-pytest writes the results; this module shapes them. The plugin writes
``environment.properties`` (Allure's *Metadata* block), labels every test under
``suites/<area>/`` with its area, module and class, redacts every result and attachment
before it is written, and attaches Hypothesis's reproduction of a failing case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import allure_commons

from mysqlsts.labels import RUN_LABEL_KEY

# Tests live in suites/<area>/test_*.py; the area is the report's top level.
SUITES_DIR = "suites"


# -- environment (Allure's Metadata block) ------------------------------------------------
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


# -- a run that ended in setup --------------------------------------------------------------
SETUP_RESULT_NAME = "setup: the deployment comes up"


def setup_failure_result(
    headline: str, evidence_name: str | None, start_ms: int, stop_ms: int
) -> tuple[dict[str, Any], str]:
    """The Allure result (and its uuid) of a run whose deployment did not come up: no test
    ran, so this one entry carries the one-line diagnosis and the evidence file."""
    uuid = hashlib.sha256(f"{headline}{start_ms}".encode()).hexdigest()[:32]
    result: dict[str, Any] = {
        "uuid": uuid,
        "historyId": hashlib.sha256(SETUP_RESULT_NAME.encode()).hexdigest()[:32],
        "name": SETUP_RESULT_NAME,
        "fullName": "mysqlsts.setup",
        "status": "broken",
        "statusDetails": {"message": headline},
        "stage": "finished",
        "start": start_ms,
        "stop": stop_ms,
        "labels": [
            {"name": "parentSuite", "value": "setup"},
            {"name": "framework", "value": "mysqlsts"},
        ],
        "attachments": [],
    }
    if evidence_name:
        result["attachments"].append(
            {"name": evidence_name, "source": f"{uuid}-attachment.txt", "type": "text/plain"}
        )
    return result, uuid


def write_setup_failure(
    directory: Path, headline: str, evidence: Path | None, start_ms: int, stop_ms: int
) -> Path:
    """Write :func:`setup_failure_result` (and the evidence as its attachment) into the
    Allure results ``directory``; returns the result file."""
    directory.mkdir(parents=True, exist_ok=True)
    present = evidence if evidence is not None and evidence.is_file() else None
    result, uuid = setup_failure_result(
        headline, present.name if present else None, start_ms, stop_ms
    )
    if present is not None:
        (directory / f"{uuid}-attachment.txt").write_text(present.read_text(encoding="utf-8"))
    path = directory / f"{uuid}-result.json"
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return path
