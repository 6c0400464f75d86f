"""Three pods of the upstream StatefulSet, created the way its OrderedReady policy does."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from standin_pods import Pods

from mysqlsts.waiting import Seen, wait_for

SEED_DB = "standin_seed"
SEED_NOTE = "written before mysql-2 existed"


@dataclass
class Cluster:
    pods: Pods
    # Seconds from creating a pod to it being ready, by hostname.
    startup: dict[str, float] = field(default_factory=dict)


def start_cluster(pods: Pods, size: int = 3) -> Cluster:
    """mysql-0 (master), mysql-1 (cloned from mysql-0), mysql-2 (cloned from mysql-1).

    Each pod is created once the previous one is ready. Before mysql-2 is created a row is
    written on the master and awaited on mysql-1, so that mysql-2 can only have it through
    its clone of mysql-1 (it replicates from the position after that row).
    """
    cluster = Cluster(pods)
    pods.create_network()
    for ordinal in range(size):
        if ordinal == 2:
            _seed(pods)
        started = time.monotonic()
        pods.start(ordinal)
        pods.wait_ready(ordinal)
        cluster.startup[pods.spec.hostname(ordinal)] = round(time.monotonic() - started, 1)
    return cluster


def _seed(pods: Pods) -> None:
    setup = pods.sql(
        0,
        f"CREATE DATABASE {SEED_DB}; "
        f"CREATE TABLE {SEED_DB}.t (id INT PRIMARY KEY, note VARCHAR(64)); "
        f"INSERT INTO {SEED_DB}.t VALUES (1, '{SEED_NOTE}')",
    )
    assert setup.returncode == 0, setup.stderr

    def seen_on_replica() -> Seen[None]:
        proc = pods.sql(1, f"SELECT note FROM {SEED_DB}.t WHERE id = 1")
        return Seen(SEED_NOTE in proc.stdout, proc.stdout.strip() or proc.stderr.strip())

    wait_for("the seed row to replicate to mysql-1", seen_on_replica, timeout=60, interval=0.5)
