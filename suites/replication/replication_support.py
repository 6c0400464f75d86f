"""Small helpers shared by the replication checks (not tests themselves)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql

from mysqlsts.deployment import Deployment
from mysqlsts.mysql import MySQL

Row = dict[str, Any]
# MySQL 8.4 column words and their 5.7 spelling, replaced as whole words only: a plain
# substring replacement would also turn "Replicate_Ignore_DB" into "Slavete_Ignore_DB".
_CLASSIC_WORDS = {"Replica": "Slave", "Source": "Master"}


def classic_column_names(row: Row) -> Row:
    """A replica status row with MySQL 5.7 column names (Slave_IO_Running, Master_Host)."""
    return {
        "_".join(_CLASSIC_WORDS.get(word, word) for word in key.split("_")): value
        for key, value in row.items()
    }


def global_variable(conn: pymysql.Connection, name: str) -> str | None:
    """A global server variable's value as text; None when the server has no such variable.

    ``SHOW GLOBAL VARIABLES`` instead of ``SELECT @@name``: MariaDB lacks some of MySQL's
    variables (``super_read_only``) and the check must tell "absent" from "OFF".
    """
    with conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
        row = cursor.fetchone()
    return None if row is None else str(row["Value"])


def replica_status(conn: pymysql.Connection) -> Row | None:
    """SHOW SLAVE STATUS (or SHOW REPLICA STATUS on 8.4) with 5.7 column names."""
    for statement in ("SHOW SLAVE STATUS", "SHOW REPLICA STATUS"):
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement)
                row = cursor.fetchone()
            return classic_column_names(row) if row else None
        except pymysql.err.ProgrammingError:
            continue
    return None


def master_host_names(deployment: Deployment) -> set[str]:
    """Every name under which pod 0 (the master) can be reached from another pod."""
    host = deployment.pod_host(0)
    return {
        deployment.master_pod,
        host,
        f"{host}.{deployment.namespace}",
        f"{host}.{deployment.namespace}.svc",
        deployment.pod_fqdn(0),
    }


def is_mariadb(conn: pymysql.Connection) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT VERSION() AS v")
        return "mariadb" in str(cursor.fetchone()["v"]).lower()


def current_user_privileges(conn: pymysql.Connection) -> set[str]:
    """Global privileges of the account this connection authenticated as."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES "
            "WHERE GRANTEE = CONCAT(\"'\", SUBSTRING_INDEX(CURRENT_USER(), '@', 1), \"'@'\", "
            "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), \"'\")"
        )
        return {str(r["p"]) for r in cursor.fetchall()}


@contextmanager
def scratch_database(mysql: MySQL, deployment: Deployment, prefix: str) -> Iterator[str]:
    """A database with a unique name created on the master; dropped (on the master,
    hence everywhere) at the end."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    mysql.query(deployment.master_pod, f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        mysql.query(deployment.master_pod, f"DROP DATABASE IF EXISTS `{name}`")
