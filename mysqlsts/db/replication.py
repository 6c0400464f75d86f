"""Replication state: the one reader of SHOW SLAVE/MASTER STATUS and the pure judgement on it.

The article's replicas use classic file/position replication (no GTID). A replica has
applied everything the master wrote up to a moment when the position its SQL thread has
executed (Relay_Master_Log_File / Exec_Master_Log_Pos of SHOW SLAVE STATUS) has reached the
master's binlog position of that moment (File / Position of SHOW MASTER STATUS).

MySQL 8.4 renamed the statements (SHOW REPLICA STATUS, SHOW BINARY LOG STATUS) and the
columns (Source_*, Replica_*); rows of either vintage are normalised to the 5.7 names the
article shows, word by word (``Replicate_Ignore_DB`` is not a "Replica" column).

:func:`read_replica_status` and :func:`read_master_position` are the only places that send
those statements; everything else, checks included, goes through them (or through
:class:`mysqlsts.db.mysql.MySQL`, which calls them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pymysql

Row = dict[str, Any]

_CLASSIC_WORDS = {"Replica": "Slave", "Source": "Master"}
_BINLOG_NAME = re.compile(r"^(?P<base>.*?)\.(?P<index>\d+)$")
# The server's "you have an error in your SQL syntax": a statement it does not know.
_SYNTAX_ERROR = 1064
REPLICA_STATUS_STATEMENTS = ("SHOW SLAVE STATUS", "SHOW REPLICA STATUS")
MASTER_STATUS_STATEMENTS = ("SHOW MASTER STATUS", "SHOW BINARY LOG STATUS")
START_SQL_THREAD_STATEMENTS = ("START SLAVE SQL_THREAD", "START REPLICA SQL_THREAD")


def normalise_row(row: Row) -> Row:
    """A replica or master status row with MySQL 5.7 column names (Slave_IO_Running...).

    Whole words only: a substring replacement would also turn ``Replicate_Ignore_DB``
    into ``Slavete_Ignore_DB``.
    """
    return {
        "_".join(_CLASSIC_WORDS.get(word, word) for word in key.split("_")): value
        for key, value in row.items()
    }


@dataclass(frozen=True, order=True)
class BinlogPosition:
    base: str
    index: int
    position: int

    @property
    def file(self) -> str:
        return f"{self.base}.{self.index:06d}"

    def __str__(self) -> str:
        return f"{self.file}:{self.position}"

    @classmethod
    def of(cls, file: str, position: int | str) -> BinlogPosition:
        match = _BINLOG_NAME.match(file or "")
        if not match:
            raise ValueError(f"not a binlog file name: {file!r}")
        return cls(match["base"], int(match["index"]), int(position))


def master_position(row: Row | None) -> BinlogPosition:
    """The master's current binlog position from its SHOW MASTER STATUS row."""
    if not row:
        raise AssertionError(
            "SHOW MASTER STATUS returned nothing: binary logging is off on the master"
        )
    row = normalise_row(row)
    return BinlogPosition.of(str(row["File"]), row["Position"])


@dataclass(frozen=True)
class ReplicaStatus:
    """A replica's SHOW SLAVE STATUS: the fields the suite judges, and the whole row."""

    io_running: str
    sql_running: str
    executed: BinlogPosition | None
    read: BinlogPosition | None
    seconds_behind: Any
    last_io_error: str
    last_sql_error: str
    row: Row = field(default_factory=dict, repr=False, compare=False)  # 5.7 column names

    @property
    def running(self) -> bool:
        return self.io_running == "Yes" and self.sql_running == "Yes"

    @property
    def master_host(self) -> str:
        return str(self.row.get("Master_Host") or "")

    def get(self, column: str) -> Any:
        """A column of the row by its 5.7 name (None when the server has no such column)."""
        return self.row.get(column)

    def text(self) -> str:
        """Every column, one per line, as ``SHOW SLAVE STATUS\\G`` prints them."""
        return "\n".join(f"{k}: {v}" for k, v in self.row.items())

    def __str__(self) -> str:
        parts = [
            f"IO {self.io_running}",
            f"SQL {self.sql_running}",
            f"executed {self.executed or '-'}",
            f"read {self.read or '-'}",
            f"behind {self.seconds_behind}",
        ]
        if self.last_io_error:
            parts.append(f"last IO error: {self.last_io_error}")
        if self.last_sql_error:
            parts.append(f"last SQL error: {self.last_sql_error}")
        return ", ".join(parts)


