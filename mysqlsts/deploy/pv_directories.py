"""Preparing and cleaning the local PV directories on the node, through a short-lived pod.

The suite cannot log into nodes; a short-lived pod (:mod:`mysqlsts.k8s.pods`) with
hostPath volumes, pinned to each node that holds PVs, inspects the PV paths, creates the
missing ones and later removes what the run wrote. It mounts each path's parent, so that
it can tell "absent" from "empty" (a hostPath of type DirectoryOrCreate would hide that
difference).
"""

from __future__ import annotations

import os
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

from mysqlsts.errors import DeploymentFailed
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pods import HostMount, run_to_completion, short_lived_pod

Obj = dict[str, Any]
# The helper pod lives in "default": it runs before the deployment's namespace exists,
# so that a non-empty PV path stops the run before anything is applied.
HELPER_NAMESPACE = "default"
HELPER_TIMEOUT = 120.0


@dataclass
class PathRecord:
    """What the run found at each PV path, to undo exactly its own part at teardown."""

    created: list[str] = field(default_factory=list)
    existed_empty: list[str] = field(default_factory=list)


def helper_image(default: str) -> str:
    """The image for helper pods: $MYSQLSTS_HELPER_IMAGE, else one the deployment uses.

    Reusing the deployment's image needs no extra pull or load: it is on the node anyway.
    """
    return os.environ.get("MYSQLSTS_HELPER_IMAGE") or default


def prepare_script(paths: list[str]) -> str:
    """Report each path as absent/empty/nonempty; create the absent ones."""
    lines = ["set -eu"]
    for index, path in enumerate(paths):
        inside = shlex.quote(f"/host/{index}/{posixpath.basename(path.rstrip('/'))}")
        quoted = shlex.quote(path)
        lines.append(
            f'if [ ! -e {inside} ]; then mkdir -p {inside} && echo "absent {quoted}"; '
            f'elif [ -z "$(ls -A {inside})" ]; then echo "empty {quoted}"; '
            f'else echo "nonempty {quoted}"; fi'
        )
    return "\n".join(lines)


def clean_script(record: PathRecord, paths: list[str]) -> str:
    """Remove the directories the run created; empty those that existed empty."""
    lines = ["set -eu"]
    for index, path in enumerate(paths):
        inside = shlex.quote(f"/host/{index}/{posixpath.basename(path.rstrip('/'))}")
        if path in record.created:
            lines.append(f"rm -rf {inside}")
        elif path in record.existed_empty:
            lines.append(f"find {inside} -mindepth 1 -delete")
    return "\n".join(lines)


def parse_report(output: str) -> tuple[PathRecord, list[str]]:
    """The prepare pod's report: (record of absent/empty paths, non-empty paths)."""
    record = PathRecord()
    nonempty: list[str] = []
    for line in output.splitlines():
        state, _, path = line.strip().partition(" ")
        if state == "absent":
            record.created.append(path)
        elif state == "empty":
            record.existed_empty.append(path)
        elif state == "nonempty":
            nonempty.append(path)
    return record, nonempty


def helper_pod(name: str, run_id: str, image: str, paths: list[str], script: str, node: str) -> Obj:
    """A short-lived pod on ``node`` that mounts each PV path's parent."""
    mounts = [
        HostMount(
            posixpath.dirname(path.rstrip("/")) or "/",
            f"/host/{index}",
            read_only=False,
            type="DirectoryOrCreate",
        )
        for index, path in enumerate(paths)
    ]
    return short_lived_pod(
        name,
        HELPER_NAMESPACE,
        image,
        run_id=run_id,
        purpose="pv-paths",
        command=["sh", "-c", script],
        node=node,
        host_mounts=mounts,
        as_root=True,
    )


def run_helper(kube: Kube, pod: Obj, timeout: float = HELPER_TIMEOUT) -> str:
    """Run a helper pod to completion and return its output (it is always deleted)."""
    done = run_to_completion(kube, pod, timeout=timeout)
    if not done.succeeded:
        raise DeploymentFailed(
            f"helper pod {pod['metadata']['name']} failed: {done.output.strip()[-300:]}"
        )
    return done.output


def prepare(
    kube: Kube, run_id: str, image: str, paths_by_node: dict[str, list[str]]
) -> dict[str, PathRecord]:
    """Make sure every PV path exists and is empty on each node that holds it."""
    records: dict[str, PathRecord] = {}
    for index, (node, paths) in enumerate(sorted(paths_by_node.items())):
        if not paths:
            continue
        name = f"mysqlsts-pv-prepare-{run_id}-{index}"
        output = run_helper(
            kube, helper_pod(name, run_id, image, paths, prepare_script(paths), node)
        )
        records[node], nonempty = parse_report(output)
        if nonempty:
            raise DeploymentFailed(
                f"PV path {nonempty[0]} on node {node} is not empty (data this run did not "
                "write); empty it or map the PV's node elsewhere with --pv-node"
            )
    return records


def clean(
    kube: Kube,
    run_id: str,
    image: str,
    paths_by_node: dict[str, list[str]],
    records: dict[str, PathRecord],
) -> None:
    """Remove what the run wrote under the PV paths (after the PVs are gone)."""
    for index, (node, record) in enumerate(sorted(records.items())):
        if not (record.created or record.existed_empty):
            continue
        paths = paths_by_node[node]
        name = f"mysqlsts-pv-clean-{run_id}-{index}"
        run_helper(kube, helper_pod(name, run_id, image, paths, clean_script(record, paths), node))
