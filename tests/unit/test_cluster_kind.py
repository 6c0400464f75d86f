"""The kind provider's choices that need no cluster: placement, images, one load."""

from __future__ import annotations

import subprocess
from pathlib import Path

import article
import pytest

from mysqlsts import settings
from mysqlsts.cluster import kind as cluster_kind
from mysqlsts.cluster import kind_images
from mysqlsts.errors import EnvironmentProblem, InputError


def make(tmp_path: Path, images: list[str], **values: object) -> cluster_kind.KindProvider:
    return cluster_kind.KindProvider(settings.resolve(values, {}), tmp_path, images, "db:1")


def test_each_pv_node_gets_a_worker_of_its_own_and_the_rest_are_spare(tmp_path: Path) -> None:
    objects = article.objects()
    objects[1]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0][
        "values"
    ] = ["10.0.0.2"]
    placed = make(tmp_path, [], cluster_name="c").place(objects)
    assert placed.mapping == {"172.31.170.51": "c-worker", "10.0.0.2": "c-worker2"}
    assert placed.pv_nodes == ["c-worker", "c-worker2"]  # c-worker3 is spare


def test_more_pv_nodes_than_workers_is_refused(tmp_path: Path) -> None:
    objects = article.objects()
    for index, pv in enumerate(o for o in objects if o["kind"] == "PersistentVolume"):
        term = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]
        term["matchExpressions"][0]["values"] = [f"10.0.0.{index}"]
    with pytest.raises(InputError, match=r"name 3 nodes .* but the cluster has 2 workers"):
        make(tmp_path, [], workers="2").place(objects)


def test_a_pv_that_names_no_node_gets_its_directory_on_every_worker(tmp_path: Path) -> None:
    objects = article.objects()
    pv = next(o for o in objects if o["kind"] == "PersistentVolume")
    pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "Exists"}]}
    ]
    placed = make(tmp_path, [], cluster_name="c").place(objects)
    assert placed.nodes_by_pv[pv["metadata"]["name"]] == ["c-worker", "c-worker2", "c-worker3"]


def test_a_pv_that_selects_by_a_kubelet_label_is_placed_on_every_worker(tmp_path: Path) -> None:
    """The workers do not exist yet: the labels every kubelet sets are assumed."""
    objects = article.objects()
    pv = next(o for o in objects if o["kind"] == "PersistentVolume")
    pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = [
        {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}
    ]
    placed = make(tmp_path, [], cluster_name="c").place(objects)
    assert placed.nodes_by_pv[pv["metadata"]["name"]] == ["c-worker", "c-worker2", "c-worker3"]


def test_containerd_names() -> None:
    assert cluster_kind.canonical("mysql:5.7") == "docker.io/library/mysql:5.7"
    assert cluster_kind.canonical("bitnami/mysql:8") == "docker.io/bitnami/mysql:8"
    assert (
        cluster_kind.canonical("localhost/lab/toolbox:bookworm") == "localhost/lab/toolbox:bookworm"
    )
    assert cluster_kind.canonical("gcr.io/google-samples/xtrabackup:1.0").startswith("gcr.io/")


def test_only_images_a_node_lacks_are_loaded_in_one_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: image != "absent:1")
    monkeypatch.setattr(
        cluster_kind.subprocess, "run", lambda command, check: commands.append(command)
    )
    provider = make(tmp_path, ["db:1", "absent:1", "backup:1"])
    monkeypatch.setattr(
        provider, "_nodes_missing", lambda images: [i for i in images if i != "backup:1"]
    )
    provider.kind_bin = Path("/bin/kind")
    notes: list[str] = []
    provider._load_images(notes)
    assert commands == [
        [Path("/bin/kind"), "load", "docker-image", "--name", provider.name, "db:1"]
    ]
    assert notes and notes[0].startswith("images db:1 loaded into the nodes")


def test_nothing_is_loaded_when_every_node_has_the_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: True)
    provider = make(tmp_path, ["db:1"])
    monkeypatch.setattr(provider, "_nodes_missing", lambda images: [])
    provider.kind_bin = Path("/bin/kind")
    notes: list[str] = []
    provider._load_images(notes)
    assert notes == ["images db:1 already on every node (the node image)"]


def test_a_failed_load_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(command: list[str], check: bool) -> None:
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: True)
    monkeypatch.setattr(cluster_kind.subprocess, "run", fail)
    provider = make(tmp_path, ["db:1"])
    monkeypatch.setattr(provider, "_nodes_missing", lambda images: images)
    provider.kind_bin = Path("/bin/kind")
    with pytest.raises(EnvironmentProblem, match="kind load docker-image db:1 failed"):
        provider._load_images([])


def test_the_lab_node_image_is_required_only_for_the_labs_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MYSQLSTS_KIND_NODE_IMAGE", raising=False)
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: False)
    lab = kind_images.lab_config.load()
    assert kind_images.node_image([lab.images["mysql_standin"]]) == lab.node_image
    assert kind_images.node_image(["mysql:5.7"]) == kind_images.kind_release.NODE_IMAGE
    monkeypatch.setenv("MYSQLSTS_KIND_NODE_IMAGE", "kindest/node:v1")
    assert kind_images.node_image([lab.images["mysql_standin"]]) == "kindest/node:v1"


def test_client_image_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: False)
    monkeypatch.setenv("MYSQLSTS_CLIENT_IMAGE", "registry/client:1")
    assert kind_images.client_image("mysql:5.7", offline=True) == "registry/client:1"
    monkeypatch.delenv("MYSQLSTS_CLIENT_IMAGE")
    assert kind_images.client_image("mysql:5.7", offline=True) == "mysql:5.7"