def _position(row: Row, file_key: str, pos_key: str) -> BinlogPosition | None:
    file = row.get(file_key)
    if not file:
        return None
    return BinlogPosition.of(str(file), row.get(pos_key) or 0)


def replica_status(row: Row | None) -> ReplicaStatus | None:
    """Status from a SHOW SLAVE STATUS row; None when the server is not a replica."""
    if not row:
        return None
    row = normalise_row(row)
    return ReplicaStatus(
        io_running=str(row.get("Slave_IO_Running") or ""),
        sql_running=str(row.get("Slave_SQL_Running") or ""),
        executed=_position(row, "Relay_Master_Log_File", "Exec_Master_Log_Pos"),
        read=_position(row, "Master_Log_File", "Read_Master_Log_Pos"),
        seconds_behind=row.get("Seconds_Behind_Master"),
        last_io_error=str(row.get("Last_IO_Error") or ""),
        last_sql_error=str(row.get("Last_SQL_Error") or ""),
        row=row,
    )


class ReplicationBroken(AssertionError):
    """The replica can never catch up without intervention (its SQL thread stopped on an
    error, or its IO thread gave up): waiting longer would only turn a clear error into a
    timeout."""


def raise_if_broken(pod: str, status: ReplicaStatus | None) -> None:
    """Raise :class:`ReplicationBroken` when ``status`` can never turn good by waiting."""
    if status is None:
        return
    if status.sql_running != "Yes" and status.last_sql_error:
        raise ReplicationBroken(f"{pod}: SQL thread stopped: {status.last_sql_error}")
    # "No" (not "Connecting") with an error: the IO thread gave up and will not retry.
    if status.io_running == "No" and status.last_io_error:
        raise ReplicationBroken(f"{pod}: IO thread stopped: {status.last_io_error}")


def caught_up(master: BinlogPosition, replica: ReplicaStatus | None, pod: str = "replica") -> bool:
    """True when the replica has executed up to ``master``; raise if it never will."""
    if replica is None:
        return False
    raise_if_broken(pod, replica)
    if replica.executed is None or replica.executed.base != master.base:
        return False
    return replica.executed >= master


# -- the readers ----------------------------------------------------------------------------
def _first_row(conn: pymysql.Connection, statements: tuple[str, ...]) -> Row | None:
    """The first row of the first statement the server understands."""
    for index, sql in enumerate(statements):
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()
        except pymysql.err.ProgrammingError as error:
            if error.args[0] != _SYNTAX_ERROR or index == len(statements) - 1:
                raise
    return None


def read_replica_status(conn: pymysql.Connection) -> ReplicaStatus | None:
    """SHOW SLAVE STATUS (SHOW REPLICA STATUS on 8.4) on ``conn``; None: not a replica."""
    return replica_status(_first_row(conn, REPLICA_STATUS_STATEMENTS))


def read_master_position(conn: pymysql.Connection) -> BinlogPosition:
    """SHOW MASTER STATUS (SHOW BINARY LOG STATUS on 8.4) on ``conn``.

    Raises AssertionError when binary logging is off (the server shows no position).
    """
    return master_position(_first_row(conn, MASTER_STATUS_STATEMENTS))


def start_sql_thread(conn: pymysql.Connection) -> None:
    """START SLAVE SQL_THREAD (START REPLICA SQL_THREAD on 8.4) on ``conn``."""
    _first_row(conn, START_SQL_THREAD_STATEMENTS)


def read_own_binlog(conn: pymysql.Connection) -> str:
    """The server's own binlog position as text, "(binary log off)" when it has none."""
    row = _first_row(conn, MASTER_STATUS_STATEMENTS)
    return str(master_position(row)) if row else "(binary log off)"


def read_binlog_events(
    conn: pymysql.Connection, start: BinlogPosition, end: BinlogPosition
) -> list[Row]:
    """The server's own binlog events from ``start`` to ``end`` (files in between included)."""
    events: list[Row] = []
    for index in range(start.index, end.index + 1):
        file = BinlogPosition(start.base, index, 4).file
        offset = start.position if index == start.index else 4
        with conn.cursor() as cursor:
            cursor.execute(f"SHOW BINLOG EVENTS IN '{file}' FROM {int(offset)}")
            events += [
                row
                for row in cursor.fetchall()
                if index < end.index or int(row.get("Pos") or 0) < end.position
            ]
    return events
