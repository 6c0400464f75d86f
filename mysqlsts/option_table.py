"""Every option of the suite: its flag, environment variable, default and help, in one
table that the pytest plugin, ``ensure_lab`` and :func:`mysqlsts.settings.resolve` read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        "--node-access",
        "MYSQLSTS_NODE_ACCESS",
        "how the fault checks reach a node's processes: 'pod' (a short-lived privileged pod "
        "pinned to the node: any cluster whose --node-access-namespace admits privileged "
        "pods) or 'none'; without it, kind's nodes are reached through Docker and an existing "
        "cluster's not at all (its fault checks are skipped, saying so)",
        metavar="pod|none",
    ),
    OptionSpec(
        "--node-access-namespace",
        "MYSQLSTS_NODE_ACCESS_NAMESPACE",
        "--node-access pod: the namespace of the privileged pods (default: the deployment's); "
        "it must admit privileged pods (Pod Security 'privileged'), which the run checks "
        "with a server-side dry run before the first check",
        metavar="NAME",
    ),
    OptionSpec(
        "--node-access-image",
        "MYSQLSTS_NODE_ACCESS_IMAGE",
        "--node-access pod: the privileged pods' image, which needs nsenter (default: the "
        "run's client image)",
        metavar="IMAGE",
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
