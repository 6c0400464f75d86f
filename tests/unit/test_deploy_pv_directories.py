from __future__ import annotations

import subprocess
from pathlib import Path

from mysqlsts.deploy import pv_directories

PATHS = ["/data/svr/projects/mysql", "/data/svr/projects/mysql2"]


def test_helper_pod_mounts_parents_on_its_node_unprivileged() -> None:
    pod = pv_directories.helper_pod("p", "r1", "img", PATHS, "true", "w1")
    spec = pod["spec"]
    assert pod["metadata"]["namespace"] == "default" and pod["metadata"]["labels"] == {
        "mysqlsts.io/run": "r1",
        "mysqlsts.io/scratch": "pv-paths",
    }
    assert spec["nodeName"] == "w1" and spec["restartPolicy"] == "Never"
    assert [v["hostPath"]["path"] for v in spec["volumes"]] == ["/data/svr/projects"] * 2
    container = spec["containers"][0]
    assert container["securityContext"] == {"runAsUser": 0}  # not privileged: see module doc
    assert [m["mountPath"] for m in container["volumeMounts"]] == ["/host/0", "/host/1"]


def _run_in(root: Path, script: str) -> str:
    """Run a helper script with /host/N mapped to directories under ``root``."""
    local = script.replace("/host/", f"{root}/host/")
    return subprocess.run(["sh", "-c", local], capture_output=True, text=True, check=True).stdout


def test_prepare_and_clean_scripts_do_what_the_report_says(tmp_path: Path) -> None:
    for index in range(2):
        (tmp_path / "host" / str(index)).mkdir(parents=True)
    # mysql2 exists and is empty; mysql is absent.
    (tmp_path / "host" / "1" / "mysql2").mkdir()
    record, nonempty = pv_directories.parse_report(
        _run_in(tmp_path, pv_directories.prepare_script(PATHS))
    )
    assert record.created == [PATHS[0]] and record.existed_empty == [PATHS[1]] and nonempty == []
    assert (tmp_path / "host" / "0" / "mysql").is_dir()
    # MySQL writes data; clean removes the created directory and empties the other.
    (tmp_path / "host" / "0" / "mysql" / "ibdata1").write_text("x")
    (tmp_path / "host" / "1" / "mysql2" / "mysql").mkdir()
    _run_in(tmp_path, pv_directories.clean_script(record, PATHS))
    assert not (tmp_path / "host" / "0" / "mysql").exists()
    assert list((tmp_path / "host" / "1" / "mysql2").iterdir()) == []


def test_non_empty_paths_are_reported(tmp_path: Path) -> None:
    (tmp_path / "host" / "0" / "mysql").mkdir(parents=True)
    (tmp_path / "host" / "0" / "mysql" / "foreign").write_text("x")
    (tmp_path / "host" / "1").mkdir(parents=True)
    _, nonempty = pv_directories.parse_report(
        _run_in(tmp_path, pv_directories.prepare_script(PATHS))
    )
    assert nonempty == [PATHS[0]]


def test_helper_image_override(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert pv_directories.helper_image("mysql:5.7") == "mysql:5.7"
    monkeypatch.setenv("MYSQLSTS_HELPER_IMAGE", "busybox")
    assert pv_directories.helper_image("mysql:5.7") == "busybox"
