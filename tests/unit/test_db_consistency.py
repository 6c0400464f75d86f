"""The whole-dataset comparison, on SQLite servers that speak the few MySQL functions it
uses (MD5, SUBSTRING, BIT_XOR, CONCAT_WS, ISNULL, CONV): chunking, tables without a primary key,
filters, and the report of a difference."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from typing import Any

import pymysql
import pytest

from mysqlsts.db import consistency
from mysqlsts.db.consistency import Chunk, Table
from mysqlsts.db.replication import ReplicaStatus
from mysqlsts.db.replication_filters import Filters


class BitXor:
    def __init__(self) -> None:
        self.value: int | None = None

    def step(self, value: Any) -> None:
        if value is not None:
            self.value = (self.value or 0) ^ int(value)

    def finalize(self) -> int | None:
        return self.value


def _conv(value: str, source: int, target: int) -> str:
    number = int(value, source)
    return str(number) if target == 10 else format(number, "x")


class Cursor:
    def __init__(self, conn: sqlite3.Connection, as_dict: bool) -> None:
        self.cursor, self.as_dict = conn.cursor(), as_dict

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cursor.close()

    def execute(self, sql: str, args: Any = None) -> None:
        if sql.startswith("SET SESSION"):
            return  # session settings: SQLite has none to set
        # ISNULL is an operator in SQLite: MySQL's function goes by another name here.
        sql = sql.replace("ISNULL(", "IS_NULL(").replace("%s", "?")
        self.cursor.execute(sql, list(args or []))

    def _shape(self, row: tuple[Any, ...] | None) -> Any:
        if row is None or not self.as_dict:
            return row
        return dict(zip([d[0] for d in self.cursor.description], row, strict=True))

    def fetchone(self) -> Any:
        return self._shape(self.cursor.fetchone())

    def fetchall(self) -> list[Any]:
        return [self._shape(row) for row in self.cursor.fetchall()]


class Server:
    """A connection-shaped SQLite database (tables in schema ``main`` are ``app.<name>``)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.create_function("CRC32", 1, lambda s: zlib.crc32(str(s).encode()))
        self.db.create_function("MD5", 1, lambda s: hashlib.md5(str(s).encode()).hexdigest())
        self.db.create_function("IS_NULL", 1, lambda v: int(v is None))
        self.db.create_function(
            "CONV", 3, lambda v, a, b: None if v is None else _conv(str(v), int(a), int(b))
        )
        self.db.create_function(
            "CONCAT_WS", -1, lambda sep, *parts: sep.join(str(p) for p in parts if p is not None)
        )
        self.db.create_function("CONCAT", -1, lambda *parts: "".join(str(p) for p in parts))
        self.db.create_aggregate("BIT_XOR", 1, BitXor)
        self.db.execute("ATTACH ':memory:' AS app")
        self.queries = 0

    def cursor(self, cls: Any = None) -> Cursor:
        self.queries += 1
        return Cursor(self.db, as_dict=cls is not pymysql.cursors.Cursor)

    def run(self, sql: str, rows: list[tuple[Any, ...]] = ()) -> None:  # type: ignore[assignment]
        if rows:
            self.db.executemany(sql, rows)
        else:
            self.db.execute(sql)


KEYED = Table("app", "t", ("id", "name", "score"), ("id",))
UNKEYED = Table("app", "log", ("line",), ())


def servers(rows: int = 23) -> tuple[Server, Server]:
    pair = (Server(), Server())
    for server in pair:
        server.run("CREATE TABLE app.t (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
        server.run(
            "INSERT INTO app.t VALUES (?, ?, ?)", [(i, f"n{i}", i / 3) for i in range(1, rows + 1)]
        )
        server.run("CREATE TABLE app.log (line TEXT)")
        server.run("INSERT INTO app.log VALUES (?)", [("x",), ("y",), (None,)])
    return pair


@pytest.fixture
def as_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consistency, "list_tables", lambda conn: [KEYED, UNKEYED])


def compare(
    master: Server, replica: Server, filters: Filters | None = None
) -> consistency.Comparison:
    filters = filters or Filters()
    result = consistency.Comparison("db-0", ["db-1"])
    consistency.compare_tables(master, {"db-1": replica}, {"db-1": filters}, result, chunk_rows=5)  # type: ignore[arg-type]
    return result


def test_a_keyed_table_is_cut_into_chunks_of_its_primary_key() -> None:
    master, _ = servers(23)
    cut = consistency.chunks(master, KEYED, rows=5)  # type: ignore[arg-type]
    assert cut == [
        Chunk(None, (5,)), Chunk((5,), (10,)), Chunk((10,), (15,)), Chunk((15,), (20,)),
        Chunk((20,), None),
    ]  # fmt: skip
    counts = [consistency.checksum(master, KEYED, chunk)[0] for chunk in cut]  # type: ignore[arg-type]
    assert counts == [5, 5, 5, 5, 3]


def test_a_composite_key_chunks_by_row_comparison() -> None:
    assert Chunk((1, "b"), (3, "a")).where(("k1", "k2")) == (
        "(`k1`, `k2`) > (%s, %s) AND (`k1`, `k2`) <= (%s, %s)",
        [1, "b", 3, "a"],
    )


