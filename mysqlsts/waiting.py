"""The one way the suite waits: a bounded poll that remembers the last state it saw.

Every wait in the suite goes through :func:`wait_for`. A probe looks at the world once and
returns a :class:`Seen`: whether the wait is over, a one-line description of what it saw
(kept for the timeout message) and optionally a value to hand back. A probe that finds a
state which can never turn good (an image that cannot be pulled) raises instead, so the
caller learns the real reason at once rather than a timeout much later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from mysqlsts.redaction import redact

T = TypeVar("T")


@dataclass(frozen=True)
class Seen(Generic[T]):
    """One observation: ``done`` ends the wait, ``state`` describes what was seen."""

    done: bool
    state: str
    value: T | None = None


class WaitTimeout(AssertionError):
    """A bounded wait ran out; the message names what was awaited and the last state.

    It is an AssertionError so that a test which waits for a promised behaviour reports
    a failure (not an error) when the behaviour does not come.
    """

    def __init__(self, what: str, timeout: float, last_state: str) -> None:
        self.what = what
        self.timeout = timeout
        self.last_state = last_state
        super().__init__(
            redact(f"timed out after {timeout:g}s waiting for {what}; last state: {last_state}")
        )


def wait_for(
    what: str,
    probe: Callable[[], Seen[T]],
    *,
    timeout: float,
    interval: float = 1.0,
    transient: tuple[type[BaseException], ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T | None:
    """Call ``probe`` until it reports ``done`` or ``timeout`` seconds have passed.

    Exceptions of the ``transient`` types (a connection refused while a pod restarts)
    count as one more observation; any other exception ends the wait immediately.
    Returns the ``value`` of the final observation.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    deadline = clock() + timeout
    last_state = "nothing observed yet"
    while True:
        try:
            seen = probe()
        except transient as error:
            last_state = f"{type(error).__name__}: {error}"
        else:
            if seen.done:
                return seen.value
            last_state = seen.state
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(what, timeout, last_state)
        sleep(min(interval, remaining))
