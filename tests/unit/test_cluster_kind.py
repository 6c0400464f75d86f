"""The kind provider's choices that need no cluster: which node, which images, one load."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from mysqlsts import settings
from mysqlsts.cluster import kind as cluster_kind
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.labels import LOCAL_PV_LABEL_KEY, LOCAL_PV_LABEL_VALUE


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


CONTROL_PLANE = node("c-control-plane", **{"node-role.kubernetes.io/control-plane": ""})
WORKER = node("c-worker", **{LOCAL_PV_LABEL_KEY: LOCAL_PV_LABEL_VALUE})


def test_local_pv_node_is_the_labelled_one() -> None:
    assert cluster_kind.local_pv_node("c", [CONTROL_PLANE, WORKER]) == "c-worker"


def test_a_cluster_without_the_label_is_not_ours() -> None:
    with pytest.raises(EnvironmentProblem, match="has no node labelled"):
        cluster_kind.local_pv_node("c", [CONTROL_PLANE, node("c-worker")])


def test_images_go_to_every_node_in_one_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(cluster_kind, "docker_has_image", lambda image: image != "absent:1")
    monkeypatch.setattr(
        cluster_kind.subprocess, "run", lambda command, check: commands.append(command)
    )
    provider = cluster_kind.KindProvider(
        settings.resolve({}, {}), tmp_path, ["db:1", "absent:1", "backup:1"], [], "db:1"
    )
    provider.kind_bin = Path("/bin/kind")
    notes: list[str] = []
    provider._load_images(notes)
    assert commands == [
        [Path("/bin/kind"), "load", "docker-image", "--name", provider.name, "db:1", "backup:1"]
    ]
    assert notes and notes[0].startswith("images db:1, backup:1 loaded into the nodes")


def test_a_failed_load_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(command: list[str], check: bool) -> None:
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(cluster_kind, "docker_has_image", lambda image: True)
    monkeypatch.setattr(cluster_kind.subprocess, "run", fail)
    provider = cluster_kind.KindProvider(settings.resolve({}, {}), tmp_path, ["db:1"], [], "db:1")
    provider.kind_bin = Path("/bin/kind")
    with pytest.raises(EnvironmentProblem, match="kind load docker-image db:1 failed"):
        provider._load_images([])