def test_identical_servers_compare_equal_with_their_figures(as_tables: None) -> None:
    result = compare(*servers(23))
    assert result.differences == []
    assert (result.tables, result.rows, result.chunks) == (2, 26, 6)


def test_a_changed_value_names_the_table_the_first_differing_chunk_and_the_row(
    as_tables: None,
) -> None:
    master, replica = servers(23)
    replica.run("UPDATE app.t SET name = 'other' WHERE id = 12")
    replica.run("UPDATE app.t SET name = 'later' WHERE id = 22")
    (difference,) = compare(master, replica).differences
    assert difference.table == "app.t"
    assert difference.where == "first differing chunk key > 10 .. <= 15"
    assert difference.rows == ("key 12: name: 'n12' on the master, 'other' on the replica",)
    assert difference.line().startswith(
        "db-1: app.t: first differing chunk key > 10 .. <= 15: 5 rows"
    )


def test_the_same_change_to_an_even_number_of_rows_is_seen(as_tables: None) -> None:
    """What CRC32's linearity hides (a time zone shifting every TIMESTAMP by the same
    hours): equal-length rows changed alike cancel out in a XOR of CRC32s, not of MD5s."""
    master, replica = servers(3)
    for server, hour in ((master, "01"), (replica, "09")):
        server.run("DELETE FROM app.t")
        rows = [(i, f"{hour}:00", 0.5) for i in range(10, 14)]  # 4 rows, ids of 2 digits
        server.run("INSERT INTO app.t VALUES (?, ?, ?)", rows)
    crc = "SELECT BIT_XOR(CRC32(CONCAT_WS('#', id, name, score))) FROM app.t"
    assert master.db.execute(crc).fetchone() == replica.db.execute(crc).fetchone()
    (difference,) = compare(master, replica).differences
    assert difference.table == "app.t" and "'01:00' on the master" in difference.rows[0]


def test_missing_and_extra_rows_are_named(as_tables: None) -> None:
    master, replica = servers(23)
    replica.run("DELETE FROM app.t WHERE id = 3")
    master.run("DELETE FROM app.t WHERE id = 4")
    (difference,) = compare(master, replica).differences
    assert difference.rows[0].startswith("key 3: missing on the replica")
    assert difference.rows[1].startswith("key 4: only on the replica ({'id': 4, 'name': 'n4'")


def test_a_table_without_a_primary_key_is_compared_whole(as_tables: None) -> None:
    master, replica = servers(3)
    replica.run("UPDATE app.log SET line = 'z' WHERE line = 'y'")
    (difference,) = compare(master, replica).differences
    assert (difference.table, difference.where) == (
        "app.log",
        "first differing chunk the whole table",
    )
    assert sorted(difference.rows) == [
        "missing on the replica: {'line': 'y'}",
        "only on the replica: {'line': 'z'}",
    ]


def test_a_null_and_an_empty_string_differ(as_tables: None) -> None:
    master, replica = servers(3)
    replica.run("UPDATE app.log SET line = '' WHERE line IS NULL")
    assert [d.table for d in compare(master, replica).differences] == ["app.log"]


def test_a_table_the_replica_filters_out_is_left_out_saying_why(as_tables: None) -> None:
    master, replica = servers(3)
    replica.run("DELETE FROM app.t")
    result = compare(master, replica, Filters(ignore_db=frozenset({"app"})))
    assert result.differences == []
    assert result.left_out == {
        "db-1: app.t": "its filters (Replicate_Ignore_DB=app)",
        "db-1: app.log": "its filters (Replicate_Ignore_DB=app)",
    }


def test_filters_follow_mysqls_order_of_evaluation() -> None:
    status = ReplicaStatus("Yes", "Yes", None, None, 0, "", "", row={
        "Replicate_Ignore_DB": "mysql", "Replicate_Wild_Ignore_Table": "app.tmp%",
    })  # fmt: skip
    filters = Filters.of(status)
    assert not filters.replicates("mysql", "user")
    assert not filters.replicates("app", "tmp_1")
    assert filters.replicates("app", "orders")
    only = Filters(do_db=frozenset({"app"}), do_table=frozenset({"app.a"}))
    assert only.replicates("app", "a") and not only.replicates("app", "b")
    assert not only.replicates("other", "a")


def test_server_local_and_system_tables_are_never_compared() -> None:
    assert not consistency.compared(Table("mysql", "innodb_index_stats", ("x",)))
    assert not consistency.compared(Table("performance_schema", "threads", ("x",)))
    assert consistency.compared(Table("mysql", "user", ("x",)))


def test_the_report_gives_figures_left_outs_and_differences() -> None:
    result = consistency.Comparison("db-0", ["db-1"], tables=2, rows=26, chunks=6, attempts=1)
    result.left_out["db-1: mysql.user"] = "its filters (Replicate_Ignore_DB=mysql)"
    result.differences.append(
        consistency.Difference("db-1", "app.t", "chunk", "2 rows", ("key 1: x",))
    )
    text = result.report()
    assert text.startswith("2 tables, 26 rows in 6 chunks compared between db-0 and db-1")
    assert "  db-1: mysql.user: its filters (Replicate_Ignore_DB=mysql)" in text
    assert "differences: 1\n  db-1: app.t: chunk: 2 rows\n    key 1: x" in text
