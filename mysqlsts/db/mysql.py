"""The one way the suite reaches MySQL: connections to a pod through the API port-forward.

No local port and no kubectl: the official client's port-forward gives a socket-like
object, and PyMySQL accepts a pre-connected socket (``defer_connect=True`` then
``connect(sock=...)``). Connecting is retried within a bound, because a pod that just
became ready may still refuse for a moment; a refused password is never retried.

A check that talks to the same pods many times keeps one connection per pod for its whole
length (:class:`Connections`): each new connection costs a port-forward, about a second
on a loaded machine. Replication state is read through :mod:`mysqlsts.db.replication`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from mysqlsts.db import consistency, replication
from mysqlsts.db.replication import BinlogPosition, ReplicaStatus
from mysqlsts.db.replication_filters import Filters
from mysqlsts.k8s.api_errors import TRANSIENT, KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.redaction import redact
from mysqlsts.reporting import attachments
from mysqlsts.waiting import Seen, wait_for

ACCESS_DENIED = 1045
# MySQL's "running with the --read-only/--super-read-only option".
READ_ONLY_ERROR = 1290
# Errors after which a MySQL probe may succeed on the next try (pod restarting).
MYSQL_TRANSIENT = (*TRANSIENT, pymysql.err.OperationalError, pymysql.err.InterfaceError)

Row = dict[str, Any]


class AccessDenied(AssertionError):
    """The server refused the credentials the suite discovered."""


def describe_error(error: BaseException) -> str:
    """One line for a MySQL or API error (``error 1290: ...``)."""
    if isinstance(error, pymysql.err.MySQLError) and error.args:
        return f"error {error.args[0]}: {error.args[1] if len(error.args) > 1 else ''}".strip()
    if isinstance(error, KubeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


@dataclass
class Connections:
    """One open connection per pod, reused for a whole check; a closed one is replaced.

    Use it as a context manager (or close it): every connection is closed at the end.
    """

    mysql: MySQL
    stack: ExitStack = field(default_factory=ExitStack)
    opened: dict[str, pymysql.Connection] = field(default_factory=dict)

    def get(self, pod: str | int) -> pymysql.Connection:
        name = self.mysql.pod_name(pod)
        conn = self.opened.get(name)
        if conn is None or not conn.open:
            conn = self.stack.enter_context(self.mysql.connect(name))
            self.opened[name] = conn
        return conn

    def close(self) -> None:
        self.opened.clear()
        self.stack.close()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class MySQL:
    """MySQL access to the deployment under test; ``pod`` is a name or an ordinal."""

    kube: Kube
    deployment: Deployment
    connect_timeout: float = 10
    read_timeout: float = 60

    @classmethod
    def own_client(cls, kubeconfig: Path, deployment: Deployment) -> MySQL:
        """MySQL access with an API client of its own, for use in another thread.

        The kubernetes client's port-forward temporarily replaces the ``request`` method of
        the ApiClient it uses, so two threads must never share one. Close it with
        :meth:`close`.
        """
        return cls(Kube.from_kubeconfig(kubeconfig), deployment, connect_timeout=5, read_timeout=15)

    def close(self) -> None:
        self.kube.api_client.close()

    def pod_name(self, pod: str | int) -> str:
        return self.deployment.pod_name(pod) if isinstance(pod, int) else pod

    def _open(self, pod: str, user: str, password: str, database: str | None) -> pymysql.Connection:
        forward = self.kube.port_forward(self.deployment.namespace, pod, self.deployment.mysql_port)
        conn = pymysql.connect(
            host=f"{pod} (port-forward)",
            user=user,
            password=password,
            database=database,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            write_timeout=self.read_timeout,
            autocommit=True,
            cursorclass=pymysql.cursors.DictCursor,
            defer_connect=True,
        )
        try:
            conn.connect(sock=forward.socket(self.deployment.mysql_port))
        except pymysql.err.MySQLError as error:
            forward.close()
            remote = forward.error(self.deployment.mysql_port)
            if remote and not (error.args and error.args[0] == ACCESS_DENIED):
                raise pymysql.err.OperationalError(
                    2013, f"port-forward: {remote.strip()}"
                ) from None
            raise
        # Closing the connection closes the forwarded socket, which ends the forwarder.
        return conn

    @contextmanager
    def connect(
        self,
        pod: str | int,
        *,
        database: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 60,
    ) -> Iterator[pymysql.Connection]:
        """A connection (autocommit, dict rows) to one pod, retried for up to ``timeout`` s."""
        name = self.pod_name(pod)
        user = user or self.deployment.root_user
        password = self.deployment.root_password if password is None else password

        def probe() -> Seen[pymysql.Connection]:
            try:
                return Seen(True, "connected", self._open(name, user, password, database))
            except pymysql.err.OperationalError as error:
                if error.args and error.args[0] == ACCESS_DENIED:
                    raise AccessDenied(redact(f"{name}: {error.args[1]}")) from None
                return Seen(False, f"{type(error).__name__}: {error}")

        conn = wait_for(
            f"a MySQL connection to {self.deployment.namespace}/{name}",
            probe,
            timeout=timeout,
            interval=2,
            transient=TRANSIENT,
        )
        assert conn is not None
        try:
            yield conn
        finally:
            if conn.open:
                conn.close()

    def connections(self) -> Connections:
        """A pool of one reusable connection per pod (close it, or use it with ``with``)."""
        return Connections(self)

    def query(
        self, pod: str | int, sql: str, args: Any = None, *, database: str | None = None
    ) -> list[Row]:
        """Run one statement on a fresh connection and return its rows."""
        with self.connect(pod, database=database) as conn, conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    # -- replication ------------------------------------------------------------------
    def master_position(
        self, pod: str | int | None = None, *, via: Connections | None = None
    ) -> BinlogPosition:
        """The binlog position of ``pod`` (default: the master)."""
        name = self.deployment.master_pod if pod is None else self.pod_name(pod)
        if via is not None:
            return replication.read_master_position(via.get(name))
        with self.connect(name) as conn:
            return replication.read_master_position(conn)

    def replica_status(
        self, pod: str | int, *, via: Connections | None = None, timeout: float = 60
    ) -> ReplicaStatus | None:
        """SHOW SLAVE STATUS of ``pod``; None when it is not a replica."""
        if via is not None:
            return replication.read_replica_status(via.get(pod))
        with self.connect(pod, timeout=timeout) as conn:
            return replication.read_replica_status(conn)

    def wait_replica_caught_up(
        self,
        replica: str | int,
        *,
        timeout: float = 120,
        interval: float = 1,
        via: Connections | None = None,
    ) -> ReplicaStatus:
        """Wait until ``replica`` has executed everything the master had written when called.

        Fails at once if the replica's SQL thread has stopped on an error or its IO thread
        gave up; on timeout the message shows the master's position and the replica's last
        state. ``via`` reuses open connections instead of one per poll.
        """
        name = self.pod_name(replica)
        target = self.master_position(via=via)

        def probe() -> Seen[ReplicaStatus]:
            status = self.replica_status(name, via=via)
            seen = status or "not a replica (no SHOW SLAVE STATUS row)"
            state = f"master at {target}; {name}: {seen}"
            return Seen(replication.caught_up(target, status, name), state, status)

        status = wait_for(
            f"replica {name} to apply the master's binlog up to {target}",
            probe,
            timeout=timeout,
            interval=interval,
            transient=(*TRANSIENT, pymysql.err.OperationalError),
        )
        assert status is not None
        return status

    def wait_replicas_caught_up(
        self,
        replicas: int | None = None,
        *,
        timeout: float = 120,
        interval: float = 1,
        via: Connections | None = None,
    ) -> None:
        """Every replica pod (of ``replicas`` pods, default the manifests') has caught up."""
        for pod in self.deployment.replica_pods(replicas):
            self.wait_replica_caught_up(pod, timeout=timeout, interval=interval, via=via)

    def wait_replication_running(self, pod: str, *, timeout: float = 120) -> ReplicaStatus:
        """Wait until both replication threads of ``pod`` run (fails at once on an SQL error,
        or when the IO thread has given up). What it saw on the way is attached."""
        started = time.monotonic()
        seen: list[str] = []

        def note(state: str) -> None:
            if not seen or not seen[-1].endswith(state):
                seen.append(f"+{time.monotonic() - started:5.1f}s {state}")

        def probe() -> Seen[ReplicaStatus]:
            try:
                status = self.replica_status(pod)
            except MYSQL_TRANSIENT as error:
                note(describe_error(error))
                raise
            if status is None:
                note("not a replica (SHOW SLAVE STATUS is empty)")
                return Seen(False, f"{pod} is not a replica (SHOW SLAVE STATUS is empty)")
            threads = f"IO {status.io_running}, SQL {status.sql_running}"
            note(f"{threads} {status.last_io_error or status.last_sql_error}".strip())
            replication.raise_if_broken(pod, status)
            return Seen(status.running, f"{pod}: {status}", status)

        try:
            status = wait_for(
                f"both replication threads of {pod} to run",
                probe,
                timeout=timeout,
                interval=1,
                transient=MYSQL_TRANSIENT,
            )
        finally:
            attachments.text(f"replication threads of {pod} while waiting", "\n".join(seen))
        assert status is not None
        return status

    # -- the whole dataset --------------------------------------------------------------
    def compare_dataset(
        self,
        replicas: int | None = None,
        *,
        timeout: float = 300,
        chunk_rows: int = consistency.CHUNK_ROWS,
    ) -> consistency.Comparison:
        """Every table of every replicated schema, master against each replica, at one
        binlog position (:mod:`mysqlsts.db.consistency`). Each replica first applies
        everything the master wrote; if the master writes during the comparison it starts
        over (at most ``consistency.ATTEMPTS`` times). The figures and differences are
        attached; judging them is the caller's."""
        pods = self.deployment.replica_pods(replicas)
        master = self.deployment.master_pod
        started = time.monotonic()
        moved: list[str] = []
        with self.connections() as via:
            for attempt in range(1, consistency.ATTEMPTS + 1):
                before = self.master_position(via=via)
                for pod in pods:
                    self.wait_replica_caught_up(pod, timeout=timeout, via=via)
                filters = {pod: Filters.of(self.replica_status(pod, via=via)) for pod in pods}
                result = consistency.Comparison(master, list(pods), before, attempts=attempt)
                consistency.compare_tables(
                    via.get(master), {pod: via.get(pod) for pod in pods}, filters, result,
                    chunk_rows,
                )  # fmt: skip
                after = self.master_position(via=via)
                if after == before:
                    consistency.timed(result, started)
                    attachments.text("whole-dataset comparison", result.report())
                    return result
                moved.append(f"{before} -> {after}")
        raise AssertionError(
            f"the master wrote during each of {consistency.ATTEMPTS} comparisons of the whole "
            f"dataset ({'; '.join(moved)}): no moment to compare"
        )
