"""A throwaway kind cluster from the lab's node image, of the suite's shape (a control plane
and three workers, the first holding a local PV directory).

Created once for the smoke session by the suite's own kind provider and always deleted
at the end, also after a failure or Ctrl-C (``pytest_sessionfinish`` is the safety net).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mysqlsts import option_table, settings
from mysqlsts.cluster.kind import KindProvider
from mysqlsts.errors import SuiteError
from mysqlsts.k8s.client import Kube
from mysqlsts.lab import config as lab_config
from mysqlsts.manifests.placement import Placement

CLUSTER_NAME = "mysqlsts-lab-smoke"
# Where the smoke test's local PV lives on the worker (a host directory mounted there).
SMOKE_PV_PATH = "/mnt/lab-smoke-pv"
_PROVIDER = pytest.StashKey[KindProvider]()


@dataclass(frozen=True)
class LabCluster:
    kube: Kube
    worker: str
    workers: int
    control_plane: str
    toolbox_image: str
    pv_path: str


def _provider(config: pytest.Config) -> KindProvider:
    if _PROVIDER not in config.stash:
        chosen = settings.resolve(
            {
                "cluster": "kind",
                "cluster_name": CLUSTER_NAME,
                "profile": option_table.DEFAULT_PROFILE,
            },
            environ={},
        )
        state = Path(tempfile.mkdtemp(prefix="mysqlsts-lab-smoke-"))
        toolbox = lab_config.load().images["toolbox"]
        config.stash[_PROVIDER] = KindProvider(chosen, state, [toolbox], toolbox)
    return config.stash[_PROVIDER]


@pytest.fixture(scope="session")
def lab_cluster(pytestconfig: pytest.Config) -> Iterator[LabCluster]:
    provider = _provider(pytestconfig)
    try:
        provider.preflight()
        if provider.adopted:
            pytest.exit(
                f"a kind cluster named {CLUSTER_NAME} already exists; the smoke suite needs a "
                f"fresh one: kind delete cluster --name {CLUSTER_NAME}",
                returncode=4,
            )
        # One PV directory on the first worker, as the suite places an article's PV.
        worker = provider.workers[0]
        info = provider.up(
            Placement(nodes_by_pv={"smoke": [worker]}, path_by_pv={"smoke": SMOKE_PV_PATH})
        )
    except SuiteError as error:
        pytest.exit(f"lab smoke: {error}", returncode=4)
    kube = Kube.from_kubeconfig(info.kubeconfig)
    nodes = {n["metadata"]["name"]: n for n in kube.list_nodes()}
    control_plane = next(
        name
        for name, node in nodes.items()
        if "node-role.kubernetes.io/control-plane" in (node["metadata"].get("labels") or {})
    )
    yield LabCluster(
        kube=kube,
        worker=worker,
        workers=len(provider.workers),
        control_plane=control_plane,
        toolbox_image=lab_config.load().images["toolbox"],
        pv_path=SMOKE_PV_PATH,
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    provider = session.config.stash.get(_PROVIDER, None)
    if provider is not None:
        for line in provider.down(keep=False):
            print(f"[lab smoke] {line}")
