"""Deleting pods: the StatefulSet brings them back as the same member, data and all.

A deleted StatefulSet pod is recreated with the same name and the same claim, so it lands
on the node of that claim's local PV and finds its datadir. A replica resumes replication
from its own relay/master info; the master comes back as the master, and the replicas'
IO threads reconnect to it by themselves (``MASTER_CONNECT_RETRY``). Nothing in the
article promotes a replica: while the master is away, the replicas stay read-only.
"""

from __future__ import annotations

from pathlib import Path

import allure
import pymysql
import pytest

from mysqlsts.db.mysql import READ_ONLY_ERROR, MySQL, describe_error
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pod_waits import wait_pod_instance_gone
from mysqlsts.k8s.status import is_pod_ready, summarize_pod
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.clone import check_clone_skipped
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import background_writer, master_holds_every_acknowledged_write
from mysqlsts.scenarios.pod_identity import identity, wait_returned_in_place
from mysqlsts.scenarios.scratch import ScratchTable, compare_keys

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]


@step("stop {replica}'s IO thread, write rows it must miss, delete it")
def delete_after_missing_rows(
    kube: Kube, mysql: MySQL, scratch: ScratchTable, namespace: str, replica: str
) -> list[int]:
    """Rows written while the replica's IO thread is stopped, which it provably lacks."""
    mysql.query(replica, "STOP SLAVE IO_THREAD")
    try:
        missed = scratch.write("missed by a stopped IO thread")
        held = scratch.keys(replica)
        attachments.text(f"keys on {replica} before its deletion", " ".join(map(str, held)))
    finally:
        # Deleted whatever happened: the new instance starts its replication again,
        # so a failure here does not leave the IO thread stopped.
        kube.delete_pod(namespace, replica)
    received = sorted(set(missed) & set(held))
    assert not received, (
        f"{replica} received rows written after its IO thread was stopped: {received}"
    )
    return missed


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
    ns, replica = deployment.namespace, deployment.replica_pods()[-1]
    with disturbance(kube, mysql, deployment, "replica_delete") as disturbed:
        scratch = disturbed.scratch
        before = scratch.write("before delete")
        mysql.wait_replica_caught_up(replica)
        old = identity(kube, deployment, replica)
        missed = delete_after_missing_rows(kube, mysql, scratch, ns, replica)
        with allure.step(f"write while {replica} is away"):
            wait_pod_instance_gone(kube, ns, replica, old.uid)
            away = scratch.write("while away or starting")
            current = kube.get_pod(ns, replica)
            attachments.text(
                "replica state right after those writes",
                summarize_pod(current) if current else "absent",
            )
        wait_returned_in_place(kube, deployment, old)
        check_clone_skipped(kube, deployment, replica)
        with allure.step(f"{replica} resumes replication and has every row"):
            mysql.wait_replication_running(replica)
            mysql.wait_replica_caught_up(replica)
            after = scratch.write("after return")
            mysql.wait_replica_caught_up(replica)
            scratch.assert_identical(replica, [*before, *missed, *away, *after], "after its return")


@step("while the master is away, replicas refuse writes")
def replicas_refuse_writes(
    kube: Kube, mysql: MySQL, deployment: Deployment, scratch: ScratchTable
) -> None:
    refused: list[dict[str, str]] = []
    for replica in deployment.replica_pods():
        key = scratch.reserve(1)[0]
        try:
            mysql.query(replica, scratch.insert_sql(), (key, "on a replica"))
        except pymysql.err.MySQLError as error:
            refused.append({"pod": replica, "key": str(key), "error": describe_error(error)})
        else:
            refused.append({"pod": replica, "key": str(key), "error": "ACCEPTED"})
    attachments.table("writes attempted on replicas while the master was away", refused)
    current = kube.get_pod(deployment.namespace, deployment.master_pod)
    state = summarize_pod(current) if current else "absent"
    attachments.text("master while the replicas were probed", state)
    # The step's premise: had the master been back, the refusals would say nothing about
    # its absence.
    assert current is None or not is_pod_ready(current), (
        f"{deployment.master_pod} was ready again before the replicas were probed ({state}): "
        "nothing shows what they do while the master is away"
    )
    for row in refused:
        assert row["error"].startswith(f"error {READ_ONLY_ERROR}:"), (
            f"{row['pod']} did not refuse a write while the master was away: {row['error']}"
        )


@step("{master} holds the writes acknowledged before the deletion")
def holds_acknowledged_before(scratch: ScratchTable, master: str, acknowledged: list[int]) -> None:
    lost = sorted(set(acknowledged) - set(scratch.keys(master)))
    attachments.text(
        "acknowledged before the deletion",
        f"{len(acknowledged)} writes, {len(lost)} missing on {master} after its return",
    )
    assert not lost, f"writes acknowledged before the deletion are lost: {lost[:20]}"


def master_deleted_under_writes(
    kube: Kube, mysql: MySQL, deployment: Deployment, scratch: ScratchTable, kubeconfig: Path
) -> list[int]:
    """Delete the master while a writer writes; returns the master's keys afterwards."""
    master, old = deployment.master_pod, identity(kube, deployment, deployment.master_pod)
    with background_writer(scratch, kubeconfig) as writer:
        writer.wait_acknowledged(50)
        with allure.step(f"delete pod {master} while the writer writes"):
            kube.delete_pod(deployment.namespace, master)
            acknowledged_before = writer.acknowledged
            wait_pod_instance_gone(kube, deployment.namespace, master, old.uid)
        replicas_refuse_writes(kube, mysql, deployment, scratch)
        wait_returned_in_place(kube, deployment, old)
        holds_acknowledged_before(scratch, master, acknowledged_before)
        with allure.step("the writer's writes succeed again"):
            writer.wait_more(50, timeout=180)
    return master_holds_every_acknowledged_write(scratch, writer.ledger)


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
    with disturbance(kube, mysql, deployment, "master_delete") as disturbed:
        scratch = disturbed.scratch
        kubeconfig = Path(mysqlsts_run.kubeconfig)
        master_keys = master_deleted_under_writes(kube, mysql, deployment, scratch, kubeconfig)
        for replica in deployment.replica_pods():
            with allure.step(
                f"{replica} reconnected by itself and holds exactly the master's rows"
            ):
                mysql.wait_replication_running(replica)
                mysql.wait_replica_caught_up(replica)
                comparison = compare_keys(master_keys, scratch.keys(replica))
                attachments.text(f"{replica} vs master", str(comparison))
                assert comparison.identical, f"{replica} compared with the master: {comparison}"
