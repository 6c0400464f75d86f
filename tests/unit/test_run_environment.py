"""Run.up/down with a fake provider and a fake cluster: failures become one line, and
teardown undoes exactly what was recorded, once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import article
import pytest

from mysqlsts import settings
from mysqlsts.cluster.provider import ClusterInfo
from mysqlsts.errors import DeploymentFailed
from mysqlsts.k8s.client import KubeError
from mysqlsts.manifests import placement
from mysqlsts.manifests.placement import Placement
from mysqlsts.run import environment


class FakeProvider:
    owns_cluster = False
    node_data_outlives_run = False

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.downs: list[bool] = []

    def preflight(self) -> None:
        pass

    def place(self, objects: list[Any]) -> Placement:
        mapping = {"172.31.170.51": "node-1"}
        return placement.place(objects, mapping, [])

    def up(self, pvs: Placement) -> ClusterInfo:
        return ClusterInfo(
            "existing", "fake", self.tmp_path / "kubeconfig", "mysql:5.7", notes=["borrowed"]
        )

    def down(self, keep: bool) -> list[str]:
        self.downs.append(keep)
        return ["provider down"]


class BrokenKube:
    def wait_node_ready(self, name: str, **_: Any) -> None:
        raise KubeError("get node node-1", 500, "etcdserver: request timed out")

    def events(self, namespace: str) -> list[Any]:
        raise KubeError("list events", 500, "etcdserver: request timed out")

    def list_pods(self, namespace: str, selector: str | None = None) -> list[Any]:
        raise KubeError("list pods", 500, "etcdserver: request timed out")


def make_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool = False
) -> tuple[Any, FakeProvider]:
    monkeypatch.setattr(environment.tempfile, "gettempdir", lambda: str(tmp_path))
    provider = FakeProvider(tmp_path)
    monkeypatch.setattr(environment, "make_provider", lambda *a, **k: provider)
    monkeypatch.setattr(
        environment.Kube, "from_kubeconfig", classmethod(lambda cls, *a, **k: BrokenKube())
    )
    values = {"manifests": str(article.write(tmp_path / "m")), "keep_cluster": keep}
    run = environment.Run(settings.resolve(values, {}), lambda _line: None, tmp_path / "reports")
    run.preflight()
    return run, provider


def test_an_api_failure_during_setup_is_one_line_and_teardown_runs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, provider = make_run(tmp_path, monkeypatch)
    with pytest.raises(DeploymentFailed) as caught:
        run.up()
    assert str(caught.value).startswith("get node node-1: etcdserver: request timed out")
    assert "\n" not in str(caught.value)
    evidence = tmp_path / "reports" / "mysqlsts-setup-failure.txt"
    assert str(caught.value).endswith(f"(events and logs: {evidence})")
    assert "could not list pods" in evidence.read_text()
    assert run.state_dir.exists()
    assert run.down() == ["provider down"] and provider.downs == [False]
    assert not run.state_dir.exists()
    run.down()
    assert provider.downs == [False]  # idempotent


def test_keep_cluster_keeps_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, provider = make_run(tmp_path, monkeypatch, keep=True)
    with pytest.raises(DeploymentFailed):
        run.up()
    lines = run.down()
    assert provider.downs == [True] and run.state_dir.exists()
    assert lines[0].startswith("--keep-cluster: ")


def test_the_namespace_for_manifests_that_name_none() -> None:
    assert environment.run_namespace(settings.resolve({}, {}), "r1") == "mysqlsts-r1"
    chosen = settings.resolve({"namespace": "team-a"}, {})
    assert environment.run_namespace(chosen, "r1") == "team-a"
    assert settings.resolve({}, {"MYSQLSTS_NAMESPACE": "team-b"}).namespace == "team-b"
    with pytest.raises(settings.InputError, match="--namespace 'Team_A' is not a namespace"):
        settings.resolve({"namespace": "Team_A"}, {})


def test_the_tutorials_variant_gets_the_runs_namespace_and_an_empty_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No namespace anywhere and MYSQL_ALLOW_EMPTY_PASSWORD (the Kubernetes tutorial)."""
    objects = [o for o in article.objects() if o["kind"] not in ("Namespace", "Secret")]
    for obj in objects:
        obj["metadata"].pop("namespace", None)
        if obj["kind"] == "StatefulSet":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                if container["name"] == "mysql":
                    container["env"] = [{"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "1"}]
    monkeypatch.setattr(environment.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(environment, "make_provider", lambda *a, **k: FakeProvider(tmp_path))
    values = {"manifests": str(article.write(tmp_path / "m", objects))}
    run = environment.Run(settings.resolve(values, {}), lambda _line: None, tmp_path / "r")
    run.preflight()
    assert run.deployment is not None
    assert run.deployment.namespace == f"mysqlsts-{run.run_id}"
    assert run.deployment.root_password == ""
    assert "empty password" in run.deployment.password_source
    assert any(c.startswith(f"namespace mysqlsts-{run.run_id}: ") for c in run.changes)
    namespaces = [o for o in run.deployment.objects if o["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == [f"mysqlsts-{run.run_id}"]
