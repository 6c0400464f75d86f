"""Data of a check's own on the master: scratch databases and tables of unique keys.

- :func:`scratch_database`: a database with a unique name, dropped at the end;
- :class:`ScratchTable`: rows with unique keys written in named batches, read back
  (duplicates included) from any pod;
- :func:`compare_keys`: how the keys found on a pod differ from those expected there.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymysql

from mysqlsts.db.mysql import MySQL, describe_error
from mysqlsts.reporting import attachments

UNKNOWN_DATABASE = 1049
UNKNOWN_TABLE = 1146


@contextmanager
def scratch_database(mysql: MySQL, prefix: str) -> Iterator[str]:
    """A database with a unique name created on the master; dropped (on the master,
    hence everywhere) at the end."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    mysql.query(mysql.deployment.master_pod, f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        mysql.query(mysql.deployment.master_pod, f"DROP DATABASE IF EXISTS `{name}`")


@dataclass(frozen=True)
class KeyComparison:
    """How the keys found on a pod differ from the keys expected there."""

    missing: list[int]
    duplicated: dict[int, int]  # key -> how many times it was found
    unexpected: list[int]

    @property
    def identical(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected)

    def __str__(self) -> str:
        def few(items: Sequence[Any]) -> str:
            return ", ".join(map(str, items[:10])) + (" ..." if len(items) > 10 else "")

        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing ({few(self.missing)})")
        if self.duplicated:
            dup = [f"{k} x{n}" for k, n in sorted(self.duplicated.items())]
            parts.append(f"{len(dup)} duplicated ({few(dup)})")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected ({few(self.unexpected)})")
        return "; ".join(parts) or "identical"


def compare_keys(expected: Iterable[int], found: Iterable[int]) -> KeyComparison:
    """Compare a multiset of found keys with a set of expected unique keys."""
    want = set(expected)
    counts = Counter(found)
    return KeyComparison(
        missing=sorted(want - counts.keys()),
        duplicated={k: n for k, n in counts.items() if n > 1},
        unexpected=sorted(counts.keys() - want),
    )


@dataclass
class ScratchTable:
    """A table of the test's own in a database of its own, written on the master only.

    Each row has a unique key ``k`` (no unique index: a row applied twice on a replica
    shows as a duplicate instead of stopping replication), the ``batch`` that wrote it and
    the master's UTC time of the write.
    """

    mysql: MySQL
    database: str
    table: str = "writes"
    _next_key: int = 1

    @classmethod
    def create(cls, mysql: MySQL, label: str) -> ScratchTable:
        safe = re.sub(r"\W", "_", label)
        scratch = cls(mysql, f"mysqlsts_{safe}_{secrets.token_hex(3)}")
        with (
            mysql.connect(mysql.deployment.master_pod) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(f"CREATE DATABASE `{scratch.database}`")
            cursor.execute(
                f"CREATE TABLE {scratch.qualified} (k INT NOT NULL, batch VARCHAR(100) NOT NULL, "
                "written_at DATETIME(6) NOT NULL, KEY (k)) ENGINE=InnoDB"
            )
        return scratch

    @property
    def qualified(self) -> str:
        return f"`{self.database}`.`{self.table}`"

    def reserve(self, count: int) -> list[int]:
        keys = list(range(self._next_key, self._next_key + count))
        self._next_key += count
        return keys

    def insert_sql(self) -> str:
        return (
            f"INSERT INTO {self.qualified} (k, batch, written_at) VALUES (%s, %s, UTC_TIMESTAMP(6))"
        )

    def write(self, batch: str, count: int = 20) -> list[int]:
        """Insert ``count`` rows on the master, one transaction each; return their keys."""
        keys = self.reserve(count)
        with (
            self.mysql.connect(self.mysql.deployment.master_pod) as conn,
            conn.cursor() as cursor,
        ):
            for key in keys:
                cursor.execute(self.insert_sql(), (key, batch))
        return keys

    def keys(self, pod: str | int) -> list[int]:
        """Every key on ``pod``, duplicates included, sorted.

        A pod without the scratch database or table fails the check: the rows it had
        (at least the table's creation) are gone, so its datadir was lost.
        """
        try:
            rows = self.mysql.query(pod, f"SELECT k FROM {self.qualified} ORDER BY k")
        except pymysql.err.ProgrammingError as error:
            if error.args and error.args[0] in (UNKNOWN_DATABASE, UNKNOWN_TABLE):
                raise AssertionError(
                    f"{self.qualified} is gone from {pod} ({describe_error(error)}): "
                    "its data was lost"
                ) from None
            raise
        return [int(row["k"]) for row in rows]

    def written_between(self, start: Any, end: Any) -> int:
        """How many rows the master wrote between ``start`` and ``end`` (its UTC clock)."""
        rows = self.mysql.query(
            self.mysql.deployment.master_pod,
            f"SELECT COUNT(*) AS n FROM {self.qualified} WHERE written_at BETWEEN %s AND %s",
            (start, end),
        )
        return int(rows[0]["n"])

    def checksum(self, pod: str | int) -> Any:
        """CHECKSUM TABLE of the table on ``pod`` (equal on servers holding the same rows)."""
        return self.mysql.query(pod, f"CHECKSUM TABLE {self.qualified}")[0]["Checksum"]

    def drop(self) -> None:
        self.mysql.query(
            self.mysql.deployment.master_pod, f"DROP DATABASE IF EXISTS `{self.database}`"
        )

    def assert_identical(
        self, pod: str, expected: Iterable[int], when: str, if_twice: str = ""
    ) -> None:
        """``pod`` holds exactly ``expected`` (no key missing, twice or unexpected);
        ``if_twice`` is what a key there twice means, added to the message."""
        found = self.keys(pod)
        attachments.text(f"keys on {pod} {when}", " ".join(map(str, found)))
        comparison = compare_keys(expected, found)
        why = f" ({if_twice})" if if_twice and comparison.duplicated else ""
        assert comparison.identical, f"{pod} {when}: {comparison}{why}"
