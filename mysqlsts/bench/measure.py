"""Measurements on the live deployment: data loads, clone phases, replication lag under a
steady write load, recovery times. Each returns the samples of :mod:`.results`.

Clocks: phases inside one pod come from the pod's own log timestamps and the API's
container times (the node's clock); lag and recovery are timed on this host with a
monotonic clock. Under kind every node is a container of this host, so the clocks agree.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pymysql

from mysqlsts.bench.results import CloneSample, LagRun, RecoverySample
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.events import parse_time
from mysqlsts.k8s.status import condition, container_status
from mysqlsts.manifests.model import Deployment
from mysqlsts.scenarios.clone import clone_container, stream_window
from mysqlsts.scenarios.statefulset_acts import next_ordinal_with_empty_claim, scale_to

ROW_BYTES = 1024
# One INSERT ... SELECT of at most this many rows: the load stays in transactions of tens
# of MB, which replicate without a huge binlog event.
FILL_CHUNK_ROWS = 40_000
HEARTBEAT_INTERVAL = 0.1
POLL_INTERVAL = 0.01
WRITE_TICK = 0.1


# -- data -------------------------------------------------------------------------------------
def create_tables(mysql: MySQL, database: str) -> None:
    master = mysql.deployment.master_pod
    mysql.query(
        master,
        "CREATE TABLE IF NOT EXISTS `bulk` (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
        f"payload VARBINARY({ROW_BYTES}) NOT NULL) ENGINE=InnoDB",
        database=database,
    )
    mysql.query(
        master,
        "CREATE TABLE IF NOT EXISTS `load` (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
        f"payload VARBINARY({ROW_BYTES}) NOT NULL) ENGINE=InnoDB",
        database=database,
    )


def data_bytes(mysql: MySQL, database: str) -> int:
    """InnoDB data + index bytes of the database on the master (statistics refreshed)."""
    master = mysql.deployment.master_pod
    tables = [
        r["t"]
        for r in mysql.query(
            master,
            "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = %s",
            (database,),
        )
    ]
    for table in tables:
        mysql.query(master, f"ANALYZE TABLE `{table}`", database=database)
    row = mysql.query(
        master,
        "SELECT COALESCE(SUM(data_length + index_length), 0) AS b "
        "FROM information_schema.tables WHERE table_schema = %s",
        (database,),
    )[0]
    return int(row["b"])


def fill_to(mysql: MySQL, database: str, size_mb: int) -> int:
    """Grow `bulk` to about ``size_mb`` MB of rows of ROW_BYTES random-looking bytes, made
    on the server (INSERT ... SELECT doubling: no data crosses the port-forward); returns
    the database's data bytes. Replicas apply it too (waited for)."""
    master = mysql.deployment.master_pod
    payload = f"REPEAT(UNHEX(MD5(RAND())), {ROW_BYTES // 16})"
    wanted = size_mb * 1_000_000 // ROW_BYTES
    with mysql.connect(master, database=database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) AS n FROM `bulk`")
        rows = int(cursor.fetchone()["n"])
        if rows == 0 and wanted > 0:
            cursor.execute(f"INSERT INTO `bulk` (payload) VALUES ({payload})")
            rows = 1
        while rows < wanted:
            step = min(rows, wanted - rows, FILL_CHUNK_ROWS)
            cursor.execute(
                f"INSERT INTO `bulk` (payload) SELECT {payload} FROM `bulk` LIMIT {step}"
            )
            rows += step
    mysql.wait_replicas_caught_up(timeout=600)
    return data_bytes(mysql, database)


