"""The few Docker CLI calls the lab makes (images only; containers are the node builder's)."""

from __future__ import annotations

import subprocess

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INPUTS_LABEL = "io.mysqlsts.lab.inputs"


def _quiet(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *argv], capture_output=True, text=True)


def image_exists(tag: str) -> bool:
    return _quiet("image", "inspect", tag).returncode == 0


def image_key(tag: str) -> str | None:
    """The input key an image was built from (its label), or None."""
    proc = _quiet(
        "image", "inspect", "--format", f'{{{{index .Config.Labels "{INPUTS_LABEL}"}}}}', tag
    )
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value and value != "<no value>" else None


def image_size(tag: str) -> int:
    proc = _quiet("image", "inspect", "--format", "{{.Size}}", tag)
    return int(proc.stdout.strip()) if proc.returncode == 0 else 0


def remove_images(tags: list[str]) -> None:
    if tags:
        _quiet("image", "rm", "--force", *tags)


def container_exists(name: str) -> bool:
    return _quiet("container", "inspect", name).returncode == 0


def container_logs(name: str) -> str:
    """A container's output, stdout and stderr together."""
    done = _quiet("logs", name)
    return done.stdout + done.stderr
