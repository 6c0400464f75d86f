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

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import allure
import pytest

from mysqlsts.db.mysql import MYSQL_TRANSIENT, MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.events import event_rows, pod_events
from mysqlsts.k8s.status import container_status
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.scenarios.disturbance import disturbance
from mysqlsts.scenarios.pod_identity import (
    PodIdentity,
    container_exec,
    identity,
    identity_of,
    wait_mysql_restarted,
)
from mysqlsts.scenarios.scratch import ScratchTable, compare_keys
from mysqlsts.settings import Settings
from mysqlsts.waiting import Seen, wait_for

pytestmark = [pytest.mark.mutates_deployment, pytest.mark.needs_replicas(1)]


@step("{old.name} restarts its container in place")
def restarted_in_place(
    kube: Kube, deployment: Deployment, old: PodIdentity, *, timeout: float
) -> None:
    pod = wait_mysql_restarted(kube, deployment, old, timeout=timeout)
    new = identity_of(kube, deployment, pod)
    attachments.table(f"{old.name} before and after", [old.row("before"), new.row("after")])
    attachments.data(
        "previous container state",
        container_status(pod, deployment.mysql_container).get("lastState"),
    )
    assert new.same_place(old) and new.uid == old.uid


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
            attachments.text("kill 1", container_exec(kube, deployment, replica, "kill 1"))
        restarted_in_place(kube, deployment, old, timeout=180)
        with allure.step(f"{replica} keeps its rows and replicates again"):
            mysql.wait_replication_running(replica)
            after = scratch.write("after restart")
            mysql.wait_replica_caught_up(replica)
            scratch.assert_identical(replica, [*before, *after], "after the restart")


def liveness_bound(deployment: Deployment, settings: Settings) -> int:
    """The user's bound (``--liveness-bound``, by default what the article's probe gives),
    never one derived from the manifests under test: a probe that takes minutes to act
    must not widen its own bound. The manifests' probe is attached beside it."""
    probe = deployment.mysql_container_spec.get("livenessProbe") or {}
    attachments.data(
        "liveness bound and the manifests' livenessProbe",
        {
            "bound_seconds (--liveness-bound)": settings.liveness_bound,
            "livenessProbe": probe or None,
        },
    )
    return settings.liveness_bound


@contextmanager
def socket_removed(
    kube: Kube, mysql: MySQL, deployment: Deployment, old: PodIdentity
) -> Iterator[None]:
    """mysqld's socket file removed in ``old``'s pod: alive, but ``mysqladmin ping`` fails.

    Undone whatever happens: if the kubelet did not restart the container by the end,
    mysqld is stopped here so that the container restarts (and gets its socket back).
    """
    socket = str(mysql.query(old.name, "SELECT @@socket AS s")[0]["s"])
    try:
        with allure.step(f"remove {socket} in {old.name}/{deployment.mysql_container}"):
            attachments.text(
                "remove the socket",
                container_exec(
                    kube, deployment, old.name, f"rm -f {socket} && ls -la {socket}* || true"
                ),
            )
            with mysql.connect(old.name, timeout=30):
                pass  # mysqld still answers over TCP: it is alive, only unreachable locally
        yield
    finally:
        current = kube.get_pod(deployment.namespace, old.name) or {}
        restarts = int(
            container_status(current, deployment.mysql_container).get("restartCount") or 0
        )
        if restarts <= old.mysql_restarts:
            # Without a working liveness probe the container would stay unready.
            container_exec(kube, deployment, old.name, "kill 1")
            wait_mysql_restarted(kube, deployment, old, timeout=180)


@step("an event says {pod}'s container was killed for failing its liveness probe")
def killed_for_liveness(kube: Kube, namespace: str, pod: str, since: datetime) -> None:
    events = pod_events(kube.events(namespace), pod, since)
    attachments.table(f"events of {pod} since the socket was removed", event_rows(events))
    killed = [
        e
        for e in events
        if e.get("reason") == "Killing" and "liveness" in (e.get("message") or "").lower()
    ]
    assert killed, f"no event says {pod}'s container was killed for failing its liveness probe"


@step("{master} keeps its rows; replicas reconnect and apply later writes")
def master_and_replicas_hold(
    mysql: MySQL, deployment: Deployment, scratch: ScratchTable, before: list[int], master: str
) -> None:
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
        mysql.wait_replication_running(replica)
        mysql.wait_replica_caught_up(replica)
        scratch.assert_identical(replica, [*before, *after], "after the master's restart")


@allure.title("The liveness probe restarts a mysqld that stops answering; data intact")
def test_liveness_probe_restarts_mysqld_that_stops_answering(
    deployment: Deployment, kube: Kube, mysql: MySQL, mysqlsts_settings: Settings
) -> None:
    """Remove the master's mysqld socket file: mysqld runs on but ``mysqladmin ping`` fails.

    Only a liveness probe can notice this. Within the liveness bound (``--liveness-bound``,
    by default what the article's probe gives; the time taken is reported) the kubelet must
    kill the container for failing its liveness probe (a
    ``Killing`` event saying so) and restart it in the same pod; the master must then hold
    every row it had, and the replicas must reconnect and apply later writes.
    """
    master = deployment.master_pod
    bound = liveness_bound(deployment, mysqlsts_settings)
    with disturbance(kube, mysql, deployment, "liveness") as disturbed:
        before = disturbed.scratch.write("before")
        mysql.wait_replicas_caught_up()
        old = identity(kube, deployment, master)
        since = datetime.now(UTC)
        with socket_removed(kube, mysql, deployment, old):
            with allure.step(f"the kubelet restarts {master}'s container within {bound}s"):
                started = time.monotonic()
                restarted_in_place(kube, deployment, old, timeout=bound)
                attachments.text(
                    "time to the restart",
                    f"{master} was restarted and ready {time.monotonic() - started:.1f}s after "
                    f"its socket was removed (bound {bound}s)",
                )
            killed_for_liveness(kube, deployment.namespace, master, since)
        master_and_replicas_hold(mysql, deployment, disturbed.scratch, before, master)
