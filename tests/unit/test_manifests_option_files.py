"""Option files read as the server reads them."""

from __future__ import annotations

from mysqlsts.manifests import option_files

SLAVE_CNF = """\
# Slave配置
[mysqld]
super-read-only
loose-replicate_ignore_db = "mysql"   # accounts stay on the master
replicate-ignore-db=test
; replicate-ignore-db=commented
[client]
replicate-ignore-db=not-a-server-group
[mysqld-8.0]
replicate-ignore-db=for-8.0
"""


def test_the_servers_groups_give_each_value_once_per_line() -> None:
    assert option_files.server_values(SLAVE_CNF, "replicate-ignore-db") == [
        "mysql",
        "test",
        "for-8.0",
    ]


def test_a_bare_flag_has_no_value() -> None:
    (flag,) = [o for o in option_files.parse(SLAVE_CNF) if o.name == "super_read_only"]
    assert flag == option_files.Option("mysqld", "super_read_only", None)


def test_nothing_is_declared_outside_a_server_group() -> None:
    assert (
        option_files.server_values("[client]\nreplicate-ignore-db=mysql\n", "replicate-ignore-db")
        == []
    )
    assert option_files.server_values("replicate-ignore-db=mysql\n", "replicate-ignore-db") == []
