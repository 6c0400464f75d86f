from __future__ import annotations

from pathlib import Path

import yaml

from mysqlsts.cluster import kind_config


def test_kind_names_its_workers_like_this() -> None:
    assert kind_config.worker_names("c", 3) == ["c-worker", "c-worker2", "c-worker3"]


def test_a_worker_with_a_mount_per_pv_path_and_spare_workers_without(tmp_path: Path) -> None:
    paths = ["/data/svr/projects/mysql", "/data/svr/projects/mysql2", "/data/svr/projects/mysql3"]
    mounts = kind_config.host_dirs(tmp_path, "c-worker", [*paths, paths[0]])  # once each
    config = yaml.safe_load(kind_config.render([mounts, [], []]))
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    control_plane, worker, *spare = config["nodes"]
    assert control_plane == {"role": "control-plane"}
    assert worker["role"] == "worker" and "labels" not in worker
    assert worker["extraMounts"] == [
        {"hostPath": str(tmp_path / "pv" / "c-worker" / str(i)), "containerPath": p}
        for i, p in enumerate(paths)
    ]
    assert spare == [{"role": "worker"}, {"role": "worker"}]
