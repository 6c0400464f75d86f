"""A replica's replication filters, as it reports them (``SHOW SLAVE STATUS``), and which
tables they let through, by MySQL's order of evaluation. The whole-dataset comparison
leaves out what a replica's own filters exclude; it never guesses them from option files."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from mysqlsts.db.replication import ReplicaStatus


@dataclass(frozen=True)
class Filters:
    """A replica's replication filters, as its SHOW SLAVE STATUS reports them."""

    do_db: frozenset[str] = frozenset()
    ignore_db: frozenset[str] = frozenset()
    do_table: frozenset[str] = frozenset()
    ignore_table: frozenset[str] = frozenset()
    wild_do_table: tuple[str, ...] = ()
    wild_ignore_table: tuple[str, ...] = ()

    @classmethod
    def of(cls, status: ReplicaStatus | None) -> Filters:
        def names(column: str) -> list[str]:
            value = (status.get(column) if status else None) or ""
            return [part.strip() for part in str(value).split(",") if part.strip()]

        return cls(
            frozenset(names("Replicate_Do_DB")),
            frozenset(names("Replicate_Ignore_DB")),
            frozenset(names("Replicate_Do_Table")),
            frozenset(names("Replicate_Ignore_Table")),
            tuple(names("Replicate_Wild_Do_Table")),
            tuple(names("Replicate_Wild_Ignore_Table")),
        )

    def replicates(self, schema: str, table: str) -> bool:
        """MySQL's order of evaluation (database options, then table options), applied to
        the table's own schema."""
        if self.do_db and schema not in self.do_db:
            return False
        if not self.do_db and schema in self.ignore_db:
            return False
        name = f"{schema}.{table}"
        if name in self.do_table:
            return True
        if name in self.ignore_table:
            return False
        if any(fnmatch.fnmatchcase(name, _glob(p)) for p in self.wild_do_table):
            return True
        if any(fnmatch.fnmatchcase(name, _glob(p)) for p in self.wild_ignore_table):
            return False
        return not (self.do_table or self.wild_do_table)

    def describe(self) -> str:
        parts = [
            f"{label}={','.join(sorted(values))}"
            for label, values in (
                ("Replicate_Do_DB", self.do_db),
                ("Replicate_Ignore_DB", self.ignore_db),
                ("Replicate_Do_Table", self.do_table),
                ("Replicate_Ignore_Table", self.ignore_table),
                ("Replicate_Wild_Do_Table", self.wild_do_table),
                ("Replicate_Wild_Ignore_Table", self.wild_ignore_table),
            )
            if values
        ]
        return "; ".join(parts) or "no filters"


def _glob(pattern: str) -> str:
    """MySQL's LIKE wildcards (% and _) as fnmatch's."""
    return pattern.replace("*", "[*]").replace("?", "[?]").replace("%", "*").replace("_", "?")
