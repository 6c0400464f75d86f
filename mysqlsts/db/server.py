"""What a MySQL server says about itself, on an open connection: variables, flavour, grants."""

from __future__ import annotations

import pymysql


def global_variable(conn: pymysql.Connection, name: str) -> str | None:
    """A global server variable's value as text; None when the server has no such variable.

    ``SHOW GLOBAL VARIABLES`` instead of ``SELECT @@name``: MariaDB lacks some of MySQL's
    variables (``super_read_only``) and a check must tell "absent" from "OFF".
    """
    with conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL VARIABLES LIKE %s", (name,))
        row = cursor.fetchone()
    return None if row is None else str(row["Value"])


def is_on(value: str | None) -> bool:
    """A boolean server variable as MySQL prints it (ON/OFF, 1/0)."""
    return str(value).upper() in {"ON", "1"}


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
