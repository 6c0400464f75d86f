"""The suite's command-line options, their environment variables, and the parsed result.

Each option can also be set by an environment variable (useful under tox and in CI);
the command line wins over the environment, which wins over the default. Parsing is a
pure function of the option values and the environment so that it is unit-tested.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mysqlsts.errors import InputError
from mysqlsts.option_table import (
    CLUSTER_KINDS,
    DEFAULT_BENCH_DURATION,
    DEFAULT_BENCH_RATES,
    DEFAULT_BENCH_SIZES,
    DEFAULT_LIVENESS_BOUND,
    DEFAULT_RANDOM_RUNS,
    DEFAULT_RANDOM_STEPS,
    DEFAULT_READINESS_BOUND,
    DEFAULT_WORKERS,
    MIN_WORKERS,
    OPTIONS,
)
from mysqlsts.registry_mirror import RegistryMirror, parse_registry_mirror

NODE_ACCESS_CHOICES = ("pod", "none")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    profile: str
    manifests: Path | None
    cluster: str
    kubeconfig: Path | None
    keep_cluster: bool
    cluster_name: str
    local_pv_node: str | None
    deploy_timeout: float
    random_runs: int = DEFAULT_RANDOM_RUNS
    random_steps: int = DEFAULT_RANDOM_STEPS
    workers: int = DEFAULT_WORKERS
    pv_nodes: tuple[tuple[str, str], ...] = ()  # --pv-node FROM=TO, in order
    namespace: str | None = None  # --namespace, for manifests that name none
    bench_sizes: tuple[int, ...] = DEFAULT_BENCH_SIZES
    bench_rates: tuple[int, ...] = DEFAULT_BENCH_RATES
    bench_duration: int = DEFAULT_BENCH_DURATION
    registry_mirror: RegistryMirror | None = None
    readiness_bound: int = DEFAULT_READINESS_BOUND
    liveness_bound: int = DEFAULT_LIVENESS_BOUND
    node_access: str | None = None  # --node-access: "pod", "none", or the provider's way
    node_access_namespace: str | None = None
    node_access_image: str | None = None

    def describe(self) -> str:
        source = f"manifests {self.manifests}" if self.manifests else f"profile {self.profile}"
        return f"{source} on a {self.cluster} cluster"


def positive_int(value: Any, flag: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{flag} must be a whole number, got {value!r}") from None
    if number < 1:
        raise InputError(f"{flag} must be at least 1, got {number}")
    return number


def positive_ints(value: Any, flag: str) -> tuple[int, ...]:
    """``10,100,500`` -> (10, 100, 500): distinct, ascending, each at least 1."""
    parts = [part.strip() for part in str(value).split(",") if part.strip()]
    if not parts:
        raise InputError(f"{flag} needs at least one number, got {value!r}")
    numbers = [positive_int(part, flag) for part in parts]
    return tuple(sorted(set(numbers)))


def parse_pv_nodes(values: list[str]) -> tuple[tuple[str, str], ...]:
    """``FROM=TO`` pairs; a node may be mapped once."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        source, sep, target = str(value).partition("=")
        if not sep or not source.strip() or not target.strip() or "=" in target:
            raise InputError(f"--pv-node {value!r} is not FROM=TO (a PV's node and a cluster node)")
        if any(source.strip() == known for known, _ in pairs):
            raise InputError(f"--pv-node maps {source.strip()} twice")
        pairs.append((source.strip(), target.strip()))
    return tuple(pairs)


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def parse_namespace(value: Any, flag: str = "--namespace") -> str | None:
    """A namespace name (an RFC 1123 label), or None when not given."""
    if value in (None, ""):
        return None
    name = str(value)
    if not _DNS_LABEL.match(name):
        raise InputError(
            f"{flag} {name!r} is not a namespace name (lowercase letters, digits and "
            "'-', at most 63, starting and ending with a letter or digit)"
        )
    return name


