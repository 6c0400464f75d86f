"""Randomized replication: whatever the master commits, every replica returns identically.

A Hypothesis state machine creates tables with columns of random types (integers at
their limits, decimals, doubles, Unicode text, binary, dates, JSON, enums), NULLs, large
values (tens to hundreds of kB, stored off-page), and runs multi-row transactions of inserts,
updates and deletes that commit or roll back, always on the master. After every step
each replica, once it has applied the master's binary log up to that point, must return
exactly the master's rows and table definitions; the master itself must hold exactly the
committed rows, value by value (the machine keeps a model of every committed value); when a
run ends, CHECKSUM TABLE agrees on every pod. A failure is shrunk
to a minimal sequence of steps and printed with a ``@reproduce_failure`` line.
"""

from __future__ import annotations

import datetime
import json
import math
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import pymysql
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mysqlsts.db.mysql import Connections, MySQL
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.settings import Settings

pytestmark = pytest.mark.needs_replicas(1)

# How much to generate comes from --random-runs and --random-steps.
SETTINGS = settings(
    deadline=None,
    print_blob=True,
    # No "explain" phase: it reruns the failing case many times, minutes on a cluster.
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=(
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ),
)
CATCH_UP_TIMEOUT = 120.0
# A generated statement stays below this share of the master's max_allowed_packet.
PACKET_SHARE = 0.5


# -- what the machine generates ----------------------------------------------------------------
def _large(chunk: st.SearchStrategy[Any], fewest: int, most: int) -> st.SearchStrategy[Any]:
    """Large values: a short random chunk repeated ``fewest`` to ``most`` times (random
    data of that size is more than Hypothesis generates, and would shrink badly)."""
    return st.builds(lambda c, n: c * n, chunk, st.integers(min_value=fewest, max_value=most))


_TEXT = st.text(max_size=30)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
).map(lambda v: json.dumps(v, ensure_ascii=False))
_ENUM = ("alpha", "βήτα", "ガンマ", "delta epsilon")


@dataclass(frozen=True)
class ColumnType:
    """A SQL column type and the values it accepts (bounded so that strict mode takes them)."""

    sql: str
    values: st.SearchStrategy[Any] = field(compare=False)

    def __repr__(self) -> str:
        return repr(self.sql)


TYPES: tuple[ColumnType, ...] = (
    ColumnType("TINYINT", st.integers(-128, 127)),
    ColumnType("SMALLINT UNSIGNED", st.integers(0, 2**16 - 1)),
    ColumnType("INT", st.integers(-(2**31), 2**31 - 1)),
    ColumnType("BIGINT", st.integers(-(2**63), 2**63 - 1)),
    ColumnType("BIGINT UNSIGNED", st.integers(0, 2**64 - 1)),
    ColumnType(
        "DECIMAL(20,6)",
        st.decimals(
            min_value=Decimal("-99999999999999.999999"),
            max_value=Decimal("99999999999999.999999"),
            places=6,
            allow_nan=False,
            allow_infinity=False,
        ),
    ),
    ColumnType("DOUBLE", st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False)),
    ColumnType("VARCHAR(40) CHARACTER SET utf8mb4", st.text(max_size=40)),
    # TEXT holds 65535 bytes: at most 4 chars x 4 bytes x 4000.
    ColumnType(
        "TEXT CHARACTER SET utf8mb4", _TEXT | _large(st.text(min_size=1, max_size=4), 1000, 4000)
    ),
    # 8k to 64k characters (up to 256 kB), stored off-page.
    ColumnType(
        "LONGTEXT CHARACTER SET utf8mb4",
        _TEXT | _large(st.text(min_size=2, max_size=4), 4096, 16384),
    ),
    ColumnType("VARBINARY(64)", st.binary(max_size=64)),
    # 32 kB to 256 kB.
    ColumnType(
        "LONGBLOB",
        st.binary(max_size=30) | _large(st.binary(min_size=8, max_size=16), 4096, 16384),
    ),
    ColumnType("DATE", st.dates(datetime.date(1000, 1, 1), datetime.date(9999, 12, 31))),
    ColumnType(
        "DATETIME(6)",
        st.datetimes(datetime.datetime(1000, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59)),
    ),
    ColumnType("JSON", _JSON),
    ColumnType(
        "ENUM(" + ", ".join(f"'{v}'" for v in _ENUM) + ") CHARACTER SET utf8mb4",
        st.sampled_from(_ENUM),
    ),
)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool

    def ddl(self) -> str:
        return f"`{self.name}` {self.type.sql} {'NULL' if self.nullable else 'NOT NULL'}"

    def values(self) -> st.SearchStrategy[Any]:
        return (st.none() | self.type.values) if self.nullable else self.type.values