# -- clone ------------------------------------------------------------------------------------
def _seconds(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds() if start and end else math.nan


def last_line_time(timestamped_log: str) -> datetime | None:
    lines = [line for line in timestamped_log.splitlines() if line.strip()]
    return parse_time(lines[-1].partition(" ")[0]) if lines else None


def backup_seconds(timestamped_log: str, after: datetime) -> float | None:
    """How long the source's sidecar spent on the backup it streamed after ``after``: from
    its first log line then to the backup tool's "completed OK!"."""
    first: datetime | None = None
    for line in timestamped_log.splitlines():
        stamp, _, text = line.partition(" ")
        when = parse_time(stamp)
        if when is None or when < after:
            continue
        first = first or when
        if "completed OK!" in text:
            return _seconds(first, when)
    return None


def clone_once(
    kube: Kube, mysql: MySQL, deployment: Deployment, run_id: str, size_mb: int, data: int
) -> CloneSample:
    """Scale out by one replica, which clones ``data`` bytes from the previous ordinal;
    then scale back in. The phases come from the new pod's log and status."""
    ordinal = next_ordinal_with_empty_claim(kube, deployment, run_id)
    new_pod, source_pod = deployment.pod_name(ordinal), deployment.pod_name(ordinal - 1)
    asked = time.monotonic()
    scale_to(kube, deployment, ordinal + 1)
    mysql.wait_replica_caught_up(new_pod, timeout=600)
    caught_up, caught_up_at = time.monotonic(), datetime.now(UTC)
    pod = kube.get_pod(deployment.namespace, new_pod)
    assert pod is not None, f"{new_pod} is gone right after its scale-out"
    container = clone_container(deployment)
    log = kube.logs(deployment.namespace, new_pod, container, timestamps=True) or ""
    window = stream_window(log)
    assert window is not None, f"{new_pod}'s {container} log shows no complete clone stream"
    # The clone container's last log line (the prepare's "completed OK!"), in nanoseconds:
    # the API's finishedAt has whole seconds only.
    terminated = (container_status(pod, container).get("state") or {}).get("terminated") or {}
    exited = last_line_time(log) or parse_time(str(terminated.get("finishedAt") or ""))
    ready = parse_time(str((condition(pod, "Ready") or {}).get("lastTransitionTime") or ""))
    sidecars = [c for c in deployment.containers if c != deployment.mysql_container]
    source_log = (
        kube.logs(deployment.namespace, source_pod, sidecars[0], timestamps=True)
        if sidecars
        else None
    )
    sample = CloneSample(
        size_mb=size_mb,
        data_bytes=data,
        new_pod=new_pod,
        source_pod=source_pod,
        stream_s=_seconds(*window),
        prepare_s=_seconds(window[1], exited),
        start_s=_seconds(exited, ready),
        catch_up_s=_seconds(ready, caught_up_at),
        total_s=caught_up - asked,
        source_backup_s=backup_seconds(source_log or "", window[0]),
    )
    scale_to(kube, deployment, deployment.replicas)
    return sample


# -- lag --------------------------------------------------------------------------------------
@dataclass
class _Load:
    """What the writer, heartbeat and reader threads share."""

    stop: threading.Event = field(default_factory=threading.Event)
    acked: dict[int, float] = field(default_factory=dict)  # heartbeat seq -> ack time
    seen: dict[str, dict[int, float]] = field(default_factory=dict)  # replica -> seq -> time
    rows: int = 0
    errors: list[str] = field(default_factory=list)
    last_seq: int = 0
    # Set once every thread is connected (the barrier's action): connecting through a new
    # port-forward takes seconds, which must not count as lag.
    started: float = 0.0
    deadline: float = 0.0


def _thread(name: str, load: _Load, body: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            body()
        except threading.BrokenBarrierError:
            pass  # another thread failed before the start; its error is the one reported
        except Exception as error:  # reported by the caller, which then fails the check
            load.errors.append(f"{name}: {type(error).__name__}: {error}")
            load.stop.set()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def lag_under_load(
    mysql: MySQL, kubeconfig: Path, database: str, rate: int, seconds: float
) -> LagRun:
    """Insert ``rate`` rows/s of ROW_BYTES into `load` for ``seconds`` while a heartbeat row
    is committed every 100 ms; each replica is polled every 10 ms for the newest heartbeat.
    A heartbeat's lag on a replica is the time from its commit being acknowledged on the
    master to the replica first showing it. Each thread has its own API client."""
    deployment = mysql.deployment
    # A heartbeat table of this rate's own: the replicas must not show an earlier run's rows.
    table = f"heartbeat_{rate}"
    mysql.query(
        deployment.master_pod,
        f"CREATE TABLE `{table}` (seq BIGINT PRIMARY KEY) ENGINE=InnoDB",
        database=database,
    )
    mysql.wait_replicas_caught_up()
    load = _Load(seen={pod: {} for pod in deployment.replica_pods()})
    payload = b"\xa5" * ROW_BYTES

    def start_clock() -> None:
        load.started = time.monotonic()
        load.deadline = load.started + seconds

    ready = threading.Barrier(2 + len(load.seen), action=start_clock, timeout=120)

    @contextmanager
    def connected(pod: str) -> Iterator[pymysql.Connection]:
        """A connection of the thread's own (its own API client: see MySQL.own_client)."""
        with ExitStack() as stack:
            client = MySQL.own_client(kubeconfig, deployment)
            stack.callback(client.close)
            yield stack.enter_context(client.connect(pod, database=database))

    def writer() -> None:
        with connected(deployment.master_pod) as conn, conn.cursor() as cursor:
            ready.wait()
            while not load.stop.is_set() and time.monotonic() < load.deadline:
                owed = int(rate * (time.monotonic() - load.started)) - load.rows
                if owed > 0:
                    batch = min(owed, max(rate, 1))
                    cursor.execute(
                        "INSERT INTO `load` (payload) VALUES " + ", ".join(["(%s)"] * batch),
                        [payload] * batch,
                    )
                    load.rows += batch
                load.stop.wait(WRITE_TICK)  # pacing the load, not a poll

    def heartbeat() -> None:
        with connected(deployment.master_pod) as conn, conn.cursor() as cursor:
            ready.wait()
            seq = 0
            while not load.stop.is_set() and time.monotonic() < load.deadline:
                seq += 1
                cursor.execute(f"INSERT INTO `{table}` VALUES (%s)", (seq,))
                load.acked[seq] = time.monotonic()
                load.last_seq = seq
                load.stop.wait(max(0.0, HEARTBEAT_INTERVAL - (time.monotonic() - load.acked[seq])))

    def reader(pod: str) -> Callable[[], None]:
        def body() -> None:
            seen = load.seen[pod]
            newest = 0
            with connected(pod) as conn, conn.cursor() as cursor:
                ready.wait()
                # After the load: until the last heartbeat shows, or 30 s more.
                while not load.stop.is_set() and (
                    time.monotonic() < load.deadline
                    or (newest < load.last_seq and time.monotonic() < load.deadline + 30)
                ):
                    cursor.execute(f"SELECT COALESCE(MAX(seq), 0) AS s FROM `{table}`")
                    found = int(cursor.fetchone()["s"])
                    now = time.monotonic()
                    for seq in range(newest + 1, found + 1):
                        seen[seq] = now
                    newest = max(newest, found)
                    load.stop.wait(POLL_INTERVAL)  # the lag instrument's own 10 ms tick

        return body

    threads = [_thread("writer", load, writer), _thread("heartbeat", load, heartbeat)]
    threads += [_thread(f"reader {pod}", load, reader(pod)) for pod in load.seen]
    for thread in threads:
        thread.join(timeout=seconds + 240)
    load.stop.set()
    assert not load.errors, f"the load at {rate} rows/s failed: {load.errors}"
    run = LagRun(
        rate=rate,
        row_bytes=ROW_BYTES,
        seconds=seconds,
        rows_written=load.rows,
        heartbeats=len(load.acked),
    )
    for pod, seen in load.seen.items():
        # A replica may show a heartbeat before the master's acknowledgement reaches this
        # host: that lag is below what can be measured here, counted as 0.
        run.samples[pod] = [
            (load.acked[seq] - load.started, max(0.0, seen[seq] - load.acked[seq]))
            for seq in sorted(load.acked)
            if seq in seen
        ]
        run.unseen[pod] = sum(1 for seq in load.acked if seq not in seen)
    return run


# -- recovery ---------------------------------------------------------------------------------
def recovery(
    event: str,
    pod: str,
    mysql: MySQL,
    make_it_happen: Callable[[], object],
    wait_back: Callable[[], object],
) -> RecoverySample:
    """Time ``make_it_happen`` -> ``wait_back`` returns (Ready) -> every replica caught up."""
    started = time.monotonic()
    make_it_happen()
    wait_back()
    ready = time.monotonic()
    mysql.wait_replicas_caught_up(timeout=300)
    return RecoverySample(event, pod, ready - started, time.monotonic() - started)
