"""The kind release of the online path: kind's own node image, pulled when missing.

Profiles whose images come from registries (``upstream``, ``upstream-debian``, your own
manifests) run on kind's published node image instead of the lab's, so that they build
nothing. This module is the one place its version is written; the nightly workflow reads
it too (``python -m mysqlsts.kind_release >> "$GITHUB_ENV"``), so it imports
nothing outside the standard library.

kind v0.26.0 and its node image ship containerd 1.7: the article's
``gcr.io/google-samples/xtrabackup:1.0`` is an old Docker schema-1 image, which containerd
2.x (the node images of kind v0.27.0 and later) refuses to pull.
"""

from __future__ import annotations

import os
import sys

KIND_VERSION = "v0.26.0"
# kind v0.26.0's default node image (its release notes), pinned by digest.
NODE_IMAGE = (
    "kindest/node:v1.32.0@sha256:c48c62eac5da28cdadcf560d1d8616cfa6783b58f0d94cf63ad1bf49600cb027"
)
# Another node image for every kind cluster of the run (the lab's is used for the offline
# profiles unless this is set).
NODE_IMAGE_ENV = "MYSQLSTS_KIND_NODE_IMAGE"


def chosen_node_image() -> str | None:
    """$MYSQLSTS_KIND_NODE_IMAGE when set (not empty), else None."""
    return os.environ.get(NODE_IMAGE_ENV) or None


def node_image_tag() -> str:
    """The node image's name and tag, without its digest (what a mirror serves it as)."""
    return NODE_IMAGE.split("@", 1)[0]


def github_env() -> str:
    """The pins as ``NAME=value`` lines, for ``$GITHUB_ENV``."""
    return f"KIND_VERSION={KIND_VERSION}\nKIND_NODE_IMAGE={NODE_IMAGE}\n"


if __name__ == "__main__":
    sys.stdout.write(github_env())
