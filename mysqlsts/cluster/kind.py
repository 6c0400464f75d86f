"""The kind provider: a fresh cluster for the run, driven through pytest-kind's KindCluster.

pytest-kind's own ``kind_cluster`` fixture is not usable here (it is not xdist-aware and
cannot take a kind config), so the suite drives its KindCluster class from the controller
process. Two paths:

- offline: the deployment runs the lab's stand-in images, so the cluster runs on the lab's
  node image (which carries them) with the lab's kind; nothing is pulled;
- online: the deployment's images come from registries, so the cluster runs on kind's own
  node image (``kind_release``), pulled when missing (through ``--registry-mirror`` when
  given), with the kind on PATH; nothing is built.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pytest_kind.cluster import KindCluster

from mysqlsts import kind_release, programs
from mysqlsts.cluster import kind_config, kind_images, mirror
from mysqlsts.cluster.mirror import Relay, canonical
from mysqlsts.cluster.provider import NODE_ACCESS_DOCKER, ClusterInfo
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.files import remove_tree
from mysqlsts.k8s.client import Obj
from mysqlsts.lab import config as lab_config
from mysqlsts.manifests import placement
from mysqlsts.manifests.placement import Placement
from mysqlsts.redaction import registered_secrets
from mysqlsts.reporting import secretscan
from mysqlsts.settings import Settings
from mysqlsts.stopwatch import Stopwatch

DOCKER_TIMEOUT = 20.0
PULL_TIMEOUT = 900.0  # a node image is about 1 GB
EMPTY_TIMEOUT = 60.0
EXPORT_TIMEOUT = 300.0
# A directory for `kind export logs` before the run deletes its cluster.
KIND_LOGS_ENV = "MYSQLSTS_KIND_LOGS"


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
        # The node image as this machine's Docker pulls it (through the mirror, if any),
        # when it is not there yet.
        self.node_image_pull: str | None = None
        # Set by preflight when the mirror is a container on this machine's loopback.
        self.mirror_endpoint: str | None = None
        self.relay: Relay | None = None
        self.relay_connected = False
        # Node -> (host directory, path inside the node) of its PV mounts.
        self.pv_mounts: dict[str, list[tuple[Path, str]]] = {}
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

    def preflight(self) -> list[str]:
        offline = kind_images.needs_lab(self.images)
        self.kind_bin = programs.find_kind(prefer_lab=offline)
        if self.kind_bin is None:
            raise EnvironmentProblem(
                f"kind binary not found (looked at $MYSQLSTS_KIND, {lab_config.load().kind_bin} "
                f"and PATH): install kind {kind_release.KIND_VERSION}, or build the lab with "
                "`tox -e lab`"
            )
        kind_images.check_docker()
        self.node_image = kind_images.node_image(self.images)
        self.client_image = kind_images.client_image(self.mysql_image, offline)
        registry = self.settings.registry_mirror
        if kind_images.is_lab_image(self.node_image):
            if not kind_images.docker_has_image(self.node_image):
                raise EnvironmentProblem(
                    f"kind node image {self.node_image} is not in the local Docker: build it "
                    "with `tox -e lab` (the offline profiles pull nothing)"
                )
        else:
            pulled = mirror.through(registry, self.node_image) if registry else None
            self.node_image = pulled or self.node_image
            if not kind_images.docker_has_image(self.node_image):
                self.node_image_pull = self.node_image
        if registry:
            self.mirror_endpoint, self.relay = mirror.node_endpoint(registry)
        self.adopted = self.name in self._existing_clusters()
        return [self._pull_plan()]

    def _pull_plan(self) -> str:
        """One line: which images this run will pull, and from where."""
        registry = self.settings.registry_mirror
        source = f" through the mirror {registry.address}" if registry else ""
        wanted = dict.fromkeys([*self.images, self.client_image])
        in_cluster = [
            i
            for i in wanted
            if not kind_images.is_lab_image(i) and not kind_images.docker_has_image(i)
        ]
        parts = []
        if self.node_image_pull:
            parts.append(f"kind node image {self.node_image_pull}")
        if in_cluster:
            parts.append(f"into the cluster{source}: {', '.join(in_cluster)}")
        if not parts:
            return f"pulls nothing: kind {self.kind_bin}, node image {self.node_image}"
        return f"will pull {'; '.join(parts)} (kind {self.kind_bin})"

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
            {
                "metadata": {
                    "name": w,
                    "labels": {**kind_images.node_labels(), placement.HOSTNAME_LABEL: w},
                }
            }
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
            self._pull_node_image(notes)
            paths = pvs.paths_by_node()
            mounts = [
                kind_config.host_dirs(self.state_dir, worker, paths.get(worker, []))
                for worker in self.workers
            ]
            self.pv_mounts = dict(zip(self.workers, mounts, strict=True))
            for host, _ in (m for worker in mounts for m in worker):
                host.mkdir(parents=True, exist_ok=True)
            every_node, patches = [], []
            if self.mirror_endpoint:
                every_node = mirror.write_hosts_dirs(
                    self.state_dir / "certs.d", self.mirror_endpoint
                )
                patches = [mirror.CONTAINERD_PATCH]
            config_file = self.state_dir / "kind-config.yaml"
            config_file.write_text(kind_config.render(mounts, every_node, patches))
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
            notes.append(f"kind cluster {self.name} created with node image {self.node_image}")
        if self.relay is not None:
            self.relay_connected = mirror.connect(self.relay) or self.relay_connected
        if self.mirror_endpoint:
            via = f" (the mirror's container {self.relay.container})" if self.relay else ""
            notes.append(
                "the nodes pull docker.io, gcr.io and registry.k8s.io through "
                f"{self.mirror_endpoint}{via}"
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

    def _pull_node_image(self, notes: list[str]) -> None:
        """Pull kind's node image when it is missing (kind would, but silently)."""
        if not self.node_image_pull:
            return
        print(f"mysqlsts: pulling kind node image {self.node_image_pull} ...", flush=True)
        watch = Stopwatch()
        done = programs.run(["docker", "pull", self.node_image_pull], timeout=PULL_TIMEOUT)
        if done.returncode != 0:
            raise EnvironmentProblem(
                f"could not pull kind node image {self.node_image_pull}: {done.first_error_line()}"
            )
        notes.append(f"pulled kind node image {self.node_image_pull} in {watch}")
        self.node_image_pull = None

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
        local = [image for image in dict.fromkeys(wanted) if kind_images.docker_has_image(image)]
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
        if self.relay is not None and self.relay_connected:
            lines += mirror.disconnect(self.relay)
            self.relay_connected = False
        if self.created and self.kind_bin is not None:
            lines += self._export_logs()
            # Before the nodes go: what the pods wrote there belongs to root or to mysqld's
            # uid, which a user who is not root cannot remove from the host.
            lines += self._empty_pv_mounts()
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
            # The run's directory held the PV data (emptied above) and the mirror's
            # hosts.toml files; it goes with the cluster.
            lines += remove_tree(self.state_dir)
        return lines

    def _export_logs(self) -> list[str]:
        """``kind export logs`` into $MYSQLSTS_KIND_LOGS before the cluster goes (the
        nightly uploads them), the root password masked in every file."""
        target = os.environ.get(KIND_LOGS_ENV)
        if not target:
            return []
        assert self.kind_bin is not None
        watch = Stopwatch()
        done = programs.run(
            [self.kind_bin, "export", "logs", target, "--name", self.name], timeout=EXPORT_TIMEOUT
        )
        # kind collects what it can and reports the rest (a node image without crictl):
        # whatever was written is masked either way.
        masked = secretscan.redact_files(Path(target), registered_secrets())
        exported = f"exported the cluster's logs to {target} in {watch}"
        masking = f"the root password masked in {len(masked)} files"
        if done.returncode != 0:
            return [f"{exported}, with errors ({done.first_error_line()[:300]}); {masking}"]
        return [f"{exported} ({masking})"]

    def _empty_pv_mounts(self) -> list[str]:
        """Empty each PV mount from inside its node (root there), or, when the node is
        gone, from a throwaway container of the node image; lines for what failed."""
        problems: list[str] = []
        for node, mounts in self.pv_mounts.items():
            for host, inside in mounts:
                if not host.exists() or not any(host.iterdir()):
                    continue
                emptied = programs.run(
                    ["docker", "exec", node, "find", inside, "-mindepth", "1", "-delete"],
                    timeout=EMPTY_TIMEOUT,
                )
                if emptied.returncode != 0 and self.node_image:
                    throwaway = ["docker", "run", "--rm", "--entrypoint", "find"]
                    emptied = programs.run(
                        [*throwaway, "-v", f"{host}:/pv", self.node_image, "/pv", "-mindepth",
                         "1", "-delete"],
                        timeout=EMPTY_TIMEOUT,
                    )  # fmt: skip
                if emptied.returncode != 0:
                    problems.append(
                        f"could not empty the PV data in {host} ({node}:{inside}): "
                        f"{emptied.first_error_line()}"
                    )
        return problems
