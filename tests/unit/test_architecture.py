"""The package's layout holds: imports go down the layers only, one door per job.

Read from the source (ast), no cluster. The layers, bottom up, are those of the README's
"Where things are"; a module may import its own layer or any below it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mysqlsts.repository import REPO_ROOT

PACKAGE = REPO_ROOT / "mysqlsts"
SUITES = REPO_ROOT / "suites"
# Bottom (0) to top. Top-level modules are the foundation.
LAYERS = {
    "errors": 0,
    "labels": 0,
    "redaction": 0,
    "files": 0,
    "interrupts": 0,
    "stopwatch": 0,
    "kind_release": 0,
    "repository": 0,
    "waiting": 1,
    "settings": 1,
    "option_table": 1,
    "registry_mirror": 1,
    "lab": 1,
    "negative_controls": 2,
    "programs": 2,
    "k8s": 3,
    "manifests": 4,
    "deploy": 5,
    "reporting": 4,
    "cluster": 4,
    "db": 5,
    "run": 6,
    "scenarios": 7,
    "cli": 7,
    "bench": 7,
    "plugin": 8,
}


def room(module: str) -> str:
    """``mysqlsts.k8s.client`` -> ``k8s``; ``mysqlsts.errors`` -> ``errors``."""
    return module.split(".")[1]


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names if node.module == "mysqlsts"]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return [m for m in found if m.startswith("mysqlsts.")]


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_room_has_a_layer() -> None:
    rooms = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in package_modules()}
    assert rooms - {"__init__"} <= set(LAYERS), f"rooms without a layer: {rooms - set(LAYERS)}"


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_imports_go_down_the_layers_only(path: Path) -> None:
    parts = path.relative_to(PACKAGE).parts
    if parts == ("__init__.py",):
        return
    here = parts[0].removesuffix(".py")
    upward = [m for m in imports_of(path) if LAYERS[room(m)] > LAYERS[here]]
    assert not upward, f"{path.name} ({here}, layer {LAYERS[here]}) imports upward: {upward}"


def suite_files() -> list[Path]:
    return sorted(SUITES.rglob("*.py"))


@pytest.mark.parametrize(
    "statement", ["SHOW SLAVE STATUS", "SHOW REPLICA STATUS", "SHOW MASTER STATUS"]
)
def test_suites_read_replication_state_through_the_one_reader(statement: str) -> None:
    found = [str(p) for p in suite_files() if statement in p.read_text(encoding="utf-8")]
    assert not found, f"{statement} in {found}: use MySQL.replica_status / master_position"


def test_suites_import_their_helpers_from_the_package_only() -> None:
    local = {p.stem for p in suite_files()}
    offenders = []
    for path in suite_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in local]
    assert not offenders, offenders


def test_short_lived_pods_are_built_in_one_place() -> None:
    """Only mysqlsts.k8s.pods writes a Pod manifest (``"kind": "Pod"``)."""
    pattern = re.compile(r"""["']kind["']\s*:\s*["']Pod["']""")
    writers = [
        str(p.relative_to(REPO_ROOT))
        for p in [*package_modules(), *suite_files()]
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert writers == ["mysqlsts/k8s/pods.py"], writers


def test_only_the_cluster_providers_branch_on_the_cluster_kind() -> None:
    pattern = re.compile(r"\.cluster\s*[!=]=|\.provider\s*[!=]=")
    allowed = {
        PACKAGE / "cluster" / "factory.py",
        PACKAGE / "settings.py",
        # ensure_lab decides from the options, before any run, whether to build the lab.
        PACKAGE / "cli" / "ensure_lab.py",
    }
    found = [
        str(p.relative_to(REPO_ROOT))
        for p in [*package_modules(), *suite_files()]
        if p not in allowed and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert not found, f"branches on the provider outside mysqlsts/cluster: {found}"


# -- the house's proportions -----------------------------------------------------------------
# The lab builds images from Debian and Go: its steps are long scripts of their own.
MAX_LINES = 400
# Entry points of `python -m`: their name is Python's convention, not a choice.
CONVENTIONAL_NAMES = {"__init__.py", "__main__.py"}


def test_no_module_outside_the_lab_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in package_modules()
        if p.relative_to(PACKAGE).parts[0] != "lab"
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by what they hold): {long}"


def test_every_module_name_means_one_thing() -> None:
    seen: dict[str, list[str]] = {}
    for path in package_modules():
        if path.name not in CONVENTIONAL_NAMES:
            seen.setdefault(path.stem, []).append(str(path.relative_to(PACKAGE)))
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    twice = {name: where for name, where in seen.items() if len(where) > 1 or name in rooms}
    assert not twice, f"module names used twice under mysqlsts/: {twice}"


def test_the_one_wait_is_the_only_sleep() -> None:
    """Polls go through mysqlsts.waiting.wait_for; nothing else sleeps. (A load generator
    paces itself with its stop event's wait, which a stop ends at once: the ledger's
    writers, the benchmark's load; that is pacing, not waiting for a state.)"""
    pattern = re.compile(r"\btime\.sleep\(|\bfrom time import\b[^\n]*\bsleep\b")
    sleepers = [
        str(p.relative_to(REPO_ROOT))
        for p in [*package_modules(), *suite_files()]
        if p != PACKAGE / "waiting.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert not sleepers, f"sleeps outside mysqlsts/waiting.py (use wait_for): {sleepers}"
