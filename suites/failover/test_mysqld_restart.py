"""mysqld stopping inside a running pod: the container restarts in place, data intact.

Two different guards of the manifests are at work. When mysqld exits, the kubelet
restarts the container because of the pod's restart policy. When mysqld is still running
but no longer answers, only the ``livenessProbe`` (``mysqladmin ping`` over the local
socket) notices: after ``failureThreshold`` failed probes the kubelet kills and restarts
the container. Either way the pod (uid, claim, node) stays and the datadir on the claim is
what the new mysqld starts from.

mysqld is PID 1 of its container (the official entrypoint and the stand-in's both
``exec`` it), and the kernel ignores SIGKILL and SIGSTOP sent to a namespace's PID 1
from inside that namespace: ``kill 1`` (SIGTERM, a shutdown) is the way to stop it
from an exec; a frozen mysqld cannot be simulated from there. "Stops answering" is
therefore simulated by removing mysqld's socket file: the process runs on, its TCP port
still works, but ``mysqladmin ping`` (which uses the socket) fails with a client error.
"""

from __future__ import annotations

from datetime import UTC, datetime

import allure
import pytest

from mysqlsts import attach, podstate
from mysqlsts.deployment import Deployment
from mysqlsts.disruption import (
    MYSQL_TRANSIENT,
    compare_keys,
    container_status,
    disturbance,
    event_rows,
    events_for,
    identity,
    identity_of,
    mysql_container_spec,
    wait_replication_running,
)
from mysqlsts.kube import TRANSIENT, Kube, KubeError
from mysqlsts.mysql import MySQL
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, allure.suite("failover")]


def wait_mysql_restarted(
    kube: Kube, deployment: Deployment, pod: str, uid: str, restarts: int, *, timeout: float
) -> dict:
    """Wait until ``pod`` (same instance) has restarted its mysql container and is ready."""

    def probe() -> Seen[dict]:
        current = kube.get_pod(deployment.namespace, pod)
        if current is None:
            return Seen(False, f"pod {pod} does not exist")
        if current["metadata"]["uid"] != uid:
            raise AssertionError(
                f"pod {pod} was replaced (uid {uid} -> {current['metadata']['uid']}) "
                "instead of restarting its container"
            )
        status = container_status(current, deployment.mysql_container)
        count = int(status.get("restartCount") or 0)
        done = count > restarts and podstate.is_pod_ready(current)
        return Seen(
            done, f"restarts {restarts} -> {count}; {podstate.summarize_pod(current)}", current
        )

    found = wait_for(
        f"the {deployment.mysql_container} container of {pod} to restart and be ready",
        probe,
        timeout=timeout,
        interval=2,
        transient=TRANSIENT,
    )
    assert found is not None
    return found


def container_exec(kube: Kube, deployment: Deployment, pod: str, script: str) -> str:
    """Run ``script`` with sh in the mysql container (a stream cut by its end is fine)."""
    try:
        result = kube.exec(
            deployment.namespace, pod, deployment.mysql_container, ["sh", "-c", script]
        )
    except KubeError as error:
        return f"exec ended without a status (the container stopped?): {error}"
    result.check(script)
    return (result.stdout + result.stderr).strip() or "(no output)"


