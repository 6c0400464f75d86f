from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import article
import pytest

from mysqlsts.manifests import transformations
from mysqlsts.plugin import fixtures as pytest_plugin
from mysqlsts.plugin.state import WORKERINPUT_KEY
from mysqlsts.redaction import forget_secrets, redact
from mysqlsts.run.environment import RunInfo

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


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
        state_dir=str(tmp_path),
        client_image="localhost/lab/toolbox:bookworm",
        pv_placement={"example-mysql-pv": ["mysqlsts-worker"]},
        notes=["kind cluster mysqlsts created"],
    )


def test_round_trip_for_xdist_workers(tmp_path: Path) -> None:
    original = info(tmp_path)
    copy = RunInfo.from_json(original.to_json())
    assert copy == original
    forget_secrets()  # a worker process starts with no secrets registered
    deployment = copy.deployment()
    assert deployment.statefulset == "mysql" and deployment.replicas == 2
    assert copy.deployment() is deployment  # discovered once per process
    assert redact("-p123456") == "-p123456"  # discovery registers nothing by itself


def test_a_worker_context_registers_the_password(tmp_path: Path) -> None:
    payload = info(tmp_path).to_json()
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    worker = SimpleNamespace(
        stash=pytest.Stash(), workerinput={WORKERINPUT_KEY: payload, "workerid": "gw1"}
    )
    forget_secrets()
    context = pytest_plugin.context(worker)  # type: ignore[arg-type]
    assert context is not None and context.deployment.namespace == "mysql"
    assert redact("-p123456") == "-p***"
    context.kube.api_client.close()


def test_workers_read_the_run_from_workerinput(tmp_path: Path) -> None:
    payload = info(tmp_path).to_json()
    stash = pytest.Stash()
    worker = SimpleNamespace(stash=stash, workerinput={WORKERINPUT_KEY: payload, "workerid": "gw1"})
    got = pytest_plugin._run_info(worker)  # type: ignore[arg-type]
    assert got is not None and got.run_id == "r1"
    empty = SimpleNamespace(stash=pytest.Stash(), workerinput={"workerid": "gw0"})
    assert pytest_plugin.context(empty) is None  # type: ignore[arg-type]
