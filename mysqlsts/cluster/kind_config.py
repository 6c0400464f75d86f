"""The kind cluster configuration the suite creates: one control plane, one worker.

The worker carries the local-PV label and mounts a host directory at every PV path, so
that the PVs' data lives outside the node container (visible to the host, removed with
the run's temporary directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mysqlsts.labels import LOCAL_PV_LABEL_KEY, LOCAL_PV_LABEL_VALUE


def host_dirs(state_dir: Path, pv_paths: list[str]) -> list[tuple[Path, str]]:
    """(host directory, path inside the node) for every distinct PV path, in order."""
    seen: list[str] = []
    for path in pv_paths:
        if path and path not in seen:
            seen.append(path)
    return [(state_dir / "pv" / str(index), path) for index, path in enumerate(seen)]


def kind_config(mounts: list[tuple[Path, str]]) -> dict[str, Any]:
    worker: dict[str, Any] = {
        "role": "worker",
        "labels": {LOCAL_PV_LABEL_KEY: LOCAL_PV_LABEL_VALUE},
    }
    if mounts:
        worker["extraMounts"] = [
            {"hostPath": str(host), "containerPath": inside} for host, inside in mounts
        ]
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "nodes": [{"role": "control-plane"}, worker],
    }


def render(mounts: list[tuple[Path, str]]) -> str:
    return yaml.safe_dump(kind_config(mounts), sort_keys=False)
