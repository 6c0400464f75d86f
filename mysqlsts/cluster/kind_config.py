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


def kind_config(workers: list[list[tuple[Path, str]]]) -> dict[str, Any]:
    """The config for a control plane and one worker per entry (its mounts)."""
    nodes: list[dict[str, Any]] = [{"role": "control-plane"}]
    for mounts in workers:
        worker: dict[str, Any] = {"role": "worker"}
        if mounts:
            worker["extraMounts"] = [
                {"hostPath": str(host), "containerPath": inside} for host, inside in mounts
            ]
        nodes.append(worker)
    return {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": nodes}


def render(workers: list[list[tuple[Path, str]]]) -> str:
    return yaml.safe_dump(kind_config(workers), sort_keys=False)
