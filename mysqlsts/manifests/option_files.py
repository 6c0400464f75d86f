"""MySQL option files (my.cnf, the ConfigMap's master.cnf/slave.cnf) read as the server reads
them: ``[group]`` sections, ``#`` and ``;`` comments, ``name=value`` or a bare ``name``,
``-`` and ``_`` alike in names, the ``loose-`` prefix, a quoted value. What the manifests
declare, to be held against what the servers report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Groups a MySQL or MariaDB server reads, with or without a version suffix (mysqld-8.0:
# declared for some server version, read only by that one).
SERVER_GROUP = re.compile(r"^(mysqld|server|mariadb|mariadbd)(-[\d.]+)?$")


@dataclass(frozen=True)
class Option:
    group: str
    name: str  # normalised: lowercase, '_' for '-', without 'loose_'
    value: str | None  # None for a bare flag


def normalise(name: str) -> str:
    name = name.strip().lower().replace("-", "_")
    return name.removeprefix("loose_")


def parse(text: str) -> list[Option]:
    options: list[Option] = []
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or line.startswith("!"):
            continue
        if line.startswith("[") and "]" in line:
            group = line[1 : line.index("]")].strip().lower()
            continue
        name, sep, value = line.partition("=")
        if sep:
            value = re.split(r"\s+[#;]", value, maxsplit=1)[0].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
        options.append(Option(group, normalise(name), value if sep else None))
    return options


def server_values(text: str, name: str) -> list[str]:
    """Every value a server group of ``text`` gives option ``name`` (repeatable options,
    like replicate-ignore-db, take one value per line)."""
    wanted = normalise(name)
    return [o.value or "" for o in parse(text) if o.name == wanted and SERVER_GROUP.match(o.group)]
