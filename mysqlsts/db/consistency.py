"""The whole dataset, compared between the master and each replica, chunk by chunk.

pt-table-checksum's method (Percona Toolkit), run from outside: every base table of every
schema the replicas replicate is cut into chunks of its primary key on the master (a
keyset walk, ``CHUNK_ROWS`` rows each), and each chunk's row count and the ``BIT_XOR`` of
each row's hash (60 bits of ``MD5(CONCAT_WS('#', columns..., CONCAT(ISNULL(column)...)))``)
are computed on the master and on each replica with the same bounds. The hash is MD5, as
with pt-table-checksum's ``--function MD5``, not its default CRC32: CRC32 is linear, so
the same change made to an even number of rows of equal length (a TIMESTAMP read in
another time zone, say) cancels out in the XOR and the chunks compare equal. A table
without a primary key is one chunk. Reading by index ranges keeps it fast on gigabytes:
no chunk holds more than ``CHUNK_ROWS`` rows on either side.

It compares one moment: the master's binlog position is read, every replica waits until it
has applied it, the chunks are compared, and the master's position is read again; if it
moved (something wrote meanwhile) the comparison starts over, a bounded number of times.

What is compared is read from the servers, not from the manifests: the tables from
``information_schema``, the replication filters from each replica's ``SHOW SLAVE STATUS``
(``Replicate_Ignore_DB`` and the others). System schemas and the tables each server writes
for itself (statistics, logs, its own replication state; pt-table-checksum skips them too)
are left out. A difference names the pod, the schema, the table, the first differing chunk
and a few differing rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pymysql

from mysqlsts.db.replication import BinlogPosition
from mysqlsts.db.replication_filters import Filters

Row = dict[str, Any]
Key = tuple[Any, ...]

CHUNK_ROWS = 5000
ROWS_SHOWN = 5  # differing rows named in a difference
ROWS_READ = 20000  # rows of one chunk read to name them (a chunk holds at most CHUNK_ROWS)
ATTEMPTS = 3  # comparisons started over when the master moved meanwhile
SYSTEM_SCHEMAS = frozenset({"information_schema", "performance_schema", "sys"})
# Tables each server keeps for itself (mysql schema): never equal between servers.
SERVER_LOCAL_TABLES = frozenset(
    {
        "innodb_index_stats",
        "innodb_table_stats",
        "general_log",
        "slow_log",
        "gtid_slave_pos",
        "gtid_executed",
        "slave_master_info",
        "slave_relay_log_info",
        "slave_worker_info",
        "transaction_registry",
        "replication_asynchronous_connection_failover",
        "replication_asynchronous_connection_failover_managed",
        "replication_group_configuration_version",
        "replication_group_member_actions",
    }
)


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()  # primary key columns, in index order; () when there is none

    @property
    def ref(self) -> str:
        return f"{quote(self.schema)}.{quote(self.name)}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Chunk:
    """Rows whose key is above ``lower`` (exclusive) and up to ``upper`` (inclusive)."""

    lower: Key | None = None
    upper: Key | None = None

    def where(self, key: Sequence[str]) -> tuple[str, list[Any]]:
        if not key:
            return "1=1", []
        columns = "(" + ", ".join(quote(c) for c in key) + ")"
        marks = "(" + ", ".join(["%s"] * len(key)) + ")"
        parts, args = [], []
        if self.lower is not None:
            parts.append(f"{columns} > {marks}")
            args += list(self.lower)
        if self.upper is not None:
            parts.append(f"{columns} <= {marks}")
            args += list(self.upper)
        return (" AND ".join(parts) or "1=1"), args

    def __str__(self) -> str:
        if self.lower is None and self.upper is None:
            return "the whole table"
        low = "start" if self.lower is None else f"> {_key_text(self.lower)}"
        high = "end" if self.upper is None else f"<= {_key_text(self.upper)}"
        return f"key {low} .. {high}"


def _key_text(key: Key) -> str:
    return str(key[0]) if len(key) == 1 else str(tuple(key))


def row_hash_sql(row: str) -> str:
    """A row's hash for an XOR aggregate: 60 bits of its MD5, as an unsigned integer (below
    2**63, so that every SQL engine's integers hold it). Non-linear, unlike CRC32."""
    return f"CAST(CONV(SUBSTRING(MD5({row}), 1, 15), 16, 10) AS UNSIGNED)"


def checksum_sql(table: Table, chunk: Chunk) -> tuple[str, list[Any]]:
    """One chunk's row count and order-independent checksum (pt-table-checksum's method)."""
    columns = ", ".join(quote(c) for c in table.columns)
    nulls = ", ".join(f"ISNULL({quote(c)})" for c in table.columns)
    row = f"CONCAT_WS('#', {columns}, CONCAT({nulls}))"
    where, args = chunk.where(table.key)
    sql = (
        f"SELECT COUNT(*) AS n, COALESCE(LOWER(CONV(BIT_XOR({row_hash_sql(row)}), 10, 16)), '0') "
        f"AS crc FROM {table.ref} WHERE {where}"
    )
    return sql, args


