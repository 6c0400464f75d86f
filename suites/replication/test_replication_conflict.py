"""A replica that meets a conflict stops, says so, and catches up once it is resolved.

A row the master never wrote can reach a replica (a write before its read-only protection
was on, a restore, an operator's fix). When the master then writes the same key, the
replica must stop its SQL thread on the duplicate-key error (1062) and say so in its
status: carrying on (``slave-skip-errors``, an idempotent mode) leaves it holding other
data than the master, silently. Resolved (the stray row removed, the thread started
again), it must apply the master's row and catch up.

The check puts the stray row on the last replica itself, with its read-only protection
lifted for that one statement and out of its binary log; everything is put back whatever
happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import allure
import pymysql
import pytest

from mysqlsts.checks.scratch import scratch_database
from mysqlsts.db.mysql import MySQL, describe_error
from mysqlsts.db.replication import ReplicationBroken, read_replica_status, start_sql_thread
from mysqlsts.db.server import writable_unlogged
from mysqlsts.reporting import attachments

pytestmark = [pytest.mark.needs_replicas(1), pytest.mark.mutates_deployment]

DUPLICATE_KEY = 1062
KEY = 1


def _row(mysql: MySQL, pod: str, database: str) -> list[dict[str, object]]:
    return mysql.query(pod, f"SELECT id, origin FROM `{database}`.`t` WHERE id = {KEY}")


@contextmanager
def stray_row_on(mysql: MySQL, replica: str, database: str) -> Iterator[None]:
    """A row only ``replica`` holds; removed again (unlogged), and its SQL thread running,
    whatever happens."""
    with (
        allure.step(f"put a row the master never wrote on {replica} (read-only lifted once)"),
        mysql.connect(replica) as conn,
        writable_unlogged(conn),
        conn.cursor() as cursor,
    ):
        cursor.execute(f"INSERT INTO `{database}`.`t` VALUES ({KEY}, 'replica')")
    try:
        yield
    finally:
        with mysql.connect(replica) as conn:
            with writable_unlogged(conn), conn.cursor() as cursor:
                cursor.execute(f"DELETE FROM `{database}`.`t` WHERE id = {KEY}")
            with suppress(pymysql.err.MySQLError):
                status = read_replica_status(conn)
                if status is not None and status.sql_running != "Yes":
                    start_sql_thread(conn)


@allure.title("A replica stops on a conflicting row with error 1062, and catches up once resolved")
def test_a_replica_stops_on_a_conflicting_row_and_catches_up_once_it_is_removed(
    mysql: MySQL,
) -> None:
    replica = mysql.deployment.replica_pods()[-1]
    master = mysql.deployment.master_pod
    with scratch_database(mysql, "mysqlsts_conflict") as database:
        mysql.query(
            master, f"CREATE TABLE `{database}`.`t` (id INT PRIMARY KEY, origin VARCHAR(16))"
        )
        mysql.wait_replica_caught_up(replica)
        with stray_row_on(mysql, replica, database):
            with allure.step(f"the master writes the same key; {replica} must stop on it"):
                mysql.query(master, f"INSERT INTO `{database}`.`t` VALUES ({KEY}, 'master')")
                try:
                    mysql.wait_replica_caught_up(replica, timeout=60)
                except ReplicationBroken as broken:
                    stopped = str(broken)
                else:
                    held = _row(mysql, replica, database)
                    raise AssertionError(
                        f"{replica} carried on past a conflicting row: it applied everything "
                        f"the master wrote but holds {held} where the master holds "
                        f"{_row(mysql, master, database)} (it skips replication errors)"
                    )
            status = mysql.replica_status(replica)
            assert status is not None
            attachments.text(f"{replica}: replica status on the conflict", status.text())
            errno = int(status.get("Last_SQL_Errno") or 0)
            assert errno == DUPLICATE_KEY and status.sql_running != "Yes", (
                f"{replica} stopped on another error than the duplicate key "
                f"(Last_SQL_Errno {errno}): {stopped}"
            )
        with allure.step(f"the stray row removed, {replica} catches up with the master's row"):
            try:
                mysql.wait_replica_caught_up(replica, timeout=120)
            except ReplicationBroken as error:
                raise AssertionError(f"{replica} did not resume: {describe_error(error)}") from None
            assert _row(mysql, replica, database) == _row(mysql, master, database), (
                f"{replica} holds {_row(mysql, replica, database)} after resuming, the master "
                f"{_row(mysql, master, database)}"
            )
