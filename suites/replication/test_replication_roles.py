"""Roles: a writable master with the binary log, and read-only replicas that replicate it.

The ConfigMap gives pod 0 ``master.cnf`` (``log-bin``) and every other pod ``slave.cnf``
(``super-read-only``, ``replicate-ignore-db=mysql``); the xtrabackup sidecar points each
replica at ``mysql-0.mysql`` and starts replication.
"""

from __future__ import annotations

from typing import Any

from replication_support import (
    current_user_privileges,
    global_variable,
    is_mariadb,
    master_host_names,
    replica_status,
    scratch_database,
)

from mysqlsts import attach
from mysqlsts.deployment import Deployment
from mysqlsts.mysql import MySQL
from mysqlsts.replication import BinlogPosition, master_position

# MariaDB has no super_read_only; its bypass of read_only is this privilege (MySQL: SUPER).
MARIADB_READ_ONLY_BYPASS = "READ_ONLY ADMIN"


def _on(value: str | None) -> bool:
    return str(value).upper() in {"ON", "1"}


def test_master_has_the_binary_log_on_and_accepts_root_writes(
    deployment: Deployment, mysql: MySQL
) -> None:
    """On pod 0: ``log_bin`` ON, ``read_only`` (and ``super_read_only`` where it exists)
    OFF; root creates a table, inserts and reads back a row, and the binary log position
    moves forward with that write (it is logged, so replicas can receive it).
    """
    master = deployment.master_pod
    with mysql.connect(master) as conn:
        variables = {
            name: global_variable(conn, name)
            for name in ("log_bin", "log_bin_basename", "read_only", "super_read_only")
        }
        with conn.cursor() as cursor:
            cursor.execute("SHOW MASTER STATUS")
            before_row = cursor.fetchone()
    attach.table(
        f"binary log and read-only settings on {master}",
        [{"variable": k, "value": "(absent)" if v is None else v} for k, v in variables.items()],
    )
    assert _on(variables["log_bin"]), f"{master}: log_bin is {variables['log_bin']}"
    assert not _on(variables["read_only"]), f"{master}: read_only is ON"
    assert not _on(variables["super_read_only"]), f"{master}: super_read_only is ON"
    before = master_position(before_row)

    with scratch_database(mysql, deployment, "sr_master") as database:
        with mysql.connect(master, database=database) as conn, conn.cursor() as cursor:
            cursor.execute("CREATE TABLE written (id INT PRIMARY KEY, note VARCHAR(40))")
            cursor.execute("INSERT INTO written VALUES (1, 'written by root on the master')")
            cursor.execute("SELECT id, note FROM written")
            rows = cursor.fetchall()
            cursor.execute("SHOW MASTER STATUS")
            after: BinlogPosition = master_position(cursor.fetchone())
        attach.table(
            f"root's write on {master}",
            [
                {"what": "rows read back", "value": rows},
                {"what": "binlog position before", "value": str(before)},
                {"what": "binlog position after", "value": str(after)},
            ],
        )
        assert rows == [{"id": 1, "note": "written by root on the master"}]
        assert (after.index, after.position) > (before.index, before.position), (
            f"{master}: the binary log did not move with the write ({before} -> {after})"
        )