def compared(table: Table) -> bool:
    return table.schema not in SYSTEM_SCHEMAS and not (
        table.schema == "mysql" and table.name in SERVER_LOCAL_TABLES
    )


# -- reading a server ------------------------------------------------------------------------------
def _columns_by_table(cursor: Any, sql: str) -> dict[tuple[str, str], list[str]]:
    """Rows ``(s, t, c)`` of ``sql``, grouped: (schema, table) -> columns in order."""
    cursor.execute(sql)
    grouped: dict[tuple[str, str], list[str]] = {}
    for row in cursor.fetchall():
        grouped.setdefault((row["s"], row["t"]), []).append(row["c"])
    return grouped


def list_tables(conn: pymysql.Connection) -> list[Table]:
    """Every base table of the server, with its columns and primary key."""
    with conn.cursor() as cursor:
        columns = _columns_by_table(
            cursor,
            "SELECT c.TABLE_SCHEMA AS s, c.TABLE_NAME AS t, c.COLUMN_NAME AS c "
            "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
            "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
            "WHERE t.TABLE_TYPE = 'BASE TABLE' ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, "
            "c.ORDINAL_POSITION",
        )
        keys = _columns_by_table(
            cursor,
            "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c "
            "FROM information_schema.STATISTICS WHERE INDEX_NAME = 'PRIMARY' "
            "ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX",
        )
    return [
        Table(schema, name, tuple(cols), tuple(keys.get((schema, name), ())))
        for (schema, name), cols in columns.items()
    ]


def chunks(conn: pymysql.Connection, table: Table, rows: int = CHUNK_ROWS) -> list[Chunk]:
    """The table cut into chunks of ``rows`` rows of its primary key (a keyset walk: one
    index range of ``rows`` rows per chunk); one chunk when it has no key."""
    if not table.key:
        return [Chunk()]
    key = ", ".join(quote(c) for c in table.key)
    found: list[Chunk] = []
    lower: Key | None = None
    with conn.cursor(pymysql.cursors.Cursor) as cursor:
        while True:
            where, args = Chunk(lower, None).where(table.key)
            cursor.execute(
                f"SELECT {key} FROM {table.ref} WHERE {where} ORDER BY {key} "
                f"LIMIT 1 OFFSET {rows - 1}",
                args,
            )
            upper = cursor.fetchone()
            if upper is None:
                found.append(Chunk(lower, None))
                return found
            found.append(Chunk(lower, tuple(upper)))
            lower = tuple(upper)


def checksum(conn: pymysql.Connection, table: Table, chunk: Chunk) -> tuple[int, str]:
    sql, args = checksum_sql(table, chunk)
    with conn.cursor() as cursor:
        cursor.execute(sql, args)
        row = cursor.fetchone() or {"n": 0, "crc": "0"}
    return int(row["n"]), str(row["crc"])


def read_rows(conn: pymysql.Connection, table: Table, chunk: Chunk) -> list[Row]:
    where, args = chunk.where(table.key)
    order = f" ORDER BY {', '.join(quote(c) for c in table.key)}" if table.key else ""
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table.ref} WHERE {where}{order} LIMIT {ROWS_READ}", args)
        return list(cursor.fetchall())


def prepare_session(conn: pymysql.Connection) -> None:
    """The same rendering of values on every server (TIMESTAMP in UTC)."""
    with conn.cursor() as cursor:
        cursor.execute("SET SESSION time_zone = '+00:00'")


# -- the judgement --------------------------------------------------------------------------------
def differing_rows(
    table: Table, on_master: list[Row], on_replica: list[Row], limit: int = ROWS_SHOWN
) -> list[str]:
    """A few rows that differ, each in one line: missing on the replica, extra there, or
    with other values (by primary key; by whole row for a table without one)."""
    lines: list[str] = []
    if table.key:
        master = {tuple(r[c] for c in table.key): r for r in on_master}
        replica = {tuple(r[c] for c in table.key): r for r in on_replica}
        for key in sorted(set(master) | set(replica), key=repr):
            if len(lines) >= limit:
                break
            text = _key_text(key)
            if key not in replica:
                lines.append(f"key {text}: missing on the replica (master: {master[key]})")
            elif key not in master:
                lines.append(f"key {text}: only on the replica ({replica[key]})")
            elif master[key] != replica[key]:
                changed = {
                    c: (master[key][c], replica[key].get(c))
                    for c in master[key]
                    if master[key][c] != replica[key].get(c)
                }
                detail = ", ".join(
                    f"{c}: {m!r} on the master, {r!r} on the replica"
                    for c, (m, r) in changed.items()
                )
                lines.append(f"key {text}: {detail}")
        return lines
    master_rows = Counter(tuple(sorted(r.items())) for r in on_master)
    replica_rows = Counter(tuple(sorted(r.items())) for r in on_replica)
    for row in (master_rows - replica_rows).elements():
        lines.append(f"missing on the replica: {dict(row)}")
    for row in (replica_rows - master_rows).elements():
        lines.append(f"only on the replica: {dict(row)}")
    return lines[:limit]


