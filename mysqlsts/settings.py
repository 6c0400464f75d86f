"""The suite's command-line options, their environment variables, and the parsed result.

Each option can also be set by an environment variable (useful under tox and in CI);
the command line wins over the environment, which wins over the default. Parsing is a
pure function of the option values and the environment so that it is unit-tested.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mysqlsts.errors import InputError

CLUSTER_KINDS = ("kind", "existing")
DEFAULT_PROFILE = "offline-debian"
DEFAULT_CLUSTER_NAME = "mysqlsts"
DEFAULT_DEPLOY_TIMEOUT = 600
# The randomized replication test: a few short runs by default (about 10 s on the lab).
DEFAULT_RANDOM_RUNS = 6
DEFAULT_RANDOM_STEPS = 10
# The performance profile (-m bench): data sizes of the clone (MB), write rates of the lag
# measurement (rows/s of 1 KiB), and how long each rate is held (s).
DEFAULT_BENCH_SIZES = (10, 100, 500)
DEFAULT_BENCH_RATES = (50, 200, 800)
DEFAULT_BENCH_DURATION = 30
# A kind cluster's workers: those the PVs' nodes map to, and spare ones a pod that its PV
# does not hold could move to (without a spare node, placement checks cannot fail).
DEFAULT_WORKERS = 3
# How long a hung mysqld may stay behind the read Service / go without a restart: what the
# article's probes give (readiness: period 2 s x 3 failures + 1 s timeout, plus 10 s for
# the kubelet and the endpoints controller; liveness: twice period 10 s x 3 + 5 s timeout,
# plus 60 s), judged against these whatever the manifests' own probes say.
DEFAULT_READINESS_BOUND = 17
DEFAULT_LIVENESS_BOUND = 130
MIN_WORKERS = 2

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class OptionSpec:
    flag: str
    env: str
    help: str
    default: Any = None
    metavar: str | None = None
    is_flag: bool = False
    # Given several times on the command line; comma-separated in the environment.
    repeatable: bool = False

    @property
    def dest(self) -> str:
        return "mysqlsts_" + self.flag.lstrip("-").replace("-", "_")


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "--profile",
        "MYSQLSTS_PROFILE",
        "manifest profile to deploy: 'upstream' (the article's manifests as published) or "
        "one under manifests/profiles/: 'offline-debian' (stand-in images, mysql:5.7 read as "
        "mysql:5.7-debian), 'offline' (stand-ins as published: no hostname, fails in setup "
        "like today's mysql:5.7), 'tutorial-variant' (the Kubernetes tutorial's shape)",
        default=DEFAULT_PROFILE,
        metavar="NAME",
    ),
    OptionSpec(
        "--manifests",
        "MYSQLSTS_MANIFESTS",
        "deploy these manifests instead of a profile: a directory of YAML files (applied "
        "in the article's order) or a kustomization (directory or kustomization.yaml)",
        metavar="PATH",
    ),
    OptionSpec(
        "--namespace",
        "MYSQLSTS_NAMESPACE",
        "namespace for manifests that name none (the Kubernetes tutorial's): created for the "
        "run and deleted after it (default mysqlsts-<run id>); manifests with a namespace "
        "keep theirs",
        metavar="NAME",
    ),
    OptionSpec(
        "--cluster",
        "MYSQLSTS_CLUSTER",
        "where to deploy: 'kind' (a fresh kind cluster for the run: a control plane and "
        "--workers workers) or 'existing' (the cluster of --kubeconfig; only what the run "
        "creates is removed)",
        default="kind",
        metavar="kind|existing",
    ),
    OptionSpec(
        "--kubeconfig",
        "MYSQLSTS_KUBECONFIG",
        "kubeconfig of the existing cluster (default: $KUBECONFIG, then ~/.kube/config)",
        metavar="PATH",
    ),
    OptionSpec(
        "--keep-cluster",
        "MYSQLSTS_KEEP_CLUSTER",
        "leave the cluster, the deployment and the PV data in place after the run (for inspection)",
        default=False,
        is_flag=True,
    ),
    OptionSpec(
        "--cluster-name",
        "MYSQLSTS_CLUSTER_NAME",
        "name of the kind cluster the run creates",
        default=DEFAULT_CLUSTER_NAME,
        metavar="NAME",
    ),
    OptionSpec(
        "--workers",
        "MYSQLSTS_WORKERS",
        f"kind: worker nodes besides the control plane (at least {MIN_WORKERS}); each node "
        "the PVs name gets its own worker, the others are spare",
        default=DEFAULT_WORKERS,
        metavar="N",
    ),
    OptionSpec(
        "--pv-node",
        "MYSQLSTS_PV_NODE",
        "a PV node the cluster lacks, and the cluster node that stands for it (repeatable; "
        "on kind the default is one worker per PV node)",
        metavar="FROM=TO",
        repeatable=True,
    ),
    OptionSpec(
        "--local-pv-node",
        "MYSQLSTS_LOCAL_PV_NODE",
        "existing clusters: the node that stands for every PV node the cluster lacks "
        "(shorthand for --pv-node FROM=NODE for each of them)",
        metavar="NODE",
    ),
    OptionSpec(
        "--random-runs",
        "MYSQLSTS_RANDOM_RUNS",
        "randomized replication test: how many runs of its state machine Hypothesis "
        "generates (raise it for nightly runs; shrinking a failure adds more)",
        default=DEFAULT_RANDOM_RUNS,
        metavar="N",
    ),
    OptionSpec(
        "--random-steps",
        "MYSQLSTS_RANDOM_STEPS",
        "randomized replication test: steps (writes, transactions, comparisons) per run",
        default=DEFAULT_RANDOM_STEPS,
        metavar="N",
    ),
    OptionSpec(
        "--bench-sizes",
        "MYSQLSTS_BENCH_SIZES",
        "performance profile: InnoDB data sizes (MB) the master holds when a new replica "
        "clones it, comma-separated",
        default=",".join(map(str, DEFAULT_BENCH_SIZES)),
        metavar="MB,MB,...",
    ),
    OptionSpec(
        "--bench-rates",
        "MYSQLSTS_BENCH_RATES",
        "performance profile: steady write rates (rows/s of 1 KiB) under which replication "
        "lag is measured, comma-separated",
        default=",".join(map(str, DEFAULT_BENCH_RATES)),
        metavar="N,N,...",
    ),
    OptionSpec(
        "--bench-duration",
        "MYSQLSTS_BENCH_DURATION",
        "performance profile: seconds each write rate is held",
        default=DEFAULT_BENCH_DURATION,
        metavar="SECONDS",
    ),
    OptionSpec(
        "--readiness-bound",
        "MYSQLSTS_READINESS_BOUND",
        "seconds within which a hung mysqld must leave the read Service's ready endpoints "
        "(default: what the article's readiness probe gives); the time measured is reported",
        default=DEFAULT_READINESS_BOUND,
        metavar="SECONDS",
    ),
    OptionSpec(
        "--liveness-bound",
        "MYSQLSTS_LIVENESS_BOUND",
        "seconds within which a mysqld that stops answering must be restarted by the kubelet "
        "(default: what the article's liveness probe gives); the time measured is reported",
        default=DEFAULT_LIVENESS_BOUND,
        metavar="SECONDS",
    ),
    OptionSpec(
        "--registry-mirror",
        "MYSQLSTS_REGISTRY_MIRROR",
        "kind: pull kind's node image from this registry, and have the nodes pull the images "
        "of docker.io, gcr.io and registry.k8s.io through it (an internal mirror); "
        "http:// or https:// may come first (default: http for a loopback address, else "
        "https); a loopback mirror must be a Docker container publishing that port",
        metavar="HOST[:PORT]",
    ),
    OptionSpec(
        "--deploy-timeout",
        "MYSQLSTS_DEPLOY_TIMEOUT",
        "seconds to wait for the StatefulSet to become ready after applying the manifests",
        default=DEFAULT_DEPLOY_TIMEOUT,
        metavar="SECONDS",
    ),
)


def help_text(spec: OptionSpec) -> str:
    default = "" if spec.default in (None, False) else f"; default {spec.default}"
    return f"{spec.help} [env {spec.env}{default}]"


@dataclass(frozen=True)
class RegistryMirror:
    host: str
    port: int | None
    scheme: str  # how the nodes' containerd talks to it: http or https

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


_MIRROR = re.compile(
    r"^(?:(?P<scheme>https?)://)?(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?/?$"
)


def parse_registry_mirror(value: Any) -> RegistryMirror | None:
    """``HOST[:PORT]``, optionally after ``http://`` or ``https://``; None when not given.

    Without a scheme a loopback mirror is spoken to in plain HTTP (as Docker does for
    loopback registries), any other over HTTPS.
    """
    if value in (None, ""):
        return None
    text = str(value).strip()
    match = _MIRROR.match(text)
    port = int(match["port"]) if match and match["port"] else None
    if not match or (port is not None and not 0 < port < 65536):
        raise InputError(
            f"--registry-mirror {text!r} is not HOST[:PORT] (for example registry.example:5000)"
        )
    mirror = RegistryMirror(match["host"], port, match["scheme"] or "https")
    if not match["scheme"] and mirror.is_loopback:
        mirror = RegistryMirror(mirror.host, port, "http")
    return mirror


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


def parse_namespace(value: Any) -> str | None:
    """A namespace name (an RFC 1123 label), or None when not given."""
    if value in (None, ""):
        return None
    name = str(value)
    if not _DNS_LABEL.match(name):
        raise InputError(
            f"--namespace {name!r} is not a namespace name (lowercase letters, digits and "
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
    )
