"""Scaling out: one ordinal at a time, each new pod a clone of the previous one.

The article's StatefulSet keeps the default ``OrderedReady`` pod management: pod N is
created only when pod N-1 runs and is ready, because pod N's ``clone-mysql`` init
container streams a backup from pod N-1 (``ncat --recv-only mysql-<N-1>.mysql 3307 |
xbstream -x``) before its mysqld starts. The ``xtrabackup`` sidecar then points the new
replica at the master, at the binlog position the backup corresponds to (from
``xtrabackup_slave_info`` when the source is itself a replica).

The manifests' local PVs bound the replica count: one PV per claim. A claim left behind
by an earlier scale-in would be reused instead of cloned, so the clone tests empty it
first (:func:`mysqlsts.scenarios.statefulset_acts.empty_claim`).
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import allure
import pytest

from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pod_waits import raise_if_image_pull_fails
from mysqlsts.k8s.status import statefulset_ready, summarize_pod, summarize_statefulset
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.clone import clone_container, cloned_from_previous, stream_window
from mysqlsts.scenarios.creation_order import PodTimeline, ordering_violations
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.ledger import background_writer, master_holds_every_acknowledged_write
from mysqlsts.scenarios.scratch import ScratchTable
from mysqlsts.scenarios.statefulset_acts import next_ordinal_with_empty_claim, scale_to
from mysqlsts.waiting import Seen, wait_for

pytestmark = pytest.mark.mutates_deployment


@step("scale {deployment.statefulset} out to {top} replicas, watching creation and readiness")
def scale_out_watching(kube: Kube, deployment: Deployment, top: int) -> PodTimeline:
    """The pods' creation and first readiness, polled while the StatefulSet scales out."""
    ns, sts = deployment.namespace, deployment.statefulset
    timeline = PodTimeline()

    def probe() -> Seen[None]:
        current = kube.get_statefulset(ns, sts)
        pods = kube.list_pods(ns, deployment.label_selector)
        timeline.observe(pods)
        for pod in pods:
            raise_if_image_pull_fails(kube, pod)
        state = "; ".join([summarize_statefulset(current or {}), *map(summarize_pod, pods)])
        return Seen(current is not None and statefulset_ready(current, top), state)

    kube.scale_statefulset(ns, sts, top)
    # Two clones take about a minute here. The bound and the restore after a failure
    # (300 s) stay under pytest-timeout's 900 s, so that a pod that never comes is
    # reported as this wait and its last state, not as pytest-timeout's kill.
    wait_for(
        f"StatefulSet {ns}/{sts} to be ready with {top} replicas",
        probe,
        timeout=420,
        interval=0.5,
        transient=TRANSIENT,
    )
    return timeline


