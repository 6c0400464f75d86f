"""The lab's build plan: every step in order, each cached on its inputs."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from mysqlsts.lab import docker, gobuild, gomod, host, images, nodeimage, root, rootfs
from mysqlsts.lab.build_steps import Log, Step, StepFailed, is_done, log_dir, run_all
from mysqlsts.lab.config import LAB_DIR, LabConfig
from mysqlsts.stopwatch import Stopwatch

# Image directories that have no packages.txt of their own take another's rootfs.
SHARED_BASE = {"kube-proxy": "toolbox"}
# Image directories built on another lab image rather than on a rootfs: the mysql:5.7
# stand-in is the mysql:5.7-debian one minus its hostname binary.
DERIVED_FROM = {"mysql-standin": "mysql-debian-standin"}


def image_key_of(directory: str) -> str:
    """lab/images/mysql-standin -> the lab.toml key mysql_standin."""
    return directory.replace("-", "_")


def plan(config: LabConfig) -> list[Step]:
    go = gobuild.go_version()
    programs = {p.name: p for p in gobuild.programs(config)}
    go_steps = {name: gobuild.step(p, go) for name, p in programs.items()}
    steps: list[Step] = list(go_steps.values())

    # One rootfs per distinct package list.
    image_dirs = sorted(p.name for p in images.IMAGES_DIR.iterdir() if (p / "Dockerfile").is_file())
    # Parents before the images derived from them.
    image_dirs.sort(key=lambda name: name in DERIVED_FROM)
    base_of: dict[str, tuple[str, str]] = {}  # image dir -> (base image tag, its key)
    seen: dict[tuple[str, ...], tuple[str, str]] = {}
    for name in image_dirs:
        if name in DERIVED_FROM:
            continue
        packages_file = images.IMAGES_DIR / SHARED_BASE.get(name, name) / "packages.txt"
        packages = tuple(rootfs.read_packages(packages_file))
        if packages not in seen:
            step = rootfs.rootfs_step(config, SHARED_BASE.get(name, name), list(packages))
            steps.append(step)
            seen[packages] = (rootfs.base_tag(SHARED_BASE.get(name, name), step.key()), step.key())
        base_of[name] = seen[packages]

    image_keys: dict[str, str] = {}
    for static in images.STATIC_IMAGES:
        program = programs[static.program]
        step = images.static_image_step(config, static, program, go_steps[program.name].key())
        steps.append(step)
        image_keys[static.image_key] = step.key()

    kubernetes = programs["kubernetes"]
    for name in image_dirs:
        extra = {}
        if name == "kube-proxy":
            extra = {
                "kube-proxy": (kubernetes.out_dir / "kube-proxy", go_steps["kubernetes"].key())
            }
        if name in DERIVED_FROM:
            parent = image_key_of(DERIVED_FROM[name])
            base_of[name] = (config.images[parent], image_keys[parent])
        base, base_key = base_of[name]
        step = images.context_image_step(config, name, image_key_of(name), base, base_key, extra)
        steps.append(step)
        image_keys[image_key_of(name)] = step.key()

    base = nodeimage.base_step(config, rootfs.read_packages(LAB_DIR / "node" / "packages.txt"))
    steps.append(base)
    node_images = {k: image_keys[k] for k in nodeimage.PRELOADED_IMAGES}
    steps.append(
        nodeimage.node_step(
            config, base.key(), kubernetes, go_steps["kubernetes"].key(), node_images
        )
    )
    return steps


def prepare_host() -> None:
    watch = Stopwatch()
    print("[lab] > host: packages, runtime shim, dockerd ...", flush=True)
    log = Log(log_dir() / "host.log")
    try:
        host.prepare(log)
    except Exception as exc:
        print(f"[lab] FAILED step 'host' : {exc}; full log: {log.path}", flush=True)
        raise SystemExit(1) from None
    finally:
        log.close()
    print(f"[lab] + host ready in {watch}", flush=True)


def summary(config: LabConfig) -> str:
    lines = ["[lab] versions: " + ", ".join(f"{k} {v}" for k, v in config.versions.items())]
    for _key, ref in config.images.items():
        size = docker.image_size(ref)
        lines.append(
            f"[lab]   {ref:60s} {size / 1e6:8.1f} MB" if size else f"[lab]   {ref:60s} (not built)"
        )
    return "\n".join(lines)


def pin(config: LabConfig) -> None:
    run_all(
        [
            Step(
                "pin go modules",
                (time.time(),),
                lambda log, _k: gomod.pin(config, log),
                lambda _k: False,
            )
        ]
    )


def prune_superseded(current_keys: set[str]) -> list[str]:
    """Remove base images of earlier inputs (rootfs-*:<old key>): only the latest is used."""
    listed = subprocess.run(
        [
            "docker",
            "images",
            "--filter",
            "reference=localhost/lab/rootfs-*",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    stale = [ref for ref in listed if ref.rsplit(":", 1)[1] not in current_keys]
    docker.remove_images(stale)
    return stale


def get_root_if_needed(steps: list[Step]) -> None:
    """Stop here, or run the whole build again under ``sudo -n``, when this user is not
    root and some work still to do needs root (mysqlsts.lab.root)."""
    if root.is_root():
        return
    pending = host.root_work() + [s.name for s in steps if s.needs_root and not is_done(s)]
    if not pending:
        return
    if not root.sudo_works():
        print(f"[lab] FAILED {root.refusal(pending)}", flush=True)
        raise SystemExit(1)
    print(f"[lab] as root through sudo -n, for: {'; '.join(pending)}", flush=True)
    raise SystemExit(subprocess.run(root.sudo_argv(["-m", "mysqlsts.lab", "build"])).returncode)


def build(config: LabConfig) -> None:
    try:
        gomod.check(config)
    except StepFailed as error:
        print(f"[lab] FAILED {error}", flush=True)
        raise SystemExit(1) from None
    steps = plan(config)
    get_root_if_needed(steps)
    prepare_host()
    try:
        run_all(steps)
    finally:
        root.hand_back()
    stale = prune_superseded({step.key() for step in steps})
    if stale:
        print(f"[lab] removed {len(stale)} base image(s) of earlier inputs", flush=True)
    gobuild.install_tools(config, gobuild.programs(config))
    print(summary(config), flush=True)


def installed_paths(config: LabConfig) -> list[Path]:
    return [config.bin_dir]
