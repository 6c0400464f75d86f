"""Removing what the run left on the host's filesystem."""

from __future__ import annotations

import shutil
from pathlib import Path


def remove_tree(path: Path) -> list[str]:
    """Remove a directory tree; return a line per part that could not be removed."""
    problems: list[str] = []

    def onerror(_func: object, failed: str, exc_info: tuple[object, BaseException, object]) -> None:
        problems.append(f"could not remove {failed}: {exc_info[1]}")

    if path.exists():
        shutil.rmtree(path, onerror=onerror)
    return problems