@allure.title("Scaling out creates each pod only after the previous one is ready")
def test_scale_out_creates_each_pod_only_after_the_previous_one_is_ready(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """Scale in to the master alone, then out to one pod per PV, watching the pods.

    Each new pod's ``creationTimestamp`` must not precede the moment its predecessor's
    Ready condition turned True. The clone design depends on it: a pod streams its data
    from its predecessor, which has to be serving. (``podManagementPolicy: Parallel``
    would create them all at once.)
    """
    top = deployment.max_replicas
    with disturbance(kube, mysql, deployment, "ordering"):
        scale_to(kube, deployment, 1)
        before = {
            p["metadata"]["uid"]
            for p in kube.list_pods(deployment.namespace, deployment.label_selector)
        }
        timeline = scale_out_watching(kube, deployment, top)
        rows = [{**row, "existed before": row["uid"] in before} for row in timeline.rows()]
        attachments.table("pods: creation and first readiness (API timestamps)", rows)
        problems = ordering_violations(timeline, deployment.pod_names(top))
        assert not problems, "pods were created before their predecessor was ready: " + "; ".join(
            problems
        )


@step("every pod has its own server id")
def server_ids_distinct(mysql: MySQL, deployment: Deployment, pods: int) -> None:
    ids = {
        pod: mysql.query(pod, "SELECT @@server_id AS id")[0]["id"]
        for pod in deployment.pod_names(pods)
    }
    attachments.table("@@server_id", [{"pod": p, "server_id": i} for p, i in ids.items()])
    assert len(set(ids.values())) == len(ids), f"server ids are not distinct: {ids}"


@step("{new_pod} replicates from the master's binlog, at the master's position")
def replicates_from_the_master(mysql: MySQL, deployment: Deployment, new_pod: str) -> None:
    """Once caught up (nothing else writes), the position the new replica has executed is
    the master's own, file and offset: a position taken from the source replica's binlog
    (a clone that kept the wrong coordinates) names another file or offset."""
    status = mysql.wait_replication_running(new_pod)
    assert status.master_host.split(".")[0] == deployment.master_pod, status.master_host
    mysql.wait_replica_caught_up(new_pod)
    master = mysql.master_position()
    status = mysql.replica_status(new_pod) or status
    attachments.text(f"replica status of {new_pod}", status.text())
    attachments.text("master binlog position", str(master))
    reading = str(status.get("Master_Log_File"))
    assert (reading, status.executed) == (master.file, master), (
        f"{new_pod} reads binlog {reading} and has executed up to {status.executed}, but the "
        f"master is at {master}: it took its position from the wrong server's binlog"
    )


@allure.title("A new replica clones the previous ordinal (a replica) and replicates the master")
def test_new_replica_clones_from_the_previous_ordinal_and_replicates_from_the_master(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """Scale out by one onto an empty claim; the new pod N must

    * have streamed its data from pod N-1 (its clone init container's trace shows
      ``ncat`` connecting to ``<sts>-<N-1>.<service>`` and ``xbstream -x``), not from any
      other pod — with the article's two replicas, pod N-1 is itself a replica;
    * hold every row written before the scale-out;
    * have a server id of its own;
    * replicate from the master (Master_Host is pod 0, the binlog file it reads is the
      master's, not the source replica's own binlog) and apply later writes.
    """
    with disturbance(kube, mysql, deployment, "clone") as disturbed:
        ordinal = next_ordinal_with_empty_claim(kube, deployment, mysqlsts_run.run_id)
        new_pod, source = deployment.pod_name(ordinal), deployment.pod_name(ordinal - 1)
        with allure.step(f"write rows on the master; {source} applies them"):
            before = disturbed.scratch.write("before scale-out")
            if ordinal - 1 > 0:
                mysql.wait_replica_caught_up(source)
        role = "replica" if mysql.replica_status(source) else "master"
        attachments.text("clone source", f"{source} is a {role} before the scale-out")
        if ordinal - 1 > 0:  # the title's "(a replica)": ordinal 0 is the master
            assert role == "replica", f"{source}, the clone source, is not a replica"
        scale_to(kube, deployment, ordinal + 1)
        cloned_from_previous(kube, deployment, new_pod, ordinal - 1)
        server_ids_distinct(mysql, deployment, ordinal + 1)
        replicates_from_the_master(mysql, deployment, new_pod)
        with allure.step(f"{new_pod} holds the earlier rows and applies later writes"):
            mysql.wait_replica_caught_up(new_pod)
            disturbed.scratch.assert_identical(new_pod, before, "before the scale-out")
            later = disturbed.scratch.write("after scale-out")
            mysql.wait_replica_caught_up(new_pod)
            disturbed.scratch.assert_identical(new_pod, [*before, *later], "after a later write")


@step("the writer wrote while the backup streamed into {new_pod}")
def writes_during_the_stream(
    kube: Kube, deployment: Deployment, scratch: ScratchTable, new_pod: str
) -> None:
    """Timed from the clone container's log, to the microsecond (the pod status's whole
    seconds cannot prove it for a clone that takes a second)."""
    container = clone_container(deployment)
    log = kube.logs(deployment.namespace, new_pod, container, timestamps=True) or ""
    attachments.text(f"{new_pod}/{container} log with timestamps", log)
    window = stream_window(log)
    assert window, f"{container} of {new_pod} shows no complete backup stream in its log"
    # written_at is the master's UTC_TIMESTAMP(6), naive: compare like with like.
    start, end = (t.astimezone(UTC).replace(tzinfo=None) for t in window)
    during = scratch.written_between(start, end)
    attachments.text(
        "writes while the backup streamed", f"{during} rows between {start} and {end} UTC"
    )
    assert during > 0, (
        f"no write was made while {container} received the backup ({start}..{end} UTC): "
        "this run did not exercise writes during the clone"
    )


@allure.title("Writes made during the clone are neither lost nor duplicated on the new replica")
def test_writes_during_the_clone_are_neither_lost_nor_duplicated_on_the_new_replica(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_run: RunInfo
) -> None:
    """A bounded writer inserts unique keys on the master throughout a scale-out by one.

    The backup marks a binlog position; the new replica must resume exactly there. One
    event too early applies rows twice (duplicates: the table has no unique index, so
    they show instead of stopping replication), one too late loses them. Afterwards the
    master holds every acknowledged key (and nothing but acknowledged or uncertain ones),
    and the new replica holds exactly the master's keys. The writer must have written
    while the backup streamed into the clone init container, or the run proves nothing:
    that is checked too.
    """
    with disturbance(kube, mysql, deployment, "clone_writes") as disturbed:
        scratch = disturbed.scratch
        ordinal = next_ordinal_with_empty_claim(kube, deployment, mysqlsts_run.run_id)
        new_pod = deployment.pod_name(ordinal)
        with background_writer(scratch, Path(mysqlsts_run.kubeconfig)) as writer:
            writer.wait_acknowledged(20)
            scale_to(kube, deployment, ordinal + 1)
            with allure.step("the writer goes on after the new pod is ready"):
                writer.wait_more(20)
        writes_during_the_stream(kube, deployment, scratch, new_pod)
        master_keys = master_holds_every_acknowledged_write(scratch, writer.ledger)
        with allure.step(f"{new_pod} holds exactly the master's rows"):
            mysql.wait_replication_running(new_pod)
            mysql.wait_replica_caught_up(new_pod)
            scratch.assert_identical(new_pod, master_keys, "compared with the master")
