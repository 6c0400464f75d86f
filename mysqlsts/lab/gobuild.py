"""Build the lab's Go programs from the Go module proxy.

Each program is built from a small wrapper module under ``lab/go/<name>`` whose go.mod
and go.sum pin every dependency, so a build is reproducible and checksummed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mysqlsts.lab.build_steps import Log, Step, StepFailed
from mysqlsts.lab.config import LAB_DIR, LabConfig, cache_dir

GO_DIR = LAB_DIR / "go"


@dataclass(frozen=True)
class GoProgram:
    """One ``go build`` of a wrapper module: package paths -> binaries in ``out_dir``."""

    name: str
    packages: tuple[str, ...]
    binaries: tuple[str, ...]
    ldflags: str = "-s -w"

    @property
    def module_dir(self) -> Path:
        return GO_DIR / self.name

    @property
    def out_dir(self) -> Path:
        return cache_dir() / "go-out" / self.name


def version_ldflags(config: LabConfig) -> str:
    """The version information kubeadm and kubectl report (kubeadm derives image tags from it)."""
    version = config.versions["kubernetes"]
    major, minor = version.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={config.versions['build_date']}",
        ]
    return " ".join(flags)


KUBERNETES_COMMANDS = (
    "kubeadm",
    "kubelet",
    "kubectl",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
)


def programs(config: LabConfig) -> list[GoProgram]:
    etcd_version = config.versions["etcd"]
    return [
        GoProgram(
            "kubernetes",
            tuple(f"k8s.io/kubernetes/cmd/{c}" for c in KUBERNETES_COMMANDS),
            KUBERNETES_COMMANDS,
            version_ldflags(config),
        ),
        GoProgram(
            "etcd",
            ("go.etcd.io/etcd/server/v3",),
            ("etcd",),
            f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=lab-{etcd_version}",
        ),
        GoProgram("coredns", ("github.com/coredns/coredns",), ("coredns",)),
        GoProgram("kind", ("sigs.k8s.io/kind",), ("kind",)),
        GoProgram(
            "local-path-provisioner",
            ("github.com/rancher/local-path-provisioner",),
            ("local-path-provisioner",),
        ),
        GoProgram("pause", (".",), ("pause",)),
        GoProgram("kindnetd", (".",), ("kindnetd",)),
    ]


def go_version() -> str:
    return subprocess.run(["go", "version"], capture_output=True, text=True, check=True).stdout


def build(program: GoProgram, log: Log) -> None:
    out = program.out_dir
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local")
    argv: list[str | Path] = ["go", "build", "-trimpath", "-ldflags", program.ldflags]
    if len(program.packages) == 1:
        argv += ["-o", tmp / program.binaries[0], program.packages[0]]
    else:  # one invocation builds the shared packages once for all commands
        argv += ["-o", f"{tmp}/", *program.packages]
    log.run(argv, env=env, cwd=program.module_dir)
    for binary in program.binaries:
        if not (tmp / binary).is_file():
            raise StepFailed(f"go build produced no {binary}")
    # Only a complete set of binaries replaces the previous one.
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def step(program: GoProgram, go: str) -> Step:
    return Step(
        name=f"go build {program.name}",
        inputs=(go, program.packages, program.ldflags, program.module_dir, Path(__file__)),
        action=lambda log, _key: build(program, log),
        is_present=lambda _key: all((program.out_dir / b).is_file() for b in program.binaries),
    )


def install_tools(config: LabConfig, progs: list[GoProgram]) -> None:
    """Put the client tools the suite runs (kind, kubectl) in the lab's bin dir."""
    config.bin_dir.mkdir(parents=True, exist_ok=True)
    wanted = {"kind", "kubectl", "kubeadm"}
    for program in progs:
        for binary in program.binaries:
            if binary in wanted:
                target = config.bin_dir / binary
                target.unlink(missing_ok=True)
                target.symlink_to(program.out_dir / binary)
