"""Roles: a writable master with the binary log, and read-only replicas that replicate it.

The ConfigMap gives pod 0 ``master.cnf`` (``log-bin``) and every other pod ``slave.cnf``
(``super-read-only``, ``replicate-ignore-db=mysql``); the xtrabackup sidecar points each
replica at ``mysql-0.mysql`` and starts replication.
"""

from __future__ import annotations

from typing import Any

import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.db.replication import (
    BinlogPosition,
    ReplicaStatus,
    read_binlog_events,
    read_master_position,
)
from mysqlsts.db.server import current_user_privileges, global_variable, is_mariadb, is_on
from mysqlsts.manifests import option_files
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.scenarios.scratch import scratch_database

pytestmark = pytest.mark.needs_replicas(1)

# MariaDB has no super_read_only; its bypass of read_only is this privilege (MySQL: SUPER).
MARIADB_READ_ONLY_BYPASS = "READ_ONLY ADMIN"
MASTER_VARIABLES = ("log_bin", "log_bin_basename", "read_only", "super_read_only")


@step("binary log and read-only settings of the master")
def master_settings(mysql: MySQL, master: str) -> tuple[dict[str, str | None], BinlogPosition]:
    """The master's settings, and its binlog position before the write."""
    with mysql.connect(master) as conn:
        variables = {name: global_variable(conn, name) for name in MASTER_VARIABLES}
        attachments.table(
            f"binary log and read-only settings on {master}",
            [
                {"variable": k, "value": "(absent)" if v is None else v}
                for k, v in variables.items()
            ],
        )
        assert is_on(variables["log_bin"]), f"{master}: log_bin is {variables['log_bin']}"
        return variables, read_master_position(conn)


@step("root creates a table on the master, writes and reads back a row")
def root_write_on(
    mysql: MySQL, master: str, database: str, before: BinlogPosition
) -> tuple[list[Any], BinlogPosition, list[str]]:
    """The rows read back after root's write, the binlog position after it, and the binlog
    events since ``before`` that concern ``database`` (other checks may write meanwhile)."""
    with mysql.connect(master, database=database) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE written (id INT PRIMARY KEY, note VARCHAR(40))")
        cursor.execute("INSERT INTO written VALUES (1, 'written by root on the master')")
        cursor.execute("SELECT id, note FROM written")
        rows = list(cursor.fetchall())
        after = read_master_position(conn)
        events = read_binlog_events(conn, before, after)
    ours = [
        f"{e.get('Event_type')}: {e.get('Info')}" for e in events if database in str(e.get("Info"))
    ]
    return rows, after, ours


def test_master_has_the_binary_log_on_and_accepts_root_writes(
    deployment: Deployment, mysql: MySQL
) -> None:
    """On pod 0: ``log_bin`` ON, ``read_only`` (and ``super_read_only`` where it exists)
    OFF; root creates a table, inserts and reads back a row, and the binary log position
    moves forward with that write, whose events (the CREATE TABLE, the row's table map)
    are in the binary log (it is logged, so replicas can receive it). The events are found
    by the check's own database, so writes of other checks running at the same time
    cannot stand in for them.
    """
    master = deployment.master_pod
    variables, before = master_settings(mysql, master)
    assert not is_on(variables["read_only"]), f"{master}: read_only is ON"
    assert not is_on(variables["super_read_only"]), f"{master}: super_read_only is ON"
    with scratch_database(mysql, "sr_master") as database:
        rows, after, logged = root_write_on(mysql, master, database, before)
    attachments.table(
        f"root's write on {master}",
        [
            {"what": "rows read back", "value": rows},
            {"what": "binlog position before", "value": str(before)},
            {"what": "binlog position after", "value": str(after)},
            {"what": "its events in the binlog", "value": logged},
        ],
    )
    assert rows == [{"id": 1, "note": "written by root on the master"}]
    assert (after.index, after.position) > (before.index, before.position), (
        f"{master}: the binary log did not move with the write ({before} -> {after})"
    )
    assert logged, f"{master}: the binary log holds no event of the write ({before} -> {after})"


def read_only_state(mysql: MySQL, pod: str) -> dict[str, Any]:
    """Whether read_only is ON on ``pod`` and binds root, and why."""
    with mysql.connect(pod) as conn:
        read_only = global_variable(conn, "read_only")
        super_read_only = global_variable(conn, "super_read_only")
        mariadb = is_mariadb(conn)
        privileges = current_user_privileges(conn)
    if super_read_only is not None:
        binds_root, how = is_on(super_read_only), f"super_read_only={super_read_only}"
    elif mariadb:
        bypass = MARIADB_READ_ONLY_BYPASS in privileges
        binds_root = not bypass
        how = f"MariaDB: root {'holds' if bypass else 'lacks'} {MARIADB_READ_ONLY_BYPASS}"
    else:
        binds_root, how = False, "server has no super_read_only variable"
    return {
        "pod": pod,
        "read_only": read_only,
        "super_read_only": "(absent)" if super_read_only is None else super_read_only,
        "read-only binds root": binds_root,
        "because": how,
    }


