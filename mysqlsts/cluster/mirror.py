"""A registry mirror for the kind cluster: how an air-gapped company runs the suite.

With ``--registry-mirror HOST[:PORT]`` the run pulls kind's node image from the mirror
(``HOST:PORT/kindest/node:...``), and every node's containerd pulls the images of
``docker.io``, ``gcr.io`` and ``registry.k8s.io`` through it (containerd's
``/etc/containerd/certs.d/<registry>/hosts.toml``, the layout kind documents for local
registries), falling back to the registry itself when the mirror lacks an image. The mirror
serves each registry's repositories under the same path (``library/mysql``,
``google-samples/xtrabackup``), as a pull-through cache or a registry loaded by hand does.

A mirror on this machine's loopback (``127.0.0.1:5001``) is not reachable from the nodes,
which are containers with their own network: it must then be a Docker container that
publishes that port (kind's local-registry pattern), and the run connects it to the
cluster's Docker network for the run and reaches it there by its container name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mysqlsts import programs
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.registry_mirror import RegistryMirror

# The registries whose pulls go through the mirror, and where they are really served.
MIRRORED_REGISTRIES = {
    "docker.io": "https://registry-1.docker.io",
    "gcr.io": "https://gcr.io",
    "registry.k8s.io": "https://registry.k8s.io",
}
CERTS_DIR = "/etc/containerd/certs.d"
# kind's documented patch: containerd reads hosts.toml files from CERTS_DIR.
CONTAINERD_PATCH = (
    f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS_DIR}"\n'
)
KIND_NETWORK = "kind"
DOCKER_TIMEOUT = 20.0


def canonical(ref: str) -> str:
    """An image reference with its registry (Docker Hub's images fully qualified)."""
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return ref  # names its registry already
    return f"docker.io/{ref if '/' in ref else 'library/' + ref}"


def through(mirror: RegistryMirror, ref: str) -> str | None:
    """``ref`` as this machine's Docker pulls it from the mirror (None: a registry the
    mirror does not stand for)."""
    registry, path = canonical(ref).split("/", 1)
    return f"{mirror.address}/{path}" if registry in MIRRORED_REGISTRIES else None


def hosts_toml(registry: str, endpoint: str) -> str:
    """containerd's hosts.toml: pull and resolve through ``endpoint``, then the registry."""
    return (
        f'server = "{MIRRORED_REGISTRIES[registry]}"\n\n'
        f'[host."{endpoint}"]\n'
        '  capabilities = ["pull", "resolve"]\n'
    )


def write_hosts_dirs(root: Path, endpoint: str) -> list[tuple[Path, str]]:
    """One ``<registry>/hosts.toml`` per mirrored registry under ``root``; returns
    (host directory, path inside the node) for each, to be mounted into every node."""
    mounts = []
    for registry in MIRRORED_REGISTRIES:
        directory = root / registry
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hosts.toml").write_text(hosts_toml(registry, endpoint))
        mounts.append((directory, f"{CERTS_DIR}/{registry}"))
    return mounts


@dataclass(frozen=True)
class Relay:
    """The Docker container behind a loopback mirror, as the nodes reach it."""

    container: str
    port: int  # the registry's port inside the container


def published_by(port: int) -> Relay | None:
    """The running container that publishes ``port`` on this machine, if any."""
    listed = programs.run(
        ["docker", "ps", "--filter", f"publish={port}", "--format", "{{.Names}}"],
        timeout=DOCKER_TIMEOUT,
    )
    names = listed.stdout.split() if listed.returncode == 0 else []
    for name in names:
        ports = programs.run(["docker", "port", name], timeout=DOCKER_TIMEOUT)
        # Lines like "5000/tcp -> 127.0.0.1:5001".
        for line in ports.stdout.splitlines():
            inner, _, outer = line.partition(" -> ")
            if outer.rsplit(":", 1)[-1] == str(port):
                return Relay(name, int(inner.split("/")[0]))
    return None


def node_endpoint(mirror: RegistryMirror) -> tuple[str, Relay | None]:
    """The mirror's URL as the nodes reach it, and the container to connect to the
    cluster's network when it is on this machine's loopback."""
    if not mirror.is_loopback:
        return f"{mirror.scheme}://{mirror.address}", None
    relay = published_by(mirror.port or 80)
    if relay is None:
        raise EnvironmentProblem(
            f"registry mirror {mirror.address} is on this machine's loopback, which the kind "
            "nodes cannot reach: run it as a Docker container that publishes that port "
            "(kind's local-registry pattern), or give an address the nodes reach"
        )
    return f"{mirror.scheme}://{relay.container}:{relay.port}", relay


def networks_of(container: str) -> list[str]:
    done = programs.run(
        [
            "docker",
            "inspect",
            "--format",
            "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
            container,
        ],
        timeout=DOCKER_TIMEOUT,
    )
    return done.stdout.split() if done.returncode == 0 else []


def connect(relay: Relay, network: str = KIND_NETWORK) -> bool:
    """Connect the mirror's container to the cluster's network; True when this call did
    (and so the run must disconnect it at the end)."""
    if network in networks_of(relay.container):
        return False
    done = programs.run(
        ["docker", "network", "connect", network, relay.container], timeout=DOCKER_TIMEOUT
    )
    if done.returncode != 0:
        raise EnvironmentProblem(
            f"could not connect the registry mirror's container {relay.container} to Docker "
            f"network {network}: {done.first_error_line()}"
        )
    return True


def disconnect(relay: Relay, network: str = KIND_NETWORK) -> list[str]:
    done = programs.run(
        ["docker", "network", "disconnect", network, relay.container], timeout=DOCKER_TIMEOUT
    )
    if done.returncode != 0:
        return [
            f"could not disconnect {relay.container} from Docker network {network}: "
            f"{done.first_error_line()}"
        ]
    return [f"disconnected the registry mirror's container {relay.container} from {network}"]
