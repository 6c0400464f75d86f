"""Where the PVs live: the nodes they name and the stand-ins the providers choose."""

from __future__ import annotations

import article
import pytest

from mysqlsts.errors import InputError
from mysqlsts.manifests import placement


def test_the_articles_pvs_name_one_node() -> None:
    assert placement.source_nodes(article.objects()) == ["172.31.170.51"]


def test_two_pvs_of_one_node_cannot_share_a_directory() -> None:
    objects = article.objects()
    pvs = [o for o in objects if o["kind"] == "PersistentVolume"]
    pvs[1]["spec"]["local"]["path"] = pvs[0]["spec"]["local"]["path"]
    with pytest.raises(
        InputError, match="would share directory /data/svr/projects/mysql on node w"
    ):
        placement.place(objects, {"172.31.170.51": "w"}, [])


def test_spreading_gives_each_named_node_a_free_cluster_node() -> None:
    mapping = placement.map_nodes(["a", "b"], [("b", "w1")], ["w1", "w2", "w3"], spread=True)
    assert mapping == {"b": "w1", "a": "w2"}


def test_a_pv_that_admits_no_node_is_refused() -> None:
    objects = article.objects()
    pv = next(o for o in objects if o["kind"] == "PersistentVolume")
    pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["nowhere"]}]}
    ]
    nodes = [{"metadata": {"name": "w1", "labels": {"zone": "here"}}}]
    with pytest.raises(InputError, match="admits no node"):
        placement.place(objects, {"172.31.170.51": "w1"}, nodes)
