from __future__ import annotations

from pathlib import Path

import yaml

from mysqlsts.cluster import kind_config


def test_one_control_plane_and_a_labelled_worker_with_a_mount_per_pv_path(tmp_path: Path) -> None:
    paths = ["/data/svr/projects/mysql", "/data/svr/projects/mysql2", "/data/svr/projects/mysql3"]
    mounts = kind_config.host_dirs(tmp_path, [*paths, paths[0]])  # duplicates mount once
    config = yaml.safe_load(kind_config.render(mounts))
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    control_plane, worker = config["nodes"]
    assert control_plane == {"role": "control-plane"}
    assert worker["role"] == "worker" and worker["labels"] == {"mysqlsts.io/local-pv": "true"}
    assert worker["extraMounts"] == [
        {"hostPath": str(tmp_path / "pv" / str(i)), "containerPath": p} for i, p in enumerate(paths)
    ]


def test_no_pvs_no_mounts(tmp_path: Path) -> None:
    assert (
        "extraMounts"
        not in kind_config.kind_config(kind_config.host_dirs(tmp_path, []))["nodes"][1]
    )
