"""The existing provider borrows nodes as they are: PV nodes it lacks must be mapped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import article
import pytest

from mysqlsts import settings
from mysqlsts.cluster.existing import ExistingProvider
from mysqlsts.errors import InputError


def node(name: str, ready: bool = True, taint: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"taints": [{"key": "k", "effect": "NoSchedule"}]} if taint else {}
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": spec,
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def provider(tmp_path: Path, nodes: list[dict[str, Any]], **values: Any) -> ExistingProvider:
    chosen = settings.resolve(
        {"cluster": "existing", "kubeconfig": str(tmp_path / "k"), **values}, environ={}
    )
    made = ExistingProvider(chosen, tmp_path, "mysql:5.7")
    made.nodes = nodes  # what preflight would have listed
    return made


def test_a_pv_node_the_cluster_lacks_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"name node 172.31.170.51, which the cluster lacks \(nodes: "
        r"w1, w2\): map it with --pv-node 172.31.170.51=NODE",
    ):
        provider(tmp_path, [node("w1"), node("w2")]).place(article.objects())


def test_a_mapped_pv_node_lands_on_its_stand_in(tmp_path: Path) -> None:
    made = provider(tmp_path, [node("w1"), node("w2")], pv_node=["172.31.170.51=w2"])
    placed = made.place(article.objects())
    assert placed.mapping == {"172.31.170.51": "w2"}
    assert placed.pv_nodes == ["w2"]
    assert placed.paths_by_node() == {
        "w2": ["/data/svr/projects/mysql", "/data/svr/projects/mysql2", "/data/svr/projects/mysql3"]
    }


def test_the_shorthand_maps_every_missing_node(tmp_path: Path) -> None:
    made = provider(tmp_path, [node("w1")], local_pv_node="w1")
    assert made.place(article.objects()).mapping == {"172.31.170.51": "w1"}


def test_a_pv_node_that_exists_is_kept(tmp_path: Path) -> None:
    made = provider(tmp_path, [node("172.31.170.51"), node("w2")])
    placed = made.place(article.objects())
    assert placed.mapping == {"172.31.170.51": "172.31.170.51"}
    assert placed.describe() == [
        "PV node 172.31.170.51 exists in this cluster: its PVs are kept as written"
    ]


def test_a_mapping_to_a_missing_node_or_from_an_unnamed_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the cluster has no node w9"):
        provider(tmp_path, [node("w1")], pv_node=["172.31.170.51=w9"]).place(article.objects())
    with pytest.raises(InputError, match=r"no PV names node 10\.0\.0\.1"):
        provider(tmp_path, [node("w1")], pv_node=["10.0.0.1=w1"]).place(article.objects())
    with pytest.raises(InputError, match=r"no such node"):
        provider(tmp_path, [node("w1", ready=False)], local_pv_node="w1").place(article.objects())
