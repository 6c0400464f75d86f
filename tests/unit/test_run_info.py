from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import article
import pytest

from mysqlsts import pytest_plugin, transformations
from mysqlsts.environment import RunInfo
from mysqlsts.redaction import forget_secrets, redact


def info(tmp_path: Path) -> RunInfo:
    prepared = transformations.prepare(article.objects(), "mysql", "r1")
    return RunInfo(
        run_id="r1",
        source="profile offline",
        objects=prepared.objects,
        changes=prepared.changes,
        provider="kind",
        cluster_name="mysqlsts",
        kubeconfig=str(tmp_path / "kubeconfig"),
        local_pv_node="mysqlsts-worker",
        state_dir=str(tmp_path),
        notes=["kind cluster mysqlsts created"],
    )


def test_round_trip_for_xdist_workers(tmp_path: Path) -> None:
    original = info(tmp_path)
    copy = RunInfo.from_json(original.to_json())
    assert copy == original
    forget_secrets()  # a worker process starts with no secrets registered
    deployment = copy.deployment()
    assert deployment.statefulset == "mysql" and deployment.replicas == 2
    assert redact("-p123456") == "-p***"  # rebuilding the deployment registers the password


def test_workers_read_the_run_from_workerinput(tmp_path: Path) -> None:
    payload = info(tmp_path).to_json()
    stash = pytest.Stash()
    worker = SimpleNamespace(
        stash=stash, workerinput={pytest_plugin.WORKERINPUT_KEY: payload, "workerid": "gw1"}
    )
    got = pytest_plugin._run_info(worker)  # type: ignore[arg-type]
    assert got is not None and got.run_id == "r1"
    empty = SimpleNamespace(stash=pytest.Stash(), workerinput={"workerid": "gw0"})
    assert pytest_plugin.context(empty) is None  # type: ignore[arg-type]
