"""SIGTERM handled as Ctrl-C, so that one teardown path serves both.

CI stops jobs with SIGTERM; turned into KeyboardInterrupt, it runs the same teardown as
Ctrl-C, so no cluster, container or PV data is left behind.
"""

from __future__ import annotations

import signal
from contextlib import suppress


def terminate_as_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def sigterm_as_interrupt() -> None:
    """Install :func:`terminate_as_interrupt` for SIGTERM (only the main thread can)."""
    with suppress(ValueError):
        signal.signal(signal.SIGTERM, terminate_as_interrupt)
