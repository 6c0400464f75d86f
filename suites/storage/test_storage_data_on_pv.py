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
from typing import Any

from mysqlsts import attach, hostpaths, incluster
from mysqlsts.deployment import Deployment
from mysqlsts.environment import RunInfo
from mysqlsts.kube import Kube
from mysqlsts.mysql import MySQL

Obj = dict[str, Any]


def _datadir_mount(pod: Obj, container: str, datadir: str) -> dict[str, Any]:
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


def test_rows_written_through_mysql_land_in_each_pods_local_pv_directory(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """A table created on the master, with a marker row flushed to disk (``FLUSH TABLES ...
    FOR EXPORT``), has its files under the local path of every pod's PV on that pod's node
    (read from the node through a hostPath mount), and the master's files contain the
    marker.
    """
    token = secrets.token_hex(4)
    database, table = f"sr_disk_{token}", f"t_{token}"
    marker = f"mysqlsts-disk-marker-{token}"
    ns = deployment.namespace
    try:
        with mysql.connect(deployment.master_pod) as conn, conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{database}`")
            cursor.execute(
                f"CREATE TABLE `{database}`.`{table}` (id INT PRIMARY KEY, note VARCHAR(100)) "
                "ENGINE=InnoDB"
            )
            cursor.execute(f"INSERT INTO `{database}`.`{table}` VALUES (1, %s)", (marker,))
            # Writes the table's dirty pages to its tablespace file (not only the redo log).
            cursor.execute(f"FLUSH TABLES `{database}`.`{table}` FOR EXPORT")
            cursor.execute("UNLOCK TABLES")
        mysql.wait_replicas_caught_up()

        # Each pod's PVs, grouped by the node the pod runs on.
        by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
        mounts: list[dict[str, Any]] = []
        for ordinal in range(deployment.replicas):
            pod_name = deployment.pod_name(ordinal)
            pod = kube.get_pod(ns, pod_name)
            assert pod is not None, f"pod {pod_name} does not exist"
            datadir = str(mysql.query(pod_name, "SELECT @@datadir AS d")[0]["d"])
            mounts.append(
                {
                    "pod": pod_name,
                    "@@datadir": datadir,
                    **_datadir_mount(pod, deployment.mysql_container, datadir),
                }
            )
            for template in deployment.claim_templates:
                pvc = kube.get_pvc(ns, deployment.pvc_name(ordinal, template))
                volume = (pvc or {}).get("spec", {}).get("volumeName")
                pv = kube.get_pv(volume) if volume else None
                # Where the PV keeps its data on the node (whether it is a *local* PV is
                # judged by test_storage_claims).
                spec = (pv or {}).get("spec") or {}
                path = (spec.get("local") or spec.get("hostPath") or {}).get("path")
                assert pv is not None and path, (
                    f"claim {deployment.pvc_name(ordinal, template)} is not bound to a PV with "
                    f"a directory on its node: {spec}"
                )
                by_node[str(pod["spec"]["nodeName"])].append(
                    {"pod": pod_name, "ordinal": ordinal, "pv": volume, "path": path}
                )
        attach.table("what holds the datadir of each pod", mounts)

        rows: list[dict[str, Any]] = []
        image = hostpaths.helper_image(deployment.mysql_image)
        for node, entries in sorted(by_node.items()):
            inspector = incluster.scratch_pod_manifest(
                f"mysqlsts-pv-inspect-{token}-{len(rows)}",
                ns,
                image,
                run_id=mysqlsts_run.run_id,
                node=node,
                host_mounts=[
                    incluster.HostMount(e["path"], f"/pv/{i}") for i, e in enumerate(entries)
                ],
                as_root=True,
            )
            with incluster.scratch_pod(kube, inspector) as tool:
                for index, entry in enumerate(entries):
                    found = tool.sh(
                        f"find /pv/{index} -type f -path {shlex.quote(f'*/{database}/*')} "
                        f"-name {shlex.quote(table + '.*')} -printf '%P %s\\n'"
                    ).check(f"find the table's files under {entry['path']} on {node}")
                    files = [line.split(" ")[0] for line in found.stdout.splitlines() if line]
                    with_marker: list[str] = []
                    if entry["ordinal"] == 0 and files:
                        quoted = " ".join(shlex.quote(f"/pv/{index}/{f}") for f in files)
                        grep = tool.sh(f"grep -l -a -F {shlex.quote(marker)} {quoted}")
                        with_marker = [
                            posixpath.relpath(line, f"/pv/{index}")
                            for line in grep.stdout.splitlines()
                        ]
                    rows.append(
                        {
                            **entry,
                            "node": node,
                            "table files under the PV path": ", ".join(found.stdout.splitlines())
                            or "none",
                            "files holding the marker row": ", ".join(with_marker)
                            if entry["ordinal"] == 0
                            else "(not checked on replicas)",
                        }
                    )
        attach.table(f"files of {database}.{table} in each pod's PV directory", rows)
        missing = [
            f"{r['pod']} ({r['pv']}: {r['path']} on {r['node']})"
            for r in rows
            if r["table files under the PV path"] == "none"
        ]
        assert not missing, (
            f"table {database}.{table} has no files under the PV directory of: {missing}; "
            f"the datadirs are mounted from: {mounts}"
        )
        master = [r for r in rows if r["ordinal"] == 0]
        assert master and all(r["files holding the marker row"] for r in master), (
            f"the master's PV directory does not hold the flushed row {marker!r}: {master}"
        )
    finally:
        mysql.query(deployment.master_pod, f"DROP DATABASE IF EXISTS `{database}`")