COLUMNS = st.lists(st.tuples(st.sampled_from(TYPES), st.booleans()), min_size=1, max_size=5).map(
    lambda specs: tuple(Column(f"c{i}", t, nullable) for i, (t, nullable) in enumerate(specs))
)


@dataclass
class TableModel:
    """What the master must hold: every committed row's values, by id."""

    columns: tuple[Column, ...]
    rows: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    next_id: int = 1

    @property
    def ids(self) -> set[int]:
        return set(self.rows)


# DOUBLE travels as text: the server prints at most 17 significant digits, some servers fewer.
DOUBLE_RELATIVE_TOLERANCE = 1e-14


def same_value(column: Column, written: Any, read: Any) -> bool:
    """Whether the master returned the value the machine wrote (JSON compared as data, a
    DOUBLE within the text protocol's precision)."""
    if written is None or read is None:
        return written is None and read is None
    if column.type.sql == "JSON":
        return json.loads(written) == json.loads(read)
    if column.type.sql == "DOUBLE":
        return math.isclose(float(written), float(read), rel_tol=DOUBLE_RELATIVE_TOLERANCE)
    if isinstance(read, bytes) and isinstance(written, bytes | bytearray):
        return bytes(written) == read
    return bool(written == read)


def value_differences(model: TableModel, rows: list[dict[str, Any]]) -> list[str]:
    """Where the rows the master returned differ from the committed values (a few)."""
    found = []
    for row in rows:
        expected = model.rows.get(row["id"])
        if expected is None:
            continue
        for column, written in zip(model.columns, expected, strict=True):
            if not same_value(column, written, row[column.name]):
                found.append(
                    f"id {row['id']} {column.name} ({column.type.sql}): committed "
                    f"{_short(written)}, read {_short(row[column.name])}"
                )
    return found[:5]


@dataclass(frozen=True)
class Insert:
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Update:
    pick: int  # which existing row (index into the sorted ids, modulo their number)
    column: int
    value: Any


@dataclass(frozen=True)
class Delete:
    picks: tuple[int, ...]


def _rows(columns: tuple[Column, ...]) -> st.SearchStrategy[tuple[tuple[Any, ...], ...]]:
    return st.lists(st.tuples(*(c.values() for c in columns)), min_size=1, max_size=4).map(tuple)


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    return len(value) if isinstance(value, bytes) else 0


def _operations(columns: tuple[Column, ...]) -> st.SearchStrategy[list[Any]]:
    update = st.integers(0, len(columns) - 1).flatmap(
        lambda i: st.builds(Update, st.integers(0, 1000), st.just(i), columns[i].values())
    )
    operation = st.one_of(
        st.builds(Insert, _rows(columns)),
        update,
        st.builds(Delete, st.lists(st.integers(0, 1000), min_size=1, max_size=3).map(tuple)),
    )
    return st.lists(operation, min_size=1, max_size=4)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


