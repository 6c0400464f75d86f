"""Writes on a replica: refused with error 1290 even for root, and nothing changes.

``super-read-only`` in slave.cnf is what keeps clients (root included) from writing to a
replica behind the master's back; a write that slipped through would make the replica
diverge silently, or stop its SQL thread on the next conflicting event.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import pymysql
from replication_support import global_variable, replica_status, scratch_database

from mysqlsts import attach
from mysqlsts.deployment import Deployment
from mysqlsts.mysql import MySQL

ER_OPTION_PREVENTS_STATEMENT = 1290  # "...running with the --(super-)read-only option..."


def _snapshot(conn: pymysql.Connection, database: str) -> dict[str, Any]:
    """What a write could have changed on one server: the table's rows, the database's
    tables, the list of databases and the server's own binary log position."""
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM `{database}`.`t` ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "ORDER BY 1",
            (database,),
        )
        tables = [r["t"] for r in cursor.fetchall()]
        cursor.execute("SHOW DATABASES")
        databases = sorted(next(iter(r.values())) for r in cursor.fetchall())
        cursor.execute("SHOW MASTER STATUS")
        own = cursor.fetchone()
    return {
        "rows": rows,
        "tables": tables,
        "databases": databases,
        "own binlog": f"{own['File']}:{own['Position']}" if own else "(binary log off)",
    }


def test_root_write_on_every_replica_is_rejected_with_1290_and_changes_nothing(
    deployment: Deployment, mysql: MySQL
) -> None:
    """As root on every replica: INSERT, UPDATE, DELETE, CREATE TABLE and CREATE DATABASE
    each fail with error 1290; afterwards the rows, tables, databases and the replica's
    own binary log position are what they were, and the replica still replicates.
    """
    statements = (
        "INSERT INTO `{db}`.`t` VALUES (2, 'written on the replica')",
        "UPDATE `{db}`.`t` SET note = 'changed on the replica' WHERE id = 1",
        "DELETE FROM `{db}`.`t` WHERE id = 1",
        "CREATE TABLE `{db}`.`made_on_replica` (id INT)",
        "CREATE DATABASE `{db}_made_on_replica`",
    )
    with scratch_database(mysql, deployment, "sr_ro") as database:
        mysql.query(
            deployment.master_pod,
            f"CREATE TABLE `{database}`.`t` (id INT PRIMARY KEY, note VARCHAR(40))",
        )
        mysql.query(
            deployment.master_pod, f"INSERT INTO `{database}`.`t` VALUES (1, 'from the master')"
        )
        mysql.wait_replicas_caught_up()
        outcomes: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        problems: list[str] = []
        for pod in deployment.replica_pods():
            try:
                with mysql.connect(pod) as conn:
                    logs_replicated = str(global_variable(conn, "log_slave_updates")).upper()
                    before = _snapshot(conn, database)
                    for template in statements:
                        sql = template.format(db=database)
                        try:
                            with conn.cursor() as cursor:
                                cursor.execute(sql)
                            code, message = None, "succeeded"
                        except pymysql.err.MySQLError as error:
                            code, message = error.args[0], str(error.args[-1])
                        outcomes.append(
                            {"pod": pod, "statement": sql, "error": code, "message": message}
                        )
                        if code != ER_OPTION_PREVENTS_STATEMENT:
                            outcome = message if code is None else f"error {code}: {message}"
                            problems.append(f"{pod}: {sql!r} -> {outcome}")
                    after = _snapshot(conn, database)
                    status = replica_status(conn) or {}
            finally:
                # Only a replica that let a write through holds this database.
                with suppress(pymysql.err.MySQLError):
                    mysql.query(pod, f"DROP DATABASE IF EXISTS `{database}_made_on_replica`")
            for key in before:
                if key == "own binlog" and logs_replicated in ("ON", "1"):
                    continue  # replicated events may move it too (log_slave_updates)
                changes.append(
                    {"pod": pod, "what": key, "before": before[key], "after": after[key]}
                )
                if before[key] != after[key]:
                    problems.append(f"{pod}: {key} changed: {before[key]} -> {after[key]}")
            if (status.get("Slave_IO_Running"), status.get("Slave_SQL_Running")) != ("Yes", "Yes"):
                problems.append(
                    f"{pod}: replication not running after the attempts: "
                    f"IO {status.get('Slave_IO_Running')}, SQL {status.get('Slave_SQL_Running')}"
                    f" {status.get('Last_SQL_Error') or ''}"
                )
        attach.table("root's writes on the replicas", outcomes)
        attach.table("replica state before and after the attempts", changes)
        assert not problems, "\n".join(problems)