@dataclass(frozen=True)
class Difference:
    pod: str
    table: str
    where: str  # the first differing chunk, or what is missing
    detail: str
    rows: tuple[str, ...] = ()

    def line(self) -> str:
        head = f"{self.pod}: {self.table}: {self.where}: {self.detail}"
        return head + "".join(f"\n    {row}" for row in self.rows)


@dataclass
class Comparison:
    master: str
    replicas: list[str]
    position: BinlogPosition | None = None
    tables: int = 0
    rows: int = 0
    chunks: int = 0
    seconds: float = 0.0
    attempts: int = 0
    left_out: dict[str, str] = field(default_factory=dict)  # "pod: table" -> why
    differences: list[Difference] = field(default_factory=list)

    def figures(self) -> str:
        return (
            f"{self.tables} tables, {self.rows} rows in {self.chunks} chunks compared between "
            f"{self.master} and {', '.join(self.replicas) or 'no replica'} at the master's "
            f"binlog position {self.position} in {self.seconds:.1f}s ({self.attempts} attempt(s))"
        )

    def report(self) -> str:
        lines = [self.figures()]
        if self.left_out:
            lines.append("left out:")
            lines += [f"  {what}: {why}" for what, why in sorted(self.left_out.items())]
        lines.append(f"differences: {len(self.differences)}")
        lines += [f"  {d.line()}" for d in self.differences]
        return "\n".join(lines)


def compare_tables(
    master: pymysql.Connection,
    replicas: dict[str, pymysql.Connection],
    filters: dict[str, Filters],
    result: Comparison,
    chunk_rows: int = CHUNK_ROWS,
) -> None:
    """Fill ``result`` with what the replicas hold against the master, table by table."""
    for conn in (master, *replicas.values()):
        prepare_session(conn)
    master_tables = [t for t in list_tables(master) if compared(t)]
    replica_tables = {pod: {str(t): t for t in list_tables(conn)} for pod, conn in replicas.items()}
    counted: set[str] = set()
    for table in master_tables:
        cut = chunks(master, table, chunk_rows)
        sums = [checksum(master, table, chunk) for chunk in cut]
        for pod, conn in replicas.items():
            if not filters[pod].replicates(table.schema, table.name):
                result.left_out[f"{pod}: {table}"] = f"its filters ({filters[pod].describe()})"
                continue
            if str(table) not in counted:
                counted.add(str(table))
                result.tables += 1
                result.rows += sum(n for n, _ in sums)
                result.chunks += len(cut)
            if str(table) not in replica_tables[pod]:
                result.differences.append(
                    Difference(pod, str(table), "the whole table", "missing on the replica")
                )
                continue
            for chunk, expected in zip(cut, sums, strict=True):
                found = checksum(conn, table, chunk)
                if found == expected:
                    continue
                detail = (
                    f"{found[0]} rows (checksum {found[1]}) on the replica, {expected[0]} "
                    f"(checksum {expected[1]}) on the master"
                )
                rows = differing_rows(
                    table, read_rows(master, table, chunk), read_rows(conn, table, chunk)
                )
                result.differences.append(
                    Difference(
                        pod, str(table), f"first differing chunk {chunk}", detail, tuple(rows)
                    )
                )
                break  # the first differing chunk names the table
    on_master = {str(t) for t in master_tables}
    for pod, tables in replica_tables.items():
        for name, table in tables.items():
            replicated = filters[pod].replicates(table.schema, table.name)
            if name not in on_master and compared(table) and replicated:
                result.differences.append(
                    Difference(pod, name, "the whole table", "only on the replica")
                )


def summarise(comparisons: Iterable[Comparison]) -> list[dict[str, Any]]:
    """Table rows for a report: one per comparison."""
    return [
        {
            "master": c.master,
            "replicas": ", ".join(c.replicas),
            "position": str(c.position),
            "tables": c.tables,
            "rows": c.rows,
            "chunks": c.chunks,
            "seconds": round(c.seconds, 1),
            "differences": len(c.differences),
        }
        for c in comparisons
    ]


def timed(result: Comparison, started: float) -> Comparison:
    result.seconds = time.monotonic() - started
    return result
