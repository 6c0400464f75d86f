"""How long a step took, said the same way in every progress line ("ready in 42s")."""

from __future__ import annotations

import time
from collections.abc import Callable


class Stopwatch:
    """Started when made; ``seconds`` is the time since, ``str()`` the whole seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()

    @property
    def seconds(self) -> float:
        return self._clock() - self.started

    def __str__(self) -> str:
        return f"{self.seconds:.0f}s"
