"""The kind provider: a fresh cluster for the run, driven through pytest-kind's KindCluster.

pytest-kind's own ``kind_cluster`` fixture is not usable here (it is not xdist-aware and
cannot take a kind config), so the suite drives its KindCluster class from the controller
process, with the lab's kind binary and node image (nothing is downloaded).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

from pytest_kind.cluster import KindCluster

from mysqlsts import programs
from mysqlsts.cluster import kind_config
from mysqlsts.cluster.provider import CLIENT_IMAGE_ENV, NODE_ACCESS_DOCKER, ClusterInfo
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.files import remove_tree
from mysqlsts.k8s.client import Obj
from mysqlsts.lab import config as lab_config
from mysqlsts.manifests import placement
from mysqlsts.manifests.placement import Placement
from mysqlsts.settings import Settings
from mysqlsts.stopwatch import Stopwatch

DOCKER_TIMEOUT = 20.0


def canonical(ref: str) -> str:
    """An image reference as containerd lists it (Docker Hub's images fully qualified)."""
    first = ref.split("/", 1)[0]
    if "/" in ref and ("." in first or ":" in first or first == "localhost"):
        return ref  # names its registry already
    return f"docker.io/{ref if '/' in ref else 'library/' + ref}"


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


def needs_lab(images: list[str]) -> bool:
    """Whether the deployment runs one of the lab's own images (they exist nowhere else)."""
    return bool(set(images) & set(lab_config.load().images.values()))


def node_image(images: list[str]) -> str | None:
    """The node image: $MYSQLSTS_KIND_NODE_IMAGE, else the lab's.

    The lab's is required when the deployment runs the lab's images (nothing can be
    pulled then); otherwise it is preferred when built (nothing to download), and kind's
    default is the last resort.
    """
    if os.environ.get("MYSQLSTS_KIND_NODE_IMAGE"):
        return os.environ["MYSQLSTS_KIND_NODE_IMAGE"]
    lab_image = lab_config.load().node_image
    if needs_lab(images) or docker_has_image(lab_image):
        return lab_image
    return None


def client_image(fallback: str) -> str:
    """In-cluster MySQL clients: $MYSQLSTS_CLIENT_IMAGE, else the lab's toolbox (loaded
    into the nodes with the run's images), else ``fallback`` (the deployment's MySQL image,
    which carries a client)."""
    chosen = os.environ.get(CLIENT_IMAGE_ENV)
    if chosen:
        return chosen
    toolbox = lab_config.load().images["toolbox"]
    return toolbox if docker_has_image(toolbox) else fallback


def node_labels() -> dict[str, str]:
    """The well-known labels a kubelet puts on a node of this machine (kind nodes run here)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {"kubernetes.io/os": "linux", "kubernetes.io/arch": arch}


class KindProvider:
    # The PV directories are the run's own host directories, removed with its state dir.
    node_data_outlives_run = False

    def __init__(
        self, settings: Settings, state_dir: Path, images: list[str], mysql_image: str
    ) -> None:
        self.settings = settings
        self.name = settings.cluster_name
        self.state_dir = state_dir
        self.images = images
        self.mysql_image = mysql_image
        self.client_image = mysql_image
        self.workers = kind_config.worker_names(self.name, settings.workers)
        self.kind_bin: Path | None = None
        self.node_image: str | None = None
        self.created = False
        self.adopted = False
        self.cluster: KindCluster | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def owns_cluster(self) -> bool:
        """True once this run started creating the cluster: deleting it removes all."""
        return self.created

    def _existing_clusters(self) -> list[str]:
        assert self.kind_bin is not None
        done = programs.run([self.kind_bin, "get", "clusters"], timeout=DOCKER_TIMEOUT)
        if done.returncode != 0:
            raise EnvironmentProblem(f"kind get clusters failed: {done.first_error_line()}")
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]

    def preflight(self) -> None:
        self.kind_bin = programs.find_kind()
        if self.kind_bin is None:
            raise EnvironmentProblem(
                f"kind binary not found (looked at $MYSQLSTS_KIND, {lab_config.load().kind_bin} "
                "and PATH): build the lab with `tox -e lab` or install kind"
            )
        check_docker()
        self.node_image = node_image(self.images)
        self.client_image = client_image(self.mysql_image)
        if self.node_image and not docker_has_image(self.node_image):
            raise EnvironmentProblem(
                f"kind node image {self.node_image} is not in the local Docker: build it with "
                "`tox -e lab` (nothing can be pulled here)"
            )
        self.adopted = self.name in self._existing_clusters()

    def place(self, objects: list[Obj]) -> Placement:
        """One worker per node the PVs name (the others spare); PVs that name no node get
        their directory on every worker."""
        mapping = placement.map_nodes(
            placement.source_nodes(objects),
            self.settings.pv_nodes,
            self.workers,
            spread=True,
        )
        # The nodes do not exist yet: their labels are those every kubelet sets.
        workers = [
            {"metadata": {"name": w, "labels": {**node_labels(), placement.HOSTNAME_LABEL: w}}}
            for w in self.workers
        ]
        return placement.place(objects, mapping, workers)

    def _make_cluster(self) -> KindCluster:
        cwd_marker = Path(".pytest-kind")
        existed = cwd_marker.exists()
        cluster = KindCluster(
            self.name,
            kubeconfig=self.kubeconfig,
            image=self.node_image,
            kind_path=self.kind_bin,
            kubectl_path=programs.find_kubectl(),
        )
        # KindCluster always makes ./.pytest-kind/<name> in the working directory even
        # when every path is given; remove it so that the run leaves nothing behind.
        if not existed:
            shutil.rmtree(cwd_marker, ignore_errors=True)
        return cluster

    def up(self, pvs: Placement) -> ClusterInfo:
        assert self.kind_bin is not None, "preflight() first"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.cluster = self._make_cluster()
        notes: list[str] = []
        if self.adopted:
            done = programs.run(
                [self.kind_bin, "get", "kubeconfig", "--name", self.name], timeout=DOCKER_TIMEOUT
            )
            if done.returncode != 0:
                raise EnvironmentProblem(
                    f"kind get kubeconfig --name {self.name} failed: {done.first_error_line()}"
                )
            self.kubeconfig.write_text(done.stdout)
            notes.append(
                f"kind cluster {self.name} already existed: used as is and not deleted at the end"
            )
        else:
            paths = pvs.paths_by_node()
            mounts = [
                kind_config.host_dirs(self.state_dir, worker, paths.get(worker, []))
                for worker in self.workers
            ]
            for host, _ in (m for worker in mounts for m in worker):
                host.mkdir(parents=True, exist_ok=True)
            config_file = self.state_dir / "kind-config.yaml"
            config_file.write_text(kind_config.render(mounts))
            # Recorded before creating: an interrupted create still leaves node
            # containers that teardown must remove.
            self.created = True
            try:
                self.cluster.create(config_file=config_file)
            except subprocess.CalledProcessError as error:
                raise EnvironmentProblem(
                    f"kind create cluster --name {self.name} failed (exit {error.returncode}); "
                    "kind's own output is above"
                ) from None
            notes.append(
                f"kind cluster {self.name} created with node image "
                f"{self.node_image or 'kind default'}"
            )
        self._load_images(notes)
        spare = sorted(set(self.workers) - set(pvs.pv_nodes))
        notes.append(
            f"{len(self.workers)} workers; with the PVs: {', '.join(pvs.pv_nodes)}; "
            f"spare: {', '.join(spare) or 'none'}"
        )
        return ClusterInfo(
            "kind", self.name, self.kubeconfig, self.client_image, NODE_ACCESS_DOCKER, notes
        )

    def _nodes_missing(self, images: list[str]) -> list[str]:
        """The ``images`` that some node's containerd lacks (the lab's node image carries
        the lab's own: those need no load, whatever the number of nodes)."""
        nodes = [f"{self.name}-control-plane", *self.workers]
        missing: list[str] = []
        for node in nodes:
            done = programs.run(
                ["docker", "exec", node, "ctr", "--namespace=k8s.io", "images", "list", "-q"],
                timeout=DOCKER_TIMEOUT,
            )
            present = set(done.stdout.split()) if done.returncode == 0 else set()
            missing += [i for i in images if canonical(i) not in present and i not in missing]
        return missing

    def _load_images(self, notes: list[str]) -> None:
        """Load the run's images from the local Docker into every node, in one ``kind load``
        (their shared layers are saved once; the lab's smoke places pods on every node)."""
        wanted = [*self.images, *([self.client_image] if self.client_image else [])]
        local = [image for image in dict.fromkeys(wanted) if docker_has_image(image)]
        images = self._nodes_missing(local)
        if local and not images:
            notes.append(f"images {', '.join(local)} already on every node (the node image)")
        if not images:
            return
        assert self.kind_bin is not None
        watch = Stopwatch()
        try:
            subprocess.run(
                [self.kind_bin, "load", "docker-image", "--name", self.name, *images], check=True
            )
        except subprocess.CalledProcessError:
            raise EnvironmentProblem(
                f"kind load docker-image {' '.join(images)} failed; kind's output is above"
            ) from None
        notes.append(
            f"images {', '.join(images)} loaded into the nodes from the local Docker ({watch})"
        )

    def down(self, keep: bool) -> list[str]:
        if keep:
            if self.created or self.adopted:
                return [
                    f"kept kind cluster {self.name} (kubeconfig {self.kubeconfig}, PV data under "
                    f"{self.state_dir / 'pv'}); remove it with: "
                    f"kind delete cluster --name {self.name}"
                ]
            return []
        lines: list[str] = []
        if self.created and self.kind_bin is not None:
            watch = Stopwatch()
            done = programs.run(
                [
                    self.kind_bin,
                    "delete",
                    "cluster",
                    "--name",
                    self.name,
                    "--kubeconfig",
                    self.kubeconfig,
                ],
                timeout=120,
            )
            if done.returncode == 0:
                lines.append(f"deleted kind cluster {self.name} in {watch}")
            else:
                lines.append(
                    f"could not delete kind cluster {self.name}: {done.first_error_line()}"
                )
            self.created = False
            # The run's directory holds the PV data the nodes wrote (bind mounts); it
            # goes with the cluster.
            lines += remove_tree(self.state_dir)
        return lines
