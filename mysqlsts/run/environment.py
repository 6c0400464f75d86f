"""One run's environment: manifests, cluster and deployment, up once and down once.

The controller process (the only process without pytest-xdist, the coordinator with it)
owns a :class:`Run`: it checks everything cheap first (nothing created), then brings the
cluster and the deployment up, recording every creation so that :meth:`Run.down` undoes
exactly those, after a failure or a Ctrl-C too. Workers receive a :class:`RunInfo` (plain
JSON) and rebuild their clients and the :class:`Deployment` from it.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mysqlsts.cluster import node_faults
from mysqlsts.cluster.factory import make_provider
from mysqlsts.cluster.node_faults import PodNodes
from mysqlsts.cluster.provider import NODE_ACCESS_POD, ClusterInfo, Provider
from mysqlsts.db.mysql import AccessDenied, MySQL
from mysqlsts.deploy import apply, pv_directories
from mysqlsts.errors import CrashLoop, DeploymentFailed, SuiteError
from mysqlsts.files import remove_tree
from mysqlsts.k8s import diagnosis
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.object_waits import wait_node_ready, wait_service_account
from mysqlsts.k8s.pod_waits import wait_pod_ready
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.manifests import source, transformations
from mysqlsts.manifests.model import Deployment, discover, statefulset_namespace
from mysqlsts.manifests.placement import Placement
from mysqlsts.redaction import redact, register_secret
from mysqlsts.reporting import namespace_evidence
from mysqlsts.run import node_access
from mysqlsts.run.node_access import NodeAccess
from mysqlsts.settings import Settings
from mysqlsts.stopwatch import Stopwatch
from mysqlsts.waiting import WaitTimeout

LOG_TAIL = 50  # lines of a failed container's log read for the diagnosis

Obj = dict[str, Any]

# The evidence of a setup that failed, headed by its one-line diagnosis.
SETUP_EVIDENCE_FILE = "mysqlsts-setup-failure.txt"


@dataclass
class RunInfo:
    """What every process knows about the run (serialisable for xdist workers)."""

    run_id: str
    source: str
    objects: list[Obj]
    changes: list[str]
    provider: str
    cluster_name: str
    kubeconfig: str
    state_dir: str
    client_image: str
    # PV name -> the cluster nodes that hold its directory (one for a local PV).
    pv_placement: dict[str, list[str]] = field(default_factory=dict)
    # How to reach a node's processes (mysqlsts.run.node_access): the way, the node agents'
    # namespace and image (pod), why there is none when it was asked for.
    node_access: str = ""
    node_access_namespace: str = ""
    node_access_image: str = ""
    node_access_refused: str = ""
    notes: list[str] = field(default_factory=list)
    # Built once per process from ``objects`` (not serialised).
    _deployment: Deployment | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> str:
        data = asdict(self)
        del data["_deployment"]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> RunInfo:
        data = json.loads(text)
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    @property
    def pv_nodes(self) -> list[str]:
        """The cluster nodes that hold the manifests' PVs, sorted."""
        return sorted({n for nodes in self.pv_placement.values() for n in nodes})

    def deployment(self) -> Deployment:
        """The deployment the run applied, discovered once in this process."""
        if self._deployment is None:
            self._deployment = discover(self.objects, self.source)
        return self._deployment

    def kube(self, process: str = "main") -> Kube:
        # One discovery cache per process: the dynamic client rewrites it unlocked.
        cache = Path(self.state_dir) / f"discovery-{process}.json"
        return Kube.from_kubeconfig(Path(self.kubeconfig), discovery_cache=cache)


def new_run_id() -> str:
    return secrets.token_hex(4)


