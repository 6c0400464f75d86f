"""The article's objects as dicts (scripts shortened), for tests that need no files.

The real manifests live in manifests/upstream (owned by the manifests work); tests that
need them byte-for-byte use those and skip while they are absent.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import yaml

from mysqlsts.k8s.local_pv import local_pv

Obj = dict[str, Any]


def _pv(name: str, path: str) -> Obj:
    return local_pv(name, path, "172.31.170.51", "local-storage", "15Gi", reclaim_policy="Delete")


def _password_env() -> Obj:
    return {
        "name": "MYSQL_ROOT_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "password"}},
    }


ARTICLE: list[Obj] = [
    _pv("example-mysql-pv", "/data/svr/projects/mysql"),
    _pv("example-mysql-pv-2", "/data/svr/projects/mysql2"),
    _pv("example-mysql-pv-3", "/data/svr/projects/mysql3"),
    {
        "kind": "StorageClass",
        "apiVersion": "storage.k8s.io/v1",
        "metadata": {"name": "local-storage"},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "WaitForFirstConsumer",
    },
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "mysql", "labels": {"app": "mysql"}},
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "mysql", "namespace": "mysql", "labels": {"app": "mysql"}},
        "data": {
            "master.cnf": "[mysqld]\nlog-bin=mysqllog\n",
            "slave.cnf": "[mysqld]\nsuper-read-only\n",
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "mysql-secret", "namespace": "mysql", "labels": {"app": "mysql"}},
        "type": "Opaque",
        "data": {"password": base64.b64encode(b"123456").decode()},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "mysql", "namespace": "mysql", "labels": {"app": "mysql"}},
        "spec": {
            "ports": [{"name": "mysql", "port": 3306}],
            "clusterIP": "None",
            "selector": {"app": "mysql"},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "mysql-read", "namespace": "mysql", "labels": {"app": "mysql"}},
        "spec": {"ports": [{"name": "mysql", "port": 3306}], "selector": {"app": "mysql"}},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "mysql", "namespace": "mysql", "labels": {"app": "mysql"}},
        "spec": {
            "selector": {"matchLabels": {"app": "mysql"}},
            "serviceName": "mysql",
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "mysql"}},
                "spec": {
                    "initContainers": [
                        {"name": "init-mysql", "image": "mysql:5.7", "env": [_password_env()]},
                        {
                            "name": "clone-mysql",
                            "image": "gcr.io/google-samples/xtrabackup:1.0",
                            "env": [_password_env()],
                        },
                    ],
                    "containers": [
                        {
                            "name": "mysql",
                            "image": "mysql:5.7",
                            "env": [_password_env()],
                            "ports": [{"name": "mysql", "containerPort": 3306}],
                        },
                        {
                            "name": "xtrabackup",
                            "image": "gcr.io/google-samples/xtrabackup:1.0",
                            "ports": [{"name": "xtrabackup", "containerPort": 3307}],
                            "env": [_password_env()],
                        },
                    ],
                    "volumes": [{"name": "conf", "emptyDir": {}}],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "local-storage",
                        "resources": {"requests": {"storage": "3Gi"}},
                    },
                }
            ],
        },
    },
]

# The article's file names, in its order (the StatefulSet's file holds two Services).
FILES = [
    ("01-persistentVolume-1.yaml", [0]),
    ("01-persistentVolume-2.yaml", [1]),
    ("01-persistentVolume-3.yaml", [2]),
    ("02-storageclass.yaml", [3]),
    ("03-mysql-namespace.yaml", [4]),
    ("04-mysql-configmap.yaml", [5]),
    ("05-mysql-secret.yaml", [6]),
    ("06-mysql-services.yaml", [7, 8]),
    ("07-mysql-statefulset.yaml", [9]),
]


def objects() -> list[Obj]:
    return copy.deepcopy(ARTICLE)


def write(directory: Path, objs: list[Obj] | None = None) -> Path:
    """The article's files in ``directory`` (or ``objs`` one per file)."""
    directory.mkdir(parents=True, exist_ok=True)
    if objs is not None:
        for index, obj in enumerate(objs):
            (directory / f"{index:02d}.yaml").write_text(yaml.safe_dump(obj))
        return directory
    for name, indexes in FILES:
        (directory / name).write_text(yaml.safe_dump_all([ARTICLE[i] for i in indexes]))
    return directory


def statefulset(objs: list[Obj]) -> Obj:
    return next(o for o in objs if o["kind"] == "StatefulSet")
