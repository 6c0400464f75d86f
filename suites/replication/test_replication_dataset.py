"""Replicas hold the master's data: the whole dataset, compared at one binlog position.

The article's central promise ("从节点能同步主节点的数据"), judged as a DBA would with
pt-table-checksum: every table of every schema the replicas replicate (their own filters,
as each replica reports them, decide which), cut into chunks of its primary key, row counts
and checksums compared between the master and each replica (mysqlsts.db.consistency).

The check first writes what applications write and what the binary log must carry
faithfully for replicas to agree: values made by nondeterministic functions (``UUID()``,
``RAND()``, ``SYSDATE(6)``), ``CURRENT_TIMESTAMP`` defaults and ``ON UPDATE``,
``AUTO_INCREMENT`` keys, ``UPDATE ... LIMIT``, across several chunks; and what else they do:
``ALTER TABLE`` while three sessions insert (``AUTO_INCREMENT`` from concurrent sessions), a
trigger, foreign keys with ``ON DELETE CASCADE``, ``CREATE TABLE ... SELECT`` (a table
without a primary key), a temporary table feeding an insert, a row near
``max_allowed_packet``. It then compares
everything the run has left on the servers, its own rows included; it is ordered last, so
that it is the run's final word on the data. Last, it reads its rows back through the read
Service as an application does (fresh connections from a pod in the cluster, the client's
default session settings: time zone, SQL mode, character set as each server sets them) and
compares every answer with the master's.
"""

from __future__ import annotations

import threading
from pathlib import Path

import allure
import pytest

from mysqlsts.db import consistency
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.reporting import attachments
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.clients import mysql_client, query_through
from mysqlsts.scenarios.scratch import scratch_database

pytestmark = [pytest.mark.needs_replicas(1), pytest.mark.at_end]

# Enough rows for several chunks (the chunk is consistency.CHUNK_ROWS rows).
DOUBLINGS = 14  # 2**14 = 16384 rows
TABLE = "app_rows"
# Connections through the read Service: each of 3 pods reached with probability > 0.999.
READS = 20
# What an application sees of the rows, every column rendered by its session's defaults
# (hashed as the whole-dataset comparison hashes a row: MD5, in which a change made alike to
# an even number of rows, a time zone's shift, does not cancel out as it does in CRC32).
ROW = "CONCAT_WS('#', id, token, score, seen, created, IFNULL(touched, 'null'), note)"
DIGEST = (
    f"SELECT @@hostname, COUNT(*), BIT_XOR({consistency.row_hash_sql(ROW)}) "
    "FROM `{database}`.`" + TABLE + "`"
)


@allure.step("write what applications write: {database}.app_rows, 2**{doublings} rows")
def write_application_rows(mysql: MySQL, database: str, doublings: int = DOUBLINGS) -> int:
    master = mysql.deployment.master_pod
    with mysql.connect(master, database=database) as conn, conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE} ("
            " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
            " token CHAR(36) NOT NULL,"
            " score DOUBLE NOT NULL,"
            " seen DATETIME(6) NOT NULL,"
            " created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
            " touched TIMESTAMP(6) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(6),"
            " note VARCHAR(64) NULL"
            ") ENGINE=InnoDB"
        )
        columns = "(token, score, seen, note)"
        cursor.execute(f"INSERT INTO {TABLE} {columns} VALUES (UUID(), RAND(), SYSDATE(6), 'a')")
        for _ in range(doublings):
            cursor.execute(
                f"INSERT INTO {TABLE} {columns} "
                f"SELECT UUID(), RAND(), SYSDATE(6), note FROM {TABLE}"
            )
        # Unordered UPDATE/DELETE ... LIMIT: which rows they touch is the server's choice.
        cursor.execute(f"UPDATE {TABLE} SET note = UUID() LIMIT 100")
        cursor.execute(f"DELETE FROM {TABLE} WHERE note = 'a' LIMIT 50")
        cursor.execute(f"SELECT COUNT(*) AS n FROM {TABLE}")
        return int(cursor.fetchone()["n"])


# Concurrent sessions inserting while the table is altered; rows each.
WRITERS, WRITES_EACH = 3, 60  # the step title says three
# The large row: this share of the master's max_allowed_packet. Made by the server
# (REPEAT): a literal that long is refused by MariaDB's parser well below the limit.
PACKET_SHARE = 0.9


def _concurrent_inserts(mysql: MySQL, kubeconfig: Path, database: str, errors: list[str]) -> None:
    """One session's inserts (its own API client: threads may not share one)."""
    own = MySQL.own_client(kubeconfig, mysql.deployment)
    try:
        with (
            own.connect(own.deployment.master_pod, database=database) as conn,
            conn.cursor() as cursor,
        ):
            for _ in range(WRITES_EACH):
                cursor.execute(
                    f"INSERT INTO {TABLE} (token, score, seen, note) "
                    "VALUES (UUID(), RAND(), SYSDATE(6), CONNECTION_ID())"
                )
    except Exception as error:  # the thread's failure is the check's: reported below
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        own.close()


