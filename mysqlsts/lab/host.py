"""Prepare the host: Debian packages, the runtime shim where needed, a running dockerd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from mysqlsts.lab.build_steps import Log, StepFailed
from mysqlsts.lab.config import LAB_DIR, cache_dir
from mysqlsts.waiting import Seen, WaitTimeout, wait_for

# Commands the lab needs on the host, and the Debian package that brings each.
HOST_COMMANDS = {
    "dockerd": "docker.io",
    "debootstrap": "debootstrap",
    "jq": "jq",  # used by the runtime shim
}

# Each kind node runs a kubelet, containerd and kube-proxy, each with inotify instances;
# the kernel's default of 128 per user runs out at about six nodes (kube-proxy then dies
# with "too many open files" and a cluster's Services stop working). kind's documentation
# asks for these values on hosts that run several clusters.
INOTIFY_LIMITS = {
    "fs.inotify.max_user_instances": 8192,
    "fs.inotify.max_user_watches": 524288,
}
CAP_SYS_RESOURCE = 24
SHIM_PATH = Path("/usr/local/sbin/lab-runc-shim")
SHIM_RUNTIME = "lab-runc"
DAEMON_JSON = Path("/etc/docker/daemon.json")


def missing_packages() -> list[str]:
    return sorted({pkg for cmd, pkg in HOST_COMMANDS.items() if shutil.which(cmd) is None})


def install_packages(log: Log, packages: list[str]) -> None:
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    log.run(["apt-get", "update"], env=env)
    log.run(["apt-get", "install", "-y", "--no-install-recommends", *packages], env=env)


def bounding_set_lacks_sys_resource(status: str | None = None) -> bool:
    """True when this process's capability bounding set lacks CAP_SYS_RESOURCE.

    Privileged containers then fail in runc ("unable to apply caps"), so dockerd needs
    the shim that drops that capability from the OCI spec.
    """
    text = status if status is not None else Path("/proc/self/status").read_text()
    for line in text.splitlines():
        if line.startswith("CapBnd:"):
            return not (int(line.split()[1], 16) >> CAP_SYS_RESOURCE) & 1
    return False


def docker_running() -> bool:
    return (
        subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
        if shutil.which("docker")
        else False
    )


def desired_daemon_config(current: dict, needs_shim: bool) -> dict:
    """dockerd's daemon.json with the shim registered (or the lab's shim removed)."""
    config = dict(current)
    runtimes = dict(config.get("runtimes", {}))
    if needs_shim:
        runtimes[SHIM_RUNTIME] = {"path": str(SHIM_PATH)}
        config["runtimes"] = runtimes
        config["default-runtime"] = SHIM_RUNTIME
    else:
        runtimes.pop(SHIM_RUNTIME, None)
        if runtimes:
            config["runtimes"] = runtimes
        else:
            config.pop("runtimes", None)
        if config.get("default-runtime") == SHIM_RUNTIME:
            config.pop("default-runtime")
    return config


def configure_runtime(log: Log) -> bool:
    """Install or remove the shim as the host needs; True when daemon.json changed."""
    needs_shim = bounding_set_lacks_sys_resource()
    log.write(f"CAP_SYS_RESOURCE missing from the bounding set: {needs_shim}")
    if needs_shim:
        SHIM_PATH.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LAB_DIR / "host" / "runc-shim", SHIM_PATH)
        SHIM_PATH.chmod(0o755)
    current = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    wanted = desired_daemon_config(current, needs_shim)
    if wanted == current:
        return False
    DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(wanted, indent=2) + "\n")
    log.write(f"wrote {DAEMON_JSON}: {wanted}")
    return True


def start_dockerd(log: Log, restart: bool) -> None:
    """Start dockerd in the background (no init system is assumed) and wait for it."""
    if restart and docker_running():
        # dockerd reads daemon.json at start; SIGHUP does not reload runtimes reliably.
        log.run(["pkill", "-TERM", "-x", "dockerd"])
        _wait(lambda: not docker_running(), 60, "dockerd to stop")
    if docker_running():
        return
    daemon_log = cache_dir() / "logs" / "dockerd.log"
    daemon_log.parent.mkdir(parents=True, exist_ok=True)
    log.write(f"starting dockerd, its log: {daemon_log}")
    with daemon_log.open("a") as out:
        subprocess.Popen(
            ["dockerd"], stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True
        )
    try:
        _wait(docker_running, 60, "dockerd to answer `docker info`")
    except StepFailed as exc:
        tail = daemon_log.read_text().splitlines()[-5:]
        raise StepFailed(f"{exc}; dockerd log ends: {' | '.join(tail)}") from None


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """The one wait (mysqlsts.waiting), failing as a lab step fails."""
    try:
        wait_for(what, lambda: Seen(predicate(), "not yet"), timeout=timeout)
    except WaitTimeout as exc:
        raise StepFailed(str(exc)) from None


def sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def raise_inotify_limits(log: Log) -> list[str]:
    """Raise the inotify limits below INOTIFY_LIMITS (never lower one); what was raised."""
    raised = []
    for name, wanted in INOTIFY_LIMITS.items():
        path = sysctl_path(name)
        current = int(path.read_text().strip())
        if current < wanted:
            path.write_text(f"{wanted}\n")
            raised.append(f"{name} {current} -> {wanted}")
    if raised:
        log.write(f"raised inotify limits for several kind nodes: {', '.join(raised)}")
    return raised


def shim_pending() -> bool:
    """Whether dockerd's runtime shim still has to be installed or registered (or removed)."""
    needs_shim = bounding_set_lacks_sys_resource()
    if needs_shim and (
        not SHIM_PATH.is_file()
        or SHIM_PATH.read_bytes() != (LAB_DIR / "host" / "runc-shim").read_bytes()
    ):
        return True
    current = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    return desired_daemon_config(current, needs_shim) != current


def low_inotify_limits() -> list[str]:
    return [
        name
        for name, wanted in INOTIFY_LIMITS.items()
        if int(sysctl_path(name).read_text().strip()) < wanted
    ]


def root_work() -> list[str]:
    """What the host step would do that needs root, in words (empty: nothing)."""
    work = []
    packages = missing_packages()
    if packages:
        work.append(f"install {', '.join(packages)} (apt-get)")
    if shim_pending():
        work.append(f"register the runtime shim {SHIM_PATH} in {DAEMON_JSON}")
    if not docker_running():
        work.append("start dockerd")
    return work


def prepare(log: Log) -> None:
    """The whole host step: packages, runtime shim, dockerd, inotify limits."""
    if os.geteuid() != 0:
        # A user's own Docker, prepared already (build() ran this as root otherwise).
        low = low_inotify_limits()
        if low:
            log.write(f"not root: {', '.join(low)} left as they are (several clusters at once "
                      "may run out of inotify instances)")  # fmt: skip
        return
    raise_inotify_limits(log)
    packages = missing_packages()
    if packages:
        log.write(f"installing missing host packages: {packages}")
        install_packages(log, packages)
    changed = configure_runtime(log)
    start_dockerd(log, restart=changed)
