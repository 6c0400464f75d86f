"""Replicas that meet a conflict stop, say so, and catch up once it is resolved.

A row the master no longer has can stay on the replicas (a write made with the binary log
off, a restore, an operator's fix). When the master then writes the same key, each replica
must stop its SQL thread on the duplicate-key error (1062) and say so in its status:
carrying on (``slave-skip-errors``) leaves it holding other data than the master,
silently. Resolved, it must apply the master's row and catch up.

The stray row is made without touching the replicas' read-only protection: written on the
master (it replicates), then deleted there with the binary log off (that does not). The
conflict is resolved as a DBA would: the replicas apply the master's row over theirs
(``slave_exec_mode=IDEMPOTENT`` for that one event, then the server's own mode again),
whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import allure
import pytest

from mysqlsts.db.mysql import MySQL, describe_error
from mysqlsts.db.replication import ReplicationBroken, start_sql_thread
from mysqlsts.db.server import global_variable
from mysqlsts.reporting import attachments
from mysqlsts.scenarios.scratch import scratch_database

pytestmark = [pytest.mark.needs_replicas(1), pytest.mark.mutates_deployment]

DUPLICATE_KEY = 1062
KEY = 1


def _row(mysql: MySQL, pod: str, database: str) -> list[dict[str, object]]:
    return mysql.query(pod, f"SELECT id, origin FROM `{database}`.`t` WHERE id = {KEY}")


@allure.step("leave a row on the replicas that the master no longer has")
def stray_row_on_the_replicas(mysql: MySQL, database: str) -> None:
    master = mysql.deployment.master_pod
    with mysql.connect(master) as conn, conn.cursor() as cursor:
        cursor.execute(f"INSERT INTO `{database}`.`t` VALUES ({KEY}, 'stray')")
        mysql.wait_replicas_caught_up()
        cursor.execute("SET SESSION sql_log_bin = 0")
        cursor.execute(f"DELETE FROM `{database}`.`t` WHERE id = {KEY}")
        cursor.execute("SET SESSION sql_log_bin = 1")


@contextmanager
def replication_resumed(mysql: MySQL) -> Iterator[None]:
    """Afterwards, whatever happened: each replica applies what it stopped on over its own
    row (IDEMPOTENT for the rest of the backlog), its SQL thread runs, its mode restored."""
    try:
        yield
    finally:
        for pod in mysql.deployment.replica_pods():
            with mysql.connect(pod) as conn, conn.cursor() as cursor:
                mode = global_variable(conn, "slave_exec_mode") or "STRICT"
                status = mysql.replica_status(pod)
                if status is not None and status.sql_running != "Yes":
                    cursor.execute("SET GLOBAL slave_exec_mode = 'IDEMPOTENT'")
                    try:
                        start_sql_thread(conn)
                        mysql.wait_replica_caught_up(pod, timeout=120)
                    finally:
                        cursor.execute(f"SET GLOBAL slave_exec_mode = '{mode}'")


@allure.step("the master writes the same key; every replica must stop on it")
def replicas_stop_on_the_conflict(mysql: MySQL, database: str) -> None:
    master = mysql.deployment.master_pod
    mysql.query(master, f"INSERT INTO `{database}`.`t` VALUES ({KEY}, 'master')")
    for pod in mysql.deployment.replica_pods():
        try:
            mysql.wait_replica_caught_up(pod, timeout=60)
        except ReplicationBroken as broken:
            stopped = str(broken)
        else:
            raise AssertionError(
                f"{pod} carried on past a conflicting row: it applied everything the master "
                f"wrote but holds {_row(mysql, pod, database)} where the master holds "
                f"{_row(mysql, master, database)} (it skips replication errors)"
            )
        status = mysql.replica_status(pod)
        assert status is not None
        attachments.text(f"{pod}: replica status on the conflict", status.text())
        errno = int(status.get("Last_SQL_Errno") or 0)
        assert errno == DUPLICATE_KEY and status.sql_running != "Yes", (
            f"{pod} stopped on another error than the duplicate key (Last_SQL_Errno {errno}): "
            f"{stopped}"
        )


@allure.title("Replicas stop on a conflicting row with error 1062, and catch up once resolved")
def test_a_replica_stops_on_a_conflicting_row_and_catches_up_once_it_is_resolved(
    mysql: MySQL,
) -> None:
    master = mysql.deployment.master_pod
    with scratch_database(mysql, "mysqlsts_conflict") as database:
        mysql.query(
            master, f"CREATE TABLE `{database}`.`t` (id INT PRIMARY KEY, origin VARCHAR(16))"
        )
        stray_row_on_the_replicas(mysql, database)
        with replication_resumed(mysql):
            replicas_stop_on_the_conflict(mysql, database)
        with allure.step("resolved, every replica holds the master's row"):
            for pod in mysql.deployment.replica_pods():
                try:
                    mysql.wait_replica_caught_up(pod, timeout=120)
                except ReplicationBroken as error:
                    raise AssertionError(f"{pod} did not resume: {describe_error(error)}") from None
                assert _row(mysql, pod, database) == _row(mysql, master, database), (
                    f"{pod} holds {_row(mysql, pod, database)} after resuming, the master "
                    f"{_row(mysql, master, database)}"
                )
