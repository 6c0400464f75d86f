"""``python -m mysqlsts.lab build|clean|summary|pin|rehearse``: the offline lab's command line."""

from __future__ import annotations

import argparse
import shutil
import subprocess

from mysqlsts.lab import build, config, docker, rehearsal


def clean(cfg: config.LabConfig) -> None:
    """Remove every image and cached file the lab made (dockerd and its shim stay)."""
    ours = subprocess.run(
        ["docker", "images", "--filter", f"label={docker.INPUTS_LABEL}", "--format", "{{.ID}}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    bases = subprocess.run(
        [
            "docker",
            "images",
            "--filter",
            "reference=localhost/lab/*",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    docker.remove_images(sorted(set(ours) | set(bases) | set(cfg.images.values())))
    shutil.rmtree(config.cache_dir(), ignore_errors=True)
    print(f"[lab] removed the lab's images and {config.cache_dir()}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mysqlsts.lab", description=__doc__)
    parser.add_argument(
        "command",
        choices=["build", "clean", "summary", "pin", "rehearse"],
        help="build: everything (cached); clean: remove all the lab made; summary: versions "
        "and image sizes; pin: rewrite lab/go/*/go.mod from lab.toml (to build only when a "
        "suite run needs the lab: python -m mysqlsts.cli.ensure_lab PYTEST_ARGS); rehearse: "
        "run the nightly's e2e job here as a user who is not root, through a loopback "
        "registry mirror (as root)",
    )
    parser.add_argument("--profile", default="upstream-debian", help="rehearse: the matrix leg")
    parser.add_argument(
        "--port", type=int, default=rehearsal.DEFAULT_PORT, help="rehearse: the registry's port"
    )
    parser.add_argument(
        "--pytest-args", default="", help="rehearse: the workflow's pytest_args input"
    )
    args = parser.parse_args()
    cfg = config.load()
    if args.command == "build":
        build.build(cfg)
    elif args.command == "rehearse":
        raise SystemExit(rehearsal.rehearse(cfg, args.profile, args.port, args.pytest_args))
    elif args.command == "pin":
        build.pin(cfg)
    elif args.command == "clean":
        clean(cfg)
    else:
        print(build.summary(cfg))


if __name__ == "__main__":
    main()
