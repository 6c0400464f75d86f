"""Helpers for tests that disturb the deployment (scaling, failover) and must put it back.

- :class:`ScratchTable`: a database of the test's own on the master, rows with unique
  keys written in named batches, read back (duplicates included) from any pod;
- :class:`BackgroundWriter`: a bounded writer on the master in a thread, recording which
  writes were acknowledged and which had an unknown outcome (the connection broke);
- :class:`PodIdentity`: what must survive a pod's replacement (name, claim, PV, node);
- the clone init container's log: which pod it streamed from, or that it skipped;
- :func:`empty_claim`: empties a claim left by a scaled-in pod, so the next scale-out
  clones afresh instead of reusing it;
- :func:`restore`: nodes uncordoned, the manifests' replica count, every pod ready,
  replication running and caught up.

Pure functions (log parsing, key comparison, ordering) are unit-tested; the rest talks to
the cluster through :class:`~mysqlsts.kube.Kube` and :class:`~mysqlsts.mysql.MySQL`.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import allure
import pymysql

from mysqlsts import attach, podstate
from mysqlsts.deployment import Deployment
from mysqlsts.environment import RunInfo
from mysqlsts.hostpaths import helper_image
from mysqlsts.kube import TRANSIENT, Kube, KubeError
from mysqlsts.mysql import MySQL
from mysqlsts.replication import ReplicaProgress, ReplicationBroken
from mysqlsts.waiting import Seen, wait_for

Obj = dict[str, Any]
# Errors after which a MySQL probe may succeed on the next try (pod restarting).
MYSQL_TRANSIENT = (*TRANSIENT, pymysql.err.OperationalError, pymysql.err.InterfaceError)
# MySQL's "running with --read-only/--super-read-only" error.
READ_ONLY_ERROR = 1290
UNKNOWN_DATABASE = 1049
UNKNOWN_TABLE = 1146


# -- time ---------------------------------------------------------------------------------
def parse_time(value: str | None) -> datetime | None:
    """An API timestamp (RFC 3339, ``Z`` or offset) as an aware datetime."""
    if not value:
        return None
    # Container runtimes give nanoseconds; datetime keeps microseconds.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- scratch data -------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyComparison:
    """How the keys found on a pod differ from the keys expected there."""

    missing: list[int]
    duplicated: dict[int, int]  # key -> how many times it was found
    unexpected: list[int]

    @property
    def identical(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected)

    def __str__(self) -> str:
        def few(items: Sequence[Any]) -> str:
            return ", ".join(map(str, items[:10])) + (" ..." if len(items) > 10 else "")

        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing ({few(self.missing)})")
        if self.duplicated:
            dup = [f"{k} x{n}" for k, n in sorted(self.duplicated.items())]
            parts.append(f"{len(dup)} duplicated ({few(dup)})")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected ({few(self.unexpected)})")
        return "; ".join(parts) or "identical"


def compare_keys(expected: Iterable[int], found: Iterable[int]) -> KeyComparison:
    """Compare a multiset of found keys with a set of expected unique keys."""
    want = set(expected)
    counts = Counter(found)
    return KeyComparison(
        missing=sorted(want - counts.keys()),
        duplicated={k: n for k, n in counts.items() if n > 1},
        unexpected=sorted(counts.keys() - want),
    )


@dataclass
class ScratchTable:
    """A table of the test's own in a database of its own, written on the master only.

    Each row has a unique key ``k`` (no unique index: a row applied twice on a replica
    shows as a duplicate instead of stopping replication), the ``batch`` that wrote it and
    the master's UTC time of the write.
    """

    mysql: MySQL
    database: str
    table: str = "writes"
    _next_key: int = 1

    @classmethod
    def create(cls, mysql: MySQL, label: str) -> ScratchTable:
        safe = re.sub(r"\W", "_", label)
        scratch = cls(mysql, f"mysqlsts_{safe}_{secrets.token_hex(3)}")
        with (
            mysql.connect(mysql.deployment.master_pod) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(f"CREATE DATABASE `{scratch.database}`")
            cursor.execute(
                f"CREATE TABLE {scratch.qualified} (k INT NOT NULL, batch VARCHAR(100) NOT NULL, "
                "written_at DATETIME(6) NOT NULL, KEY (k)) ENGINE=InnoDB"
            )
        return scratch

    @property
    def qualified(self) -> str:
        return f"`{self.database}`.`{self.table}`"

    def reserve(self, count: int) -> list[int]:
        keys = list(range(self._next_key, self._next_key + count))
        self._next_key += count
        return keys

    def insert_sql(self) -> str:
        return (
            f"INSERT INTO {self.qualified} (k, batch, written_at) VALUES (%s, %s, UTC_TIMESTAMP(6))"
        )

    def write(self, batch: str, count: int = 20) -> list[int]:
        """Insert ``count`` rows on the master, one transaction each; return their keys."""
        keys = self.reserve(count)
        with (
            self.mysql.connect(self.mysql.deployment.master_pod) as conn,
            conn.cursor() as cursor,
        ):
            for key in keys:
                cursor.execute(self.insert_sql(), (key, batch))
        return keys

    def keys(self, pod: str | int) -> list[int]:
        """Every key on ``pod``, duplicates included, sorted.

        A pod without the scratch database or table fails the check: the rows it had
        (at least the table's creation) are gone, so its datadir was lost.
        """
        try:
            rows = self.mysql.query(pod, f"SELECT k FROM {self.qualified} ORDER BY k")
        except pymysql.err.ProgrammingError as error:
            if error.args and error.args[0] in (UNKNOWN_DATABASE, UNKNOWN_TABLE):
                raise AssertionError(
                    f"{self.qualified} is gone from {pod} ({describe_error(error)}): "
                    "its data was lost"
                ) from None
            raise
        return [int(row["k"]) for row in rows]

    def drop(self) -> None:
        self.mysql.query(
            self.mysql.deployment.master_pod, f"DROP DATABASE IF EXISTS `{self.database}`"
        )


def writer_mysql(run: RunInfo, deployment: Deployment) -> MySQL:
    """MySQL access with an API client of its own, for use in another thread.

    The kubernetes client's port-forward temporarily replaces the ``request`` method of
    the ApiClient it uses, so two threads must never share one.
    """
    kube = Kube.from_kubeconfig(Path(run.kubeconfig))
    return MySQL(kube, deployment, connect_timeout=5, read_timeout=15)


@dataclass
class WriterResult:
    acknowledged: list[int] = field(default_factory=list)
    # Sent but no answer (the connection broke): committed or not, nobody knows.
    uncertain: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "acknowledged": len(self.acknowledged),
            "uncertain": self.uncertain,
            "reconnects": self.reconnects,
            "errors (first 10)": self.errors[:10],
        }


class BackgroundWriter:
    """Inserts rows with increasing unique keys into a scratch table on the master.

    Bounded by ``max_rows`` and ``max_seconds``; paced by ``pause`` seconds between
    writes (it stands for a client's steady load, not a hammer on a 2-core machine). When
    a write fails it records the key as uncertain (committed or not, nobody knows), and
    reconnects until told to stop. Its keys start at ``first_key``, away from the keys
    the test writes itself.
    """

    def __init__(
        self,
        scratch: ScratchTable,
        mysql: MySQL,
        *,
        pause: float = 0.02,
        max_rows: int = 20000,
        max_seconds: float = 300,
        first_key: int = 1_000_000,
    ) -> None:
        self.scratch = scratch
        self.mysql = mysql
        self.pause = pause
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self.result = WriterResult()
        self._next_key = first_key
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mysqlsts-writer", daemon=True)

    def __enter__(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def acknowledged(self) -> list[int]:
        with self._lock:
            return list(self.result.acknowledged)

    def _more(self, deadline: float) -> bool:
        return (
            not self._stop.is_set()
            and time.monotonic() < deadline
            and self._next_key - self._first_key < self.max_rows
        )

    def _run(self) -> None:
        self._first_key = self._next_key
        deadline = time.monotonic() + self.max_seconds
        master = self.mysql.deployment.master_pod
        while self._more(deadline):
            try:
                with self.mysql.connect(master, timeout=30) as conn, conn.cursor() as cursor:
                    while self._more(deadline):
                        key = self._next_key
                        self._next_key += 1
                        try:
                            cursor.execute(self.scratch.insert_sql(), (key, "writer"))
                        except Exception:
                            with self._lock:
                                self.result.uncertain.append(key)
                            raise
                        with self._lock:
                            self.result.acknowledged.append(key)
                        self._stop.wait(self.pause)  # pacing, not synchronisation
            except Exception as error:  # the thread must survive anything and go on
                with self._lock:
                    self.result.errors.append(describe_error(error))
                    self.result.reconnects += 1
                self._stop.wait(1)  # back off before reconnecting

    def wait_acknowledged(self, count: int, *, timeout: float = 120) -> None:
        """Wait until at least ``count`` writes in total have been acknowledged."""

        def probe() -> Seen[None]:
            with self._lock:
                done = len(self.result.acknowledged)
                last = self.result.errors[-1] if self.result.errors else "no error"
            if not self._thread.is_alive() and done < count:
                raise AssertionError(f"the writer stopped after {done} writes; last: {last}")
            return Seen(done >= count, f"{done} acknowledged writes; last error: {last}")

        wait_for(f"{count} acknowledged writes on the master", probe, timeout=timeout, interval=0.5)

    def stop(self, timeout: float = 90) -> WriterResult:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the background writer did not stop within {timeout:g}s")
        with self._lock:
            return self.result


# -- pods: identity, containers, events ------------------------------------------------------
@dataclass(frozen=True)
class PodIdentity:
    """What a replaced StatefulSet pod must keep (name, claim, PV, node) and what changes."""

    name: str
    uid: str
    node: str | None
    claim: str | None
    claim_uid: str | None
    volume: str | None
    mysql_restarts: int

    def same_place(self, other: PodIdentity) -> bool:
        return (self.name, self.claim, self.claim_uid, self.volume, self.node) == (
            other.name,
            other.claim,
            other.claim_uid,
            other.volume,
            other.node,
        )

    def row(self, label: str) -> dict[str, Any]:
        return {"when": label, **asdict(self)}


def container_status(pod: Obj, name: str) -> Obj:
    for _, status in podstate.container_statuses(pod):
        if status.get("name") == name:
            return status
    return {}


def identity(kube: Kube, deployment: Deployment, pod_name: str) -> PodIdentity:
    pod = kube.get_pod(deployment.namespace, pod_name)
    assert pod is not None, f"pod {deployment.namespace}/{pod_name} does not exist"
    return identity_of(kube, deployment, pod)


def identity_of(kube: Kube, deployment: Deployment, pod: Obj) -> PodIdentity:
    name = pod["metadata"]["name"]
    claim = deployment.pvc_name(deployment.ordinal_of(name))
    claims = [
        (v.get("persistentVolumeClaim") or {}).get("claimName")
        for v in (pod.get("spec") or {}).get("volumes") or []
    ]
    pvc = kube.get_pvc(deployment.namespace, claim) if claim in claims else None
    return PodIdentity(
        name=name,
        uid=pod["metadata"]["uid"],
        node=(pod.get("spec") or {}).get("nodeName"),
        claim=claim if claim in claims else None,
        claim_uid=pvc["metadata"]["uid"] if pvc else None,
        volume=(pvc.get("spec") or {}).get("volumeName") if pvc else None,
        mysql_restarts=int(
            container_status(pod, deployment.mysql_container).get("restartCount") or 0
        ),
    )


def wait_pod_instance_gone(kube: Kube, namespace: str, name: str, uid: str) -> Obj | None:
    """Wait until the instance ``uid`` of pod ``name`` is gone; return its successor, if any."""

    def probe() -> Seen[Obj]:
        pod = kube.get_pod(namespace, name)
        if pod is None:
            return Seen(True, "gone", None)
        if pod["metadata"]["uid"] != uid:
            return Seen(True, "replaced", pod)
        return Seen(False, podstate.summarize_pod(pod))

    return wait_for(
        f"the old instance of pod {namespace}/{name} to be gone",
        probe,
        timeout=120,
        transient=TRANSIENT,
    )


def events_for(kube: Kube, namespace: str, pod: str, since: datetime | None = None) -> list[Obj]:
    """The pod's events whose last occurrence is at or after ``since``."""
    found = []
    for event in kube.events(namespace):
        involved = event.get("involvedObject") or {}
        if involved.get("kind") != "Pod" or involved.get("name") != pod:
            continue
        when = parse_time(
            event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp")
        )
        if since is not None and (when is None or when < since.replace(microsecond=0)):
            continue
        found.append(event)
    return found


def event_rows(events: Iterable[Obj]) -> list[dict[str, Any]]:
    return [
        {
            "last seen": e.get("lastTimestamp") or e.get("eventTime"),
            "type": e.get("type"),
            "reason": e.get("reason"),
            "count": e.get("count") or 1,
            "message": (e.get("message") or "").strip(),
        }
        for e in events
    ]


def statefulset_template(deployment: Deployment) -> Obj:
    for obj in deployment.objects_of_kind("StatefulSet"):
        return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    raise LookupError("no StatefulSet in the deployment")


def mysql_container_spec(deployment: Deployment) -> Obj:
    for container in statefulset_template(deployment).get("containers") or []:
        if container.get("name") == deployment.mysql_container:
            return container
    raise LookupError(f"no container {deployment.mysql_container} in the StatefulSet")


# -- the clone init container -----------------------------------------------------------------
CLONE_TOOLS = ("ncat", "xbstream")


def clone_container(deployment: Deployment) -> str:
    """The init container that copies the previous pod's data (it runs ncat/xbstream)."""
    for container in statefulset_template(deployment).get("initContainers") or []:
        script = " ".join(
            map(str, [*(container.get("command") or []), *(container.get("args") or [])])
        )
        if any(tool in script for tool in CLONE_TOOLS):
            return str(container["name"])
    raise LookupError(
        "no init container of the StatefulSet runs ncat or xbstream (nothing clones data)"
    )


def trace_lines(log: str) -> list[str]:
    """The commands a ``set -x`` script ran (lines starting with ``+``), without the ``+``."""
    return [line.lstrip("+").strip() for line in log.splitlines() if line.startswith("+")]


def streaming_commands(log: str) -> list[str]:
    """Traced commands that receive or unpack a backup stream (ncat, xbstream)."""
    return [
        line
        for line in trace_lines(log)
        if any(re.search(rf"(^|[\s/]){tool}\b", line) for tool in CLONE_TOOLS)
    ]


def stream_window(timestamped_log: str) -> tuple[datetime, datetime] | None:
    """When the clone's backup stream ran, from its log with timestamps.

    From the trace line that starts the stream (``ncat``/``xbstream``: the pipeline's two
    traces come together) to the next traced command (the prepare), which ``set -x``
    prints only once the stream has ended. None when the log shows no complete stream.
    The times are the node's clock: compare them with the master's only where the
    nodes' clocks agree (NTP; one host under kind).
    """
    started: datetime | None = None
    for line in timestamped_log.splitlines():
        stamp, _, text = line.partition(" ")
        if not text.startswith("+"):
            continue
        streaming = bool(streaming_commands(text))
        if started is None and streaming:
            started = parse_time(stamp)
        elif started is not None and not streaming:
            ended = parse_time(stamp)
            return (started, ended) if ended is not None else None
    return None


def cloned_from(log: str, statefulset: str) -> list[int]:
    """Ordinals of the StatefulSet's pods that an ``ncat`` in the trace connected to."""
    pattern = re.compile(rf"^{re.escape(statefulset)}-(\d+)\.")
    found: list[int] = []
    for line in streaming_commands(log):
        if not re.search(r"(^|[\s/])ncat\b", line):
            continue
        for token in line.split():
            match = pattern.match(token)
            if match and int(match[1]) not in found:
                found.append(int(match[1]))
    return found


# -- scaling ----------------------------------------------------------------------------------
def max_replicas(deployment: Deployment) -> int:
    """How many pods the manifests' PVs can hold: one local PV per claim."""
    return len(deployment.pvs)


@dataclass
class PodTimeline:
    """When each pod instance was created and when it first became ready."""

    created: dict[str, datetime | None] = field(default_factory=dict)
    ready: dict[str, datetime | None] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)

    def observe(self, pods: Iterable[Obj], ignore_uids: Collection[str] = ()) -> None:
        for pod in pods:
            meta = pod["metadata"]
            if meta["uid"] in ignore_uids:
                continue
            name = meta["name"]
            if self.uids.get(name) != meta["uid"]:  # a new instance: start over
                self.uids[name] = meta["uid"]
                self.created[name] = parse_time(meta.get("creationTimestamp"))
                self.ready.pop(name, None)
            cond = podstate.condition(pod, "Ready") or {}
            if name not in self.ready and cond.get("status") == "True":
                self.ready[name] = parse_time(cond.get("lastTransitionTime"))

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "pod": name,
                "uid": self.uids[name],
                "created": self.created[name],
                "ready": self.ready.get(name),
            }
            for name in sorted(self.uids, key=lambda n: (len(n), n))
        ]


