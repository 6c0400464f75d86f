"""The existing-cluster provider: the cluster of a kubeconfig, borrowed and given back.

It never deletes anything it did not create and changes no node. A PV whose node exists
in the cluster keeps its node affinity as written; a PV naming a node the cluster lacks
is refused (one line) unless the user names its stand-in (``--pv-node FROM=TO``, or
``--local-pv-node NODE`` for all of them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mysqlsts.cluster.provider import CLIENT_IMAGE_ENV, ClusterInfo
from mysqlsts.errors import EnvironmentProblem, InputError
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import is_node_ready, is_schedulable
from mysqlsts.manifests import placement
from mysqlsts.manifests.placement import Placement
from mysqlsts.settings import Settings

Obj = dict[str, Any]
REACH_TIMEOUT = 10.0


class ExistingProvider:
    def __init__(self, settings: Settings, state_dir: Path, mysql_image: str) -> None:
        self.settings = settings
        self.state_dir = state_dir
        self.kube: Kube | None = None
        self.nodes: list[Obj] | None = None
        # In-cluster clients use an image the cluster can already pull (it runs it).
        self.client_image = os.environ.get(CLIENT_IMAGE_ENV) or mysql_image

    owns_cluster = False
    # The node's disk stays after the run: the run removes what it wrote there.
    node_data_outlives_run = True

    @property
    def kubeconfig(self) -> Path:
        assert self.settings.kubeconfig is not None, "settings resolve a kubeconfig for existing"
        return self.settings.kubeconfig

    def place(self, objects: list[Obj]) -> Placement:
        assert self.nodes is not None, "preflight() first"
        ready = [n for n in self.nodes if is_node_ready(n)]
        mapping = placement.map_nodes(
            placement.source_nodes(objects),
            self.settings.pv_nodes,
            sorted(n["metadata"]["name"] for n in ready),
            spread=False,
            fallback=self.settings.local_pv_node,
        )
        return placement.place(objects, mapping, [n for n in ready if is_schedulable(n)])

    def preflight(self) -> list[str]:
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
            self.nodes = self.kube.list_nodes()
        except KubeError as error:
            raise EnvironmentProblem(f"cannot list nodes: {error}") from None
        return ["the cluster's nodes pull the deployment's images as they are configured to"]

    def up(self, pvs: Placement) -> ClusterInfo:
        assert self.kube is not None, "preflight() first"
        notes = [f"existing cluster at {self.kube.server}; PVs on {', '.join(pvs.pv_nodes)}"]
        return ClusterInfo(
            "existing", self.kube.server, self.kubeconfig, self.client_image, notes=notes
        )

    def down(self, keep: bool) -> list[str]:
        return []  # nothing of the cluster itself was changed