@allure.step("ALTER TABLE while three sessions insert (AUTO_INCREMENT from each)")
def alter_under_concurrent_inserts(mysql: MySQL, kubeconfig: Path, database: str) -> None:
    errors: list[str] = []
    threads = [
        threading.Thread(target=_concurrent_inserts, args=(mysql, kubeconfig, database, errors))
        for _ in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    try:
        mysql.query(
            mysql.deployment.master_pod,
            f"ALTER TABLE {TABLE} ADD COLUMN extra INT NOT NULL DEFAULT 7",
            database=database,
        )
    finally:
        for thread in threads:
            thread.join(timeout=300)
    assert not errors, f"inserts failed while {TABLE} was altered: {errors}"


@allure.step("a trigger, cascading foreign keys, CREATE TABLE ... SELECT, a temporary table")
def schema_features(mysql: MySQL, database: str) -> None:
    statements = (
        "CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, row_id BIGINT NOT NULL, "
        "at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))",
        f"CREATE TRIGGER app_rows_audit AFTER INSERT ON {TABLE} FOR EACH ROW "
        "INSERT INTO audit (row_id) VALUES (NEW.id)",
        "CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(16)) ENGINE=InnoDB",
        "CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL, "
        "FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE) ENGINE=InnoDB",
        "INSERT INTO parent VALUES (1, 'one'), (2, 'two'), (3, 'three')",
        "INSERT INTO child (parent_id) VALUES (1), (1), (2), (2), (3)",
        "DELETE FROM parent WHERE id = 2",
        f"CREATE TABLE app_copy AS SELECT id, token, score FROM {TABLE} WHERE id % 7 = 0",
        "CREATE TEMPORARY TABLE tmp_new (token CHAR(36), score DOUBLE)",
        "INSERT INTO tmp_new SELECT UUID(), RAND() FROM app_copy LIMIT 100",
        f"INSERT INTO {TABLE} (token, score, seen, note) "
        "SELECT token, score, SYSDATE(6), 'from a temporary table' FROM tmp_new",
        "DROP TEMPORARY TABLE tmp_new",
    )
    with (
        mysql.connect(mysql.deployment.master_pod, database=database) as conn,
        conn.cursor() as cursor,
    ):
        for statement in statements:
            cursor.execute(statement)


@allure.step("a row near the master's max_allowed_packet")
def large_row(mysql: MySQL, database: str) -> int:
    with (
        mysql.connect(mysql.deployment.master_pod, database=database) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT @@max_allowed_packet AS m")
        size = int(int(cursor.fetchone()["m"]) * PACKET_SHARE)
        cursor.execute("CREATE TABLE big (id INT PRIMARY KEY, payload LONGBLOB)")
        cursor.execute("INSERT INTO big VALUES (1, REPEAT('mysqlsts-0', %s))", (size // 10,))
        cursor.execute("SELECT LENGTH(payload) AS n FROM big WHERE id = 1")
        made = cursor.fetchone()["n"]
    assert made == size // 10 * 10, f"the large row holds {made} bytes, not {size // 10 * 10}"
    return int(made)


@allure.step("read the rows back through the read Service, as an application does")
def reads_through_the_read_service(
    kube: Kube, mysql: MySQL, run: RunInfo, database: str
) -> list[str]:
    """Which pods answered differently from the master, each with its answer."""
    deployment = mysql.deployment
    service = deployment.read_service
    sql = DIGEST.format(database=database)
    with mysql_client(kube, deployment, run, "app-reads") as client:
        (master,) = query_through(client, deployment, deployment.pod_host(0), sql, 1)
        answers = query_through(client, deployment, service, sql, READS)
    digest = master.split("\t", 1)[-1]
    rows = [{"answered by": deployment.master_pod + " (directly)", "digest": digest}]
    rows += [{"answered by": a.split("\t", 1)[0], "digest": a.split("\t", 1)[-1]} for a in answers]
    attachments.table(f"{READS} reads through Service {service} and one from the master", rows)
    other = {a.replace("\t", " ") for a in answers if a.split("\t", 1)[-1] != digest}
    return [f"{deployment.master_pod} (directly) {master.replace(chr(9), ' ')}", *sorted(other)]


@allure.title("Every replica holds the master's whole dataset, table by table, chunk by chunk")
def test_every_replica_holds_the_masters_whole_dataset(
    kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """After application-like writes, every replicated table of every schema has the same
    rows on every replica as on the master, at one binlog position; and an application
    reading through the read Service sees what the master returns."""
    with scratch_database(mysql, "mysqlsts_dataset") as database:
        written = write_application_rows(mysql, database)
        alter_under_concurrent_inserts(mysql, Path(mysqlsts_run.kubeconfig), database)
        schema_features(mysql, database)
        attachments.text("the large row", f"{large_row(mysql, database)} bytes")
        with allure.step("compare every table of every schema, master against each replica"):
            comparison = mysql.compare_dataset()
        attachments.table("whole-dataset comparison: figures", consistency.summarise([comparison]))
        ours = f"{database}.{TABLE}"
        assert comparison.rows >= written, (
            f"the comparison covered {comparison.rows} rows, fewer than the {written} this check "
            f"wrote in {ours}: {comparison.figures()}"
        )
        assert not comparison.differences, (
            f"replicas that do not hold the master's data ({comparison.figures()}):\n"
            + "\n".join(d.line() for d in comparison.differences)
        )
        master, *other = reads_through_the_read_service(kube, mysql, mysqlsts_run, database)
        assert not other, (
            f"reads through Service {mysql.deployment.read_service} with the client's default "
            f"session settings answer otherwise than the master (pod, rows, digest: {master}): "
            + "; ".join(other)
        )
