"""The article's own walkthrough, automated, in the article's order.

1. ``show slave status`` on the first replica: both threads running, master is pod 0;
2. on the master: create database ``test``, table ``counter``, insert 123;
3. read it on the first replica;
4. scale the StatefulSet out by one;
5. read it on the new pod.

The walkthrough scales the StatefulSet, so it runs in the group of tests that change the
deployment, and scales back at the end (the new pod's claim stays, as StatefulSets do).
"""

from __future__ import annotations

import allure
import pytest

from mysqlsts.deployment import Deployment
from mysqlsts.kube import Kube
from mysqlsts.mysql import MySQL

pytestmark = [pytest.mark.mutates_deployment, allure.suite("scaling")]

ARTICLE_VALUE = 123  # what the article inserts into test.counter


@allure.title(
    "The article's walkthrough: replica status, write on master, read on replicas, scale out"
)
def test_walkthrough(deployment: Deployment, kube: Kube, mysql: MySQL) -> None:
    first_replica = deployment.pod_name(1)
    with allure.step(f"show slave status on {first_replica}"):
        status = mysql.query(first_replica, "SHOW SLAVE STATUS")
        assert len(status) == 1, f"{first_replica} is not a replica: SHOW SLAVE STATUS is empty"
        row = status[0]
        allure.attach(
            "\n".join(f"{k}: {v}" for k, v in row.items()),
            name=f"SHOW SLAVE STATUS on {first_replica}",
            attachment_type=allure.attachment_type.TEXT,
        )
        assert row["Slave_IO_Running"] == "Yes", row.get("Last_IO_Error")
        assert row["Slave_SQL_Running"] == "Yes", row.get("Last_SQL_Error")
        assert row["Master_Host"].split(".")[0] == deployment.master_pod

    write_step = f"create database test, table counter, insert {ARTICLE_VALUE} on the master"
    with (
        allure.step(write_step),
        mysql.connect(deployment.master_pod) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("CREATE DATABASE test")
        cursor.execute("CREATE TABLE test.counter (c INT)")
        cursor.execute("INSERT INTO test.counter VALUES (%s)", (ARTICLE_VALUE,))

    try:
        with allure.step(f"select * from counter on {first_replica}"):
            mysql.wait_replica_caught_up(first_replica)
            rows = mysql.query(first_replica, "SELECT * FROM test.counter")
            assert rows == [{"c": ARTICLE_VALUE}]

        scaled = deployment.replicas + 1
        new_pod = deployment.pod_name(scaled - 1)
        with allure.step(f"scale statefulset {deployment.statefulset} to {scaled} replicas"):
            kube.scale_statefulset(deployment.namespace, deployment.statefulset, scaled)
            kube.wait_statefulset_ready(
                deployment.namespace, deployment.statefulset, replicas=scaled
            )

        with allure.step(f"select * from counter on {new_pod}"):
            mysql.wait_replica_caught_up(new_pod)
            rows = mysql.query(new_pod, "SELECT * FROM test.counter")
            assert rows == [{"c": ARTICLE_VALUE}]
    finally:
        kube.scale_statefulset(deployment.namespace, deployment.statefulset, deployment.replicas)
        kube.wait_statefulset_ready(deployment.namespace, deployment.statefulset)
        mysql.query(deployment.master_pod, "DROP DATABASE IF EXISTS test")
