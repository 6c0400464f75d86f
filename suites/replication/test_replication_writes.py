"""Writes on a replica: refused with error 1290 even for root, and nothing changes.

``super-read-only`` in slave.cnf is what keeps clients (root included) from writing to a
replica behind the master's back; a write that slipped through would make the replica
diverge silently, or stop its SQL thread on the next conflicting event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pymysql
import pytest

from mysqlsts.db.mysql import READ_ONLY_ERROR, MySQL
from mysqlsts.db.replication import read_own_binlog, read_replica_status
from mysqlsts.db.server import global_variable, is_on
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.scenarios.scratch import scratch_database

pytestmark = pytest.mark.needs_replicas(1)

STATEMENTS = (
    "INSERT INTO `{db}`.`t` VALUES (2, 'written on the replica')",
    "UPDATE `{db}`.`t` SET note = 'changed on the replica' WHERE id = 1",
    "DELETE FROM `{db}`.`t` WHERE id = 1",
    "CREATE TABLE `{db}`.`made_on_replica` (id INT)",
    "CREATE DATABASE `{db}_made_on_replica`",
)


@dataclass
class Attempts:
    """What the write attempts on the replicas did."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def snapshot(conn: pymysql.Connection, database: str) -> dict[str, Any]:
    """What a write could have changed on one server: the table's rows, the database's
    tables, the databases of this check (those of other checks running at the same time
    are theirs to change) and the server's own binary log position."""
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM `{database}`.`t` ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "ORDER BY 1",
            (database,),
        )
        tables = [r["t"] for r in cursor.fetchall()]
        cursor.execute("SHOW DATABASES LIKE %s", (f"{database}%",))
        databases = sorted(next(iter(r.values())) for r in cursor.fetchall())
    return {
        "rows": rows,
        "tables": tables,
        "databases": databases,
        "own binlog": read_own_binlog(conn),
    }


@contextmanager
def replicated_table(mysql: MySQL) -> Iterator[str]:
    """A database with table ``t`` holding one row from the master, on every replica.

    Made in the test, not in a fixture: a master that does not replicate must fail the
    check, not error its setup."""
    with scratch_database(mysql, "sr_ro") as database:
        master = mysql.deployment.master_pod
        mysql.query(master, f"CREATE TABLE `{database}`.`t` (id INT PRIMARY KEY, note VARCHAR(40))")
        mysql.query(master, f"INSERT INTO `{database}`.`t` VALUES (1, 'from the master')")
        mysql.wait_replicas_caught_up()
        yield database


def attempt_writes(conn: pymysql.Connection, pod: str, database: str, seen: Attempts) -> None:
    """Each statement of STATEMENTS as root; anything but error 1290 is a problem."""
    for template in STATEMENTS:
        sql = template.format(db=database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
            code, message = None, "succeeded"
        except pymysql.err.MySQLError as error:
            code, message = error.args[0], str(error.args[-1])
        seen.outcomes.append({"pod": pod, "statement": sql, "error": code, "message": message})
        if code != READ_ONLY_ERROR:
            outcome = message if code is None else f"error {code}: {message}"
            seen.problems.append(f"{pod}: {sql!r} -> {outcome}")


def compare_snapshots(
    pod: str, before: dict[str, Any], after: dict[str, Any], logs_replicated: bool, seen: Attempts
) -> None:
    for key in before:
        if key == "own binlog" and logs_replicated:
            continue  # replicated events may move it too (log_slave_updates)
        seen.changes.append({"pod": pod, "what": key, "before": before[key], "after": after[key]})
        if before[key] != after[key]:
            seen.problems.append(f"{pod}: {key} changed: {before[key]} -> {after[key]}")


@step("root writes on {pod}")
def writes_on_replica(mysql: MySQL, pod: str, database: str, seen: Attempts) -> None:
    """Every statement refused with 1290, nothing changed, replication still running."""
    try:
        with mysql.connect(pod) as conn:
            logs_replicated = is_on(global_variable(conn, "log_slave_updates"))
            before = snapshot(conn, database)
            attempt_writes(conn, pod, database, seen)
            compare_snapshots(pod, before, snapshot(conn, database), logs_replicated, seen)
            status = read_replica_status(conn)
    finally:
        # Only a replica that let a write through holds this database.
        with suppress(pymysql.err.MySQLError):
            mysql.query(pod, f"DROP DATABASE IF EXISTS `{database}_made_on_replica`")
    if status is None or not status.running:
        seen.problems.append(f"{pod}: replication not running after the attempts: {status}")


def test_root_write_on_every_replica_is_rejected_with_1290_and_changes_nothing(
    deployment: Deployment, mysql: MySQL
) -> None:
    """As root on every replica: INSERT, UPDATE, DELETE, CREATE TABLE and CREATE DATABASE
    each fail with error 1290; afterwards the rows, tables, databases and the replica's
    own binary log position are what they were, and the replica still replicates.
    """
    seen = Attempts()
    with replicated_table(mysql) as database:
        for pod in deployment.replica_pods():
            writes_on_replica(mysql, pod, database, seen)
    attachments.table("root's writes on the replicas", seen.outcomes)
    attachments.table("replica state before and after the attempts", seen.changes)
    assert not seen.problems, "\n".join(seen.problems)
