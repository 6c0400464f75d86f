"""Scaling out: one ordinal at a time, each new pod a clone of the previous one.

The article's StatefulSet keeps the default ``OrderedReady`` pod management: pod N is
created only when pod N-1 runs and is ready, because pod N's ``clone-mysql`` init
container streams a backup from pod N-1 (``ncat --recv-only mysql-<N-1>.mysql 3307 |
xbstream -x``) before its mysqld starts. The ``xtrabackup`` sidecar then points the new
replica at the master, at the binlog position the backup corresponds to (from
``xtrabackup_slave_info`` when the source is itself a replica).

The manifests' local PVs bound the replica count: one PV per claim. A claim left behind
by an earlier scale-in would be reused instead of cloned, so the clone tests empty it
first (:func:`mysqlsts.disruption.empty_claim`).
"""

from __future__ import annotations

from datetime import UTC

import allure
import pytest

from mysqlsts import attach, podstate
from mysqlsts.deployment import Deployment
from mysqlsts.disruption import (
    BackgroundWriter,
    PodTimeline,
    clone_container,
    cloned_from,
    compare_keys,
    disturbance,
    empty_claim,
    max_replicas,
    ordering_violations,
    slave_status,
    stream_window,
    streaming_commands,
    wait_replication_running,
    writer_mysql,
)
from mysqlsts.environment import RunInfo
from mysqlsts.kube import TRANSIENT, Kube, raise_if_image_pull_fails
from mysqlsts.mysql import MySQL
from mysqlsts.replication import BinlogPosition
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, allure.suite("scaling")]


def next_ordinal_with_empty_claim(kube: Kube, deployment: Deployment) -> int:
    """The ordinal the next scale-out adds, its claim (if an earlier scale-in left one) empty."""
    ordinal = deployment.replicas
    assert ordinal < max_replicas(deployment), (
        f"the manifests have {max_replicas(deployment)} PVs and {deployment.replicas} replicas: "
        "no PV is left for a scale-out"
    )
    claim = deployment.pvc_name(ordinal)
    if kube.get_pvc(deployment.namespace, claim) is not None:
        with allure.step(f"empty claim {claim}, left by an earlier scale-in"):
            attach.text(f"emptying {claim}", empty_claim(kube, deployment, claim))
    return ordinal


def scale_out_and_wait(kube: Kube, deployment: Deployment, replicas: int) -> None:
    with allure.step(f"scale {deployment.statefulset} to {replicas} replicas"):
        kube.scale_statefulset(deployment.namespace, deployment.statefulset, replicas)
        kube.wait_statefulset_ready(deployment.namespace, deployment.statefulset, replicas=replicas)


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
    top = max_replicas(deployment)
    ns, sts = deployment.namespace, deployment.statefulset
    with disturbance(kube, mysql, deployment, "ordering"):
        with allure.step(f"scale {sts} in to 1 replica"):
            kube.scale_statefulset(ns, sts, 1)
            kube.wait_statefulset_ready(ns, sts, replicas=1)
        before = {p["metadata"]["uid"] for p in kube.list_pods(ns, deployment.label_selector)}
        timeline = PodTimeline()

        def probe() -> Seen[None]:
            current = kube.get_statefulset(ns, sts)
            pods = kube.list_pods(ns, deployment.label_selector)
            timeline.observe(pods)
            for pod in pods:
                raise_if_image_pull_fails(kube, pod)
            state = "; ".join(
                [podstate.summarize_statefulset(current or {}), *map(podstate.summarize_pod, pods)]
            )
            return Seen(current is not None and podstate.statefulset_ready(current, top), state)

        with allure.step(f"scale {sts} out to {top} replicas, watching pod creation and readiness"):
            kube.scale_statefulset(ns, sts, top)
            wait_for(
                f"StatefulSet {ns}/{sts} to be ready with {top} replicas",
                probe,
                timeout=600,
                interval=0.5,
                transient=TRANSIENT,
            )
        rows = [{**row, "existed before": row["uid"] in before} for row in timeline.rows()]
        attach.table("pods: creation and first readiness (API timestamps)", rows)
        problems = ordering_violations(timeline, deployment.pod_names(top))
        assert not problems, "pods were created before their predecessor was ready: " + "; ".join(
            problems
        )


