"""Keep tests that change the deployment apart from tests that read it.

Under pytest-xdist every worker shares one deployment. Tests marked
``mutates_deployment`` (scaling, failover) hold an exclusive lock while they run; every
other e2e test holds a shared one. The lock is an ``flock`` on a file in the run's state
directory, so it spans the worker processes of one machine; xdist's ``loadgroup`` also
puts all mutating tests on one worker so they queue there rather than block others.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mysqlsts.waiting import Seen, wait_for

MARKER = "mutates_deployment"
XDIST_GROUP = "mutates-deployment"
LOCK_FILE = "deployment.lock"


@contextmanager
def deployment_lock(state_dir: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    """Hold the run's deployment lock (exclusive or shared) for the body's duration."""
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    kind = "exclusive" if exclusive else "shared"

    def probe() -> Seen[None]:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return Seen(False, f"another test holds the deployment lock ({path})")
        return Seen(True, "locked")

    try:
        wait_for(f"the {kind} deployment lock", probe, timeout=timeout, interval=0.5)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
