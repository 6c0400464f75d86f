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
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.manifests import placement
from mysqlsts.manifests.model import discover
from mysqlsts.manifests.placement import Placement
from mysqlsts.plugin.fixtures import local_pvs_missing
from mysqlsts.repository import REPO_ROOT
from mysqlsts.run import environment


class FakeProvider:
    owns_cluster = False
    node_data_outlives_run = False

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.downs: list[bool] = []

    def preflight(self) -> list[str]:
        return []

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


def broken_node_wait(kube: Any, name: str, **_: Any) -> None:
    """The node wait ends at once on a non-transient failure of the API."""
    raise KubeError("get node node-1", 500, "etcdserver: request timed out")


class BrokenKube:
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
    monkeypatch.setattr(environment, "wait_node_ready", broken_node_wait)
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


def test_the_projects_tutorial_variant_deploys_three_pods_on_dynamic_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """manifests/variants/tutorial as committed: namespace of the run, empty password, no
    PVs (the local-PV checks skip), three replicas, primary.cnf/secondary.cnf."""
    variant = REPO_ROOT / "manifests" / "variants" / "tutorial"
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("configmap.yaml", "services.yaml", "statefulset.yaml"):
        (plain / name).write_text((variant / name).read_text())
    monkeypatch.setattr(environment.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(environment, "make_provider", lambda *a, **k: FakeProvider(tmp_path))
    run = environment.Run(
        settings.resolve({"manifests": str(plain)}, {}), lambda _line: None, tmp_path / "r"
    )
    run.preflight()
    deployment = run.deployment
    assert deployment is not None
    assert deployment.namespace == f"mysqlsts-{run.run_id}" and deployment.replicas == 3
    assert deployment.root_password == "" and not deployment.declares_local_pvs
    assert deployment.storage_class is None
    assert local_pvs_missing(deployment) == (
        "the manifests declare no PersistentVolume: the claims are provisioned dynamically "
        "by the cluster's default StorageClass, so there are no local PVs to check"
    )
    assert deployment.max_replicas == 4
    config = next(o for o in deployment.objects if o["kind"] == "ConfigMap")
    assert set(config["data"]) == {"primary.cnf", "secondary.cnf"}


def test_the_articles_local_pvs_are_checked_and_bound_the_scale_out() -> None:
    deployment = discover(article.objects())
    assert deployment.declares_local_pvs and local_pvs_missing(deployment) is None
    assert deployment.max_replicas == len(deployment.pvs) == 3