@allure.title("A new replica clones the previous ordinal (a replica) and replicates the master")
def test_new_replica_clones_from_the_previous_ordinal_and_replicates_from_the_master(
    deployment: Deployment, kube: Kube, mysql: MySQL
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
    ns = deployment.namespace
    container = clone_container(deployment)
    with disturbance(kube, mysql, deployment, "clone") as disturbed:
        ordinal = next_ordinal_with_empty_claim(kube, deployment)
        new_pod, source = deployment.pod_name(ordinal), deployment.pod_name(ordinal - 1)
        scratch = disturbed.scratch
        with allure.step(f"write rows on the master; {source} applies them"):
            before = scratch.write("before scale-out")
            if ordinal - 1 > 0:
                mysql.wait_replica_caught_up(source)
        source_role = "replica" if slave_status(mysql, source) else "master"
        attach.text("clone source", f"{source} is a {source_role} before the scale-out")

        scale_out_and_wait(kube, deployment, ordinal + 1)

        with allure.step(f"{new_pod}'s {container} log shows a clone from {source}"):
            log = kube.logs(ns, new_pod, container) or ""
            attach.text(f"{new_pod}/{container} log", log)
            sources = cloned_from(log, deployment.statefulset)
            streams = streaming_commands(log)
            attach.text("streaming commands in the trace", "\n".join(streams) or "(none)")
            assert sources == [ordinal - 1], (
                f"{new_pod} should clone from {deployment.pod_host(ordinal - 1)}; its "
                f"{container} trace connects to ordinals {sources}: {streams}"
            )
            assert any("xbstream" in command for command in streams), (
                f"{new_pod}'s {container} trace shows no xbstream extraction: {streams}"
            )

        with allure.step("every pod has its own server id"):
            ids = {
                pod: mysql.query(pod, "SELECT @@server_id AS id")[0]["id"]
                for pod in deployment.pod_names(ordinal + 1)
            }
            attach.table("@@server_id", [{"pod": p, "server_id": i} for p, i in ids.items()])
            assert len(set(ids.values())) == len(ids), f"server ids are not distinct: {ids}"

        with allure.step(f"{new_pod} replicates from the master's binlog"):
            wait_replication_running(mysql, new_pod)
            status = slave_status(mysql, new_pod)
            master = mysql.master_position()
            attach.data(f"SHOW SLAVE STATUS on {new_pod}", status)
            attach.text("master binlog position", str(master))
            assert str(status["Master_Host"]).split(".")[0] == deployment.master_pod, status[
                "Master_Host"
            ]
            reading = BinlogPosition.of(str(status["Master_Log_File"]), 0)
            assert reading.base == master.base, (
                f"{new_pod} reads binlog {reading.file} but the master writes {master.file}: "
                f"it took its position from the wrong server's binlog"
            )

        with allure.step(f"{new_pod} holds the earlier rows and applies later writes"):
            mysql.wait_replica_caught_up(new_pod)
            earlier = compare_keys(before, scratch.keys(new_pod))
            assert earlier.identical, f"rows written before the scale-out on {new_pod}: {earlier}"
            later = scratch.write("after scale-out")
            mysql.wait_replica_caught_up(new_pod)
            found = scratch.keys(new_pod)
            attach.text(f"keys on {new_pod}", " ".join(map(str, found)))
            everything = compare_keys([*before, *later], found)
            assert everything.identical, f"rows on {new_pod} after a later write: {everything}"


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
    while the backup streamed into the clone init container (timed from its log, to the
    microsecond: the pod status's whole seconds cannot prove it for a clone that takes a
    second), or the run proves nothing: that is checked too.
    """
    ns = deployment.namespace
    container = clone_container(deployment)
    with disturbance(kube, mysql, deployment, "clone_writes") as disturbed:
        ordinal = next_ordinal_with_empty_claim(kube, deployment)
        new_pod = deployment.pod_name(ordinal)
        scratch = disturbed.scratch
        writer_db = writer_mysql(mysqlsts_run, deployment)
        try:
            with BackgroundWriter(scratch, writer_db) as writer:
                writer.wait_acknowledged(20)
                scale_out_and_wait(kube, deployment, ordinal + 1)
                with allure.step("the writer goes on after the new pod is ready"):
                    writer.wait_acknowledged(len(writer.acknowledged) + 20)
            result = writer.stop()
        finally:
            writer_db.kube.api_client.close()
        attach.data("background writer", result.summary())

        log = kube.logs(ns, new_pod, container, timestamps=True) or ""
        attach.text(f"{new_pod}/{container} log with timestamps", log)
        window = stream_window(log)
        assert window, f"{container} of {new_pod} shows no complete backup stream in its log"
        # written_at is the master's UTC_TIMESTAMP(6), naive: compare like with like.
        start, end = (t.astimezone(UTC).replace(tzinfo=None) for t in window)
        during = mysql.query(
            deployment.master_pod,
            f"SELECT COUNT(*) AS n FROM {scratch.qualified} WHERE written_at BETWEEN %s AND %s",
            (start, end),
        )[0]["n"]
        attach.text(
            "writes while the backup streamed", f"{during} rows between {start} and {end} UTC"
        )
        assert during > 0, (
            f"no write was made while {container} received the backup ({start}..{end} UTC): "
            "this run did not exercise writes during the clone"
        )

        with allure.step("the master holds every acknowledged write"):
            master_keys = scratch.keys(deployment.master_pod)
            on_master = compare_keys(result.acknowledged, master_keys)
            assert not on_master.missing and not on_master.duplicated, f"master: {on_master}"
            assert set(on_master.unexpected) <= set(result.uncertain), f"master: {on_master}"

        with allure.step(f"{new_pod} holds exactly the master's rows"):
            wait_replication_running(mysql, new_pod)
            mysql.wait_replica_caught_up(new_pod)
            replica_keys = scratch.keys(new_pod)
            on_replica = compare_keys(master_keys, replica_keys)
            attach.text(
                f"{new_pod} vs master",
                f"master {len(master_keys)} rows, {new_pod} {len(replica_keys)} rows: {on_replica}",
            )
            assert on_replica.identical, f"{new_pod} compared with the master: {on_replica}"
