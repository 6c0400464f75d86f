"""Where the manifests' PVs live: the nodes they name, and the cluster nodes standing for them.

A local PV names its node in its node affinity (the article: ``kubernetes.io/hostname In
[172.31.170.51]``). A test cluster rarely has that node, so each node a PV names is
mapped to one node of the cluster: on kind, one worker per named node (the other workers
stay spare, so that a pod its PV does not hold can go elsewhere); on an existing cluster,
a named node that exists keeps its PVs untouched and one that does not must be mapped by
the user (``--pv-node FROM=TO``). A PV that names no node (its affinity selects by other
labels) keeps its affinity, and its directory is made on every node that affinity admits.

Pure functions of the PV objects; the providers decide the mapping, the transformations
apply it, the run prepares the directories where :class:`Placement` says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mysqlsts.errors import InputError
from mysqlsts.k8s.affinity import nodes_admitted

Obj = dict[str, Any]
HOSTNAME_LABEL = "kubernetes.io/hostname"


def local_path(pv: Obj) -> str:
    spec = pv.get("spec") or {}
    return str(((spec.get("local") or spec.get("hostPath") or {}).get("path")) or "")


def named_nodes(pv: Obj) -> list[str]:
    """The nodes a PV's required node affinity names by hostname (``In`` values)."""
    required = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")) or {}
    names: list[str] = []
    for term in required.get("nodeSelectorTerms") or []:
        for expr in term.get("matchExpressions") or []:
            if expr.get("key") == HOSTNAME_LABEL and expr.get("operator") == "In":
                names += [str(v) for v in expr.get("values") or [] if str(v) not in names]
    return names


def pvs_of(objects: Iterable[Obj]) -> list[Obj]:
    return [o for o in objects if o.get("kind") == "PersistentVolume"]


def source_nodes(objects: Iterable[Obj]) -> list[str]:
    """Every node the PVs name, in the order the manifests first name them."""
    found: list[str] = []
    for pv in pvs_of(objects):
        found += [n for n in named_nodes(pv) if n not in found]
    return found


@dataclass
class Placement:
    """The PV nodes' stand-ins, and which cluster nodes hold each PV's directory."""

    mapping: dict[str, str] = field(default_factory=dict)  # named node -> cluster node
    nodes_by_pv: dict[str, list[str]] = field(default_factory=dict)
    path_by_pv: dict[str, str] = field(default_factory=dict)

    def paths_by_node(self) -> dict[str, list[str]]:
        """Cluster node -> the PV directories it holds (distinct, in the manifests' order)."""
        found: dict[str, list[str]] = {}
        for pv, nodes in self.nodes_by_pv.items():
            for node in nodes:
                paths = found.setdefault(node, [])
                if self.path_by_pv[pv] and self.path_by_pv[pv] not in paths:
                    paths.append(self.path_by_pv[pv])
        return found

    @property
    def pv_nodes(self) -> list[str]:
        """The cluster nodes that hold a PV, sorted."""
        return sorted({n for nodes in self.nodes_by_pv.values() for n in nodes})

    def describe(self) -> list[str]:
        """One line per PV node: where its PVs are in this cluster."""
        return [
            f"PV node {source} is {target} in this cluster"
            if source != target
            else f"PV node {source} exists in this cluster: its PVs are kept as written"
            for source, target in self.mapping.items()
        ]


def place(objects: list[Obj], mapping: Mapping[str, str], nodes: list[Obj]) -> Placement:
    """The placement of the PVs, given the mapping of their named nodes and the cluster's
    ``nodes`` (for PVs that name none: those their affinity admits).

    Refused (one line, nothing created): two PVs of one node sharing a directory.
    """
    placement = Placement(mapping=dict(mapping))
    for pv in pvs_of(objects):
        name = str(pv["metadata"]["name"])
        named = named_nodes(pv)
        if named:
            targets = [mapping[n] for n in named]
        else:
            affinity = (pv.get("spec") or {}).get("nodeAffinity")
            targets = nodes_admitted(nodes, affinity)
            if not targets:
                raise InputError(f"PersistentVolume {name}'s node affinity admits no node")
        placement.nodes_by_pv[name] = list(dict.fromkeys(targets))
        placement.path_by_pv[name] = local_path(pv)
    owner: dict[tuple[str, str], str] = {}
    for pv, nodes_of_pv in placement.nodes_by_pv.items():
        for node in nodes_of_pv:
            key = (node, placement.path_by_pv[pv])
            if key[1] and key in owner:
                raise InputError(
                    f"PersistentVolumes {owner[key]} and {pv} would share directory {key[1]} "
                    f"on node {node}: one node cannot hold both"
                )
            owner[key] = pv
    return placement


def map_nodes(
    sources: list[str],
    requested: Iterable[tuple[str, str]],
    cluster_nodes: list[str],
    *,
    spread: bool,
    fallback: str | None = None,
) -> dict[str, str]:
    """Which cluster node stands for each node the PVs name.

    ``requested`` (``--pv-node FROM=TO``) wins. Then a named node that exists in the
    cluster stands for itself. The rest: with ``spread`` (kind) each gets a cluster node
    of its own, in order; otherwise ``fallback`` (``--local-pv-node``) or a refusal.
    Every refusal is one line, before anything is created.
    """
    mapping: dict[str, str] = {}
    for source, target in requested:
        if source not in sources:
            raise InputError(
                f"--pv-node {source}={target}: no PV names node {source} "
                f"(they name: {', '.join(sources) or 'none'})"
            )
        if target not in cluster_nodes:
            raise InputError(
                f"--pv-node {source}={target}: the cluster has no node {target} "
                f"(nodes: {', '.join(cluster_nodes)})"
            )
        mapping[source] = target
    free = [n for n in cluster_nodes if n not in mapping.values() and n not in sources]
    for source in sources:
        if source in mapping:
            continue
        if source in cluster_nodes:
            mapping[source] = source
        elif spread and free:
            mapping[source] = free.pop(0)
        elif spread:
            raise InputError(
                f"the PVs name {len(sources)} nodes ({', '.join(sources)}) but the cluster has "
                f"{len(cluster_nodes)} workers: raise --workers"
            )
        elif fallback:
            if fallback not in cluster_nodes:
                raise InputError(
                    f"--local-pv-node {fallback}: no such node (nodes: {', '.join(cluster_nodes)})"
                )
            mapping[source] = fallback
        else:
            raise InputError(
                f"the PVs name node {source}, which the cluster lacks (nodes: "
                f"{', '.join(cluster_nodes)}): map it with --pv-node {source}=NODE"
            )
    return mapping