@allure.title("Killing mysqld restarts its container in place; data and replication intact")
def test_killed_mysqld_is_restarted_in_place_with_data_intact(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """``kill 1`` in the last replica's mysql container (mysqld shuts down, the container ends).

    The container must restart (restartCount grows) in the same pod (same uid, claim,
    node), be ready again, hold its rows, run replication again by itself and apply
    later writes.
    """
    replica = deployment.replica_pods()[-1]
    with disturbance(kube, mysql, deployment, "kill_mysqld") as disturbed:
        scratch = disturbed.scratch
        before = scratch.write("before kill")
        mysql.wait_replica_caught_up(replica)
        old = identity(kube, deployment, replica)

        with allure.step(f"kill mysqld (PID 1) in {replica}/{deployment.mysql_container}"):
            attach.text("kill 1", container_exec(kube, deployment, replica, "kill 1"))

        with allure.step(f"{replica} restarts its container in place"):
            pod = wait_mysql_restarted(
                kube, deployment, replica, old.uid, old.mysql_restarts, timeout=180
            )
            new = identity_of(kube, deployment, pod)
            attach.table(f"{replica} before and after", [old.row("before"), new.row("after")])
            attach.data(
                "previous container state",
                container_status(pod, deployment.mysql_container).get("lastState"),
            )
            assert new.same_place(old) and new.uid == old.uid

        with allure.step(f"{replica} keeps its rows and replicates again"):
            wait_replication_running(mysql, replica)
            after = scratch.write("after restart")
            mysql.wait_replica_caught_up(replica)
            comparison = compare_keys([*before, *after], scratch.keys(replica))
            assert comparison.identical, f"{replica} after the restart: {comparison}"


@allure.title("The liveness probe restarts a mysqld that stops answering; data intact")
def test_liveness_probe_restarts_mysqld_that_stops_answering(
    deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    """Remove the master's mysqld socket file: mysqld runs on but ``mysqladmin ping`` fails.

    Only a liveness probe can notice this. Within the probe's period x failureThreshold
    (+ margin) the kubelet must kill the container for failing its liveness probe (a
    ``Killing`` event saying so) and restart it in the same pod; the master must then hold
    every row it had, and the replicas must reconnect and apply later writes.
    """
    ns, master = deployment.namespace, deployment.master_pod
    probe_spec = mysql_container_spec(deployment).get("livenessProbe") or {}
    attach.data("livenessProbe of the manifests", probe_spec or None)
    period = int(probe_spec.get("periodSeconds") or 10)
    failures = int(probe_spec.get("failureThreshold") or 3)
    probe_timeout = int(probe_spec.get("timeoutSeconds") or 1)
    bound = 2 * (period * failures + probe_timeout) + 60
    with disturbance(kube, mysql, deployment, "liveness") as disturbed:
        scratch = disturbed.scratch
        before = scratch.write("before")
        mysql.wait_replicas_caught_up()
        old = identity(kube, deployment, master)
        socket = str(mysql.query(master, "SELECT @@socket AS s")[0]["s"])
        since = datetime.now(UTC)
        restarted = False
        try:
            with allure.step(f"remove {socket} in {master}/{deployment.mysql_container}"):
                attach.text(
                    "remove the socket",
                    container_exec(
                        kube, deployment, master, f"rm -f {socket} && ls -la {socket}* || true"
                    ),
                )
                with mysql.connect(master, timeout=30):
                    pass  # mysqld still answers over TCP: it is alive, only unreachable locally

            with allure.step(f"the kubelet restarts {master}'s container within {bound}s"):
                pod = wait_mysql_restarted(
                    kube, deployment, master, old.uid, old.mysql_restarts, timeout=bound
                )
                restarted = True
                events = events_for(kube, ns, master, since)
                attach.table(f"events of {master} since the socket was removed", event_rows(events))
                killed = [
                    e
                    for e in events
                    if e.get("reason") == "Killing"
                    and "liveness" in (e.get("message") or "").lower()
                ]
                assert killed, (
                    f"no event says {master}'s container was killed for failing its liveness probe"
                )
                new = identity_of(kube, deployment, pod)
                attach.table(f"{master} before and after", [old.row("before"), new.row("after")])
                assert new.same_place(old) and new.uid == old.uid
        finally:
            if not restarted:
                # Without a working liveness probe the container would stay unready.
                container_exec(kube, deployment, master, "kill 1")
                wait_mysql_restarted(
                    kube, deployment, master, old.uid, old.mysql_restarts, timeout=180
                )

        with allure.step(f"{master} keeps its rows; replicas reconnect and apply later writes"):
            found = wait_for(
                f"{master} to answer queries",
                lambda: Seen(True, "answered", scratch.keys(master)),
                timeout=60,
                interval=2,
                transient=MYSQL_TRANSIENT,
            )
            comparison = compare_keys(before, found or [])
            assert comparison.identical, f"{master} after the restart: {comparison}"
            after = scratch.write("after restart")
            for replica in deployment.replica_pods():
                wait_replication_running(mysql, replica)
                mysql.wait_replica_caught_up(replica)
                comparison = compare_keys([*before, *after], scratch.keys(replica))
                assert comparison.identical, f"{replica} after the master's restart: {comparison}"