def test_every_replica_is_super_read_only(deployment: Deployment, mysql: MySQL) -> None:
    """On every replica ``read_only`` is ON and it also binds root (SUPER): on MySQL
    ``super_read_only`` is ON; on MariaDB, which has no such variable, root lacks
    READ_ONLY ADMIN, the privilege that bypasses read_only there (see manifests/README.md).
    Error 1290 on a real write is checked by test_replication_writes.
    """
    rows: list[dict[str, Any]] = []
    for pod in deployment.replica_pods():
        with mysql.connect(pod) as conn:
            read_only = global_variable(conn, "read_only")
            super_read_only = global_variable(conn, "super_read_only")
            mariadb = is_mariadb(conn)
            privileges = current_user_privileges(conn)
        if super_read_only is not None:
            binds_root, how = _on(super_read_only), f"super_read_only={super_read_only}"
        elif mariadb:
            bypass = MARIADB_READ_ONLY_BYPASS in privileges
            binds_root = not bypass
            how = f"MariaDB: root {'holds' if bypass else 'lacks'} {MARIADB_READ_ONLY_BYPASS}"
        else:
            binds_root, how = False, "server has no super_read_only variable"
        rows.append(
            {
                "pod": pod,
                "read_only": read_only,
                "super_read_only": "(absent)" if super_read_only is None else super_read_only,
                "read-only binds root": binds_root,
                "because": how,
            }
        )
    attach.table("read-only state of every replica", rows)
    wrong = [r for r in rows if not (_on(r["read_only"]) and r["read-only binds root"])]
    assert not wrong, f"replicas that are not super-read-only: {wrong}"


def test_every_replica_runs_both_replication_threads_from_pod_0(
    deployment: Deployment, mysql: MySQL
) -> None:
    """SHOW SLAVE STATUS on every replica: IO and SQL threads running, no replication
    error, Master_Host one of pod 0's DNS names, Master_Port the MySQL port, and
    Master_Server_Id the server id of pod 0 (the connection really reaches the master).
    """
    master_id = int(mysql.query(deployment.master_pod, "SELECT @@server_id AS id")[0]["id"])
    names = master_host_names(deployment)
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for pod in deployment.replica_pods():
        with mysql.connect(pod) as conn:
            status = replica_status(conn)
        if status is None:
            problems.append(f"{pod}: SHOW SLAVE STATUS is empty (not a replica)")
            rows.append({"pod": pod, "Slave_IO_Running": "(not a replica)"})
            continue
        attach.text(
            f"SHOW SLAVE STATUS on {pod}", "\n".join(f"{k}: {v}" for k, v in status.items())
        )
        row = {
            "pod": pod,
            "Slave_IO_Running": status.get("Slave_IO_Running"),
            "Slave_SQL_Running": status.get("Slave_SQL_Running"),
            "Master_Host": status.get("Master_Host"),
            "Master_Port": status.get("Master_Port"),
            "Master_Server_Id": status.get("Master_Server_Id"),
            "Last_IO_Error": status.get("Last_IO_Error") or "-",
            "Last_SQL_Error": status.get("Last_SQL_Error") or "-",
        }
        rows.append(row)
        if row["Slave_IO_Running"] != "Yes" or row["Slave_SQL_Running"] != "Yes":
            problems.append(
                f"{pod}: IO {row['Slave_IO_Running']}, SQL {row['Slave_SQL_Running']} "
                f"({row['Last_IO_Error']}; {row['Last_SQL_Error']})"
            )
        if row["Master_Host"] not in names:
            problems.append(f"{pod}: Master_Host {row['Master_Host']} is not pod 0 ({names})")
        if int(row["Master_Port"] or 0) != deployment.mysql_port:
            problems.append(f"{pod}: Master_Port {row['Master_Port']}")
        if "Master_Server_Id" in status and int(status["Master_Server_Id"] or 0) != master_id:
            problems.append(
                f"{pod}: Master_Server_Id {status['Master_Server_Id']}, pod 0 has {master_id}"
            )
    attach.table("replication threads of every replica", rows)
    assert not problems, "\n".join(problems)


def test_every_replica_ignores_the_mysql_schema(deployment: Deployment, mysql: MySQL) -> None:
    """``replicate-ignore-db=mysql`` from slave.cnf is in force on every replica:
    Replicate_Ignore_DB of SHOW SLAVE STATUS lists ``mysql`` (accounts and grants made on
    the master stay there)."""
    rows: list[dict[str, Any]] = []
    for pod in deployment.replica_pods():
        with mysql.connect(pod) as conn:
            status = replica_status(conn)
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
    attach.table("replication filters of every replica", rows)
    wrong = [r for r in rows if not r["ignores mysql"]]
    assert not wrong, f"replicas that do not ignore the mysql schema: {wrong}"
