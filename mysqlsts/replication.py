"""Binlog positions and replica progress: the pure logic behind "has the replica caught up?".

The article's replicas use classic file/position replication (no GTID). A replica has
applied everything the master wrote up to a moment when the position its SQL thread has
executed (Relay_Master_Log_File / Exec_Master_Log_Pos of SHOW SLAVE STATUS) has reached the
master's binlog position of that moment (File / Position of SHOW MASTER STATUS).

MySQL 8.4 renamed the statements and columns (SHOW REPLICA STATUS, Source_*, Replica_*);
rows of either vintage are normalised to the 5.7 names the article shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]

_RENAMES = (("Source", "Master"), ("Replica", "Slave"), ("source", "master"), ("replica", "slave"))
_BINLOG_NAME = re.compile(r"^(?P<base>.*?)\.(?P<index>\d+)$")


def normalise_row(row: Row) -> Row:
    """Column names of MySQL 8.4 replica/master status rows, spelled as in MySQL 5.7."""
    normalised: Row = {}
    for key, value in row.items():
        new = key
        for modern, classic in _RENAMES:
            new = new.replace(modern, classic)
        normalised[new] = value
    return normalised


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
class ReplicaProgress:
    io_running: str
    sql_running: str
    executed: BinlogPosition | None
    read: BinlogPosition | None
    seconds_behind: Any
    last_io_error: str
    last_sql_error: str

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


def replica_progress(row: Row | None) -> ReplicaProgress | None:
    """Progress from a SHOW SLAVE STATUS row; None when the server is not a replica."""
    if not row:
        return None
    row = normalise_row(row)
    return ReplicaProgress(
        io_running=str(row.get("Slave_IO_Running") or ""),
        sql_running=str(row.get("Slave_SQL_Running") or ""),
        executed=_position(row, "Relay_Master_Log_File", "Exec_Master_Log_Pos"),
        read=_position(row, "Master_Log_File", "Read_Master_Log_Pos"),
        seconds_behind=row.get("Seconds_Behind_Master"),
        last_io_error=str(row.get("Last_IO_Error") or ""),
        last_sql_error=str(row.get("Last_SQL_Error") or ""),
    )


class ReplicationBroken(AssertionError):
    """The replica can never catch up without intervention (its SQL thread stopped on an
    error): waiting longer would only turn a clear error into a timeout."""


def caught_up(master: BinlogPosition, replica: ReplicaProgress | None) -> bool:
    """True when the replica has executed up to ``master``; raise if it never will."""
    if replica is None:
        return False
    if replica.sql_running != "Yes" and replica.last_sql_error:
        raise ReplicationBroken(f"replica SQL thread stopped: {replica.last_sql_error}")
    if replica.executed is None or replica.executed.base != master.base:
        return False
    return replica.executed >= master
