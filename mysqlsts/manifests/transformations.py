"""The visible changes the suite makes to the rendered manifests before applying them.

The files on disk are never edited. Each function takes rendered objects and returns new
objects plus human-readable descriptions of what it changed; the run collects those
descriptions and the report shows them, so that a reader knows exactly how what was
tested differs from what the manifests say.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mysqlsts.labels import RUN_LABEL_KEY
from mysqlsts.manifests.placement import HOSTNAME_LABEL, named_nodes

Obj = dict[str, Any]


@dataclass
class Transformed:
    objects: list[Obj]
    changes: list[str] = field(default_factory=list)


def describe_node_selector_terms(terms: list[Obj]) -> str:
    """``key In [a, b] AND ...`` with terms joined by ``OR``, as a reader would say it."""

    def requirement(expr: Obj, prefix: str = "") -> str:
        values = ", ".join(map(str, expr.get("values") or []))
        return f"{prefix}{expr.get('key')} {expr.get('operator')} [{values}]"

    parts = []
    for term in terms:
        exprs = [requirement(e) for e in term.get("matchExpressions") or []]
        exprs += [requirement(e, "field ") for e in term.get("matchFields") or []]
        parts.append(" AND ".join(exprs) or "(empty term)")
    return " OR ".join(parts) or "(no terms)"


def map_pv_nodes(objects: list[Obj], mapping: Mapping[str, str]) -> Transformed:
    """Let every PV name the cluster node that stands for the node it names.

    Only the hostname values of the affinity change (``kubernetes.io/hostname In
    [172.31.170.51]`` becomes ``In [mysqlsts-worker]``); a PV whose nodes exist, or that
    names none, is left as written. See :mod:`mysqlsts.manifests.placement`.
    """
    result = Transformed(objects=[])
    for obj in objects:
        if obj.get("kind") != "PersistentVolume" or not any(
            mapping.get(n, n) != n for n in named_nodes(obj)
        ):
            result.objects.append(obj)
            continue
        new = copy.deepcopy(obj)
        required = new["spec"]["nodeAffinity"]["required"]
        for term in required.get("nodeSelectorTerms") or []:
            for expr in term.get("matchExpressions") or []:
                if expr.get("key") == HOSTNAME_LABEL and expr.get("operator") == "In":
                    expr["values"] = [mapping.get(str(v), str(v)) for v in expr["values"]]
        before = describe_node_selector_terms(
            obj["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        )
        after = describe_node_selector_terms(required["nodeSelectorTerms"])
        result.objects.append(new)
        result.changes.append(
            f"PersistentVolume {obj['metadata']['name']}: nodeAffinity {before} -> {after} "
            "(the cluster node that stands for the node the manifests name)"
        )
    return result


# Kinds that live outside namespaces (those a StatefulSet's manifests may carry).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "Node",
    }
)


def place_in_namespace(objects: list[Obj], namespace: str) -> Transformed:
    """Give every namespaced object that names no namespace this one (``kubectl apply -n``)."""
    placed, moved = [], []
    for obj in objects:
        if obj["kind"] in CLUSTER_SCOPED_KINDS or obj["metadata"].get("namespace"):
            placed.append(obj)
            continue
        new = copy.deepcopy(obj)
        new["metadata"]["namespace"] = namespace
        placed.append(new)
        moved.append(f"{obj['kind']} {obj['metadata']['name']}")
    changes = (
        [
            f"namespace {namespace}: the manifests name none; {', '.join(moved)} placed in it "
            "(created for the run, deleted after it)"
        ]
        if moved
        else []
    )
    return Transformed(objects=placed, changes=changes)


def ensure_namespace(objects: list[Obj], namespace: str) -> Transformed:
    """Add the Namespace object when the manifests use a namespace they do not create."""
    has_it = any(o["kind"] == "Namespace" and o["metadata"]["name"] == namespace for o in objects)
    if has_it:
        return Transformed(objects=list(objects))
    namespace_obj: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    return Transformed(
        objects=[namespace_obj, *objects],
        changes=[f"Namespace {namespace}: added (the manifests use it but do not create it)"],
    )


def label_for_run(objects: list[Obj], run_id: str) -> Transformed:
    """Label every object with the run's id so teardown removes only what the run made."""
    labelled = []
    for obj in objects:
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("labels", {})
        new["metadata"]["labels"] = {**(new["metadata"]["labels"] or {}), RUN_LABEL_KEY: run_id}
        labelled.append(new)
    return Transformed(
        objects=labelled,
        changes=[
            f"every object: label {RUN_LABEL_KEY}={run_id} added to metadata (not to the pod "
            "template), so that teardown removes only what this run created"
        ],
    )


def prepare(objects: list[Obj], namespace: str, run_id: str) -> Transformed:
    """The transformations that need no cluster, in order, with their change descriptions
    (:func:`map_pv_nodes` follows once the provider has placed the PVs). Objects that name
    no namespace are placed in ``namespace``."""
    changes: list[str] = []
    for step in (
        lambda objs: place_in_namespace(objs, namespace),
        lambda objs: ensure_namespace(objs, namespace),
        lambda objs: label_for_run(objs, run_id),
    ):
        done = step(objects)
        objects = done.objects
        changes += done.changes
    return Transformed(objects=objects, changes=changes)
