"""Pods of the upstream StatefulSet emulated with Docker containers (no Kubernetes).

A pod is a "sandbox" container that owns the network namespace and hostname (as the pause
container does) with the pod's DNS names as network aliases; the init containers run one
after the other in that namespace, then the containers start together. Volumes: one Docker
volume per pod for each emptyDir and volumeClaimTemplate (created with ``volume-nocopy``,
so that, like an emptyDir or a fresh PV, they start empty), the ConfigMap as a read-only
bind mount. ``subPath`` is not emulated: each pod's volume is used by that pod only, so
mounting the whole volume is equivalent.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from standin_docker import container_state, docker, logs
from standin_spec import Container, StatefulSet

from mysqlsts.waiting import Seen, WaitTimeout, wait_for

LABEL_KEY = "io.mysqlsts.images-test"


class PodFailed(AssertionError):
    """A pod did not get where it should; the message carries its containers' logs."""


@dataclass
class Pods:
    spec: StatefulSet
    run_id: str  # prefixes every name and labels every object for cleanup
    workdir: Path

    @property
    def label(self) -> str:
        return f"{LABEL_KEY}={self.run_id}"

    @property
    def network(self) -> str:
        return f"{self.run_id}-net"

    @property
    def root_password(self) -> str:
        return self.spec.container("mysql").env["MYSQL_ROOT_PASSWORD"]

    def name(self, ordinal: int, container: str) -> str:
        return f"{self.run_id}-{self.spec.hostname(ordinal)}-{container}"

    def create_network(self) -> None:
        docker("network", "create", "--label", self.label, self.network)

    # -- starting a pod ------------------------------------------------------------------
    def _config_map_dir(self, volume: str) -> Path:
        directory = self.workdir / f"configmap-{volume}"
        if not directory.exists():
            directory.mkdir(parents=True)
            for file_name, content in self.spec.config_maps[volume].items():
                (directory / file_name).write_text(content, encoding="utf-8")
        return directory

    def _mount_args(self, ordinal: int, container: Container) -> list[str]:
        args = []
        for mount in container.mounts:
            if mount.volume in self.spec.config_maps:
                source = self._config_map_dir(mount.volume)
                args += ["--mount", f"type=bind,src={source},dst={mount.path},readonly"]
            elif mount.volume in self.spec.empty_dirs | self.spec.claims:
                volume = self.name(ordinal, mount.volume)
                docker("volume", "create", "--label", self.label, volume)
                args += ["--mount", f"type=volume,src={volume},dst={mount.path},volume-nocopy"]
            else:
                raise ValueError(f"{container.name}: volume {mount.volume} is not emulated")
        return args

    def _run(self, ordinal: int, container: Container) -> None:
        argv = ["run", "-d", "--name", self.name(ordinal, container.name), "--label", self.label]
        argv += ["--network", f"container:{self.name(ordinal, 'sandbox')}"]
        for key, value in container.env.items():
            argv += ["-e", f"{key}={value}"]
        argv += self._mount_args(ordinal, container)
        if container.command:
            # Kubernetes' command replaces the image's ENTRYPOINT (and its CMD).
            argv += ["--entrypoint", container.command[0], container.image, *container.command[1:]]
        else:
            argv.append(container.image)
        docker(*argv)

    def start(self, ordinal: int, timeout: float = 180.0) -> None:
        """Sandbox, init containers in order (each must exit 0), then the containers."""
        hostname = self.spec.hostname(ordinal)
        aliases = [arg for dns in self.spec.dns_names(ordinal) for arg in ("--network-alias", dns)]
        docker(
            "run", "-d", "--name", self.name(ordinal, "sandbox"), "--label", self.label,
            "--hostname", hostname, "--network", self.network, *aliases,
            "--entrypoint", "sleep", self.spec.container("mysql").image, "infinity",
        )  # fmt: skip
        for container in self.spec.init_containers:
            self._run(ordinal, container)
            self._wait(
                f"init container {container.name} of {hostname} to exit 0",
                lambda c=container: self._init_done(ordinal, c),
                ordinal,
                timeout,
            )
        for container in self.spec.containers:
            self._run(ordinal, container)

    def _init_done(self, ordinal: int, container: Container) -> Seen[None]:
        status, code = container_state(self.name(ordinal, container.name))
        if status == "exited" and code != 0:
            raise PodFailed(
                f"init container {container.name} of {self.spec.hostname(ordinal)} exited "
                f"{code}\n{self.diagnostics(ordinal)}"
            )
        return Seen(status == "exited", f"{container.name} is {status}")

    # -- readiness -----------------------------------------------------------------------
    def wait_ready(self, ordinal: int, timeout: float = 180.0) -> None:
        """Until the readiness probe passes and every declared port listens.

        The ports: the StatefulSet starts the next pod once this one is Ready, and the
        next pod's clone-mysql connects to this pod's sidecar on 3307 at once; Kubernetes
        retries a clone that came too early, these tests wait for the port instead.
        """
        self._wait(
            f"{self.spec.hostname(ordinal)} to be ready (readiness probe passes, ports listen)",
            lambda: self._ready(ordinal),
            ordinal,
            timeout,
        )

    def _ready(self, ordinal: int) -> Seen[None]:
        for container in self.spec.containers:
            status, code = container_state(self.name(ordinal, container.name))
            if status != "running":
                raise PodFailed(
                    f"container {container.name} of {self.spec.hostname(ordinal)} is {status} "
                    f"(exit code {code})\n{self.diagnostics(ordinal)}"
                )
        probe = self.probe(ordinal, "readiness")
        if probe.returncode != 0:
            return Seen(False, f"readiness probe exited {probe.returncode}: {probe.stderr[-300:]}")
        listening = self.exec(ordinal, "sandbox", "ss", "-Hltn").stdout
        missing = [
            port
            for container in self.spec.containers
            for port in container.ports
            if f":{port} " not in listening
        ]
        if missing:
            return Seen(False, f"probe passes, nothing listens yet on ports {missing}")
        return Seen(True, "ready")

    def _wait(
        self, what: str, probe: Callable[[], Seen[None]], ordinal: int, timeout: float
    ) -> None:
        try:
            wait_for(what, probe, timeout=timeout, interval=1.0)
        except WaitTimeout as error:
            raise PodFailed(f"{error}\n{self.diagnostics(ordinal)}") from error

    # -- looking inside ------------------------------------------------------------------
    def exec(
        self, ordinal: int, container: str, *argv: str, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """``docker exec`` without a shell, as a Kubernetes exec probe runs its command."""
        return docker("exec", self.name(ordinal, container), *argv, check=False, timeout=timeout)

    def probe(self, ordinal: int, kind: str) -> subprocess.CompletedProcess[str]:
        """Run the mysql container's readiness or liveness command as the manifest spells it.

        The manifest's timeoutSeconds is not enforced: `docker exec` itself can take longer
        than a second on a busy machine.
        """
        container = self.spec.container("mysql")
        command = container.readiness if kind == "readiness" else container.liveness
        assert command, f"the mysql container has no {kind} probe"
        return self.exec(ordinal, "mysql", *command)

    def sql(self, ordinal: int, statement: str) -> subprocess.CompletedProcess[str]:
        """Run SQL as root in the pod's mysql container (tab-separated batch output)."""
        return self.exec(
            ordinal, "mysql", "mysql", "-uroot", f"-p{self.root_password}", "-B", "-e", statement
        )

    def query(self, ordinal: int, statement: str) -> list[dict[str, str]]:
        proc = self.sql(ordinal, statement)
        if proc.returncode != 0:
            raise AssertionError(
                f"{statement!r} on {self.spec.hostname(ordinal)} failed: {proc.stderr.strip()}"
            )
        lines = proc.stdout.splitlines()
        if not lines:
            return []
        header = lines[0].split("\t")
        return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]

    def read_file(self, ordinal: int, container: str, path: str) -> str:
        proc = self.exec(ordinal, container, "cat", path)
        if proc.returncode != 0:
            raise AssertionError(f"cannot read {path} in {container}: {proc.stderr.strip()}")
        return proc.stdout

    def diagnostics(self, ordinal: int) -> str:
        """State and last log lines of every container of one pod."""
        parts = []
        for container in (*self.spec.init_containers, *self.spec.containers):
            name = self.name(ordinal, container.name)
            try:
                status, code = container_state(name)
            except Exception as error:  # not created yet: say so and go on
                parts.append(f"--- {container.name}: {error}")
                continue
            parts.append(f"--- {container.name}: {status} (exit {code})\n{logs(name)}")
        return "\n".join(parts)
