"""Server ids: ``100 + ordinal`` on every pod, hence all distinct.

The article's init container writes ``server-id = 100 + ordinal`` (0 is not allowed as a
server id). Replication needs distinct ids: a replica ignores events carrying its own id,
and a master refuses a second replica connection with an id it already serves.
"""

from __future__ import annotations

from typing import Any

from mysqlsts.db.mysql import MySQL
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments

SERVER_ID_OFFSET = 100  # the article's init-mysql script: server-id=$((100 + $ordinal))


def _server_ids(deployment: Deployment, mysql: MySQL) -> list[dict[str, Any]]:
    rows = []
    for ordinal in range(deployment.replicas):
        pod = deployment.pod_name(ordinal)
        seen = mysql.query(pod, "SELECT @@server_id AS server_id, @@hostname AS hostname")[0]
        rows.append(
            {
                "pod": pod,
                "@@hostname": seen["hostname"],
                "@@server_id": int(seen["server_id"]),
                "100 + ordinal": SERVER_ID_OFFSET + ordinal,
            }
        )
    attachments.table("server id of every pod", rows)
    return rows


def test_server_id_is_100_plus_ordinal_on_every_pod(deployment: Deployment, mysql: MySQL) -> None:
    """``SELECT @@server_id`` on pod N (connected to that very pod) returns 100 + N."""
    rows = _server_ids(deployment, mysql)
    wrong = [r for r in rows if r["@@server_id"] != r["100 + ordinal"]]
    assert not wrong, f"server ids are not 100 + ordinal: {wrong}"
    # The connection really reached the pod it was meant for.
    assert all(r["@@hostname"] == r["pod"] for r in rows), rows


def test_server_ids_are_distinct(deployment: Deployment, mysql: MySQL) -> None:
    """No two pods share a server id."""
    rows = _server_ids(deployment, mysql)
    ids = [r["@@server_id"] for r in rows]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"server ids used by more than one pod: {duplicates} ({rows})"
