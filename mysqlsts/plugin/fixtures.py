"""The fixtures e2e tests use, and the deployment guard around each of them.

The run's clients are built once per process (:func:`context`): the controller reuses the
deployment it discovered at setup; a worker rebuilds it from the run's JSON and registers
the password for redaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mysqlsts import settings
from mysqlsts.cluster.node_faults import NodeFaults, node_shell
from mysqlsts.db.mysql import MySQL
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.plugin.options import resolve_settings
from mysqlsts.plugin.state import (
    CONTEXT_KEY,
    E2E_FIXTURES,
    INFO_KEY,
    WORKERINPUT_KEY,
    is_controller,
)
from mysqlsts.redaction import register_secret
from mysqlsts.run import lock, node_access
from mysqlsts.run.declared import require_as_declared
from mysqlsts.run.environment import RunInfo
from mysqlsts.run.node_access import NodeAccess

# A mutating test may wait this long for readers on other workers to finish their test.
LOCK_TIMEOUT = 1800.0


@dataclass
class Context:
    info: RunInfo
    deployment: Deployment
    kube: Kube
    mysql: MySQL


def _run_info(config: pytest.Config) -> RunInfo | None:
    if is_controller(config):
        return config.stash.get(INFO_KEY, None)
    payload = config.workerinput.get(WORKERINPUT_KEY)  # type: ignore[attr-defined]
    return RunInfo.from_json(payload) if payload else None


def context(config: pytest.Config) -> Context | None:
    """The run's clients in this process, built once; None when no run is set up."""
    if CONTEXT_KEY in config.stash:
        return config.stash[CONTEXT_KEY]
    info = _run_info(config)
    if info is None:
        return None
    process = "main" if is_controller(config) else str(config.workerinput["workerid"])  # type: ignore[attr-defined]
    deployment = info.deployment()
    register_secret(deployment.root_password)  # a worker learns it here
    kube = info.kube(process)
    config.stash[CONTEXT_KEY] = Context(info, deployment, kube, MySQL(kube, deployment))
    return config.stash[CONTEXT_KEY]


def _require(request: pytest.FixtureRequest) -> Context:
    found = context(request.config)
    if found is None:
        pytest.fail(
            "no mysqlsts environment: it is set up only when pytest is given (part of) suites/ "
            "as test paths, e.g. `tox -e e2e`",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def mysqlsts_settings(request: pytest.FixtureRequest) -> settings.Settings:
    """The run's options (command line, then environment, then defaults)."""
    return resolve_settings(request.config)


@pytest.fixture(scope="session")
def mysqlsts_run(request: pytest.FixtureRequest) -> RunInfo:
    """The run: id, manifest source, objects as applied, changes, cluster and node."""
    return _require(request).info


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> Deployment:
    """What the manifests deploy: namespace, StatefulSet, replicas, Services, password..."""
    return _require(request).deployment


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest) -> Kube:
    """Kubernetes operations on the run's cluster (official client, dicts in and out)."""
    return _require(request).kube


@pytest.fixture(scope="session")
def mysql(request: pytest.FixtureRequest) -> MySQL:
    """MySQL connections to the pods, replication state, the replica caught-up wait."""
    return _require(request).mysql


@pytest.fixture
def faults(request: pytest.FixtureRequest) -> Iterator[NodeFaults]:
    """Hard faults on the cluster's nodes (kill, freeze, partition, pause), each undone
    whatever happens, through the run's way to the nodes (kind: Docker; ``--node-access
    pod``: privileged pods, deleted afterwards); the check is skipped, with the reason,
    where the run has none."""
    context = _require(request)
    info = context.info
    access = NodeAccess(info.node_access, info.node_access_namespace, info.node_access_image)
    shell = node_shell(
        info.node_access, lambda: node_access.pod_nodes(context.kube, access, info.run_id)
    )
    if shell is None:
        pytest.skip(
            info.node_access_refused
            or f"the {info.provider} cluster gives no access to its nodes: this fault cannot "
            "be made from inside a pod (mysqld is PID 1 of its container); --node-access pod "
            "reaches them through a privileged pod"
        )
    faults = NodeFaults(Path(info.state_dir), shell)
    try:
        yield faults
    finally:
        faults.close()


# -- checks that need replicas --------------------------------------------------------------
NEEDS_REPLICAS = "needs_replicas"


def replicas_missing(declared: int, wanted: int) -> str | None:
    """Why a check needing ``wanted`` replicas besides the master cannot run (None: it can)."""
    if declared - 1 >= wanted:
        return None
    return (
        f"needs at least {wanted} replica(s) besides the master, the manifests declare "
        f"replicas: {declared}: with fewer it would check nothing"
    )


@pytest.fixture(autouse=True)
def _declared_replicas(request: pytest.FixtureRequest) -> None:
    """A check marked ``needs_replicas(N)`` is skipped, with the declared replica count in
    its reason, when the manifests declare fewer: a loop over no replica passes on nothing."""
    marker = request.node.get_closest_marker(NEEDS_REPLICAS)
    ctx = context(request.config)
    if marker is None or ctx is None:
        return
    reason = replicas_missing(ctx.deployment.replicas, int(marker.args[0] if marker.args else 1))
    if reason:
        pytest.skip(reason)


# -- checks of the local PVs the manifests declare ---------------------------------------------
LOCAL_PVS = "local_pvs"


def local_pvs_missing(deployment: Deployment) -> str | None:
    """Why a check of the manifests' local PVs cannot run (None: it can)."""
    if deployment.declares_local_pvs:
        return None
    storage_class = (
        f"StorageClass {deployment.storage_class}"
        if deployment.storage_class
        else "the cluster's default StorageClass"
    )
    return (
        "the manifests declare no PersistentVolume: the claims are provisioned dynamically "
        f"by {storage_class}, so there are no local PVs to check"
    )


@pytest.fixture(autouse=True)
def _declared_local_pvs(request: pytest.FixtureRequest) -> None:
    """A check marked ``local_pvs`` is skipped, saying so, when the manifests declare no
    PersistentVolume (dynamic provisioning): it checks what only local PVs promise."""
    ctx = context(request.config)
    if request.node.get_closest_marker(LOCAL_PVS) is None or ctx is None:
        return
    reason = local_pvs_missing(ctx.deployment)
    if reason:
        pytest.skip(reason)


# -- tests that change the deployment ---------------------------------------------------------
AT_END = "at_end"


# After any shuffle (pytest-random-order): checks marked at_end stay last whatever the order.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker(lock.MARKER) or item.get_closest_marker(AT_END):
            item.add_marker(pytest.mark.xdist_group(lock.XDIST_GROUP))
    # Checks marked at_end last (sorted() is stable: the others keep their order).
    items[:] = sorted(items, key=lambda item: item.get_closest_marker(AT_END) is not None)


@pytest.fixture(autouse=True)
def _deployment_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Shared lock for e2e tests that read the deployment, exclusive for those that change it.

    A test that changes it also starts from the deployment as declared, checked once the
    lock is held: if an earlier test left it broken, this one is an error in setup, not a
    failure of the check it makes.
    """
    ctx = context(request.config)
    if ctx is None or not E2E_FIXTURES & set(request.fixturenames):
        yield  # not an e2e test, or no environment (its fixtures say why)
        return
    exclusive = request.node.get_closest_marker(lock.MARKER) is not None
    with lock.deployment_lock(Path(ctx.info.state_dir), exclusive=exclusive, timeout=LOCK_TIMEOUT):
        if exclusive:
            require_as_declared(ctx.kube, ctx.mysql, ctx.deployment)
        yield
