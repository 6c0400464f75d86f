"""The acknowledged-write ledger: a background writer on the master, and what it proves.

:class:`BackgroundWriter` inserts rows with increasing unique keys into a
:class:`~mysqlsts.checks.scratch.ScratchTable` in a thread, and records each write as
acknowledged (the INSERT, autocommitted, returned) or uncertain (the connection broke:
committed or not, nobody knows). :func:`master_holds_every_acknowledged_write` is the
judgement every disruption check makes of it afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allure

from mysqlsts.checks.scratch import ScratchTable, compare_keys
from mysqlsts.db.mysql import MySQL, describe_error
from mysqlsts.reporting import attachments
from mysqlsts.waiting import Seen, wait_for


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
        self._first_key = first_key
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

    def wait_more(self, count: int, *, timeout: float = 120) -> None:
        """Wait until ``count`` more writes than so far have been acknowledged."""
        self.wait_acknowledged(len(self.acknowledged) + count, timeout=timeout)

    def stop(self, timeout: float = 90) -> WriterResult:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the background writer did not stop within {timeout:g}s")
        with self._lock:
            return self.result


@contextmanager
def background_writer(scratch: ScratchTable, kubeconfig: Path) -> Iterator[BackgroundWriter]:
    """A running :class:`BackgroundWriter` with MySQL access of its own (its thread may not
    share the test's API client); stopped, its client closed and its summary attached."""
    mysql = MySQL.own_client(kubeconfig, scratch.mysql.deployment)
    try:
        with BackgroundWriter(scratch, mysql) as writer:
            yield writer
        attachments.data("background writer", writer.result.summary())
    finally:
        mysql.close()


def master_holds_every_acknowledged_write(scratch: ScratchTable, result: WriterResult) -> list[int]:
    """Every acknowledged key is on the master once, and nothing but acknowledged or
    uncertain keys; returns the master's keys."""
    with allure.step("the master holds every acknowledged write"):
        master_keys = scratch.keys(scratch.mysql.deployment.master_pod)
        on_master = compare_keys(result.acknowledged, master_keys)
        assert not on_master.missing and not on_master.duplicated, f"master: {on_master}"
        assert set(on_master.unexpected) <= set(result.uncertain), f"master: {on_master}"
        return master_keys
