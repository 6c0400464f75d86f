"""The few ``docker`` CLI calls the stand-in image tests make (plain subprocess, no SDK).

Every call is bounded by a timeout so that a stuck daemon fails a test instead of hanging
the run.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

# Generous: the lab shares two cores with long builds, and `docker run` of a stopped
# image still has to set up namespaces and volumes.
DEFAULT_TIMEOUT = 120.0


class DockerError(RuntimeError):
    """A docker command failed; the message carries its stderr."""

    def __init__(self, argv: Sequence[str], proc: subprocess.CompletedProcess[str]) -> None:
        self.proc = proc
        super().__init__(
            f"`docker {' '.join(argv)}` exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"
        )


def docker(
    *argv: str,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["docker", *argv], capture_output=True, text=True, timeout=timeout, input=stdin
    )
    if check and proc.returncode != 0:
        raise DockerError(argv, proc)
    return proc


def unavailable_reason() -> str | None:
    """Why Docker cannot be used here, or None when `docker info` answers."""
    try:
        proc = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`docker info` failed: {error}"
    if proc.returncode != 0:
        return f"`docker info` failed: {proc.stderr.strip() or proc.stdout.strip()}"
    return None


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


def image_label(tag: str, label: str) -> str:
    template = f'{{{{index .Config.Labels "{label}"}}}}'
    return docker("image", "inspect", "--format", template, tag).stdout.strip()


def container_state(name: str) -> tuple[str, int]:
    """(status, exit code) of a container: ``running``, ``exited``, ..."""
    out = docker("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name).stdout
    status, code = out.split()
    return status, int(code)


def logs(name: str, tail: int = 60) -> str:
    proc = docker("logs", "--tail", str(tail), name, check=False, timeout=30)
    return (proc.stdout + proc.stderr).strip()


def remove_labelled(label: str) -> list[str]:
    """Remove every container, volume and network carrying ``label``; returns problems."""
    problems = []
    selector = f"label={label}"
    for kind, list_argv, remove_argv in (
        ("container", ["ps", "-aq", "--filter", selector], ["rm", "-f", "-v"]),
        ("volume", ["volume", "ls", "-q", "--filter", selector], ["volume", "rm", "-f"]),
        ("network", ["network", "ls", "-q", "--filter", selector], ["network", "rm"]),
    ):
        names = docker(*list_argv, check=False).stdout.split()
        if names:
            proc = docker(*remove_argv, *names, check=False)
            if proc.returncode != 0:
                problems.append(f"removing {kind}s {names}: {proc.stderr.strip()}")
    return problems
