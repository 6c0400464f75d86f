from __future__ import annotations

import random

import article

from mysqlsts.deploy import apply as deploy


def test_objects_are_applied_in_the_articles_order_whatever_the_renderer_emits() -> None:
    objs = article.objects()
    shuffled = objs[:]
    random.Random(4).shuffle(shuffled)
    extra = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "sa", "namespace": "mysql"},
    }
    ordered = deploy.apply_order([*shuffled, extra])
    assert [o["kind"] for o in ordered] == [
        "PersistentVolume",
        "PersistentVolume",
        "PersistentVolume",
        "StorageClass",
        "Namespace",
        "ConfigMap",
        "Secret",
        "Service",
        "Service",
        "ServiceAccount",
        "StatefulSet",
    ]


def test_foreign_contents_ignore_builtins_and_the_runs_own_objects() -> None:
    listing = {
        "ConfigMap": [
            {"metadata": {"name": "kube-root-ca.crt"}},
            {"metadata": {"name": "app-config"}},
        ],
        "Secret": [{"metadata": {"name": "tok"}, "type": "kubernetes.io/service-account-token"}],
        "Pod": [{"metadata": {"name": "mine", "labels": {"mysqlsts.io/run": "r1"}}}],
        "StatefulSet": [{"metadata": {"name": "mysql", "labels": {"mysqlsts.io/run": "r0"}}}],
    }
    assert deploy.foreign_contents(listing, "r1") == ["ConfigMap app-config", "StatefulSet mysql"]
    assert (
        deploy.foreign_contents({"ConfigMap": [{"metadata": {"name": "kube-root-ca.crt"}}]}, "r1")
        == []
    )


def test_storage_class_reuse_needs_the_same_settings() -> None:
    wanted = article.objects()[3]
    assert deploy.storage_class_compatible(dict(wanted), wanted)
    assert not deploy.storage_class_compatible({**wanted, "volumeBindingMode": "Immediate"}, wanted)
