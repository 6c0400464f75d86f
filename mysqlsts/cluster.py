"""What every cluster provider offers, and the choice between them.

A provider checks cheaply that it can work (``preflight``: nothing created yet), brings
the cluster up (``up``), and at the end undoes exactly what it did (``down``). It records
what it created as it goes, so that an interruption at any point still tears down the
right things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mysqlsts.settings import Settings


@dataclass
class ClusterInfo:
    provider: str
    name: str
    kubeconfig: Path
    local_pv_node: str
    notes: list[str] = field(default_factory=list)


class Provider(Protocol):
    @property
    def owns_cluster(self) -> bool:
        """Whether the run created the cluster (then deleting it removes everything)."""

    def preflight(self) -> None:
        """Fail with one line if the provider cannot work; create nothing."""

    def up(self) -> ClusterInfo:
        """Create or adopt the cluster and the labelled local-PV node."""

    def down(self, keep: bool) -> list[str]:
        """Undo what ``up`` did (unless ``keep``); return lines for the user."""


def make_provider(
    settings: Settings, state_dir: Path, images: list[str], pv_paths: list[str]
) -> Provider:
    if settings.cluster == "kind":
        from mysqlsts.cluster_kind import KindProvider

        return KindProvider(settings, state_dir, images, pv_paths)
    from mysqlsts.cluster_existing import ExistingProvider

    return ExistingProvider(settings, state_dir)
