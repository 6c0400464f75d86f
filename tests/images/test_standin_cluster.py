"""The upstream StatefulSet's scripts, run unchanged on the stand-in images (Docker only).

The `cluster` fixture runs mysql-0, mysql-1 and mysql-2 the way the StatefulSet does
(init-mysql, clone-mysql, then mysql + the xtrabackup sidecar); see conftest.py and
standin_pods.py.
"""

from __future__ import annotations

import re
import uuid

import pytest
from standin_cluster import SEED_DB, SEED_NOTE, Cluster
from standin_docker import container_state, docker

from mysqlsts.waiting import Seen, wait_for

# One worker runs the whole module under xdist's loadgroup: the tests share one cluster.
pytestmark = [pytest.mark.images, pytest.mark.xdist_group("standin-images-cluster")]

REPLICAS = (1, 2)
MASTER_HOST = "mysql-0.mysql.mysql"  # hard-coded in the upstream sidecar
# The sidecar renames the clone's position statement to this file once it has used it.
CHANGE_MASTER_FILE = "/var/lib/mysql/change_master_to.sql.orig"
# From xtrabackup_binlog_info (clone of the master): two fields, joined by the sidecar
# with a line continuation inside double quotes, hence the run of blanks.
FROM_BINLOG_INFO = re.compile(
    r"^CHANGE MASTER TO MASTER_LOG_FILE='mysqllog\.\d{6}',\s+MASTER_LOG_POS=\d+\n?$"
)
# From xtrabackup_slave_info (clone of a replica): the statement as written at backup
# time, without the final ';' (XtraBackup 2.4 form), naming the MASTER's binary log.
FROM_SLAVE_INFO = re.compile(
    r"^CHANGE MASTER TO MASTER_LOG_FILE='mysqllog\.\d{6}', MASTER_LOG_POS=\d+\n?$"
)


def test_master_is_initialised_like_mysql_57(cluster: Cluster) -> None:
    users = cluster.pods.query(0, "SELECT User, Host, authentication_string FROM mysql.user")
    roots = {u["Host"]: u["authentication_string"] for u in users if u["User"] == "root"}
    assert set(roots) == {"localhost", "%"}, users
    assert all(roots.values()), f"password-less root accounts: {users}"
    assert not [u for u in users if u["User"] == ""], f"anonymous accounts: {users}"
    variables = cluster.pods.query(0, "SELECT @@read_only AS ro, @@log_bin AS log_bin")
    assert variables == [{"ro": "0", "log_bin": "1"}]


def test_clone_from_master(cluster: Cluster) -> None:
    statement = cluster.pods.read_file(1, "xtrabackup", CHANGE_MASTER_FILE)
    assert FROM_BINLOG_INFO.match(statement), statement


def test_clone_from_replica(cluster: Cluster) -> None:
    statement = cluster.pods.read_file(2, "xtrabackup", CHANGE_MASTER_FILE)
    assert FROM_SLAVE_INFO.match(statement), statement
    # mysql-2 replicates from after the seed row, so the row came with the clone.
    rows = cluster.pods.query(2, f"SELECT note FROM {SEED_DB}.t WHERE id = 1")
    assert rows == [{"note": SEED_NOTE}]


def _slave_status(cluster: Cluster, ordinal: int) -> dict[str, str]:
    rows = cluster.pods.query(ordinal, "SHOW SLAVE STATUS")
    assert len(rows) == 1, f"mysql-{ordinal} has {len(rows)} replication channels"
    return rows[0]


@pytest.mark.parametrize("ordinal", REPLICAS)
def test_replication_threads_run(cluster: Cluster, ordinal: int) -> None:
    def running() -> Seen[dict[str, str]]:
        status = _slave_status(cluster, ordinal)
        state = {k: status[k] for k in ("Slave_IO_Running", "Slave_SQL_Running")}
        errors = {k: status[k] for k in ("Last_IO_Error", "Last_SQL_Error") if status[k]}
        done = set(state.values()) == {"Yes"}
        return Seen(done, f"{state} {errors}", status)

    status = wait_for(f"replication threads of mysql-{ordinal}", running, timeout=60)
    assert status is not None
    assert status["Master_Host"] == MASTER_HOST
    assert status["Master_User"] == "root"
    assert status["Replicate_Ignore_DB"] == "mysql"
    assert status["Master_Log_File"].startswith("mysqllog.")
    # MySQL's relay log name, <hostname>-relay-bin (MariaDB's own default differs).
    assert status["Relay_Log_File"].startswith(f"mysql-{ordinal}-relay-bin."), status


def _await_row(cluster: Cluster, ordinal: int, table: str, value: str) -> None:
    def arrived() -> Seen[None]:
        proc = cluster.pods.sql(ordinal, f"SELECT v FROM {table}")
        return Seen(value in proc.stdout.split(), proc.stdout.strip() or proc.stderr.strip())

    wait_for(f"{value} in {table} on mysql-{ordinal}", arrived, timeout=60, interval=0.5)


