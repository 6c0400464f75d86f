"""Data written through MySQL is stored in the pod's local PV directory on its node.

A claim can be bound and mounted while MySQL still writes somewhere else (a datadir on an
emptyDir or in the container's own layer, lost with the pod). So the check writes a row
through MySQL, forces it to disk, and then looks at the PV's directory on the node itself,
from a short-lived pod that mounts that host directory: the table's files must be there
on every pod's PV (replicas through replication) and the master's must hold the row.
"""

from __future__ import annotations

import posixpath
import secrets
import shlex
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.deploy.pv_directories import helper_image
from mysqlsts.k8s import pods
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import volume_sources
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo

Obj = dict[str, Any]


@dataclass(frozen=True)
class MarkerTable:
    token: str  # lowercase hex, in every name the check makes
    database: str
    table: str
    marker: str


@contextmanager
def marker_table(mysql: MySQL) -> Iterator[MarkerTable]:
    """A table on the master with a marker row flushed to its tablespace file, replicated
    to every replica; dropped at the end."""
    token = secrets.token_hex(4)
    made = MarkerTable(token, f"sr_disk_{token}", f"t_{token}", f"mysqlsts-disk-marker-{token}")
    qualified = f"`{made.database}`.`{made.table}`"
    try:
        with mysql.connect(mysql.deployment.master_pod) as conn, conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{made.database}`")
            cursor.execute(
                f"CREATE TABLE {qualified} (id INT PRIMARY KEY, note VARCHAR(100)) ENGINE=InnoDB"
            )
            cursor.execute(f"INSERT INTO {qualified} VALUES (1, %s)", (made.marker,))
            # Writes the table's dirty pages to its tablespace file (not only the redo log).
            cursor.execute(f"FLUSH TABLES {qualified} FOR EXPORT")
            cursor.execute("UNLOCK TABLES")
        mysql.wait_replicas_caught_up()
        yield made
    finally:
        mysql.query(mysql.deployment.master_pod, f"DROP DATABASE IF EXISTS `{made.database}`")


def datadir_mount(pod: Obj, container: str, datadir: str) -> dict[str, Any]:
    """Which volume (and subPath) of the MySQL container holds ``datadir``."""
    spec = pod["spec"]
    main = next(c for c in spec["containers"] if c["name"] == container)
    best: Obj | None = None
    for mount in main.get("volumeMounts") or []:
        path = mount["mountPath"].rstrip("/") + "/"
        if datadir.startswith(path) and (
            best is None or len(path) > len(best["mountPath"].rstrip("/") + "/")
        ):
            best = mount
    if best is None:
        return {"volume": "- (container filesystem)", "subPath": "-", "source": "-"}
    volume = next(v for v in spec.get("volumes") or [] if v["name"] == best["name"])
    source = next((k for k in volume if k != "name"), "?")
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    return {
        "volume": best["name"],
        "subPath": best.get("subPath", ""),
        "source": f"{source} {claim}" if claim else source,
    }


@step("each pod's datadir, and its PVs' directories grouped by node")
def pv_directories_by_node(
    kube: Kube, mysql: MySQL, deployment: Deployment
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """(node -> the PVs of the pods running there, what holds each pod's datadir)."""
    by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    mounts: list[dict[str, Any]] = []
    for ordinal in range(deployment.replicas):
        pod_name = deployment.pod_name(ordinal)
        pod = kube.get_pod(deployment.namespace, pod_name)
        assert pod is not None, f"pod {pod_name} does not exist"
        datadir = str(mysql.query(pod_name, "SELECT @@datadir AS d")[0]["d"])
        mounts.append(
            {"pod": pod_name, "@@datadir": datadir}
            | datadir_mount(pod, deployment.mysql_container, datadir)
        )
        for template in deployment.claim_templates:
            claim = deployment.pvc_name(ordinal, template)
            pvc = kube.get_pvc(deployment.namespace, claim)
            volume = (pvc or {}).get("spec", {}).get("volumeName")
            pv = kube.get_pv(volume) if volume else None
            # Where the PV keeps its data on the node (whether it is a *local* PV is
            # judged by test_storage_claims).
            spec = (pv or {}).get("spec") or {}
            path = (spec.get("local") or spec.get("hostPath") or {}).get("path")
            if pv is not None and not path and not deployment.declares_local_pvs:
                pytest.skip(
                    f"claim {claim} is provisioned as a {volume_sources(spec)} "
                    "volume: its data is in no node directory the suite can read"
                )
            assert pv is not None and path, (
                f"claim {claim} is not bound to a PV with a directory on its node: {spec}"
            )
            by_node[str(pod["spec"]["nodeName"])].append(
                {"pod": pod_name, "ordinal": ordinal, "pv": volume, "path": path}
            )
    attachments.table("what holds the datadir of each pod", mounts)
    return by_node, mounts


def files_on_pv(
    tool: pods.RunningPod, index: int, entry: dict[str, Any], made: MarkerTable
) -> dict[str, Any]:
    """The table's files under one PV directory, and those holding the marker (master)."""
    found = tool.sh(
        f"find /pv/{index} -type f -path {shlex.quote(f'*/{made.database}/*')} "
        f"-name {shlex.quote(made.table + '.*')} -printf '%P %s\\n'"
    ).check(f"find the table's files under {entry['path']} on {tool.node}")
    files = [line.split(" ")[0] for line in found.stdout.splitlines() if line]
    with_marker: list[str] = []
    if entry["ordinal"] == 0 and files:
        quoted = " ".join(shlex.quote(f"/pv/{index}/{f}") for f in files)
        grep = tool.sh(f"grep -l -a -F {shlex.quote(made.marker)} {quoted}")
        with_marker = [posixpath.relpath(line, f"/pv/{index}") for line in grep.stdout.splitlines()]
    return {
        **entry,
        "node": tool.node,
        "table files under the PV path": ", ".join(found.stdout.splitlines()) or "none",
        "files holding the marker row": ", ".join(with_marker)
        if entry["ordinal"] == 0
        else "(not checked on replicas)",
    }


@step("look into the PV directories on node {node}")
def inspect_node(
    kube: Kube,
    run: RunInfo,
    deployment: Deployment,
    node: str,
    entries: list[dict[str, Any]],
    made: MarkerTable,
) -> list[dict[str, Any]]:
    """From a pod on ``node`` that mounts each PV directory (hostPath, read-only)."""
    inspector = pods.short_lived_pod(
        f"mysqlsts-pv-inspect-{made.token}-{node}",
        deployment.namespace,
        helper_image(deployment.mysql_image),
        run_id=run.run_id,
        purpose="pv-inspector",
        node=node,
        host_mounts=[pods.HostMount(e["path"], f"/pv/{i}") for i, e in enumerate(entries)],
        as_root=True,
    )
    with pods.running(kube, inspector) as tool:
        return [files_on_pv(tool, index, entry, made) for index, entry in enumerate(entries)]


def test_rows_written_through_mysql_land_in_each_pods_local_pv_directory(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """A table created on the master, with a marker row flushed to disk (``FLUSH TABLES ...
    FOR EXPORT``), has its files under the local path of every pod's PV on that pod's node
    (read from the node through a hostPath mount), and the master's files contain the
    marker.
    """
    with marker_table(mysql) as made:
        by_node, mounts = pv_directories_by_node(kube, mysql, deployment)
        rows = [
            row
            for node, entries in sorted(by_node.items())
            for row in inspect_node(kube, mysqlsts_run, deployment, node, entries, made)
        ]
    attachments.table(f"files of {made.database}.{made.table} in each pod's PV directory", rows)
    missing = [
        f"{r['pod']} ({r['pv']}: {r['path']} on {r['node']})"
        for r in rows
        if r["table files under the PV path"] == "none"
    ]
    assert not missing, (
        f"table {made.database}.{made.table} has no files under the PV directory of: "
        f"{missing}; the datadirs are mounted from: {mounts}"
    )
    master = [r for r in rows if r["ordinal"] == 0]
    assert master and all(r["files holding the marker row"] for r in master), (
        f"the master's PV directory does not hold the flushed row {made.marker!r}: {master}"
    )
