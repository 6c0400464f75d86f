"""The article's own walkthrough, automated, in the article's order.

1. ``show slave status`` on the first replica: both threads running, master is pod 0;
2. on the master: create database ``test``, table ``counter``, insert 123;
3. read it on the first replica;
4. scale the StatefulSet out by one;
5. read it on the new pod.

The walkthrough scales the StatefulSet, so it runs in the group of tests that change the
deployment, and scales back at the end (the new pod's claim stays, as StatefulSets do).
Step 5 must prove the clone: a claim an earlier scale-in left for the new ordinal is emptied
first (with its old datadir the new pod would skip the clone and get the row through
replication alone), and the new pod's clone log must show the stream from the previous
ordinal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import allure
import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.clone import cloned_from_previous
from mysqlsts.scenarios.statefulset_acts import next_ordinal_with_empty_claim, scale_to

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]

ARTICLE_VALUE = 123  # what the article inserts into test.counter


@step("show slave status on {pod}")
def show_slave_status(mysql: MySQL, deployment: Deployment, pod: str) -> None:
    status = mysql.replica_status(pod)
    assert status is not None, f"{pod} is not a replica: it has no replica status"
    attachments.text(f"replica status of {pod}", status.text())
    assert status.io_running == "Yes", status.last_io_error
    assert status.sql_running == "Yes", status.last_sql_error
    assert status.master_host.split(".")[0] == deployment.master_pod


@contextmanager
def the_articles_counter(kube: Kube, mysql: MySQL, deployment: Deployment) -> Iterator[None]:
    """``test.counter`` with the article's row on the master; afterwards the database is
    dropped and the StatefulSet scaled back to the manifests' replica count."""
    try:
        with (
            allure.step(
                f"create database test, table counter, insert {ARTICLE_VALUE} on the master"
            ),
            mysql.connect(deployment.master_pod) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute("CREATE DATABASE test")
            cursor.execute("CREATE TABLE test.counter (c INT)")
            cursor.execute("INSERT INTO test.counter VALUES (%s)", (ARTICLE_VALUE,))
        yield
    finally:
        scale_to(kube, deployment, deployment.replicas)
        mysql.query(deployment.master_pod, "DROP DATABASE IF EXISTS test")


@step("select * from counter on {pod}")
def counter_on(mysql: MySQL, pod: str) -> None:
    mysql.wait_replica_caught_up(pod)
    assert mysql.query(pod, "SELECT * FROM test.counter") == [{"c": ARTICLE_VALUE}]


@allure.title(
    "The article's walkthrough: replica status, write on master, read on replicas, scale out"
)
def test_walkthrough(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    first_replica = deployment.pod_name(1)
    show_slave_status(mysql, deployment, first_replica)
    with the_articles_counter(kube, mysql, deployment):
        counter_on(mysql, first_replica)
        new = next_ordinal_with_empty_claim(kube, deployment, mysqlsts_run.run_id)
        scaled = new + 1
        with allure.step(f"scale statefulset {deployment.statefulset} to {scaled} replicas"):
            scale_to(kube, deployment, scaled)
        cloned_from_previous(kube, deployment, deployment.pod_name(new), new - 1)
        counter_on(mysql, deployment.pod_name(new))