class Run:
    def __init__(
        self,
        settings: Settings,
        say: Callable[[str], None],
        report_dir: Path,
        run_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.say = say
        self.report_dir = report_dir
        # The plugin passes the id it named the run's report folder with.
        self.run_id = run_id or new_run_id()
        self.state_dir = Path(tempfile.gettempdir()) / f"mysqlsts-{self.run_id}"
        self.provider: Provider | None = None
        self.cluster: ClusterInfo | None = None
        self.kube: Kube | None = None
        self.deployment: Deployment | None = None
        self.changes: list[str] = []
        self.source_label = ""
        self.record = apply.DeployRecord()
        self.placement: Placement | None = None
        self.paths: dict[str, pv_directories.PathRecord] = {}
        self.info: RunInfo | None = None
        self.teardown_lines: list[str] = []
        self.node_access: NodeAccess | None = None
        self._down = False

    # -- phase 1: nothing is created ----------------------------------------------------
    def preflight(self) -> None:
        found = source.locate(self.settings.profile, self.settings.manifests)
        self.source_label = found.label
        objects, statefulset = source.load(found)
        # Manifests with a namespace keep it; those without get the run's own.
        namespace = statefulset_namespace(statefulset) or run_namespace(self.settings, self.run_id)
        prepared = transformations.prepare(objects, namespace, self.run_id)
        self.changes = prepared.changes
        deployment = discover(prepared.objects, found.label)
        # From here on the password never leaves the process unmasked.
        register_secret(deployment.root_password)
        self.provider = make_provider(
            self.settings, self.state_dir, list(deployment.images), deployment.mysql_image
        )
        for line in self.provider.preflight():
            self.say(f"mysqlsts: {line}")
        self.placement = self.provider.place(list(deployment.objects))
        mapped = transformations.map_pv_nodes(list(deployment.objects), self.placement.mapping)
        self.changes += mapped.changes
        # Only the PVs' node affinity changed: nothing the model derives depends on it.
        self.deployment = replace(deployment, objects=tuple(mapped.objects))

    # -- phase 2: create, recording each step --------------------------------------------
    def up(self) -> RunInfo:
        assert self.provider is not None and self.deployment is not None, "preflight() first"
        assert self.placement is not None
        deployment, placement = self.deployment, self.placement
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.say(f"mysqlsts: bringing up a {self.settings.cluster} cluster")
        cluster_watch = Stopwatch()
        try:
            self.cluster = self.provider.up(placement)
            self.say(f"mysqlsts: cluster {self.cluster.name} ready in {cluster_watch}")
            self.kube = Kube.from_kubeconfig(
                self.cluster.kubeconfig, discovery_cache=self.state_dir / "discovery-main.json"
            )
            # A kind cluster fresh from `kind create` may not have Ready nodes or the
            # default service account yet; the helper pods need both.
            for node in placement.pv_nodes:
                wait_node_ready(self.kube, node, timeout=180)
            wait_service_account(self.kube, pv_directories.HELPER_NAMESPACE)
            skip = apply.check_conflicts(self.kube, deployment, self.run_id, self.record)
            image = pv_directories.helper_image(deployment.mysql_image)
            self.say(f"mysqlsts: checking PV paths on {', '.join(placement.pv_nodes) or 'no node'}")
            self.paths = pv_directories.prepare(
                self.kube, self.run_id, image, placement.paths_by_node()
            )
            self.say(f"mysqlsts: applying {len(deployment.objects)} objects ({self.source_label})")
            apply.apply_all(self.kube, deployment, skip, self.record)
            applied = Stopwatch()
            wait_until_up(
                self.kube,
                MySQL(self.kube, deployment),
                deployment,
                self.settings.deploy_timeout,
                self.say,
            )
            self.say(f"mysqlsts: deployment ready in {applied} after it was applied")
        except (SuiteError, KubeError, WaitTimeout) as error:
            # Every failure here ends the run with one line, whatever raised it.
            problem = error if isinstance(error, SuiteError) else DeploymentFailed(str(error))
            saved = self.save_evidence(str(problem))
            if saved:
                raise type(problem)(f"{problem} (events and logs: {saved})") from None
            raise problem from None
        access = self.decide_node_access(deployment)
        self.info = RunInfo(
            run_id=self.run_id,
            source=self.source_label,
            objects=list(deployment.objects),
            changes=self.changes,
            provider=self.cluster.provider,
            cluster_name=self.cluster.name,
            kubeconfig=str(self.cluster.kubeconfig),
            state_dir=str(self.state_dir),
            client_image=self.cluster.client_image,
            pv_placement=placement.nodes_by_pv,
            node_access=access.way,
            node_access_namespace=access.namespace,
            node_access_image=access.image,
            node_access_refused=access.refused,
            notes=[*placement.describe(), *self.cluster.notes, *self.record.notes],
            _deployment=deployment,
        )
        return self.info

    def decide_node_access(self, deployment: Deployment) -> NodeAccess:
        assert self.kube is not None and self.cluster is not None and self.placement is not None
        nodes = self.placement.pv_nodes or [n["metadata"]["name"] for n in self.kube.list_nodes()]
        access = node_access.decide(
            self.kube,
            self.settings,
            self.cluster.node_access,
            deployment.namespace,
            self.cluster.client_image,
            nodes[0],
            self.run_id,
        )
        if access.refused:
            self.say(f"mysqlsts: {access.refused}; the fault checks will be skipped")
        elif access.way == NODE_ACCESS_POD:
            self.say(f"mysqlsts: nodes reached through privileged pods in {access.namespace}")
        self.node_access = access
        return access

    def _pod_nodes(self) -> PodNodes | None:
        access = self.node_access
        if self.kube is None or access is None or access.way != NODE_ACCESS_POD:
            return None
        return node_access.pod_nodes(self.kube, access, self.run_id)

    def _sweep_node_agents(self) -> list[str]:
        access = self.node_access
        if self.kube is None or access is None or access.way != NODE_ACCESS_POD:
            return []
        try:
            return node_faults.sweep_node_agents(self.kube, access.namespace, self.run_id)
        except KubeError as error:
            return [f"could not look for node agents left in {access.namespace}: {error}"]

    @property
    def setup_evidence(self) -> Path:
        """Where :meth:`save_evidence` writes the evidence of a failed setup."""
        return self.report_dir / SETUP_EVIDENCE_FILE

    def save_evidence(self, headline: str) -> Path | None:
        """Write the namespace's evidence to a file (no test report exists yet), headed by
        the one line that ends the run."""
        if self.kube is None or self.deployment is None:
            return None
        try:
            collected = namespace_evidence.collect(self.kube, self.deployment.namespace)
            self.report_dir.mkdir(parents=True, exist_ok=True)
            path = self.setup_evidence
            path.write_text(f"{redact(headline)}\n\n{namespace_evidence.as_text(collected)}")
            return path
        except (KubeError, OSError):
            return None

    # -- phase 3: undo ---------------------------------------------------------------------
    def down(self) -> list[str]:
        """Undo everything recorded (idempotent); with --keep-cluster, keep it all."""
        if self._down:
            return self.teardown_lines
        self._down = True
        keep = self.settings.keep_cluster
        # Faults a check left (a process frozen): undone first, even with --keep-cluster.
        lines: list[str] = node_faults.undo_recorded(self.state_dir, self._pod_nodes)
        lines += self._sweep_node_agents()
        if keep:
            if self.cluster is not None:
                lines.append("--keep-cluster: the deployment, its PVs and their data were left")
        elif self.provider is not None and self.provider.owns_cluster:
            pass  # deleting the cluster below removes the deployment with it, and faster
        elif self.kube is not None and self.deployment is not None:
            lines += apply.teardown(self.kube, self.deployment, self.record)
            # A kind cluster's PV data goes with the run's directory; a borrowed
            # cluster's stays on the node unless removed explicitly.
            if self.provider is not None and self.provider.node_data_outlives_run:
                try:
                    pv_directories.clean(
                        self.kube,
                        self.run_id,
                        pv_directories.helper_image(self.deployment.mysql_image),
                        self.placement.paths_by_node() if self.placement else {},
                        self.paths,
                    )
                    if any(r.created or r.existed_empty for r in self.paths.values()):
                        lines.append("removed the run's data from the PV paths")
                except (SuiteError, KubeError, AssertionError) as error:
                    lines.append(f"could not clean the PV paths: {error}")
        if self.provider is not None:
            lines += self.provider.down(keep)
        if not keep:
            lines += remove_tree(self.state_dir)
        self.teardown_lines = [redact(line) for line in lines]
        return self.teardown_lines


def wait_until_up(
    kube: Kube, mysql: MySQL, deployment: Deployment, timeout: float, say: Callable[[str], None]
) -> None:
    """Master ready, root password accepted, then every replica ready."""
    ns = deployment.namespace
    try:
        say(f"waiting for {deployment.master_pod} to be ready")
        wait_pod_ready(kube, ns, deployment.master_pod, timeout=timeout, crash_loop_fails=True)
        # Checked as soon as the master is up: a wrong password is clear long before
        # the replicas have cloned.
        try:
            with mysql.connect(deployment.master_pod, timeout=60):
                pass
        except AccessDenied as error:
            raise DeploymentFailed(
                f"the root password from {deployment.password_source} is refused by "
                f"{deployment.master_pod}: {error}"
            ) from None
        say(f"waiting for StatefulSet {deployment.statefulset} ({deployment.replicas} replicas)")
        wait_statefulset_ready(
            kube, ns, deployment.statefulset, timeout=timeout, crash_loop_fails=True
        )
    except (WaitTimeout, CrashLoop) as error:
        # A crash loop ends the wait early; both are explained by the same one line.
        line = diagnose_deployment(kube, deployment)
        what = error.what if isinstance(error, WaitTimeout) else str(error)
        if line is None:
            raise DeploymentFailed(str(error)) from None
        raise DeploymentFailed(f"the deployment did not come up: {line} ({what})") from None


def run_namespace(settings: Settings, run_id: str) -> str:
    """The namespace for manifests that name none: --namespace, else mysqlsts-<run id>."""
    return settings.namespace or f"mysqlsts-{run_id}"


def diagnose_deployment(kube: Kube, deployment: Deployment) -> str | None:
    """The one line that says why the deployment's pods are not all ready (None: they are)."""
    ns = deployment.namespace
    try:
        pods, events = kube.list_pods(ns), kube.events(ns)
    except KubeError:
        return None  # the timeout's own message is all there is

    def read_log(pod: str, container: str, previous: bool) -> str | None:
        try:
            return kube.logs(ns, pod, container, previous=previous, tail_lines=LOG_TAIL)
        except KubeError:
            return None

    return diagnosis.diagnose(pods, events, read_log, deployment.pod_names())
