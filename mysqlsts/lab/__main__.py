"""``python -m mysqlsts.lab build|clean|summary``: the offline lab's command line."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

from mysqlsts import settings
from mysqlsts.errors import SuiteError
from mysqlsts.lab import build, config, docker


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


def lab_needed(pytest_args: list[str]) -> bool:
    """Whether a suite run with these pytest arguments needs the lab's images.

    It does for a kind cluster, unless the run deploys the upstream profile (its images
    come from registries) and names its own node image: the offline profile (the default)
    and manifests derived from it use the stand-ins, and kind uses the lab's node image.
    """
    parser = argparse.ArgumentParser(add_help=False)
    for spec in settings.OPTIONS:
        if spec.is_flag:
            parser.add_argument(spec.flag, dest=spec.dest, action="store_true")
        elif spec.repeatable:
            parser.add_argument(spec.flag, dest=spec.dest, action="append")
        else:
            parser.add_argument(spec.flag, dest=spec.dest)
    known, _ = parser.parse_known_args(pytest_args)
    try:
        chosen = settings.resolve(vars(known))
    except SuiteError:
        return False  # the suite itself reports bad options, with its one line
    upstream = chosen.manifests is None and chosen.profile == "upstream"
    own_node_image = bool(os.environ.get("MYSQLSTS_KIND_NODE_IMAGE"))
    return chosen.cluster == "kind" and not (upstream and own_node_image)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mysqlsts.lab", description=__doc__)
    parser.add_argument(
        "command",
        choices=["build", "ensure", "clean", "summary", "pin"],
        help="build: everything (cached); ensure PYTEST_ARGS: build only if a suite run "
        "with those arguments needs the lab (offline profile on kind); clean: remove all "
        "the lab made; summary: versions and image sizes; pin: rewrite lab/go/*/go.mod "
        "from lab.toml",
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cfg = config.load()
    if args.command == "build":
        build.build(cfg)
    elif args.command == "ensure":
        if lab_needed(args.pytest_args):
            build.build(cfg)
        else:
            print(
                "[lab] not needed: no kind cluster, or the upstream profile "
                "on a node image of your own"
            )
    elif args.command == "pin":
        build.pin(cfg)
    elif args.command == "clean":
        clean(cfg)
    else:
        print(build.summary(cfg))


if __name__ == "__main__":
    main()
