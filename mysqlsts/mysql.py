"""MySQL from the host: connections to a pod or a Service through the API port-forward.

No local port and no kubectl: the official client's port-forward gives a socket-like
object, and PyMySQL accepts a pre-connected socket (``defer_connect=True`` then
``connect(sock=...)``). Connecting is retried within a bound, because a pod that just
became ready may still refuse for a moment; a refused password is never retried.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from mysqlsts import replication
from mysqlsts.deployment import Deployment
from mysqlsts.kube import TRANSIENT, Kube
from mysqlsts.redaction import redact
from mysqlsts.replication import BinlogPosition, ReplicaProgress
from mysqlsts.waiting import Seen, wait_for

ACCESS_DENIED = 1045
# Errors of MySQL 8.4 for statements it renamed; the caller then tries the new name.
_SYNTAX_ERROR = 1064

Row = dict[str, Any]


class AccessDenied(AssertionError):
    """The server refused the credentials the suite discovered."""


def ready_endpoint_pods(slices: list[Row]) -> list[str]:
    """Names of the ready pods behind a Service, from its EndpointSlices."""
    pods: list[str] = []
    for endpoint_slice in slices:
        for endpoint in endpoint_slice.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready")
            target = endpoint.get("targetRef") or {}
            # An absent "ready" means ready (EndpointSlice API contract).
            if ready is not False and target.get("kind") == "Pod" and target.get("name"):
                pods.append(str(target["name"]))
    return sorted(set(pods))


@dataclass
class MySQL:
    """MySQL access to the deployment under test; ``pod`` is a name or an ordinal."""

    kube: Kube
    deployment: Deployment
    connect_timeout: float = 10
    read_timeout: float = 60

    def _pod_name(self, pod: str | int) -> str:
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
        name = self._pod_name(pod)
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

    def service_pods(self, service: str | None = None) -> list[str]:
        """Ready pods behind ``service`` (default: the read Service)."""
        name = service or self.deployment.read_service
        slices = self.kube.endpoint_slices(self.deployment.namespace, name)
        return ready_endpoint_pods(slices)

    @contextmanager
    def connect_service(
        self, service: str | None = None, *, database: str | None = None, timeout: float = 60
    ) -> Iterator[pymysql.Connection]:
        """A connection through a Service: to one of its ready pods, chosen at random.

        The API port-forward reaches pods only; picking a ready endpoint at random is what
        a ClusterIP does for a new connection (and what ``kubectl port-forward svc/...``
        approximates). ``SELECT @@hostname`` tells which pod answered.
        """
        name = service or self.deployment.read_service

        def probe() -> Seen[str]:
            pods = self.service_pods(name)
            return Seen(
                bool(pods),
                f"Service {name} has no ready endpoints",
                random.choice(pods) if pods else None,
            )

        pod = wait_for(
            f"a ready endpoint of Service {self.deployment.namespace}/{name}",
            probe,
            timeout=timeout,
            interval=2,
            transient=TRANSIENT,
        )
        assert pod is not None
        with self.connect(pod, database=database, timeout=timeout) as conn:
            yield conn

    def query(
        self, pod: str | int, sql: str, args: Any = None, *, database: str | None = None
    ) -> list[Row]:
        """Run one statement on a fresh connection and return its rows."""
        with self.connect(pod, database=database) as conn, conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    # -- replication ------------------------------------------------------------------
    @staticmethod
    def _first_row(conn: pymysql.Connection, statements: tuple[str, ...]) -> Row | None:
        """The first row of the first statement the server understands."""
        for index, sql in enumerate(statements):
            try:
                with conn.cursor() as cursor:
                    cursor.execute(sql)
                    return cursor.fetchone()
            except pymysql.err.ProgrammingError as error:
                if error.args[0] != _SYNTAX_ERROR or index == len(statements) - 1:
                    raise
        return None

    def master_position(self, pod: str | int | None = None) -> BinlogPosition:
        with self.connect(self.deployment.master_pod if pod is None else pod) as conn:
            row = self._first_row(conn, ("SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"))
        return replication.master_position(row)

    def replica_progress(self, pod: str | int) -> ReplicaProgress | None:
        with self.connect(pod) as conn:
            row = self._first_row(conn, ("SHOW SLAVE STATUS", "SHOW REPLICA STATUS"))
        return replication.replica_progress(row)

    def wait_replica_caught_up(
        self, replica: str | int, *, timeout: float = 120
    ) -> ReplicaProgress:
        """Wait until ``replica`` has executed everything the master had written when called.

        Fails at once if the replica's SQL thread has stopped on an error; on timeout the
        message shows the master's position and the replica's last progress.
        """
        name = self._pod_name(replica)
        target = self.master_position()

        def probe() -> Seen[ReplicaProgress]:
            progress = self.replica_progress(name)
            seen = progress or "not a replica (no SHOW SLAVE STATUS row)"
            state = f"master at {target}; {name}: {seen}"
            return Seen(replication.caught_up(target, progress), state, progress)

        progress = wait_for(
            f"replica {name} to apply the master's binlog up to {target}",
            probe,
            timeout=timeout,
            interval=1,
            transient=(*TRANSIENT, pymysql.err.OperationalError),
        )
        assert progress is not None
        return progress

    def wait_replicas_caught_up(self, replicas: int | None = None, *, timeout: float = 120) -> None:
        """Every replica pod (of ``replicas`` pods, default the manifests') has caught up."""
        for pod in self.deployment.replica_pods(replicas):
            self.wait_replica_caught_up(pod, timeout=timeout)
