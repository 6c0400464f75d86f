from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mysqlsts import incluster

NODE: dict[str, Any] = {
    "metadata": {
        "name": "kind-worker",
        "labels": {
            "kubernetes.io/hostname": "kind-worker",
            "mysqlsts.io/local-pv": "true",
            "n": "5",
        },
    }
}


def _affinity(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"required": {"nodeSelectorTerms": list(terms)}}


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"matchExpressions": [{"key": key, "operator": operator, "values": list(values)}]}


@pytest.mark.parametrize(
    ("term", "matches"),
    [
        (_expr("kubernetes.io/hostname", "In", "kind-worker"), True),
        (_expr("kubernetes.io/hostname", "In", "172.31.170.51"), False),
        (_expr("kubernetes.io/hostname", "NotIn", "kind-worker"), False),
        (_expr("zone", "NotIn", "a"), True),  # absent label: NotIn holds
        (_expr("mysqlsts.io/local-pv", "Exists"), True),
        (_expr("mysqlsts.io/local-pv", "DoesNotExist"), False),
        (_expr("n", "Gt", "4"), True),
        (_expr("n", "Lt", "5"), False),
        (
            {
                "matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": ["kind-worker"]}
                ]
            },
            True,
        ),
        ({}, False),  # an empty term matches nothing
    ],
)
def test_node_matches_evaluates_each_operator(term: dict[str, Any], matches: bool) -> None:
    assert incluster.node_matches(NODE, _affinity(term)) is matches


def test_terms_are_ored_and_expressions_anded() -> None:
    wrong = _expr("kubernetes.io/hostname", "In", "other")
    both = {
        "matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["kind-worker"]},
            {"key": "mysqlsts.io/local-pv", "operator": "In", "values": ["false"]},
        ]
    }
    assert not incluster.node_matches(NODE, _affinity(wrong, both))
    assert incluster.node_matches(NODE, _affinity(wrong, _expr("n", "In", "5")))


def test_no_affinity_admits_every_node() -> None:
    assert incluster.node_matches(NODE, None)
    assert incluster.node_matches(NODE, {})


def test_quantity_compares_binary_and_decimal_units() -> None:
    assert incluster.quantity("15Gi") > incluster.quantity("3Gi")
    assert incluster.quantity("1Gi") == Decimal(1024**3)
    assert incluster.quantity("1G") < incluster.quantity("1Gi")


def test_scratch_pod_is_pinned_sleeps_and_carries_no_deployment_label() -> None:
    pod = incluster.scratch_pod_manifest(
        "p",
        "mysql",
        "img",
        run_id="r1",
        node="kind-worker",
        host_mounts=[incluster.HostMount("/data/x", "/pv/0")],
        claims={"c": "/data"},
        as_root=True,
    )
    spec = pod["spec"]
    assert pod["metadata"]["labels"] == {"mysqlsts.io/run": "r1", "mysqlsts.io/scratch": "true"}
    assert spec["nodeName"] == "kind-worker" and spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == incluster.SCRATCH_DEADLINE_SECONDS
    container = spec["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"][0] == "sleep" and container["securityContext"] == {"runAsUser": 0}
    assert spec["volumes"] == [
        {"name": "host0", "hostPath": {"path": "/data/x", "type": "Directory"}},
        {"name": "claim0", "persistentVolumeClaim": {"claimName": "c"}},
    ]
    assert container["volumeMounts"] == [
        {"name": "host0", "mountPath": "/pv/0", "readOnly": True},
        {"name": "claim0", "mountPath": "/data"},
    ]


def test_unpinned_scratch_pod_leaves_scheduling_to_the_scheduler() -> None:
    pod = incluster.scratch_pod_manifest("p", "mysql", "img", run_id="r1")
    assert "nodeName" not in pod["spec"] and "securityContext" not in pod["spec"]["containers"][0]


def test_env_from_container_keeps_a_secret_reference() -> None:
    ref = {"secretKeyRef": {"name": "mysql-secret", "key": "password"}}
    container = {
        "env": [{"name": "A", "value": "1"}, {"name": "MYSQL_ROOT_PASSWORD", "valueFrom": ref}]
    }
    assert incluster.env_from_container(container, "MYSQL_ROOT_PASSWORD", "MYSQL_PWD") == [
        {"name": "MYSQL_PWD", "valueFrom": ref}
    ]
    assert incluster.env_from_container(container, "MISSING", "X") == []


def test_client_image_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(incluster.CLIENT_IMAGE_ENV, "registry/client:1")
    assert incluster.client_image("kind", "c", "mysql:5.7") == "registry/client:1"
    monkeypatch.delenv(incluster.CLIENT_IMAGE_ENV)
    assert incluster.client_image("existing", "c", "mysql:5.7") == "mysql:5.7"
