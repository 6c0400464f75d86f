"""The existing-cluster provider: the cluster of a kubeconfig, borrowed and given back.

It never deletes anything it did not create. It chooses (or is told) the node for the
local PVs and labels it for them unless it already carries the label; at the end it
removes only a label it added itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mysqlsts.cluster.provider import CLIENT_IMAGE_ENV, ClusterInfo
from mysqlsts.errors import EnvironmentProblem, InputError
from mysqlsts.k8s.client import Kube, KubeError
from mysqlsts.labels import LOCAL_PV_LABEL_KEY, LOCAL_PV_LABEL_VALUE
from mysqlsts.settings import Settings

Obj = dict[str, Any]
REACH_TIMEOUT = 10.0
_CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def _is_ready(node: Obj) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _is_schedulable(node: Obj) -> bool:
    spec = node.get("spec") or {}
    if spec.get("unschedulable"):
        return False
    return not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or [])


def _has_label(node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return labels.get(LOCAL_PV_LABEL_KEY) == LOCAL_PV_LABEL_VALUE


def choose_node(nodes: list[Obj], wanted: str | None) -> tuple[str, bool]:
    """(node name, whether the suite must label it) for the local PVs.

    Order: the node asked for; a node already labelled for local PVs; the first ready,
    schedulable node that is not a control plane.
    """
    names = sorted(n["metadata"]["name"] for n in nodes)
    if wanted:
        for node in nodes:
            if node["metadata"]["name"] == wanted:
                if not _is_ready(node):
                    raise InputError(f"--local-pv-node {wanted} is not Ready")
                return wanted, not _has_label(node)
        raise InputError(f"--local-pv-node {wanted}: no such node (nodes: {', '.join(names)})")
    labelled = sorted(n["metadata"]["name"] for n in nodes if _has_label(n) and _is_ready(n))
    if labelled:
        return labelled[0], False
    candidates = [n for n in nodes if _is_ready(n) and _is_schedulable(n)]
    workers = [
        n
        for n in candidates
        if not any(k in ((n["metadata"].get("labels")) or {}) for k in _CONTROL_PLANE_LABELS)
    ]
    chosen = sorted((workers or candidates), key=lambda n: n["metadata"]["name"])
    if not chosen:
        raise EnvironmentProblem(
            f"no Ready schedulable node for the local PVs (nodes: {', '.join(names) or 'none'})"
        )
    return str(chosen[0]["metadata"]["name"]), True


class ExistingProvider:
    def __init__(self, settings: Settings, state_dir: Path, mysql_image: str) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.labelled_node: str | None = None
        self.kube: Kube | None = None
        # In-cluster clients use an image the cluster can already pull (it runs it).
        self.client_image = os.environ.get(CLIENT_IMAGE_ENV) or mysql_image

    owns_cluster = False
    # The node's disk stays after the run: the run removes what it wrote there.
    node_data_outlives_run = True

    @property
    def kubeconfig(self) -> Path:
        assert self.settings.kubeconfig is not None, "settings resolve a kubeconfig for existing"
        return self.settings.kubeconfig

    def preflight(self) -> None:
        if not self.kubeconfig.is_file():
            raise InputError(f"kubeconfig {self.kubeconfig} does not exist")
        # No retries: an unreachable server must fail within the 30 s promised to users.
        probe = Kube.from_kubeconfig(self.kubeconfig, retries=0)
        try:
            probe.version(timeout=REACH_TIMEOUT)
        except KubeError as error:
            raise EnvironmentProblem(
                f"API server {probe.server} (kubeconfig {self.kubeconfig}) is unreachable: {error}"
            ) from None
        self.kube = Kube.from_kubeconfig(self.kubeconfig)
        try:
            nodes = self.kube.list_nodes()
        except KubeError as error:
            raise EnvironmentProblem(f"cannot list nodes: {error}") from None
        choose_node(nodes, self.settings.local_pv_node)

    def up(self) -> ClusterInfo:
        assert self.kube is not None, "preflight() first"
        node, needs_label = choose_node(self.kube.list_nodes(), self.settings.local_pv_node)
        notes = [f"existing cluster at {self.kube.server}; local PVs on node {node}"]
        if needs_label:
            # Recorded before patching: teardown removes the label even if we are
            # interrupted right after the request went out.
            self.labelled_node = node
            self.kube.patch_node(
                node, {"metadata": {"labels": {LOCAL_PV_LABEL_KEY: LOCAL_PV_LABEL_VALUE}}}
            )
            notes.append(
                f"node {node} labelled {LOCAL_PV_LABEL_KEY}={LOCAL_PV_LABEL_VALUE} for this run"
            )
        name = self.kube.server
        return ClusterInfo("existing", name, self.kubeconfig, node, self.client_image, notes)

    def down(self, keep: bool) -> list[str]:
        if keep or self.labelled_node is None or self.kube is None:
            return []
        node, self.labelled_node = self.labelled_node, None
        try:
            self.kube.patch_node(node, {"metadata": {"labels": {LOCAL_PV_LABEL_KEY: None}}})
        except KubeError as error:
            return [f"could not remove label {LOCAL_PV_LABEL_KEY} from node {node}: {error}"]
        return [f"removed label {LOCAL_PV_LABEL_KEY} from node {node}"]
