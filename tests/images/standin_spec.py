"""The upstream StatefulSet, ConfigMap and Secret, read from manifests/upstream at test time.

The image tests run the upstream containers' commands exactly as the manifests spell them;
nothing of the scripts is copied into the tests. Image names are mapped to the stand-ins
through the offline-debian profile's ``images:`` list, so the profile is exercised too.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_DIR = REPO_ROOT / "manifests" / "upstream"
# The suite's default profile: the one whose pods start (the offline profile's mysql:5.7
# stand-in has no hostname binary, so its init-mysql exits 1 as the real image's does).
PROFILE = "offline-debian"
PROFILE_FILE = REPO_ROOT / "manifests" / "profiles" / PROFILE / "kustomization.yaml"


@dataclass(frozen=True)
class Mount:
    volume: str
    path: str


@dataclass(frozen=True)
class Container:
    name: str
    image: str  # already mapped to the stand-in
    command: tuple[str, ...] | None  # None: the image's entrypoint and cmd
    env: dict[str, str]
    mounts: tuple[Mount, ...]
    ports: tuple[int, ...]
    readiness: tuple[str, ...] | None
    liveness: tuple[str, ...] | None


@dataclass(frozen=True)
class StatefulSet:
    name: str
    namespace: str
    service: str
    init_containers: tuple[Container, ...]
    containers: tuple[Container, ...]
    empty_dirs: frozenset[str]  # volume names
    config_maps: dict[str, dict[str, str]]  # volume name -> file name -> content
    claims: frozenset[str]  # volumeClaimTemplates names

    def container(self, name: str) -> Container:
        for container in self.containers:
            if container.name == name:
                return container
        raise KeyError(f"no container {name!r} in StatefulSet {self.name}")

    def hostname(self, ordinal: int) -> str:
        return f"{self.name}-{ordinal}"

    def dns_names(self, ordinal: int) -> list[str]:
        """The pod's DNS names through the headless Service, short to fully qualified."""
        host = f"{self.hostname(ordinal)}.{self.service}"
        return [host, f"{host}.{self.namespace}", f"{host}.{self.namespace}.svc.cluster.local"]


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _one(kind: str) -> dict[str, Any]:
    found = [
        doc
        for path in sorted(UPSTREAM_DIR.glob("*.yaml"))
        for doc in _documents(path)
        if doc.get("kind") == kind
    ]
    if len(found) != 1:
        raise ValueError(f"expected one {kind} in {UPSTREAM_DIR}, found {len(found)}")
    return found[0]


def image_map() -> dict[str, str]:
    """Upstream image -> stand-in image, from the profile's ``images:``."""
    profile = yaml.safe_load(PROFILE_FILE.read_text(encoding="utf-8"))
    return {entry["name"]: f"{entry['newName']}:{entry['newTag']}" for entry in profile["images"]}


def _probe(spec: dict[str, Any] | None) -> tuple[str, ...] | None:
    return tuple(spec["exec"]["command"]) if spec else None


def _container(
    spec: dict[str, Any], images: dict[str, str], secrets: dict[str, dict[str, str]]
) -> Container:
    env = {}
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[ref["name"]][ref["key"]]
    command = spec.get("command")
    if spec.get("args"):
        raise ValueError(f"container {spec['name']}: args are not emulated")
    return Container(
        name=spec["name"],
        image=images[spec["image"]],
        command=tuple(command) if command else None,
        env=env,
        mounts=tuple(Mount(m["name"], m["mountPath"]) for m in spec.get("volumeMounts", [])),
        ports=tuple(int(p["containerPort"]) for p in spec.get("ports", [])),
        readiness=_probe(spec.get("readinessProbe")),
        liveness=_probe(spec.get("livenessProbe")),
    )


def load() -> StatefulSet:
    sts = _one("StatefulSet")
    config_map = _one("ConfigMap")
    secret = _one("Secret")
    secrets = {
        secret["metadata"]["name"]: {
            key: base64.b64decode(value).decode() for key, value in secret["data"].items()
        }
    }
    images = image_map()
    pod = sts["spec"]["template"]["spec"]
    empty_dirs, config_maps = set(), {}
    for volume in pod["volumes"]:
        if "emptyDir" in volume:
            empty_dirs.add(volume["name"])
        elif volume.get("configMap", {}).get("name") == config_map["metadata"]["name"]:
            config_maps[volume["name"]] = dict(config_map["data"])
        else:
            raise ValueError(f"volume {volume['name']} is of a kind the tests do not emulate")
    return StatefulSet(
        name=sts["metadata"]["name"],
        namespace=sts["metadata"]["namespace"],
        service=sts["spec"]["serviceName"],
        init_containers=tuple(_container(c, images, secrets) for c in pod["initContainers"]),
        containers=tuple(_container(c, images, secrets) for c in pod["containers"]),
        empty_dirs=frozenset(empty_dirs),
        config_maps=config_maps,
        claims=frozenset(t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]),
    )
