from __future__ import annotations

import article

from mysqlsts.manifests import transformations as t


def test_pvs_name_the_node_that_stands_for_theirs_and_the_change_is_described() -> None:
    original = article.objects()
    done = t.map_pv_nodes(original, {"172.31.170.51": "mysqlsts-worker"})
    pvs = [o for o in done.objects if o["kind"] == "PersistentVolume"]
    assert len(pvs) == 3
    for pv in pvs:
        term = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert term == [
            {
                "matchExpressions": [
                    {
                        "key": "kubernetes.io/hostname",
                        "operator": "In",
                        "values": ["mysqlsts-worker"],
                    }
                ]
            }
        ]
        assert pv["spec"]["local"]["path"].startswith("/data/svr/projects/mysql")
    assert done.changes[0] == (
        "PersistentVolume example-mysql-pv: nodeAffinity kubernetes.io/hostname In [172.31.170.51] "
        "-> kubernetes.io/hostname In [mysqlsts-worker] (the cluster node that stands for the "
        "node the manifests name)"
    )
    assert len(done.changes) == 3
    # The input is untouched (files are never edited; objects neither).
    assert original == article.objects()


def test_pvs_without_node_affinity_are_left_alone() -> None:
    network_pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "nfs"},
        "spec": {"nfs": {}},
    }
    done = t.map_pv_nodes([network_pv], {"a": "b"})
    assert done.objects == [network_pv] and done.changes == []


def test_pvs_whose_node_exists_report_no_change() -> None:
    done = t.map_pv_nodes(article.objects(), {"172.31.170.51": "172.31.170.51"})
    assert done.changes == [] and done.objects == article.objects()


def test_describe_terms() -> None:
    terms = [
        {
            "matchExpressions": [
                {"key": "a", "operator": "In", "values": ["1", "2"]},
                {"key": "b", "operator": "Exists"},
            ]
        },
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n"]}]},
    ]
    assert (
        t.describe_node_selector_terms(terms)
        == "a In [1, 2] AND b Exists [] OR field metadata.name In [n]"
    )


def test_missing_namespace_is_added_and_reported() -> None:
    without = [o for o in article.objects() if o["kind"] != "Namespace"]
    done = t.ensure_namespace(without, "mysql")
    assert done.objects[0] == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "mysql"},
    }
    assert done.changes == ["Namespace mysql: added (the manifests use it but do not create it)"]
    assert t.ensure_namespace(article.objects(), "mysql").changes == []


def test_prepare_labels_metadata_only_and_lists_every_change() -> None:
    done = t.prepare(article.objects(), "mysql", "r1")
    assert all(o["metadata"]["labels"][t.RUN_LABEL_KEY] == "r1" for o in done.objects)
    sts = article.statefulset(done.objects)
    assert t.RUN_LABEL_KEY not in sts["spec"]["template"]["metadata"]["labels"]
    assert sts["metadata"]["labels"]["app"] == "mysql"
    assert len(done.changes) == 1 and "mysqlsts.io/run=r1" in done.changes[-1]


def tutorial_objects() -> list[dict]:
    """The article's objects as the Kubernetes tutorial has them: no namespace anywhere."""
    objects = [o for o in article.objects() if o["kind"] != "Namespace"]
    for obj in objects:
        obj["metadata"].pop("namespace", None)
    return objects


def test_namespace_less_manifests_are_placed_in_the_runs_namespace() -> None:
    done = t.prepare(tutorial_objects(), "mysqlsts-r1", "r1")
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in done.objects}
    assert by_kind[("Namespace", "mysqlsts-r1")]["metadata"]["labels"][t.RUN_LABEL_KEY] == "r1"
    assert by_kind[("StatefulSet", "mysql")]["metadata"]["namespace"] == "mysqlsts-r1"
    assert by_kind[("Service", "mysql-read")]["metadata"]["namespace"] == "mysqlsts-r1"
    # Cluster-scoped objects stay outside namespaces.
    assert all(
        "namespace" not in o["metadata"]
        for o in done.objects
        if o["kind"] in ("PersistentVolume", "StorageClass", "Namespace")
    )
    assert done.changes[0].startswith("namespace mysqlsts-r1: the manifests name none; ")
    assert "StatefulSet mysql" in done.changes[0] and "created for the run" in done.changes[0]


def test_manifests_with_a_namespace_keep_it() -> None:
    assert t.place_in_namespace(article.objects(), "other").changes == []
