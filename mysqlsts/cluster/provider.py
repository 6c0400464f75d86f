"""What every cluster provider offers.

A provider checks cheaply that it can work (``preflight``: nothing created yet), brings
the cluster up (``up``), and at the end undoes exactly what it did (``down``). It records
what it created as it goes, so that an interruption at any point still tears down the
right things. Whatever differs between clusters (who owns the cluster, whether the PV
data on the node outlives it, which image in-cluster clients use) is a provider's
answer, never a branch on the provider's name elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mysqlsts.manifests.placement import Placement

Obj = dict[str, Any]
# Another image for in-cluster MySQL clients than the provider's choice (the cluster must
# be able to pull it).
CLIENT_IMAGE_ENV = "MYSQLSTS_CLIENT_IMAGE"
# How the suite reaches a node's own processes, for the checks that kill, freeze or cut
# them off: through the Docker container that is the node (kind), through a privileged pod
# on the node (--node-access pod, any cluster that admits one), or not at all.
NODE_ACCESS_DOCKER = "docker"
NODE_ACCESS_POD = "pod"
NODE_ACCESS_NONE = ""


@dataclass
class ClusterInfo:
    provider: str
    name: str
    kubeconfig: Path
    # Image of in-cluster MySQL client pods (it has the mysql client, getent, ncat).
    client_image: str
    node_access: str = NODE_ACCESS_NONE
    notes: list[str] = field(default_factory=list)


class Provider(Protocol):
    @property
    def owns_cluster(self) -> bool:
        """Whether the run created the cluster (then deleting it removes everything)."""

    @property
    def node_data_outlives_run(self) -> bool:
        """Whether data written under the PV paths stays on the node after the run
        (a borrowed cluster's disk), so that the run must remove it itself."""

    def preflight(self) -> list[str]:
        """Fail with one line if the provider cannot work; create nothing. Returns lines
        for the user (what the run will pull)."""

    def place(self, objects: list[Obj]) -> Placement:
        """Which cluster node stands for each node the PVs name (after ``preflight``);
        a PV node that cannot be placed is refused with one line."""

    def up(self, pvs: Placement) -> ClusterInfo:
        """Create or adopt the cluster, its nodes ready for the PVs of ``pvs``."""

    def down(self, keep: bool) -> list[str]:
        """Undo what ``up`` did (unless ``keep``); return lines for the user."""
