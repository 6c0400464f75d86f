"""Node affinity, evaluated the way the scheduler does.

:func:`node_matches` tells whether a PersistentVolume's ``nodeAffinity`` admits a node,
so that a check can say "this pod runs on a node that PV allows" without trusting the
scheduler it is checking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]


def _requirement_matches(expr: Mapping[str, Any], values_of: Mapping[str, str]) -> bool:
    key = str(expr.get("key"))
    operator = expr.get("operator")
    wanted = [str(v) for v in expr.get("values") or []]
    present = key in values_of
    value = values_of.get(key)
    if operator == "In":
        return present and value in wanted
    if operator == "NotIn":
        return not present or value not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(wanted) == 1:
        try:
            have, limit = int(str(value)), int(wanted[0])
        except ValueError:
            return False
        return have > limit if operator == "Gt" else have < limit
    return False


def term_matches(term: Mapping[str, Any], node: Obj) -> bool:
    """One NodeSelectorTerm: every expression and field requirement holds (AND).

    An empty term matches nothing, as in the scheduler.
    """
    expressions = list(term.get("matchExpressions") or [])
    fields = list(term.get("matchFields") or [])
    if not expressions and not fields:
        return False
    labels = {str(k): str(v) for k, v in ((node.get("metadata") or {}).get("labels") or {}).items()}
    node_fields = {"metadata.name": str((node.get("metadata") or {}).get("name"))}
    return all(_requirement_matches(e, labels) for e in expressions) and all(
        _requirement_matches(f, node_fields) for f in fields
    )


def node_matches(node: Obj, node_affinity: Mapping[str, Any] | None) -> bool:
    """Whether a PV's ``spec.nodeAffinity`` admits ``node`` (terms are ORed).

    No affinity at all admits every node; an affinity without required terms too.
    """
    if not node_affinity:
        return True
    required = node_affinity.get("required")
    if not required:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


def nodes_admitted(nodes: list[Obj], node_affinity: Mapping[str, Any] | None) -> list[str]:
    """Names of the ``nodes`` that ``node_affinity`` admits, sorted."""
    return sorted(str(n["metadata"]["name"]) for n in nodes if node_matches(n, node_affinity))
