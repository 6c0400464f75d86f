"""Finding, rendering and validating the manifests a run deploys.

A run deploys either a profile (``upstream`` = manifests/upstream, or an overlay under
manifests/profiles/) or whatever ``--manifests`` points at. Kustomizations are rendered
with ``kubectl kustomize``; a plain directory of YAML is read file by file. Every problem
becomes one :class:`InputError` line naming the file and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mysqlsts import programs
from mysqlsts.errors import InputError
from mysqlsts.repository import REPO_ROOT

MANIFESTS_DIR = REPO_ROOT / "manifests"
UPSTREAM_DIR = MANIFESTS_DIR / "upstream"
PROFILES_DIR = MANIFESTS_DIR / "profiles"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RENDER_TIMEOUT = 20.0

Obj = dict[str, Any]


@dataclass(frozen=True)
class ManifestSource:
    path: Path
    label: str  # what the report calls it: "profile offline" or "manifests /x/y"


def _kustomization_in(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


# The lab names its application images so (lab/lab.toml [images]; tests/unit/test_lab.py).
LAB_IMAGE_PREFIX = "localhost/lab/"


def uses_lab_images(path: Path) -> bool:
    """Whether the manifests at ``path`` name one of the offline lab's images: a YAML file
    or kustomization there, or in a local directory its kustomization builds on, names an
    image under ``localhost/lab/``. Read as text: no kubectl is needed to decide."""
    seen: set[Path] = set()
    todo = [path.resolve()]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        files = [current] if current.is_file() else sorted(current.glob("*.y*ml"))
        for file in files:
            text = file.read_text(encoding="utf-8", errors="replace")
            if LAB_IMAGE_PREFIX in text:
                return True
            if file.name in KUSTOMIZATION_NAMES:
                data = yaml.safe_load(text) or {}
                todo += [
                    (file.parent / r).resolve()
                    for r in data.get("resources") or []
                    if isinstance(r, str) and (file.parent / r).exists()
                ]
    return False


def known_profiles(
    upstream_dir: Path = UPSTREAM_DIR, profiles_dir: Path = PROFILES_DIR
) -> list[str]:
    names = ["upstream"] if upstream_dir.is_dir() else []
    if profiles_dir.is_dir():
        names += sorted(p.name for p in profiles_dir.iterdir() if _kustomization_in(p))
    return names


def locate(
    profile: str,
    manifests: Path | None,
    *,
    upstream_dir: Path = UPSTREAM_DIR,
    profiles_dir: Path = PROFILES_DIR,
) -> ManifestSource:
    """Where the manifests of this run come from; ``manifests`` overrides ``profile``."""
    if manifests is not None:
        if not manifests.exists():
            raise InputError(f"--manifests {manifests}: no such file or directory")
        return ManifestSource(manifests.resolve(), f"manifests {manifests}")
    if profile == "upstream":
        path = upstream_dir
    else:
        path = profiles_dir / profile
        if not _kustomization_in(path):
            known = ", ".join(known_profiles(upstream_dir, profiles_dir)) or "none found"
            raise InputError(f"unknown profile {profile!r} (known profiles: {known})")
    if not path.is_dir():
        raise InputError(f"profile {profile!r}: {path} does not exist")
    return ManifestSource(path, f"profile {profile}")


def _yaml_error_line(error: yaml.YAMLError, origin: str) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
    return f"invalid YAML in {origin}{where}: {problem}"


def parse_documents(text: str, origin: str) -> list[Obj]:
    """The non-empty YAML documents of ``text``; each must be a Kubernetes object."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise InputError(_yaml_error_line(error, origin)) from None
    objects: list[Obj] = []
    for index, doc in enumerate(documents, start=1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise InputError(f"{origin} document {index}: not a Kubernetes object (a mapping)")
        missing = [k for k in ("apiVersion", "kind") if not doc.get(k)]
        if not (doc.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        if missing:
            raise InputError(f"{origin} document {index}: missing {', '.join(missing)}")
        objects.append(doc)
    return objects


def _render_kustomization(directory: Path) -> list[Obj]:
    kubectl = programs.find_kubectl()
    if kubectl is None:
        raise InputError(
            f"{directory} is a kustomization but no kubectl was found to render it "
            "(install the project with its dependencies, or set MYSQLSTS_KUBECTL)"
        )
    done = programs.run([kubectl, "kustomize", directory], timeout=RENDER_TIMEOUT)
    if done.returncode != 0:
        raise InputError(f"kubectl kustomize {directory} failed: {done.first_error_line()}")
    return parse_documents(done.stdout, f"kubectl kustomize {directory}")


def _read_yaml_files(files: list[Path], origin: Path) -> list[Obj]:
    if not files:
        raise InputError(f"{origin}: no YAML files (*.yaml, *.yml) and no kustomization")
    objects: list[Obj] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read {file}: {error}") from None
        objects += parse_documents(text, str(file))
    return objects


def render(path: Path) -> list[Obj]:
    """The objects at ``path``: a kustomization, a directory of YAML, or one YAML file."""
    if path.is_dir():
        if _kustomization_in(path):
            return _render_kustomization(path)
        # Sorted by name: the article numbers its files in the order it applies them.
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        return _read_yaml_files(files, path)
    if path.name in KUSTOMIZATION_NAMES:
        return _render_kustomization(path.parent)
    return _read_yaml_files([path], path)


def statefulset_of(objects: list[Obj], origin: str) -> Obj:
    """The one StatefulSet the suite tests; none or several is an input error."""
    found = [o for o in objects if o["kind"] == "StatefulSet"]
    if not found:
        raise InputError(f"{origin} contains no StatefulSet (nothing for the suite to test)")
    if len(found) > 1:
        names = ", ".join(o["metadata"]["name"] for o in found)
        raise InputError(
            f"{origin} contains {len(found)} StatefulSets ({names}); the suite tests one"
        )
    return found[0]


def load(source: ManifestSource) -> tuple[list[Obj], Obj]:
    """Render and validate the manifests of ``source``: the objects and their one
    StatefulSet (found here once for the whole load)."""
    objects = render(source.path)
    return objects, statefulset_of(objects, source.label)