def parse_bool(value: str, env: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InputError(f"{env}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def resolve(values: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from command-line ``values`` (None when not given) and the environment.

    Keys are the option names with underscores (``cluster_name``) or their argparse
    dests (``mysqlsts_cluster_name``); an unknown key is a programming error.
    """
    env = os.environ if environ is None else environ
    known = {spec.dest for spec in OPTIONS}
    normalised: dict[str, Any] = {}
    for key, value in values.items():
        dest = key if key.startswith("mysqlsts_") else f"mysqlsts_{key}"
        if dest not in known:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(sorted(known))})")
        normalised[dest] = value
    values = normalised
    raw: dict[str, Any] = {}
    for spec in OPTIONS:
        given = values.get(spec.dest)
        if spec.is_flag:
            # A store_true flag reads False when absent; only True overrides the env.
            if given:
                raw[spec.dest] = True
            elif spec.env in env:
                raw[spec.dest] = parse_bool(env[spec.env], spec.env)
            else:
                raw[spec.dest] = spec.default
        elif spec.repeatable:
            if given:
                raw[spec.dest] = list(given)
            elif env.get(spec.env):
                raw[spec.dest] = [v for v in env[spec.env].split(",") if v.strip()]
            else:
                raw[spec.dest] = []
        elif given not in (None, ""):
            raw[spec.dest] = given
        elif env.get(spec.env):
            raw[spec.dest] = env[spec.env]
        else:
            raw[spec.dest] = spec.default

    cluster = str(raw["mysqlsts_cluster"])
    if cluster not in CLUSTER_KINDS:
        raise InputError(f"--cluster must be one of {', '.join(CLUSTER_KINDS)}, got {cluster!r}")
    try:
        deploy_timeout = float(raw["mysqlsts_deploy_timeout"])
    except ValueError:
        raise InputError(
            f"--deploy-timeout must be a number of seconds, got {raw['mysqlsts_deploy_timeout']!r}"
        ) from None
    if deploy_timeout <= 0:
        raise InputError(f"--deploy-timeout must be positive, got {deploy_timeout:g}")

    kubeconfig = raw["mysqlsts_kubeconfig"]
    if cluster == "kind" and kubeconfig:
        raise InputError(
            "--kubeconfig is for --cluster existing; a kind cluster's kubeconfig is written "
            "by the run itself"
        )
    if cluster == "kind" and raw["mysqlsts_local_pv_node"]:
        raise InputError(
            "--local-pv-node is for --cluster existing; on kind each PV node gets a worker "
            "(--pv-node FROM=TO to choose)"
        )
    if cluster == "existing" and raw["mysqlsts_registry_mirror"]:
        raise InputError(
            "--registry-mirror is for kind clusters; an existing cluster's nodes pull as "
            "their own container runtime is configured"
        )
    workers = positive_int(raw["mysqlsts_workers"], "--workers")
    if workers < MIN_WORKERS:
        raise InputError(
            f"--workers must be at least {MIN_WORKERS} (one for the PVs, one spare), got {workers}"
        )
    if cluster == "existing" and not kubeconfig:
        kubeconfig = env.get("KUBECONFIG", "").split(os.pathsep)[0] or str(
            Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"
        )

    node_access = raw["mysqlsts_node_access"] or None
    if node_access is not None and node_access not in NODE_ACCESS_CHOICES:
        raise InputError(
            f"--node-access must be one of {', '.join(NODE_ACCESS_CHOICES)}, got {node_access!r}"
        )
    if node_access != "pod" and (
        raw["mysqlsts_node_access_namespace"] or raw["mysqlsts_node_access_image"]
    ):
        raise InputError(
            "--node-access-namespace and --node-access-image go with --node-access pod"
        )

    manifests = raw["mysqlsts_manifests"]
    return Settings(
        profile=str(raw["mysqlsts_profile"]),
        manifests=Path(manifests).expanduser() if manifests else None,
        cluster=cluster,
        kubeconfig=Path(kubeconfig).expanduser() if kubeconfig else None,
        keep_cluster=bool(raw["mysqlsts_keep_cluster"]),
        cluster_name=str(raw["mysqlsts_cluster_name"]),
        local_pv_node=raw["mysqlsts_local_pv_node"] or None,
        deploy_timeout=deploy_timeout,
        random_runs=positive_int(raw["mysqlsts_random_runs"], "--random-runs"),
        random_steps=positive_int(raw["mysqlsts_random_steps"], "--random-steps"),
        workers=workers,
        pv_nodes=parse_pv_nodes(raw["mysqlsts_pv_node"]),
        namespace=parse_namespace(raw["mysqlsts_namespace"]),
        bench_sizes=positive_ints(raw["mysqlsts_bench_sizes"], "--bench-sizes"),
        bench_rates=positive_ints(raw["mysqlsts_bench_rates"], "--bench-rates"),
        bench_duration=positive_int(raw["mysqlsts_bench_duration"], "--bench-duration"),
        registry_mirror=parse_registry_mirror(raw["mysqlsts_registry_mirror"]),
        readiness_bound=positive_int(raw["mysqlsts_readiness_bound"], "--readiness-bound"),
        liveness_bound=positive_int(raw["mysqlsts_liveness_bound"], "--liveness-bound"),
        node_access=node_access,
        node_access_namespace=parse_namespace(
            raw["mysqlsts_node_access_namespace"], "--node-access-namespace"
        ),
        node_access_image=raw["mysqlsts_node_access_image"] or None,
    )
