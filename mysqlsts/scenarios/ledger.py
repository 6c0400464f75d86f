"""The acknowledged-write ledger: concurrent writers on the master, and what they prove.

Several writer threads (each with a connection, and an API client, of its own) insert
rows with unique keys into a :class:`~mysqlsts.scenarios.scratch.ScratchTable`, one
autocommitted INSERT each, and record every write in one :class:`Ledger`:

- *acknowledged*: the INSERT returned (committed);
- *failed*: the server answered with an error (not committed: a read-only server, ...);
- *unknown*: the connection broke while the write was under way: committed or not,
  nobody knows.

After a disruption :func:`verify` judges the ledger against every pod: each acknowledged
write is on the master and on every caught-up replica, exactly once; no key appears twice;
an unknown write is there once or not at all; a failed one is absent; CHECKSUM TABLE of
the table agrees everywhere. A sampler records each replica's lag meanwhile, and the
check attaches the ledger's summary and a plot of write latency and lag over time.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allure
import pymysql

from mysqlsts.db.mysql import MYSQL_TRANSIENT, MySQL, describe_error
from mysqlsts.reporting import attachments, plots
from mysqlsts.scenarios.scratch import ScratchTable
from mysqlsts.waiting import Seen, wait_for

ACKNOWLEDGED, FAILED, UNKNOWN = "acknowledged", "failed", "unknown"
# Every key is written once, on the master: a replica that holds one twice applied that
# transaction again, which is what a replica killed between its commit and the write of
# its position to relay-log.info does at restart (MySQL 5.7's default, and the article's
# slave.cnf, keep the position there; the MySQL manual's crash-safe replication needs
# relay_log_info_repository=TABLE and relay_log_recovery=ON).
APPLIED_TWICE = (
    "the replica applied a transaction twice: its applier position was behind its data, "
    "as after a crash with the position kept in relay-log.info"
)
# Client-side errors (PyMySQL's 2xxx codes): the connection broke, the server may or may not
# have committed what it was sent.
_CLIENT_ERRORS = range(2000, 3000)


@dataclass(frozen=True)
class Write:
    key: int
    at: float  # seconds since the writers started, when the write was sent
    latency: float
    outcome: str
    error: str = ""


@dataclass
class Ledger:
    """Every write the writers made, thread-safe."""

    started: float = field(default_factory=time.monotonic)
    writes: list[Write] = field(default_factory=list)
    lag: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)
    reconnects: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        return time.monotonic() - self.started

    def record(self, write: Write) -> None:
        with self._lock:
            self.writes.append(write)

    def mark(self, label: str) -> None:
        """A moment worth seeing on the plot (the fault, its undoing)."""
        with self._lock:
            self.events.append((self.now(), label))

    def keys(self, outcome: str) -> list[int]:
        with self._lock:
            return [w.key for w in self.writes if w.outcome == outcome]

    @property
    def acknowledged(self) -> list[int]:
        return self.keys(ACKNOWLEDGED)

    @property
    def failed(self) -> list[int]:
        return self.keys(FAILED)

    @property
    def unknown(self) -> list[int]:
        return self.keys(UNKNOWN)

    def longest_outage(self) -> float:
        """The longest stretch, in seconds, between two acknowledged writes (the time the
        writers could not write, when one fault stopped them)."""
        with self._lock:
            acked = sorted(w.at + w.latency for w in self.writes if w.outcome == ACKNOWLEDGED)
        return max((b - a for a, b in itertools.pairwise(acked)), default=0.0)

    def errors(self) -> list[str]:
        with self._lock:
            return [w.error for w in self.writes if w.error]

    def plot(self, title: str) -> bytes:
        with self._lock:
            writes = {
                outcome: [(w.at, max(w.latency, 1e-4)) for w in self.writes if w.outcome == outcome]
                for outcome in (ACKNOWLEDGED, FAILED, UNKNOWN)
            }
            lag = {pod: list(points) for pod, points in self.lag.items()}
            events = list(self.events)
        return plots.latency_and_lag(writes, lag, events, title=title)


def classify(error: BaseException) -> str:
    """A write that raised: failed (the server refused it) or unknown (the link broke)."""
    if isinstance(error, pymysql.err.InterfaceError):
        return UNKNOWN
    if isinstance(error, pymysql.err.MySQLError) and error.args:
        code = error.args[0]
        return UNKNOWN if isinstance(code, int) and code in _CLIENT_ERRORS else FAILED
    return UNKNOWN  # a socket or port-forward error mid-write


class Writers:
    """``connections`` threads writing unique keys on the master, into one ledger.

    Bounded by ``max_rows`` and ``max_seconds``; each thread paces its writes by ``pause``
    seconds (a client's steady load, not a hammer on a 2-core machine) and reconnects after
    a broken connection until told to stop. Keys start at ``first_key``, away from the
    keys the test writes itself.
    """

    def __init__(
        self,
        scratch: ScratchTable,
        clients: Sequence[MySQL],
        *,
        pause: float = 0.05,
        max_rows: int = 20000,
        max_seconds: float = 600,
        first_key: int = 1_000_000,
    ) -> None:
        self.scratch = scratch
        self.clients = list(clients)
        self.pause = pause
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self.ledger = Ledger()
        self._first_key = first_key
        self._next_key = first_key
        self._keys = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._run, args=(c, i), name=f"mysqlsts-writer-{i}", daemon=True
            )
            for i, c in enumerate(self.clients)
        ]

    def __enter__(self) -> Writers:
        self.ledger.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def acknowledged(self) -> list[int]:
        return self.ledger.acknowledged

    def _take_key(self) -> int | None:
        with self._keys:
            if self._next_key - self._first_key >= self.max_rows:
                return None
            key, self._next_key = self._next_key, self._next_key + 1
            return key

    def _run(self, mysql: MySQL, number: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        master = mysql.deployment.master_pod
        batch = f"writer {number}"
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                with mysql.connect(master, timeout=30) as conn, conn.cursor() as cursor:
                    while not self._stop.is_set() and time.monotonic() < deadline:
                        key = self._take_key()
                        if key is None:
                            return
                        self._write(cursor, key, batch)
                        self._stop.wait(self.pause)  # pacing, not synchronisation
            except Exception:  # the thread must survive anything and go on
                with self.ledger._lock:
                    self.ledger.reconnects += 1
                self._stop.wait(1)  # back off before reconnecting

    def _write(self, cursor: Any, key: int, batch: str) -> None:
        at, sent = self.ledger.now(), time.monotonic()
        try:
            cursor.execute(self.scratch.insert_sql(), (key, batch))
        except Exception as error:
            outcome = classify(error)
            self.ledger.record(
                Write(key, at, time.monotonic() - sent, outcome, describe_error(error))
            )
            if outcome == UNKNOWN:
                raise  # the connection is gone: reconnect
            return
        self.ledger.record(Write(key, at, time.monotonic() - sent, ACKNOWLEDGED))

    def wait_acknowledged(self, count: int, *, timeout: float = 120) -> None:
        """Wait until at least ``count`` writes in total have been acknowledged."""

        def probe() -> Seen[None]:
            done = len(self.ledger.acknowledged)
            errors = self.ledger.errors()
            last = errors[-1] if errors else "no error"
            if not any(t.is_alive() for t in self._threads) and done < count:
                raise AssertionError(f"the writers stopped after {done} writes; last: {last}")
            return Seen(done >= count, f"{done} acknowledged writes; last error: {last}")

        wait_for(f"{count} acknowledged writes on the master", probe, timeout=timeout, interval=0.5)

    def wait_more(self, count: int, *, timeout: float = 120) -> None:
        """Wait until ``count`` more writes than so far have been acknowledged."""
        self.wait_acknowledged(len(self.acknowledged) + count, timeout=timeout)

    def stop(self, timeout: float = 90) -> Ledger:
        self._stop.set()
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise AssertionError(f"writers {alive} did not stop within {timeout:g}s")
        return self.ledger


class LagSampler:
    """Each replica's Seconds_Behind_Master, once a second, into the ledger (for the plot)."""

    def __init__(self, ledger: Ledger, mysql: MySQL, pods: Sequence[str]) -> None:
        self.ledger, self.mysql, self.pods = ledger, mysql, list(pods)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mysqlsts-lag", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pod in self.pods:
                try:
                    status = self.mysql.replica_status(pod, timeout=3)
                    behind = status.seconds_behind if status else None
                except (*MYSQL_TRANSIENT, AssertionError):
                    behind = None  # unreachable for now: a gap in its line
                if behind is not None:
                    with self.ledger._lock:
                        self.ledger.lag.setdefault(pod, []).append(
                            (self.ledger.now(), float(behind))
                        )
            self._stop.wait(1)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


@contextmanager
def background_writer(
    scratch: ScratchTable, kubeconfig: Path, *, connections: int = 3, title: str = "writes"
) -> Iterator[Writers]:
    """Running :class:`Writers` (each with MySQL access of its own: threads may not share
    the test's API client) and a lag sampler; afterwards stopped, their clients closed, and
    the ledger's summary and plot attached, whatever happened."""
    deployment = scratch.mysql.deployment
    clients = [MySQL.own_client(kubeconfig, deployment) for _ in range(connections + 1)]
    writers = Writers(scratch, clients[:-1])
    try:
        with writers, LagSampler(writers.ledger, clients[-1], deployment.replica_pods()):
            yield writers
    finally:
        ledger = writers.ledger
        attachments.data(
            "ledger of the writes",
            {
                "connections": connections,
                ACKNOWLEDGED: len(ledger.acknowledged),
                FAILED: len(ledger.failed),
                UNKNOWN: len(ledger.unknown),
                "reconnects": ledger.reconnects,
                "errors (first 10)": ledger.errors()[:10],
            },
        )
        attachments.png(f"write latency and replica lag: {title}", ledger.plot(title))
        for client in clients:
            client.close()


@dataclass(frozen=True)
class Judgement:
    """The master's keys against the ledger."""

    acknowledged: int
    failed: int
    unknown: int
    lost: list[int]  # acknowledged, absent
    duplicated: dict[int, int]  # key -> how many times it is there
    failed_but_present: list[int]
    strangers: list[int]  # keys in the writers' range that no writer sent

    def row(self) -> dict[str, Any]:
        return {
            ACKNOWLEDGED: self.acknowledged,
            FAILED: self.failed,
            UNKNOWN: self.unknown,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
        }

    def problems(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{len(self.lost)} acknowledged writes lost ({self.lost[:10]})")
        if self.duplicated:
            found.append(f"keys there twice: {dict(list(self.duplicated.items())[:10])}")
        if self.failed_but_present:
            found.append(f"writes that failed are there: {self.failed_but_present[:10]}")
        if self.strangers:
            found.append(f"keys no writer sent: {self.strangers[:10]}")
        return found


def judge(keys: Sequence[int], ledger: Ledger, first_key: int = 1_000_000) -> Judgement:
    """How the keys found on a server stand against the writes the ledger recorded."""
    counts = Counter(keys)
    sent = {w.key for w in ledger.writes}
    return Judgement(
        acknowledged=len(ledger.acknowledged),
        failed=len(ledger.failed),
        unknown=len(ledger.unknown),
        lost=sorted(set(ledger.acknowledged) - counts.keys()),
        duplicated={k: n for k, n in sorted(counts.items()) if n > 1},
        failed_but_present=sorted(set(ledger.failed) & counts.keys()),
        strangers=sorted(k for k in counts if k >= first_key and k not in sent),
    )


def master_holds_every_acknowledged_write(scratch: ScratchTable, ledger: Ledger) -> list[int]:
    """Every acknowledged key is on the master once, an unknown one once or not at all, no
    failed one, nothing else of the writers'; returns the master's keys."""
    master = scratch.mysql.deployment.master_pod
    with allure.step("the master holds every acknowledged write, once"):
        keys = scratch.keys(master)
        judgement = judge(keys, ledger)
        attachments.table(f"the ledger against {master}", [judgement.row()])
        assert not judgement.problems(), f"{master}: " + "; ".join(judgement.problems())
        return keys


def verify(scratch: ScratchTable, ledger: Ledger, *, timeout: float = 180) -> Judgement:
    """The ledger against every pod (each replica once caught up, by itself), and CHECKSUM
    TABLE of the writers' table equal everywhere."""
    mysql, deployment = scratch.mysql, scratch.mysql.deployment
    master_keys = master_holds_every_acknowledged_write(scratch, ledger)
    for pod in deployment.replica_pods():
        with allure.step(f"{pod} replicates by itself and holds exactly the master's rows"):
            mysql.wait_replication_running(pod, timeout=timeout)
            mysql.wait_replica_caught_up(pod, timeout=timeout)
            scratch.assert_identical(
                pod, master_keys, "compared with the master", if_twice=APPLIED_TWICE
            )
    sums = {pod: scratch.checksum(pod) for pod in deployment.pod_names()}
    attachments.table(
        "CHECKSUM TABLE on every pod", [{"pod": p, "checksum": c} for p, c in sums.items()]
    )
    assert len(set(sums.values())) == 1, f"CHECKSUM TABLE differs between pods: {sums}"
    return judge(master_keys, ledger)