def test_master_writes_replicate(cluster: Cluster) -> None:
    table = f"test_{uuid.uuid4().hex[:8]}.counter"
    database = table.split(".")[0]
    write = cluster.pods.sql(
        0,
        f"CREATE DATABASE {database}; CREATE TABLE {table} (v VARCHAR(32)); "
        f"INSERT INTO {table} VALUES ('123')",
    )
    assert write.returncode == 0, write.stderr
    for ordinal in REPLICAS:
        _await_row(cluster, ordinal, table, "123")


@pytest.mark.parametrize("ordinal", REPLICAS)
def test_root_cannot_write_on_replica(cluster: Cluster, ordinal: int) -> None:
    for statement in (
        f"INSERT INTO {SEED_DB}.t VALUES ({100 + ordinal}, 'root on a replica')",
        f"CREATE DATABASE written_on_mysql_{ordinal}",
    ):
        proc = cluster.pods.sql(ordinal, statement)
        assert proc.returncode != 0, f"{statement!r} succeeded on mysql-{ordinal}"
        assert "ERROR 1290" in proc.stderr, proc.stderr
    # Replication still applies the master's writes on that read-only replica.
    value = uuid.uuid4().hex[:8]
    # REPLACE: the restart test runs this test again.
    insert = cluster.pods.sql(0, f"REPLACE INTO {SEED_DB}.t VALUES ({ordinal + 10}, '{value}')")
    assert insert.returncode == 0, insert.stderr

    def applied() -> Seen[None]:
        proc = cluster.pods.sql(ordinal, f"SELECT note FROM {SEED_DB}.t WHERE id = {ordinal + 10}")
        return Seen(value in proc.stdout, proc.stdout.strip() or proc.stderr.strip())

    wait_for(f"the master's row on read-only mysql-{ordinal}", applied, timeout=60, interval=0.5)


@pytest.mark.parametrize("kind", ["readiness", "liveness"])
@pytest.mark.parametrize("ordinal", [0, *REPLICAS])
def test_probe_command_passes(cluster: Cluster, ordinal: int, kind: str) -> None:
    """The exec probe has no shell: mysqladmin gets the literal `-p${MYSQL_ROOT_PASSWORD}`.

    MySQL 5.7's mysqladmin (and MariaDB's, same code) exits 0 for `ping` when the server
    answers, even with "Access denied"; that is what keeps the upstream probes passing.
    """
    proc = cluster.pods.probe(ordinal, kind)
    assert proc.returncode == 0, proc.stderr
    assert "Access denied" in proc.stderr, "the probe's password is expected to be wrong"


def test_probe_command_fails_when_no_server_answers(cluster: Cluster) -> None:
    """The same command where no mysqld listens (the sidecar has no server socket)."""
    command = cluster.pods.spec.container("mysql").readiness
    assert command
    proc = cluster.pods.exec(0, "xtrabackup", *command)
    assert proc.returncode != 0, proc.stdout
    assert "Can't connect" in proc.stderr, proc.stderr


@pytest.mark.parametrize("ordinal", [0, 1])
def test_sidecar_serves_another_clone(cluster: Cluster, ordinal: int) -> None:
    """A sidecar that has served its clone (mysql-0 to mysql-1, mysql-1 to mysql-2) serves
    the next one too, as when a replica is re-created, and keeps running.

    The reader is the clone-mysql pipeline's (ncat | xbstream -x), whose early hang-up used
    to make the sidecar's ncat abort.
    """
    pods = cluster.pods
    image = pods.spec.container("xtrabackup").image
    host = pods.spec.dns_names(ordinal)[0]
    proc = docker(
        "run", "--rm", "--network", pods.network, "--label", pods.label,
        "--entrypoint", "bash", image, "-c",
        f"set -e; mkdir /tmp/clone; ncat --recv-only {host} 3307 | xbstream -x -C /tmp/clone; "
        "test -d /tmp/clone/mysql; ls /tmp/clone",
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "xtrabackup_binlog_info" in proc.stdout.split(), proc.stdout
    assert container_state(pods.name(ordinal, "xtrabackup")) == ("running", 0), pods.diagnostics(
        ordinal
    )


def test_replica_restart_keeps_replicating_and_read_only(cluster: Cluster) -> None:
    """A restarted mysql container (a liveness kill) re-applies the super-read-only
    emulation to its existing datadir and resumes replication from master.info."""
    pods = cluster.pods
    docker("restart", pods.name(1, "mysql"))
    pods.wait_ready(1)
    test_replication_threads_run(cluster, 1)
    test_root_cannot_write_on_replica(cluster, 1)


def test_every_container_keeps_running(cluster: Cluster) -> None:
    """Last: nothing the tests did (clones, refused writes, probes) stopped a container."""
    pods = cluster.pods
    for ordinal in range(3):
        for container in pods.spec.containers:
            state = container_state(pods.name(ordinal, container.name))
            assert state == ("running", 0), f"{container.name}\n{pods.diagnostics(ordinal)}"
