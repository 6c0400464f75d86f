"""The choice of cluster provider: the one place that reads ``--cluster``."""

from __future__ import annotations

from pathlib import Path

from mysqlsts.cluster.provider import Provider
from mysqlsts.settings import Settings


def make_provider(
    settings: Settings,
    state_dir: Path,
    images: list[str],
    mysql_image: str,
) -> Provider:
    """The provider for ``settings.cluster``, told what the deployment needs of it."""
    if settings.cluster == "kind":
        from mysqlsts.cluster.kind import KindProvider

        return KindProvider(settings, state_dir, images, mysql_image)
    from mysqlsts.cluster.existing import ExistingProvider

    return ExistingProvider(settings, state_dir, mysql_image)
