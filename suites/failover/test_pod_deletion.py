"""Deleting pods: the StatefulSet brings them back as the same member, data and all.

A deleted StatefulSet pod is recreated with the same name and the same claim, so it lands
on the node of that claim's local PV and finds its datadir. A replica resumes replication
from its own relay/master info; the master comes back as the master, and the replicas'
IO threads reconnect to it by themselves (``MASTER_CONNECT_RETRY``). Nothing in the
article promotes a replica: while the master is away, the replicas stay read-only.
"""

from __future__ import annotations

import allure
import pymysql
import pytest

from mysqlsts import attach, podstate
from mysqlsts.deployment import Deployment
from mysqlsts.disruption import (
    READ_ONLY_ERROR,
    BackgroundWriter,
    check_clone_skipped,
    compare_keys,
    describe_error,
    disturbance,
    identity,
    identity_of,
    wait_pod_instance_gone,
    wait_replication_running,
    writer_mysql,
)
from mysqlsts.environment import RunInfo
from mysqlsts.kube import Kube
from mysqlsts.mysql import MySQL

pytestmark = [pytest.mark.mutates_deployment, allure.suite("failover")]


@allure.title("A deleted replica returns with its name, claim, PV, node and data, and catches up")
def test_deleted_replica_returns_with_its_claim_and_data_and_catches_up(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """Delete the last replica's pod; write on the master before and while it is away.

    The new pod must have the same name, claim (same uid), PV and node; find its datadir
    there (its clone init container streams nothing); hold the rows it had; run both
    replication threads again without anyone restarting them; and apply the rows it
    missed and those written after it returned.

    A recreated replica can be ready within a second of the old instance going away, too
    soon to be sure that a write lands while it is absent. So the test first stops the
    replica's IO thread and writes rows it provably has not received; deleting the pod
    must then bring it back with replication started by the server itself.
    """
    ns = deployment.namespace
    replica = deployment.replica_pods()[-1]
    with disturbance(kube, mysql, deployment, "replica_delete") as disturbed:
        scratch = disturbed.scratch
        before = scratch.write("before delete")
        mysql.wait_replica_caught_up(replica)
        old = identity(kube, deployment, replica)

        with allure.step(f"stop {replica}'s IO thread, write rows it must miss, delete it"):
            mysql.query(replica, "STOP SLAVE IO_THREAD")
            try:
                missed = scratch.write("missed by a stopped IO thread")
                held = scratch.keys(replica)
                attach.text(f"keys on {replica} before its deletion", " ".join(map(str, held)))
            finally:
                # Deleted whatever happened: the new instance starts its replication again,
                # so a failure here does not leave the IO thread stopped.
                kube.delete_pod(ns, replica)
            received = sorted(set(missed) & set(held))
            assert not received, (
                f"{replica} received rows written after its IO thread was stopped: {received}"
            )

        with allure.step(f"write while {replica} is away"):
            wait_pod_instance_gone(kube, ns, replica, old.uid)
            away = scratch.write("while away or starting")
            current = kube.get_pod(ns, replica)
            state = podstate.summarize_pod(current) if current else "absent"
            attach.text("replica state right after those writes", state)

        with allure.step(f"{replica} returns in the same place"):
            returned = kube.wait_pod_replaced(ns, replica, old.uid)
            new = identity_of(kube, deployment, returned)
            attach.table(f"{replica} before and after", [old.row("before"), new.row("after")])
            assert new.same_place(old), f"{replica} came back elsewhere: {old} -> {new}"
            check_clone_skipped(kube, deployment, replica)

        with allure.step(f"{replica} resumes replication and has every row"):
            wait_replication_running(mysql, replica)
            mysql.wait_replica_caught_up(replica)
            after = scratch.write("after return")
            mysql.wait_replica_caught_up(replica)
            found = scratch.keys(replica)
            attach.text(f"keys on {replica}", " ".join(map(str, found)))
            comparison = compare_keys([*before, *missed, *away, *after], found)
            assert comparison.identical, f"{replica} after its return: {comparison}"


@allure.title("A deleted master returns with every acknowledged write; replicas reconnect")
def test_deleted_master_returns_with_every_acknowledged_write_and_replicas_reconnect(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """Delete pod 0 while a writer inserts unique keys on it, one transaction each.

    While the master is away, a write as root on each replica must be refused (error
    1290): no replica takes writes in its place. Pod 0 must return with the same claim,
    PV and node and still hold every write acknowledged before (and after) the deletion.
    The replicas must reconnect by themselves (the test never touches their replication)
    and end up with exactly the master's rows and none of the refused ones.
    """
    ns, master = deployment.namespace, deployment.master_pod
    replicas = deployment.replica_pods()
    with disturbance(kube, mysql, deployment, "master_delete") as disturbed:
        scratch = disturbed.scratch
        old = identity(kube, deployment, master)
        writer_db = writer_mysql(mysqlsts_run, deployment)
        refused: list[dict[str, str]] = []
        try:
            with BackgroundWriter(scratch, writer_db) as writer:
                writer.wait_acknowledged(50)
                with allure.step(f"delete pod {master} while the writer writes"):
                    kube.delete_pod(ns, master)
                    acknowledged_before = writer.acknowledged
                    wait_pod_instance_gone(kube, ns, master, old.uid)

                with allure.step("while the master is away, replicas refuse writes"):
                    for replica in replicas:
                        key = scratch.reserve(1)[0]
                        try:
                            mysql.query(replica, scratch.insert_sql(), (key, "on a replica"))
                        except pymysql.err.MySQLError as error:
                            refused.append(
                                {"pod": replica, "key": str(key), "error": describe_error(error)}
                            )
                        else:
                            refused.append({"pod": replica, "key": str(key), "error": "ACCEPTED"})
                    attach.table("writes attempted on replicas while the master was away", refused)
                    current = kube.get_pod(ns, master)
                    attach.text(
                        "master while the replicas were probed",
                        podstate.summarize_pod(current) if current else "absent",
                    )
                    for row in refused:
                        assert row["error"].startswith(f"error {READ_ONLY_ERROR}:"), (
                            f"{row['pod']} did not refuse a write while the master was away: "
                            f"{row['error']}"
                        )

                with allure.step(f"{master} returns in the same place"):
                    returned = kube.wait_pod_replaced(ns, master, old.uid)
                    new = identity_of(kube, deployment, returned)
                    attach.table(
                        f"{master} before and after", [old.row("before"), new.row("after")]
                    )
                    assert new.same_place(old), f"{master} came back elsewhere: {old} -> {new}"

                with allure.step(f"{master} holds the writes acknowledged before the deletion"):
                    returned_keys = set(scratch.keys(master))
                    lost_before = sorted(set(acknowledged_before) - returned_keys)
                    attach.text(
                        "acknowledged before the deletion",
                        f"{len(acknowledged_before)} writes, {len(lost_before)} missing on "
                        f"{master} after its return",
                    )
                    assert not lost_before, (
                        f"writes acknowledged before the deletion are lost: {lost_before[:20]}"
                    )

                with allure.step("the writer's writes succeed again"):
                    writer.wait_acknowledged(len(writer.acknowledged) + 50, timeout=180)
            result = writer.stop()
        finally:
            writer_db.kube.api_client.close()
        attach.data("background writer", result.summary())

        with allure.step(f"{master} holds every acknowledged write"):
            master_keys = scratch.keys(master)
            on_master = compare_keys(result.acknowledged, master_keys)
            assert not on_master.missing and not on_master.duplicated, f"master: {on_master}"
            assert set(on_master.unexpected) <= set(result.uncertain), f"master: {on_master}"

        for replica in replicas:
            with allure.step(
                f"{replica} reconnected by itself and holds exactly the master's rows"
            ):
                wait_replication_running(mysql, replica)
                mysql.wait_replica_caught_up(replica)
                comparison = compare_keys(master_keys, scratch.keys(replica))
                attach.text(f"{replica} vs master", str(comparison))
                assert comparison.identical, f"{replica} compared with the master: {comparison}"
