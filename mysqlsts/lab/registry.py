"""A registry on this machine's loopback, loaded with the lab's stand-ins under the names
users pull: the registry mirror of the nightly's rehearsal (mysqlsts.lab.rehearsal).

The CNCF Distribution registry, built from the Go module proxy like the lab's other
programs, runs as the Docker container ``mysqlsts-registry`` publishing
``127.0.0.1:PORT`` (kind's local-registry pattern: the suite connects it to the cluster's
network). It holds ``kindest/node``, ``library/mysql:5.7``, ``library/mysql:5.7-debian`` and
``google-samples/xtrabackup:1.0``, each the lab's stand-in with a label saying so: inside
this test registry only, never pushed anywhere else.
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from mysqlsts.kind_release import node_image_tag
from mysqlsts.lab import docker, gobuild, images
from mysqlsts.lab.build_steps import Log, StepFailed, run_all
from mysqlsts.lab.config import LabConfig, cache_dir
from mysqlsts.waiting import Seen, wait_for

CONTAINER = "mysqlsts-registry"
INNER_PORT = 5000
PROGRAM = gobuild.GoProgram(
    "registry", ("github.com/distribution/distribution/v3/cmd/registry",), ("registry",)
)
IMAGE = images.StaticImage("registry", "registry", "registry", "/bin/registry")
CONFIG = f"""\
version: 0.1
log:
  level: info
  formatter: json
storage:
  filesystem:
    rootdirectory: /tmp/registry
  delete:
    enabled: true
http:
  addr: :{INNER_PORT}
"""
STAND_IN_LABEL = "io.mysqlsts.stand-in"


def upstream_names() -> dict[str, str]:
    """lab.toml image key -> the name users pull, under which the stand-in is served."""
    return {
        "node": node_image_tag(),
        # Today's mysql:5.7 (no hostname): the upstream leg's expected failure.
        "mysql_standin": "library/mysql:5.7",
        "mysql_debian_standin": "library/mysql:5.7-debian",
        "xtrabackup_standin": "google-samples/xtrabackup:1.0",
    }


def build(config: LabConfig) -> None:
    """The registry's binary and image (cached like the lab's other steps)."""
    go_step = gobuild.step(PROGRAM, gobuild.go_version())
    run_all([go_step, images.static_image_step(config, IMAGE, PROGRAM, go_step.key())])


def _answers(url: str) -> Seen[None]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return Seen(response.status == 200, f"HTTP {response.status}")
    except (urllib.error.URLError, OSError) as error:
        return Seen(False, str(error))


def start(config: LabConfig, port: int, log: Log) -> str:
    """(Re)start the registry container, empty, on 127.0.0.1:``port``; its address."""
    stop(log)
    config_file = cache_dir() / "registry" / "config.yml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG)
    log.run(
        [
            "docker", "run", "--detach", "--name", CONTAINER,
            "--publish", f"127.0.0.1:{port}:{INNER_PORT}",
            "--volume", f"{config_file}:/etc/distribution/config.yml:ro",
            config.images["registry"], "serve", "/etc/distribution/config.yml",
        ]
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    wait_for(f"the registry at {address}", lambda: _answers(f"http://{address}/v2/"), timeout=60)
    return address


def bytes_served(log_text: str) -> dict[str, int]:
    """Bytes of blobs the registry served, per repository, from its JSON access log."""
    served: dict[str, int] = {}
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        uri = str(entry.get("http.request.uri", ""))
        if entry.get("http.request.method") != "GET" or "/blobs/" not in uri:
            continue
        repository = uri.removeprefix("/v2/").split("/blobs/", 1)[0]
        served[repository] = served.get(repository, 0) + int(
            entry.get("http.response.written") or 0
        )
    return served


def served_so_far() -> dict[str, int]:
    return bytes_served(docker.container_logs(CONTAINER))


def stop(log: Log) -> None:
    if docker.container_exists(CONTAINER):
        log.run(["docker", "rm", "--force", "--volumes", CONTAINER])


def load(config: LabConfig, address: str, log: Log) -> list[str]:
    """Push each stand-in under its upstream name, labelled as a stand-in; the names."""
    pushed = []
    for key, name in upstream_names().items():
        source = config.images[key]
        if not docker.image_exists(source):
            raise StepFailed(f"stand-in {source} is not built: run `python -m mysqlsts.lab build`")
        target = f"{address}/{name}"
        description = f"stand-in for {name} built by the offline lab ({source}); test use only"
        with tempfile.TemporaryDirectory(prefix="lab-stand-in-") as tmp:
            (Path(tmp) / "Dockerfile").write_text(
                f'FROM {source}\nLABEL {STAND_IN_LABEL}="{description}"\n'
            )
            log.run(
                ["docker", "build", "--pull=false", "-t", target, tmp],
                env={"DOCKER_BUILDKIT": "0", "PATH": docker.DEFAULT_PATH},
            )
        log.run(["docker", "push", target])
        log.run(["docker", "image", "rm", target])
        pushed.append(name)
    return pushed
