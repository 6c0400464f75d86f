"""The kind cluster configuration the suite creates: one control plane and N workers.

A worker that stands for a node the PVs name mounts a host directory at each of its PV
paths, so that the PVs' data lives outside the node container (visible to the host,
removed with the run's temporary directory). The other workers are spare: schedulable,
without any PV.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def worker_names(cluster: str, workers: int) -> list[str]:
    """The node names kind gives the workers: ``<cluster>-worker``, ``-worker2``, ..."""
    return [f"{cluster}-worker{'' if i == 1 else i}" for i in range(1, workers + 1)]


def host_dirs(state_dir: Path, node: str, pv_paths: list[str]) -> list[tuple[Path, str]]:
    """(host directory, path inside the node) for every distinct PV path of ``node``."""
    seen: list[str] = []
    for path in pv_paths:
        if path and path not in seen:
            seen.append(path)
    return [(state_dir / "pv" / node / str(index), path) for index, path in enumerate(seen)]


def _mount(host: Path, inside: str, read_only: bool = False) -> dict[str, Any]:
    mount: dict[str, Any] = {"hostPath": str(host), "containerPath": inside}
    if read_only:
        mount["readOnly"] = True
    return mount


def kind_config(
    workers: list[list[tuple[Path, str]]],
    every_node: list[tuple[Path, str]] | None = None,
    containerd_patches: list[str] | None = None,
) -> dict[str, Any]:
    """The config for a control plane and one worker per entry (its PV mounts).

    ``every_node`` is mounted read-only into every node (the registry mirror's hosts.toml
    files); ``containerd_patches`` go to kind's containerdConfigPatches.
    """
    shared = [_mount(host, inside, read_only=True) for host, inside in every_node or []]
    control_plane: dict[str, Any] = {"role": "control-plane"}
    if shared:
        control_plane["extraMounts"] = shared
    nodes: list[dict[str, Any]] = [control_plane]
    for mounts in workers:
        worker: dict[str, Any] = {"role": "worker"}
        if mounts or shared:
            worker["extraMounts"] = [*(_mount(h, i) for h, i in mounts), *shared]
        nodes.append(worker)
    config: dict[str, Any] = {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4"}
    if containerd_patches:
        config["containerdConfigPatches"] = list(containerd_patches)
    config["nodes"] = nodes
    return config


def render(
    workers: list[list[tuple[Path, str]]],
    every_node: list[tuple[Path, str]] | None = None,
    containerd_patches: list[str] | None = None,
) -> str:
    return yaml.safe_dump(kind_config(workers, every_node, containerd_patches), sort_keys=False)
