"""Container images of the lab.

* component images Kubernetes runs (static Go binary on an empty base, or on the tools
  rootfs where the program needs Debian commands, like kube-proxy and iptables);
* application images built from a directory ``lab/images/<name>/`` (``packages.txt`` for
  the Debian base, or another lab image as the base: ``build.DERIVED_FROM``, plus a
  ``Dockerfile`` starting ``ARG BASE`` / ``FROM ${BASE}``).

Each image carries the key of its inputs as a label, so an unchanged image is reused.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mysqlsts.lab import docker
from mysqlsts.lab.build_steps import Log, Step
from mysqlsts.lab.config import LAB_DIR, LabConfig
from mysqlsts.lab.gobuild import GoProgram

IMAGES_DIR = LAB_DIR / "images"

PASSWD = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
GROUP = "root:x:0:\nnobody:x:65534:\n"


@dataclass(frozen=True)
class StaticImage:
    """A Go binary alone in an image, run as ``entrypoint`` (or found on PATH)."""

    image_key: str  # key in lab.toml [images]
    program: str  # GoProgram name
    binary: str
    path: str  # where the binary lives in the image
    entrypoint: bool = True


STATIC_IMAGES = (
    StaticImage("kube_apiserver", "kubernetes", "kube-apiserver", "/usr/local/bin/kube-apiserver"),
    StaticImage(
        "kube_controller_manager",
        "kubernetes",
        "kube-controller-manager",
        "/usr/local/bin/kube-controller-manager",
    ),
    StaticImage("kube_scheduler", "kubernetes", "kube-scheduler", "/usr/local/bin/kube-scheduler"),
    StaticImage("etcd", "etcd", "etcd", "/usr/local/bin/etcd"),
    StaticImage("coredns", "coredns", "coredns", "/coredns"),
    StaticImage("pause", "pause", "pause", "/pause"),
    StaticImage("kindnetd", "kindnetd", "kindnetd", "/bin/kindnetd"),
    # Run by the default StorageClass's Deployment, whose command names it (found on PATH).
    StaticImage(
        "local_path_provisioner",
        "local-path-provisioner",
        "local-path-provisioner",
        "/usr/local/bin/local-path-provisioner",
        entrypoint=False,
    ),
)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def static_rootfs_tar(binary: Path, path_in_image: str) -> bytes:
    """A minimal root filesystem: the binary, /etc/passwd, /etc/group and a /tmp."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in ("etc", "tmp", "bin", "usr", "usr/local", "usr/local/bin"):
            _add_dir(tar, directory, 0o1777 if directory == "tmp" else 0o755)
        _add_bytes(tar, "etc/passwd", PASSWD.encode())
        _add_bytes(tar, "etc/group", GROUP.encode())
        _add_bytes(tar, path_in_image.lstrip("/"), binary.read_bytes(), 0o755)
    return buffer.getvalue()


def static_image_step(
    config: LabConfig, image: StaticImage, program: GoProgram, program_key: str
) -> Step:
    tag = config.images[image.image_key]

    def action(log: Log, key: str) -> None:
        data = static_rootfs_tar(program.out_dir / image.binary, image.path)
        changes = [f"ENV PATH={docker.DEFAULT_PATH}", f"LABEL {docker.INPUTS_LABEL}={key}"]
        if image.entrypoint:
            changes.append(f'ENTRYPOINT ["{image.path}"]')
        argv = ["docker", "import"]
        for change in changes:
            argv += ["--change", change]
        log.run([*argv, "-", tag], input=data)

    return Step(
        name=f"image {image.image_key}",
        inputs=(tag, image, program_key, Path(__file__)),
        action=action,
        is_present=lambda key: docker.image_key(tag) == key,
    )


def build_context_image(
    log: Log,
    context: Path,
    base: str,
    tag: str,
    key: str,
    extra_files: dict[str, Path] | None = None,
) -> None:
    """``docker build`` a directory on a local base image (the legacy builder: no pulls).

    ``extra_files`` are copied into a temporary copy of the context first (binaries that
    live in the cache, not in the repo).
    """
    with tempfile.TemporaryDirectory(prefix="lab-context-") as tmp:
        work = Path(tmp) / "context"
        shutil.copytree(context, work)
        for name, source in (extra_files or {}).items():
            shutil.copy2(source, work / name)
        log.run(
            [
                "docker",
                "build",
                "--pull=false",
                "--build-arg",
                f"BASE={base}",
                "--label",
                f"{docker.INPUTS_LABEL}={key}",
                "-t",
                tag,
                work,
            ],
            env={"DOCKER_BUILDKIT": "0", "PATH": docker.DEFAULT_PATH},
        )


def context_image_step(
    config: LabConfig,
    name: str,
    image_key: str,
    base: str,
    base_key: str,
    extra_files: dict[str, tuple[Path, str]] | None = None,
) -> Step:
    """An image from ``lab/images/<name>`` on the image ``base`` (a rootfs or another lab
    image) whose inputs have the key ``base_key``.

    ``extra_files`` maps a file name in the context to (built file, key of its build).
    """
    tag = config.images[image_key]
    context = IMAGES_DIR / name
    files = {n: path for n, (path, _k) in (extra_files or {}).items()}
    file_keys = {n: k for n, (_p, k) in (extra_files or {}).items()}

    return Step(
        name=f"image {image_key}",
        inputs=(tag, context, base_key, file_keys, Path(__file__)),
        action=lambda log, key: build_context_image(log, context, base, tag, key, files),
        is_present=lambda key: docker.image_key(tag) == key,
    )
