"""Which images a kind cluster of the run uses, and whether Docker has them: the node image
(the lab's, or kind's own), the in-cluster client image, whether the deployment needs the
offline lab at all."""

from __future__ import annotations

import os
import platform

from mysqlsts import kind_release, programs
from mysqlsts.cluster.provider import CLIENT_IMAGE_ENV
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.lab import config as lab_config

DOCKER_TIMEOUT = 20.0


def docker_has_image(image: str) -> bool:
    return (
        programs.run(["docker", "image", "inspect", image], timeout=DOCKER_TIMEOUT).returncode == 0
    )


def check_docker() -> None:
    """Docker is installed and its daemon answers (kind runs its nodes there)."""
    if programs.find_docker() is None:
        raise EnvironmentProblem("docker CLI not found on PATH (kind runs its nodes in Docker)")
    done = programs.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], timeout=DOCKER_TIMEOUT
    )
    if done.returncode != 0 or not done.stdout.strip():
        host = os.environ.get("DOCKER_HOST", "the default socket")
        raise EnvironmentProblem(
            f"Docker is not running or not reachable at {host}: {done.first_error_line()}"
        )


def is_lab_image(image: str) -> bool:
    return image in lab_config.load().images.values()


def needs_lab(images: list[str]) -> bool:
    """Whether the deployment runs one of the lab's own images (they exist nowhere else)."""
    return any(is_lab_image(image) for image in images)


def node_image(images: list[str]) -> str:
    """The node image: $MYSQLSTS_KIND_NODE_IMAGE, else the lab's when the deployment runs
    the lab's images (it carries them), else kind's own (``kind_release.NODE_IMAGE``)."""
    chosen = kind_release.chosen_node_image()
    if chosen:
        return chosen
    return lab_config.load().node_image if needs_lab(images) else kind_release.NODE_IMAGE


def client_image(fallback: str, offline: bool) -> str:
    """In-cluster MySQL clients: $MYSQLSTS_CLIENT_IMAGE, else on the offline path the lab's
    toolbox (loaded into the nodes with the run's images), else ``fallback`` (the
    deployment's MySQL image, which carries a client: the online path uses nothing of the
    lab's)."""
    chosen = os.environ.get(CLIENT_IMAGE_ENV)
    if chosen:
        return chosen
    toolbox = lab_config.load().images["toolbox"]
    return toolbox if offline and docker_has_image(toolbox) else fallback


def node_labels() -> dict[str, str]:
    """The well-known labels a kubelet puts on a node of this machine (kind nodes run here)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {"kubernetes.io/os": "linux", "kubernetes.io/arch": arch}
