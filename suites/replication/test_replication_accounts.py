"""Accounts made on the master, and the replicas' ``mysql`` schema filter, by behaviour.

The article's slave.cnf sets ``replicate-ignore-db=mysql``: accounts and grants are meant to
stay on the master. Account statements (``CREATE USER``, ``GRANT``) are logged as
statements whatever the binlog format, and for statements the filter looks at the
session's default database, not at the ``mysql.user`` table they change. So:

- made after ``USE mysql``: the replicas skip them (the filter holds);
- made from any other default database: the replicas apply them. The filter leaks; this is
  MySQL's documented behaviour, reported here as a finding (README), not a failure.

Without the filter both reach the replicas. The check makes one account each way on the
master, looks for both on every replica, and removes them everywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import allure
import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.manifests import option_files
from mysqlsts.reporting import attachments
from mysqlsts.scenarios.scratch import scratch_database

pytestmark = pytest.mark.needs_replicas(1)

LEAK = (
    "finding: an account made on the master from another default database than mysql "
    "reaches the replicas although they ignore the mysql schema (statement-logged account "
    "statements are filtered by the session's default database)"
)


def filter_declared(mysql: MySQL) -> list[str]:
    """The manifests' ConfigMap files that tell a server to ignore the mysql schema."""
    return [
        name
        for name, text in mysql.deployment.config_files().items()
        if "mysql" in option_files.server_values(text, "replicate-ignore-db")
    ]


@contextmanager
def accounts_made_on_the_master(mysql: MySQL, other_db: str) -> Iterator[dict[str, str]]:
    """Two accounts made on the master, one after ``USE mysql``, one from ``other_db``;
    dropped the same way afterwards (an account a replica still holds then is named: the
    replicas are read-only, the suite does not write there)."""
    tag = secrets.token_hex(3)
    made = {"mysql": f"mysqlsts_in_mysql_{tag}", other_db: f"mysqlsts_elsewhere_{tag}"}
    master = mysql.deployment.master_pod
    with allure.step("create an account after USE mysql, and one from another database"):
        for database, user in made.items():
            with mysql.connect(master, database=database) as conn, conn.cursor() as cursor:
                cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{secrets.token_hex(8)}'")
                cursor.execute(f"GRANT SELECT ON `{other_db}`.* TO '{user}'@'%'")
    try:
        yield made
    finally:
        for database, user in made.items():
            with mysql.connect(master, database=database) as conn, conn.cursor() as cursor:
                cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        mysql.wait_replicas_caught_up()
        left = {user: pods for user in made.values() if (pods := holders(mysql, user))}
        if left:
            attachments.text("accounts left on replicas after the master dropped them", str(left))


def holders(mysql: MySQL, user: str) -> list[str]:
    return [
        pod
        for pod in mysql.deployment.replica_pods()
        if mysql.query(pod, "SELECT COUNT(*) AS n FROM mysql.user WHERE User = %s", (user,))[0]["n"]
    ]


@allure.title("Accounts made on the master reach the replicas as the mysql-schema filter says")
def test_accounts_made_on_the_master_reach_the_replicas_as_the_mysql_filter_says(
    mysql: MySQL,
) -> None:
    """With ``replicate-ignore-db=mysql`` declared, an account made after ``USE mysql``
    reaches no replica (one made from another database does: a finding); without it, both
    reach every replica."""
    declared = filter_declared(mysql)
    replicas = mysql.deployment.replica_pods()
    with (
        scratch_database(mysql, "mysqlsts_accounts") as other_db,
        accounts_made_on_the_master(mysql, other_db) as made,
    ):
        mysql.wait_replicas_caught_up()
        seen = {database: holders(mysql, user) for database, user in made.items()}
    attachments.table(
        "accounts made on the master, and the replicas that hold them",
        [
            {"default database": "mysql" if db == "mysql" else f"{db} (not mysql)",
             "account": made[db], "on replicas": ", ".join(pods) or "none"}
            for db, pods in seen.items()
        ],
    )  # fmt: skip
    if not declared:
        missing = {made[db]: sorted(set(replicas) - set(pods)) for db, pods in seen.items()}
        missing = {user: pods for user, pods in missing.items() if pods}
        assert not missing, (
            f"the manifests declare no mysql-schema filter, yet accounts made on the master "
            f"did not reach: {missing}"
        )
        return
    assert not seen["mysql"], (
        f"the mysql-schema filter declared in {', '.join(declared)} does not hold: the account "
        f"made after USE mysql reached {seen['mysql']}"
    )
    elsewhere = next(pods for db, pods in seen.items() if db != "mysql")
    if elsewhere:
        attachments.text("finding: the mysql-schema filter leaks", f"{LEAK}: {elsewhere}")
