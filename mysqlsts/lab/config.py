"""Versions, image names and on-disk locations of the offline lab.

Everything is read from ``lab/lab.toml``; other modules ask this one instead of repeating
a version or a tag.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mysqlsts.repository import REPO_ROOT

LAB_DIR = REPO_ROOT / "lab"
LAB_TOML = LAB_DIR / "lab.toml"


def cache_dir() -> Path:
    """Where the lab keeps build outputs, stamps and logs (outside the work tree)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mysqlsts-lab"
    return Path(os.environ.get("MYSQLSTS_LAB_CACHE", default))


@dataclass(frozen=True)
class LabConfig:
    debian_suite: str
    debian_mirror: str
    versions: dict[str, str]
    images: dict[str, str]

    @property
    def bin_dir(self) -> Path:
        """Binaries the lab built (kind, kubectl, kubeadm, ...)."""
        return cache_dir() / "bin"

    @property
    def kind_bin(self) -> Path:
        return self.bin_dir / "kind"

    @property
    def kubectl_bin(self) -> Path:
        return self.bin_dir / "kubectl"

    @property
    def node_image(self) -> str:
        return self.images["node"]


@cache
def load(path: Path = LAB_TOML) -> LabConfig:
    data = tomllib.loads(path.read_text())
    return LabConfig(
        debian_suite=data["debian"]["suite"],
        debian_mirror=data["debian"]["mirror"],
        versions=dict(data["versions"]),
        images={k: v.format(**data["versions"]) for k, v in data["images"].items()},
    )