def test_the_online_path_uses_no_lab_image_for_its_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYSQLSTS_CLIENT_IMAGE", raising=False)
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: True)  # a lab is built
    toolbox = kind_images.lab_config.load().images["toolbox"]
    assert kind_images.client_image("mysql:5.7", offline=True) == toolbox
    assert kind_images.client_image("mysql:5.7-debian", offline=False) == "mysql:5.7-debian"


def test_the_pv_data_is_emptied_from_inside_the_node_then_from_a_throwaway_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who is not root cannot remove what mysqld (uid 999) wrote on the host."""
    calls: list[list[str]] = []

    def run(argv: list[str], timeout: float) -> object:
        calls.append([str(a) for a in argv])
        failed = argv[1] == "exec"  # the node is gone
        return cluster_kind.programs.Completed(1 if failed else 0, "", "error: no such container")

    monkeypatch.setattr(cluster_kind.programs, "run", run)
    provider = make(tmp_path, [])
    provider.node_image = "kindest/node:v1"
    data = tmp_path / "pv" / "w" / "0"
    data.mkdir(parents=True)
    (data / "ibdata1").write_text("x")
    empty = tmp_path / "pv" / "w" / "1"
    empty.mkdir()
    provider.pv_mounts = {"w": [(data, "/mnt/data"), (empty, "/mnt/other")]}
    assert provider._empty_pv_mounts() == []
    assert calls == [
        ["docker", "exec", "w", "find", "/mnt/data", "-mindepth", "1", "-delete"],
        ["docker", "run", "--rm", "--entrypoint", "find", "-v", f"{data}:/pv",
         "kindest/node:v1", "/pv", "-mindepth", "1", "-delete"],
    ]  # fmt: skip


def test_the_online_path_says_in_one_line_what_it_will_pull(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MYSQLSTS_KIND_NODE_IMAGE", raising=False)
    monkeypatch.delenv("MYSQLSTS_CLIENT_IMAGE", raising=False)
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: False)
    monkeypatch.setattr(cluster_kind.programs, "find_kind", lambda prefer_lab: Path("/bin/kind"))
    monkeypatch.setattr(kind_images, "check_docker", lambda: None)
    monkeypatch.setattr(cluster_kind.KindProvider, "_existing_clusters", lambda self: [])
    provider = cluster_kind.KindProvider(
        settings.resolve({}, {}),
        tmp_path,
        ["mysql:5.7-debian", "gcr.io/x/xb:1"],
        "mysql:5.7-debian",
    )
    (line,) = provider.preflight()
    assert line == (
        f"will pull kind node image {kind_images.kind_release.NODE_IMAGE}; into the cluster: "
        "mysql:5.7-debian, gcr.io/x/xb:1 (kind /bin/kind)"
    )


def test_through_a_mirror_the_node_image_is_pulled_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYSQLSTS_KIND_NODE_IMAGE", "kindest/node:v1.32.0")
    monkeypatch.setattr(kind_images, "docker_has_image", lambda image: False)
    monkeypatch.setattr(cluster_kind.programs, "find_kind", lambda prefer_lab: Path("/bin/kind"))
    monkeypatch.setattr(kind_images, "check_docker", lambda: None)
    monkeypatch.setattr(cluster_kind.KindProvider, "_existing_clusters", lambda self: [])
    monkeypatch.setattr(
        cluster_kind.mirror, "node_endpoint", lambda m: ("https://r.corp:5000", None)
    )
    provider = cluster_kind.KindProvider(
        settings.resolve({"registry_mirror": "r.corp:5000"}, {}),
        tmp_path,
        ["mysql:5.7"],
        "mysql:5.7",
    )
    (line,) = provider.preflight()
    assert provider.node_image == "r.corp:5000/kindest/node:v1.32.0"
    assert "through the mirror r.corp:5000: mysql:5.7" in line


def test_exported_logs_are_masked_even_when_kind_reports_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kind collects what it can (a node without crictl is an error at the end)."""
    from mysqlsts.redaction import register_secret

    register_secret("s3cret-export")
    logs = tmp_path / "kind-logs"

    def export(argv: list[str], timeout: float) -> object:
        (logs / "node").mkdir(parents=True)
        (logs / "node" / "sidecar.log").write_text("mysql -ps3cret-export\n")
        return cluster_kind.programs.Completed(1, "", "ERROR: crictl images failed")

    monkeypatch.setenv("MYSQLSTS_KIND_LOGS", str(logs))
    monkeypatch.setattr(cluster_kind.programs, "run", export)
    provider = make(tmp_path, [])
    provider.kind_bin = Path("/bin/kind")
    (line,) = provider._export_logs()
    assert "with errors (ERROR: crictl images failed)" in line
    assert "masked in 1 files" in line
    assert (logs / "node" / "sidecar.log").read_text() == "mysql -p***\n"


def test_deleting_the_cluster_removes_the_runs_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab's smoke suite has no Run around its provider: the provider cleans up itself."""
    monkeypatch.delenv("MYSQLSTS_KIND_LOGS", raising=False)
    monkeypatch.setattr(
        cluster_kind.programs,
        "run",
        lambda argv, timeout: cluster_kind.programs.Completed(0, "", ""),
    )
    state = tmp_path / "state"
    (state / "certs.d").mkdir(parents=True)
    provider = make(state, [])
    provider.created, provider.kind_bin = True, Path("/bin/kind")
    lines = provider.down(keep=False)
    assert lines[0].startswith("deleted kind cluster mysqlsts")
    assert not state.exists()
