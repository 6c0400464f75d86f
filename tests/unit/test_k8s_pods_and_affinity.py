from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mysqlsts.k8s import affinity, pods
from mysqlsts.k8s import status as podstate

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
    assert affinity.node_matches(NODE, _affinity(term)) is matches


def test_terms_are_ored_and_expressions_anded() -> None:
    wrong = _expr("kubernetes.io/hostname", "In", "other")
    both = {
        "matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["kind-worker"]},
            {"key": "mysqlsts.io/local-pv", "operator": "In", "values": ["false"]},
        ]
    }
    assert not affinity.node_matches(NODE, _affinity(wrong, both))
    assert affinity.node_matches(NODE, _affinity(wrong, _expr("n", "In", "5")))


def test_no_affinity_admits_every_node() -> None:
    assert affinity.node_matches(NODE, None)
    assert affinity.node_matches(NODE, {})


def test_quantity_compares_binary_and_decimal_units() -> None:
    assert podstate.quantity("15Gi") > podstate.quantity("3Gi")
    assert podstate.quantity("1Gi") == Decimal(1024**3)
    assert podstate.quantity("1G") < podstate.quantity("1Gi")


def test_scratch_pod_is_pinned_sleeps_and_carries_no_deployment_label() -> None:
    pod = pods.short_lived_pod(
        "p",
        "mysql",
        "img",
        run_id="r1",
        node="kind-worker",
        host_mounts=[pods.HostMount("/data/x", "/pv/0")],
        claims={"c": "/data"},
        as_root=True,
    )
    spec = pod["spec"]
    assert pod["metadata"]["labels"] == {"mysqlsts.io/run": "r1", "mysqlsts.io/scratch": "check"}
    assert spec["nodeName"] == "kind-worker" and spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == pods.DEADLINE_SECONDS
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
    pod = pods.short_lived_pod("p", "mysql", "img", run_id="r1")
    assert "nodeName" not in pod["spec"] and "securityContext" not in pod["spec"]["containers"][0]


def test_env_from_container_keeps_a_secret_reference() -> None:
    ref = {"secretKeyRef": {"name": "mysql-secret", "key": "password"}}
    container = {
        "env": [{"name": "A", "value": "1"}, {"name": "MYSQL_ROOT_PASSWORD", "valueFrom": ref}]
    }
    assert pods.env_from_container(container, "MYSQL_ROOT_PASSWORD", "MYSQL_PWD") == [
        {"name": "MYSQL_PWD", "valueFrom": ref}
    ]
    assert pods.env_from_container(container, "MISSING", "X") == []


def test_a_pod_that_runs_a_command_once_is_scheduled_by_selector() -> None:
    pod = pods.short_lived_pod(
        "p",
        "default",
        "img",
        run_id="r1",
        purpose="pv-paths",
        command=["sh", "-c", "true"],
        node_selector={"mysqlsts.io/local-pv": "true"},
    )
    assert pod["spec"]["nodeSelector"] == {"mysqlsts.io/local-pv": "true"}
    assert pod["spec"]["containers"][0]["command"] == ["sh", "-c", "true"]
    assert pod["metadata"]["labels"]["mysqlsts.io/scratch"] == "pv-paths"


def test_long_names_are_cut_to_a_valid_pod_name() -> None:
    name = pods.short_lived_pod("x" * 70 + "-", "ns", "img", run_id="r")["metadata"]["name"]
    assert len(name) <= 63 and not name.endswith("-")


def test_nodes_admitted_lists_the_matching_nodes() -> None:
    nodes = [
        {"metadata": {"name": "b", "labels": {"zone": "1"}}},
        {"metadata": {"name": "a", "labels": {"zone": "1"}}},
        {"metadata": {"name": "c", "labels": {"zone": "2"}}},
    ]
    pv_affinity = _affinity(_expr("zone", "In", "1"))
    assert affinity.nodes_admitted(nodes, pv_affinity) == ["a", "b"]