def ordering_violations(timeline: PodTimeline, ordered: Sequence[str]) -> list[str]:
    """Pods of ``ordered`` created before their predecessor in the list was ready."""
    problems = []
    for previous, current in pairwise(ordered):
        created = timeline.created.get(current)
        ready = timeline.ready.get(previous)
        if created is None:
            problems.append(f"{current}: no creation time observed")
        elif ready is None:
            problems.append(f"{current} created at {created} but {previous} was never seen ready")
        elif created < ready:
            problems.append(
                f"{current} created at {created:%H:%M:%S}, before {previous} was ready "
                f"at {ready:%H:%M:%S}"
            )
    return problems


def empty_claim(kube: Kube, deployment: Deployment, claim: str, *, timeout: float = 180) -> str:
    """Delete everything on ``claim`` (of a pod that does not run) through a short-lived pod.

    The pod mounts the claim (so it lands on the PV's node), runs as root and removes the
    claim's contents; the claim and its PV stay bound. Returns the pod's output.
    """
    namespace = deployment.namespace
    users = [
        pod["metadata"]["name"]
        for pod in kube.list_pods(namespace)
        if any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
            for v in (pod.get("spec") or {}).get("volumes") or []
        )
    ]
    assert not users, f"claim {claim} is in use by {users}: refusing to empty it"
    name = f"mysqlsts-empty-{claim}"[:63].rstrip("-.")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"mysqlsts.io/helper": "empty-claim"},
        },
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "empty",
                    "image": helper_image(deployment.mysql_image),
                    "imagePullPolicy": "IfNotPresent",
                    "command": [
                        "sh",
                        "-c",
                        "set -eu; ls -A /claim; find /claim -mindepth 1 -delete; "
                        'echo "emptied: $(ls -A /claim | wc -l) entries left"',
                    ],
                    "securityContext": {"runAsUser": 0},
                    "volumeMounts": [{"name": "claim", "mountPath": "/claim"}],
                }
            ],
            "volumes": [{"name": "claim", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }
    kube.apply(pod)
    try:
        done = kube.wait_pod_finished(namespace, name, timeout=timeout)
        output = kube.logs(namespace, name, "empty") or ""
        assert done["status"]["phase"] == "Succeeded", f"emptying {claim} failed: {output[-300:]}"
        return output
    finally:
        kube.delete_pod(namespace, name, grace_period_seconds=0)
        kube.wait_pod_gone(namespace, name)


# -- replication and restoring the deployment ---------------------------------------------
def wait_replication_running(mysql: MySQL, pod: str, *, timeout: float = 120) -> ReplicaProgress:
    """Wait until both replication threads of ``pod`` run (fails at once on an SQL error,
    or when the IO thread has given up). What it saw on the way is attached."""
    started = time.monotonic()
    seen: list[str] = []

    def note(state: str) -> None:
        if not seen or not seen[-1].endswith(state):
            seen.append(f"+{time.monotonic() - started:5.1f}s {state}")

    def probe() -> Seen[ReplicaProgress]:
        try:
            progress = mysql.replica_progress(pod)
        except MYSQL_TRANSIENT as error:
            note(describe_error(error))
            raise
        if progress is None:
            note("not a replica (SHOW SLAVE STATUS is empty)")
            return Seen(False, f"{pod} is not a replica (SHOW SLAVE STATUS is empty)")
        threads = f"IO {progress.io_running}, SQL {progress.sql_running}"
        note(f"{threads} {progress.last_io_error or progress.last_sql_error}".strip())
        if progress.sql_running != "Yes" and progress.last_sql_error:
            raise ReplicationBroken(f"{pod}: SQL thread stopped: {progress.last_sql_error}")
        # "No" (not "Connecting") with an error: the IO thread gave up and will not retry.
        if progress.io_running == "No" and progress.last_io_error:
            raise ReplicationBroken(f"{pod}: IO thread stopped: {progress.last_io_error}")
        running = progress.io_running == "Yes" and progress.sql_running == "Yes"
        return Seen(running, f"{pod}: {progress}", progress)

    try:
        progress = wait_for(
            f"both replication threads of {pod} to run",
            probe,
            timeout=timeout,
            interval=1,
            transient=MYSQL_TRANSIENT,
        )
    finally:
        attach.text(f"replication threads of {pod} while waiting", "\n".join(seen))
    assert progress is not None
    return progress


def slave_status(mysql: MySQL, pod: str | int) -> dict[str, Any]:
    """The SHOW SLAVE STATUS row of ``pod`` ({} when it is not a replica)."""
    rows = mysql.query(pod, "SHOW SLAVE STATUS")
    return dict(rows[0]) if rows else {}


def restore(
    kube: Kube,
    mysql: MySQL,
    deployment: Deployment,
    *,
    uncordon: Iterable[str] = (),
    timeout: float = 300,
) -> None:
    """Put the deployment back as the manifests describe it, and wait until it is so.

    Nodes in ``uncordon`` are made schedulable; the StatefulSet gets the manifests'
    replica count; every pod is ready; each replica runs both replication threads and has
    applied everything the master wrote. A scaled-in pod's claim stays (as StatefulSets do).
    """
    with allure.step(f"restore: {deployment.replicas} ready pods, replication running"):
        for node in uncordon:
            kube.patch_node(node, {"spec": {"unschedulable": False}})
        sts = kube.get_statefulset(deployment.namespace, deployment.statefulset)
        assert sts is not None, f"StatefulSet {deployment.statefulset} is gone"
        if (sts.get("spec") or {}).get("replicas") != deployment.replicas:
            kube.scale_statefulset(
                deployment.namespace, deployment.statefulset, deployment.replicas
            )
        kube.wait_statefulset_ready(
            deployment.namespace,
            deployment.statefulset,
            replicas=deployment.replicas,
            timeout=timeout,
        )
        for pod in deployment.replica_pods():
            wait_replication_running(mysql, pod)
        mysql.wait_replicas_caught_up()


def cordoned(kube: Kube) -> list[str]:
    return [
        n["metadata"]["name"]
        for n in kube.list_nodes()
        if (n.get("spec") or {}).get("unschedulable")
    ]


def describe_error(error: BaseException) -> str:
    if isinstance(error, pymysql.err.MySQLError) and error.args:
        return f"error {error.args[0]}: {error.args[1] if len(error.args) > 1 else ''}".strip()
    if isinstance(error, KubeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


@dataclass
class Disturbance:
    """What a disturbing test changed beyond the StatefulSet, for :func:`disturbance`."""

    scratch: ScratchTable
    kube: Kube
    cordoned: list[str] = field(default_factory=list)

    def cordon(self, node: str) -> None:
        self.cordoned.append(node)  # first: an interrupted patch is still undone
        self.kube.patch_node(node, {"spec": {"unschedulable": True}})

    def uncordon(self, node: str) -> None:
        self.kube.patch_node(node, {"spec": {"unschedulable": False}})


@contextmanager
def disturbance(
    kube: Kube, mysql: MySQL, deployment: Deployment, label: str
) -> Iterator[Disturbance]:
    """Around a test that disturbs the deployment: it ends as the manifests say.

    Gives the test a scratch table of its own. After, whatever happened: nodes the test
    cordoned are uncordoned, :func:`restore`, the scratch database dropped on the master
    and that drop applied on every replica. That the deployment *starts* as declared is
    :func:`require_as_declared`'s job, in the suite plugin's deployment guard: a test whose
    precondition fails is an error, not a failure of its check.
    """
    with allure.step("create a scratch database on the master"):
        disturbed = Disturbance(ScratchTable.create(mysql, label), kube)
    try:
        yield disturbed
    finally:
        restore(kube, mysql, deployment, uncordon=disturbed.cordoned)
        with allure.step(f"drop {disturbed.scratch.database} everywhere"):
            disturbed.scratch.drop()
            mysql.wait_replicas_caught_up()


def require_as_declared(kube: Kube, mysql: MySQL, deployment: Deployment) -> None:
    """Before a disturbing test: the deployment is as declared (waits briefly if needed).

    No node cordoned, the manifests' replica count, every pod ready, replication running
    and caught up. Run in setup (the plugin's deployment guard), so that a deployment left
    broken by an earlier test makes the next one an error in setup rather than a failed
    check.
    """
    left = cordoned(kube)
    assert not left, f"nodes are cordoned before the test: {left}"
    restore(kube, mysql, deployment)


def check_clone_skipped(kube: Kube, deployment: Deployment, pod: str) -> None:
    """The pod's clone init container found its datadir on the claim and streamed nothing.

    A pod that comes back to its own claim must not need a clone; one that clones again
    lost its data (and a clone from the previous pod would hide that loss).
    """
    container = clone_container(deployment)
    log = kube.logs(deployment.namespace, pod, container) or ""
    attach.text(f"{pod}/{container} log", log)
    assert log.strip(), f"{container} of {pod} logged nothing: cannot tell whether it cloned"
    streams = streaming_commands(log)
    assert not streams, (
        f"{pod} cloned its data again, so it did not find its own datadir: {streams}"
    )