# -- the machine ---------------------------------------------------------------------------------
class ReplicationMachine(RuleBasedStateMachine):
    """Writes on the master only; after each step every replica must agree with it."""

    deployment: ClassVar[Deployment]
    mysql: ClassVar[MySQL]
    connections: ClassVar[Connections]
    log: ClassVar[list[dict[str, Any]]] = []

    tables = Bundle("tables")

    def __init__(self) -> None:
        super().__init__()
        self.database = f"sr_hyp_{secrets.token_hex(4)}"
        self.model: dict[str, TableModel] = {}
        self.counter = 0
        self.steps = 0
        self.last_step_verified = True
        self.stats: Counter[str] = Counter()
        self.master = self.connections.get(self.deployment.master_pod)
        self.master.rollback()  # whatever a failed run before this one left open
        with self.master.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4")
            cursor.execute(f"USE `{self.database}`")
            cursor.execute("SELECT @@max_allowed_packet AS m")
            self.statement_budget = int(int(cursor.fetchone()["m"]) * PACKET_SHARE)

    # -- helpers -------------------------------------------------------------------------------
    def _replica(self, pod: str) -> pymysql.Connection:
        return self.connections.get(pod)

    def _catch_up(self) -> None:
        """Wait until every replica has executed the master's binary log up to now, on the
        machine's open connections (a new connection per poll costs a port-forward, about
        a second on a loaded machine, many times per run)."""
        self.mysql.wait_replicas_caught_up(
            timeout=CATCH_UP_TIMEOUT, interval=0.2, via=self.connections
        )

    def _query(self, conn: pymysql.Connection, sql: str) -> list[dict[str, Any]]:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())

    def _tables(self, conn: pymysql.Connection) -> list[str]:
        rows = self._query(
            conn,
            "SELECT TABLE_NAME AS t FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = '{self.database}' ORDER BY TABLE_NAME",
        )
        return [r["t"] for r in rows]

    def _definition(self, conn: pymysql.Connection, table: str) -> str:
        return str(
            self._query(conn, f"SHOW CREATE TABLE `{self.database}`.`{table}`")[0]["Create Table"]
        )

    def _rows(self, conn: pymysql.Connection, table: str) -> list[dict[str, Any]]:
        return self._query(conn, f"SELECT * FROM `{self.database}`.`{table}` ORDER BY id")

    def _verify(self, table: str | None) -> None:
        """Replicas caught up, then: same table list, and for ``table`` the same definition
        and rows as the master; the master holds exactly the committed ids."""
        self._catch_up()
        master_tables = self._tables(self.master)
        assert master_tables == sorted(self.model), (
            f"master has tables {master_tables}, committed DDL made {sorted(self.model)}"
        )
        expected_rows: list[dict[str, Any]] = []
        definition = ""
        if table is not None:
            definition = self._definition(self.master, table)
            expected_rows = self._rows(self.master, table)
            ids = [r["id"] for r in expected_rows]
            assert ids == sorted(self.model[table].ids), (
                f"master table {table} holds ids {ids}, the committed transactions left "
                f"{sorted(self.model[table].ids)}"
            )
            wrong = value_differences(self.model[table], expected_rows)
            assert not wrong, (
                f"master table {table} returns other values than were committed: {wrong}"
            )
        for pod in self.deployment.replica_pods():
            conn = self._replica(pod)
            replica_tables = self._tables(conn)
            assert replica_tables == master_tables, (
                f"{pod} has tables {replica_tables} in {self.database}, the master {master_tables}"
            )
            if table is None:
                continue
            replica_definition = self._definition(conn, table)
            assert replica_definition == definition, (
                f"{pod}: table {table} is defined differently from the master's:\n"
                f"master: {definition}\n{pod}: {replica_definition}"
            )
            rows = self._rows(conn, table)
            if rows != expected_rows:
                differing = next(
                    (
                        i
                        for i, (a, b) in enumerate(zip(rows, expected_rows, strict=False))
                        if a != b
                    ),
                    min(len(rows), len(expected_rows)),
                )
                theirs = rows[differing] if differing < len(rows) else None
                ours = expected_rows[differing] if differing < len(expected_rows) else None
                raise AssertionError(
                    f"{pod}: table {table} differs from the master's: {len(rows)} rows vs "
                    f"{len(expected_rows)}; first difference at row {differing}: "
                    f"master {_short(ours)}, {pod} {_short(theirs)}"
                )
        self.last_step_verified = True

    def _step(self) -> None:
        self.steps += 1
        self.last_step_verified = False

    def _insert(
        self, cursor: Any, table: str, columns: tuple[Column, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """Multi-row INSERTs, split only where one would exceed the packet budget."""
        names = ", ".join(["`id`", *(f"`{c.name}`" for c in columns)])
        head = f"INSERT INTO `{table}` ({names}) VALUES "
        placeholders = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        tuples = [cursor.mogrify(placeholders, row) for row in rows]
        batch: list[str] = []
        for values in tuples:
            if batch and len(head) + sum(map(len, batch)) + len(values) > self.statement_budget:
                cursor.execute(head + ", ".join(batch))
                batch = []
            batch.append(values)
        cursor.execute(head + ", ".join(batch))

    # -- rules ----------------------------------------------------------------------------------
    # Hypothesis disables a random subset of the rules in each run ("swarm testing"), so
    # creating a table also fills it: every run writes rows, whichever rules it keeps.
    def _create(self, columns: tuple[Column, ...], commit: bool, data: st.DataObject) -> str:
        self._step()
        self.counter += 1
        name = f"t{self.counter}"
        ddl = ", ".join(["`id` INT NOT NULL PRIMARY KEY", *(c.ddl() for c in columns)])
        # No ENGINE clause: the server's default (InnoDB) applies, as for most applications.
        self._query(self.master, f"CREATE TABLE `{name}` ({ddl}) DEFAULT CHARSET=utf8mb4")
        self.model[name] = TableModel(columns)
        self.stats["tables created"] += 1
        rows = data.draw(_rows(columns), label=f"rows for {name}")
        self._run_transaction(name, [Insert(rows)], commit)
        self._verify(name)
        return name

    @initialize(target=tables, columns=COLUMNS, commit=st.booleans(), data=st.data())
    def create_first_table(
        self, columns: tuple[Column, ...], commit: bool, data: st.DataObject
    ) -> str:
        """CREATE TABLE with random columns, then one multi-row INSERT transaction."""
        return self._create(columns, commit, data)

    @rule(target=tables, columns=COLUMNS, commit=st.booleans(), data=st.data())
    def create_table(self, columns: tuple[Column, ...], commit: bool, data: st.DataObject) -> str:
        """Another table, like the first."""
        return self._create(columns, commit, data)

    @rule(table=tables, commit=st.booleans(), data=st.data())
    def insert_rows(self, table: str, commit: bool, data: st.DataObject) -> None:
        """BEGIN; INSERT of one to four rows; COMMIT or ROLLBACK."""
        self._step()
        rows = data.draw(_rows(self.model[table].columns), label="rows")
        self._run_transaction(table, [Insert(rows)], commit)
        self._verify(table)

    @rule(table=tables, commit=st.booleans(), data=st.data())
    def mixed_transaction(self, table: str, commit: bool, data: st.DataObject) -> None:
        """BEGIN; a few inserts, updates and deletes on one table; COMMIT or ROLLBACK."""
        self._step()
        operations = data.draw(_operations(self.model[table].columns), label="operations")
        self._run_transaction(table, operations, commit)
        self._verify(table)

    @precondition(lambda self: len(self.model) > 1)
    @rule(table=consumes(tables))
    def drop_table(self, table: str) -> None:
        """DROP TABLE (one table always stays, for the final checksums)."""
        self._step()
        self._query(self.master, f"DROP TABLE `{table}`")
        del self.model[table]
        self.stats["tables dropped"] += 1
        self._verify(None)

    def _run_transaction(self, table: str, operations: list[Any], commit: bool) -> None:
        model = self.model[table]
        rows_after = dict(model.rows)
        next_id = model.next_id
        counts: Counter[str] = Counter()
        self.master.begin()
        try:
            with self.master.cursor() as cursor:
                for op in operations:
                    if isinstance(op, Insert):
                        rows = [(next_id + i, *values) for i, values in enumerate(op.rows)]
                        next_id += len(rows)
                        self._insert(cursor, table, model.columns, rows)
                        rows_after.update((r[0], tuple(r[1:])) for r in rows)
                        counts["rows inserted"] += len(rows)
                        counts["NULLs written"] += sum(v is None for r in rows for v in r)
                        self.stats["largest value (bytes)"] = max(
                            self.stats["largest value (bytes)"],
                            *(_size(v) for r in rows for v in r),
                        )
                    elif isinstance(op, Update) and rows_after:
                        ordered = sorted(rows_after)
                        target = ordered[op.pick % len(ordered)]
                        column = model.columns[op.column].name
                        cursor.execute(
                            f"UPDATE `{table}` SET `{column}` = %s WHERE id = %s",
                            (op.value, target),
                        )
                        values = list(rows_after[target])
                        values[op.column] = op.value
                        rows_after[target] = tuple(values)
                        counts["rows updated"] += 1
                    elif isinstance(op, Delete) and rows_after:
                        ordered = sorted(rows_after)
                        victims = sorted({ordered[p % len(ordered)] for p in op.picks})
                        cursor.execute(
                            f"DELETE FROM `{table}` WHERE id IN ({', '.join(map(str, victims))})"
                        )
                        for victim in victims:
                            del rows_after[victim]
                        counts["rows deleted"] += len(victims)
        except BaseException:
            self.master.rollback()
            raise
        model.next_id = next_id
        if commit:
            self.master.commit()
            model.rows = rows_after
            self.stats["transactions committed"] += 1
            self.stats.update(counts)
        else:
            self.master.rollback()
            self.stats["transactions rolled back"] += 1

    def teardown(self) -> None:
        """CHECKSUM TABLE on every pod (if the last step was verified), then drop the database."""
        try:
            if self.last_step_verified and self.model:
                self._catch_up()
                names = ", ".join(f"`{self.database}`.`{t}`" for t in sorted(self.model))
                sums = {
                    self.deployment.master_pod: self._query(self.master, f"CHECKSUM TABLE {names}")
                }
                for pod in self.deployment.replica_pods():
                    sums[pod] = self._query(self._replica(pod), f"CHECKSUM TABLE {names}")
                type(self).log.append(
                    {
                        "database": self.database,
                        "steps": self.steps,
                        **self.stats,
                        "checksums": sums,
                    }
                )
                master_sums = sums[self.deployment.master_pod]
                differing = {p: s for p, s in sums.items() if s != master_sums}
                assert not differing, (
                    f"CHECKSUM TABLE differs from the master's ({master_sums}) on {differing}"
                )
            else:
                type(self).log.append(
                    {"database": self.database, "steps": self.steps, **self.stats}
                )
        finally:
            self._query(self.master, f"DROP DATABASE IF EXISTS `{self.database}`")


@pytest.mark.slow
def test_random_master_writes_read_back_identically_on_every_replica(
    deployment: Deployment, mysql: MySQL, mysqlsts_settings: Settings
) -> None:
    """Hypothesis runs the state machine (--random-runs runs of --random-steps steps);
    every step and every run's final CHECKSUM TABLE comparison must pass. See the module
    docstring."""
    chosen = settings(
        SETTINGS,
        max_examples=mysqlsts_settings.random_runs,
        stateful_step_count=mysqlsts_settings.random_steps,
    )
    ReplicationMachine.deployment = deployment
    ReplicationMachine.mysql = mysql
    ReplicationMachine.log = []
    try:
        with mysql.connections() as connections:
            ReplicationMachine.connections = connections
            run_state_machine_as_test(ReplicationMachine, settings=chosen)
    finally:
        log = ReplicationMachine.log
        attachments.table(
            "runs of the state machine (shrinking runs included)",
            [
                {
                    **{k: v for k, v in run.items() if k != "checksums"},
                    "final checksums": "agree"
                    if run.get("checksums")
                    and len({json.dumps(v, default=str) for v in run["checksums"].values()}) == 1
                    else ("differ" if run.get("checksums") else "-"),
                }
                for run in log
            ],
        )
        attachments.data(
            "final CHECKSUM TABLE of each run, per pod", [r for r in log if "checksums" in r]
        )
