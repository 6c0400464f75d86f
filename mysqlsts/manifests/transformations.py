"""The visible changes the suite makes to the rendered manifests before applying them.

The files on disk are never edited. Each function takes rendered objects and returns new
objects plus human-readable descriptions of what it changed; the run collects those
descriptions and the report shows them, so that a reader knows exactly how what was
tested differs from what the manifests say.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from mysqlsts.labels import LOCAL_PV_LABEL_KEY, LOCAL_PV_LABEL_VALUE, RUN_LABEL_KEY

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


def retarget_local_pvs(
    objects: list[Obj],
    key: str = LOCAL_PV_LABEL_KEY,
    value: str = LOCAL_PV_LABEL_VALUE,
) -> Transformed:
    """Make every node-bound PV select the node labelled ``key=value``.

    The article pins its PVs to its own node (kubernetes.io/hostname In [172.31.170.51]);
    no test cluster has that node, so the PVs would never bind. A local PV must name its
    node (the API requires nodeAffinity for ``local``), hence a rewrite rather than a
    removal. PVs without nodeAffinity (network storage) are left alone.
    """
    wanted = [{"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}]
    result = Transformed(objects=[])
    for obj in objects:
        spec = obj.get("spec") or {}
        required = ((spec.get("nodeAffinity") or {}).get("required")) or {}
        is_node_bound = obj.get("kind") == "PersistentVolume" and (
            "local" in spec or required.get("nodeSelectorTerms")
        )
        if not is_node_bound:
            result.objects.append(obj)
            continue
        before = describe_node_selector_terms(required.get("nodeSelectorTerms") or [])
        new = copy.deepcopy(obj)
        new["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": wanted}}
        after = describe_node_selector_terms(wanted)
        result.objects.append(new)
        if before != after:
            result.changes.append(
                f"PersistentVolume {obj['metadata']['name']}: nodeAffinity {before} -> {after} "
                "(the node the suite labelled for local PVs)"
            )
    return result


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
    """All transformations of a run, in order, with their change descriptions."""
    changes: list[str] = []
    for step in (
        lambda objs: retarget_local_pvs(objs),
        lambda objs: ensure_namespace(objs, namespace),
        lambda objs: label_for_run(objs, run_id),
    ):
        done = step(objects)
        objects = done.objects
        changes += done.changes
    return Transformed(objects=objects, changes=changes)
