"""Durability: the master makes every commit it acknowledges survive a crash.

With ``innodb_flush_log_at_trx_commit=1`` InnoDB writes and syncs its redo log at each
commit, and with ``sync_binlog=1`` the binary log is synced at each commit too (MySQL
5.7's defaults both). Any other value lets a crash of mysqld or of the node lose commits
the client was told had succeeded: InnoDB's (``0``, ``2``) or the binary log's, which a
replica would then never receive (``sync_binlog=0``, or ``N > 1``). Read from the running
master, so that what the manifests, the image's defaults and the pod's flags add up to
is what is judged.
"""

from __future__ import annotations

from mysqlsts.db.mysql import MySQL
from mysqlsts.db.server import global_variable
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments

# The values under which an acknowledged commit survives a crash (MySQL 5.7's defaults).
DURABLE = {"innodb_flush_log_at_trx_commit": "1", "sync_binlog": "1"}


def test_the_master_makes_every_acknowledged_commit_durable(
    deployment: Deployment, mysql: MySQL
) -> None:
    """On pod 0, the effective ``innodb_flush_log_at_trx_commit`` and ``sync_binlog`` are
    both 1: the redo log and the binary log are synced to disk at every commit."""
    master = deployment.master_pod
    with mysql.connect(master) as conn:
        effective = {name: global_variable(conn, name) for name in DURABLE}
    attachments.table(
        f"durability settings of {master}",
        [
            {"variable": name, "effective": effective[name], "durable": wanted}
            for name, wanted in DURABLE.items()
        ],
    )
    relaxed = {name: value for name, value in effective.items() if value != DURABLE[name]}
    assert not relaxed, (
        f"{master} does not sync every acknowledged commit to disk: {relaxed} "
        f"(durable: {DURABLE}); a crash can lose commits the clients saw succeed"
    )