def test_every_replica_is_super_read_only(deployment: Deployment, mysql: MySQL) -> None:
    """On every replica ``read_only`` is ON and it also binds root (SUPER): on MySQL
    ``super_read_only`` is ON; on MariaDB, which has no such variable, root lacks
    READ_ONLY ADMIN, the privilege that bypasses read_only there (see manifests/README.md).
    Error 1290 on a real write is checked by test_replication_writes.
    """
    rows = [read_only_state(mysql, pod) for pod in deployment.replica_pods()]
    attachments.table("read-only state of every replica", rows)
    wrong = [r for r in rows if not (is_on(r["read_only"]) and r["read-only binds root"])]
    assert not wrong, f"replicas that are not super-read-only: {wrong}"


def thread_problems(
    pod: str, status: ReplicaStatus, deployment: Deployment, master_id: int
) -> list[str]:
    """What is wrong with a replica's threads and its connection to pod 0."""
    problems = []
    if not status.running:
        problems.append(
            f"{pod}: IO {status.io_running}, SQL {status.sql_running} "
            f"({status.last_io_error or '-'}; {status.last_sql_error or '-'})"
        )
    names = deployment.master_host_names()
    if status.master_host not in names:
        problems.append(f"{pod}: Master_Host {status.master_host} is not pod 0 ({names})")
    if int(status.get("Master_Port") or 0) != deployment.mysql_port:
        problems.append(f"{pod}: Master_Port {status.get('Master_Port')}")
    if "Master_Server_Id" in status.row and int(status.get("Master_Server_Id") or 0) != master_id:
        problems.append(
            f"{pod}: Master_Server_Id {status.get('Master_Server_Id')}, pod 0 has {master_id}"
        )
    return problems


def thread_row(pod: str, status: ReplicaStatus) -> dict[str, Any]:
    columns = ("Slave_IO_Running", "Slave_SQL_Running", "Master_Host", "Master_Port")
    return {
        "pod": pod,
        **{c: status.get(c) for c in (*columns, "Master_Server_Id")},
        "Last_IO_Error": status.last_io_error or "-",
        "Last_SQL_Error": status.last_sql_error or "-",
    }


def test_every_replica_runs_both_replication_threads_from_pod_0(
    deployment: Deployment, mysql: MySQL
) -> None:
    """The replica status of every replica: IO and SQL threads running, no replication
    error, Master_Host one of pod 0's DNS names, Master_Port the MySQL port, and
    Master_Server_Id the server id of pod 0 (the connection really reaches the master).
    """
    master_id = int(mysql.query(deployment.master_pod, "SELECT @@server_id AS id")[0]["id"])
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for pod in deployment.replica_pods():
        status = mysql.replica_status(pod)
        if status is None:
            problems.append(f"{pod}: no replica status (not a replica)")
            rows.append({"pod": pod, "Slave_IO_Running": "(not a replica)"})
            continue
        attachments.text(f"replica status of {pod}", status.text())
        rows.append(thread_row(pod, status))
        problems += thread_problems(pod, status, deployment, master_id)
    attachments.table("replication threads of every replica", rows)
    assert not problems, "\n".join(problems)


def declares_ignoring_mysql(deployment: Deployment) -> list[str]:
    """The ConfigMap files that set ``replicate-ignore-db=mysql`` for a server (the
    article's slave.cnf), read as the server reads option files (comments, ``loose-``)."""
    return [
        name
        for name, text in deployment.config_files().items()
        if "mysql" in option_files.server_values(text, "replicate-ignore-db")
    ]


def test_every_replica_ignores_the_mysql_schema(deployment: Deployment, mysql: MySQL) -> None:
    """``replicate-ignore-db=mysql``, which the manifests' replica config sets (the
    article's slave.cnf), is in force on every replica: Replicate_Ignore_DB of the replica
    status lists ``mysql`` (accounts and grants made on the master stay there). Skipped,
    saying so, for manifests that do not set it (the Kubernetes tutorial's)."""
    declared = declares_ignoring_mysql(deployment)
    if not declared:
        pytest.skip(
            "no file of the manifests' ConfigMaps sets replicate-ignore-db=mysql: they do not "
            "promise that replicas ignore the mysql schema (the article's slave.cnf does)"
        )
    rows: list[dict[str, Any]] = []
    for pod in deployment.replica_pods():
        status = mysql.replica_status(pod)
        if status is None:
            rows.append(
                {"pod": pod, "Replicate_Ignore_DB": "(not a replica)", "ignores mysql": False}
            )
            continue
        ignored = [d.strip() for d in str(status.get("Replicate_Ignore_DB") or "").split(",")]
        rows.append(
            {
                "pod": pod,
                "Replicate_Ignore_DB": status.get("Replicate_Ignore_DB"),
                "Replicate_Do_DB": status.get("Replicate_Do_DB"),
                "ignores mysql": "mysql" in ignored,
            }
        )
    attachments.table("replication filters of every replica", rows)
    wrong = [r for r in rows if not r["ignores mysql"]]
    assert not wrong, (
        f"replicas that do not ignore the mysql schema: {wrong} (set in {', '.join(declared)})"
    )
