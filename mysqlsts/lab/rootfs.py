"""Debian root filesystems made with debootstrap and imported into Docker as base images."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mysqlsts.lab import docker
from mysqlsts.lab.build_steps import Log, Step
from mysqlsts.lab.config import LabConfig, cache_dir


def read_packages(path: Path) -> list[str]:
    """Package names from a packages.txt (one a line, ``#`` comments)."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return sorted(set(names))


def base_tag(kind: str, key: str) -> str:
    """Base images are tagged by content key, so equal package lists share one image."""
    return f"localhost/lab/rootfs-{kind}:{key}"


def debootstrap(log: Log, config: LabConfig, packages: list[str], target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(packages)}",
            config.debian_suite,
            target,
            config.debian_mirror,
        ]
    )
    # apt lists and caches are not needed in an image and only add size.
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (target / sub).glob("*"):
            if item.is_file():
                item.unlink()


def import_dir(log: Log, root: Path, tag: str, changes: list[str]) -> None:
    """``tar | docker import`` a directory as an image (one layer, the given config)."""
    argv = ["docker", "import"]
    for change in changes:
        argv += ["--change", change]
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    try:
        log.run([*argv, "-", tag], stdin=tar.stdout)
    finally:
        tar.wait()


def rootfs_step(config: LabConfig, kind: str, packages: list[str]) -> Step:
    """A Debian base image holding ``packages``, tagged by its inputs' key."""

    def action(log: Log, key: str) -> None:
        target = cache_dir() / "rootfs" / f"{kind}-{key}"
        debootstrap(log, config, packages, target)
        import_dir(log, target, base_tag(kind, key), ["ENV PATH=" + docker.DEFAULT_PATH])
        shutil.rmtree(target, ignore_errors=True)

    return Step(
        name=f"rootfs {kind}",
        inputs=(config.debian_suite, config.debian_mirror, packages, Path(__file__)),
        action=action,
        is_present=lambda key: docker.image_exists(base_tag(kind, key)),
        needs_root=True,  # debootstrap and chroot
    )
