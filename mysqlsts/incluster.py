"""Short-lived pods the checks run inside the cluster, and reading node affinity.

Some promises can only be observed from inside the cluster: a Service's load balancing
(a port-forward from the host pins one pod), or what a local PV's directory on its node
holds. :func:`scratch_pod` starts a pod that only sleeps, waits until it runs, lets the
check ``exec`` into it and always deletes it. :func:`node_matches` evaluates a
PersistentVolume's ``nodeAffinity`` against a node the way the scheduler does, so a check
can say "this pod runs on a node that PV allows" without trusting the scheduler.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from mysqlsts import tools
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.kube import ExecResult, Kube, KubeError
from mysqlsts.lab import config as lab_config
from mysqlsts.transformations import RUN_LABEL_KEY
from mysqlsts.waiting import WaitTimeout

Obj = dict[str, Any]
# Marks every object a check creates, so that evidence and people can tell them apart.
SCRATCH_LABEL_KEY = "mysqlsts.io/scratch"
# A scratch pod ends by itself after this long even if nobody deletes it (a killed run).
SCRATCH_DEADLINE_SECONDS = 1800
CLIENT_IMAGE_ENV = "MYSQLSTS_CLIENT_IMAGE"


# -- node affinity ---------------------------------------------------------------------
def _requirement_matches(expr: Mapping[str, Any], values_of: Mapping[str, str]) -> bool:
    key = str(expr.get("key"))
    operator = expr.get("operator")
    wanted = [str(v) for v in expr.get("values") or []]
    present = key in values_of
    value = values_of.get(key)
    if operator == "In":
        return present and value in wanted
    if operator == "NotIn":
        return not present or value not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(wanted) == 1:
        try:
            have, limit = int(str(value)), int(wanted[0])
        except ValueError:
            return False
        return have > limit if operator == "Gt" else have < limit
    return False


def term_matches(term: Mapping[str, Any], node: Obj) -> bool:
    """One NodeSelectorTerm: every expression and field requirement holds (AND).

    An empty term matches nothing, as in the scheduler.
    """
    expressions = list(term.get("matchExpressions") or [])
    fields = list(term.get("matchFields") or [])
    if not expressions and not fields:
        return False
    labels = {str(k): str(v) for k, v in ((node.get("metadata") or {}).get("labels") or {}).items()}
    node_fields = {"metadata.name": str((node.get("metadata") or {}).get("name"))}
    return all(_requirement_matches(e, labels) for e in expressions) and all(
        _requirement_matches(f, node_fields) for f in fields
    )


def node_matches(node: Obj, node_affinity: Mapping[str, Any] | None) -> bool:
    """Whether a PV's ``spec.nodeAffinity`` admits ``node`` (terms are ORed).

    No affinity at all admits every node; an affinity without required terms too.
    """
    if not node_affinity:
        return True
    required = node_affinity.get("required")
    if not required:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


def quantity(value: str | int | None) -> Decimal:
    """A resource quantity ("15Gi", "500m") as a number of base units."""
    return Decimal(parse_quantity(value if value is not None else 0))


# -- scratch pods -------------------------------------------------------------------------
@dataclass(frozen=True)
class HostMount:
    """A directory of the node mounted into a scratch pod."""

    host_path: str
    mount_path: str
    read_only: bool = True
    # "Directory" fails the pod when the path is absent: never create on the node by
    # accident. Use "DirectoryOrCreate" only for a directory the check owns.
    type: str = "Directory"


@dataclass(frozen=True)
class ScratchPod:
    kube: Kube
    namespace: str
    name: str
    container: str
    node: str

    def exec(self, argv: Sequence[str], *, timeout: float = 60) -> ExecResult:
        return self.kube.exec(
            self.namespace, self.name, self.container, list(argv), timeout=timeout
        )

    def sh(self, script: str, *, timeout: float = 60) -> ExecResult:
        """Run a POSIX shell script in the pod."""
        return self.exec(["sh", "-c", script], timeout=timeout)


def scratch_pod_manifest(
    name: str,
    namespace: str,
    image: str,
    *,
    run_id: str,
    node: str | None = None,
    host_mounts: Sequence[HostMount] = (),
    claims: Mapping[str, str] | None = None,
    env: Sequence[Obj] = (),
    as_root: bool = False,
) -> Obj:
    """A pod that sleeps (then exits) with the given node, host mounts and claims.

    ``claims`` maps a claim name to the path where it is mounted. ``node`` pins the pod
    with ``nodeName`` (to inspect that very node); without it the scheduler chooses.
    """
    volumes: list[Obj] = []
    mounts: list[Obj] = []
    for index, mount in enumerate(host_mounts):
        volumes.append(
            {"name": f"host{index}", "hostPath": {"path": mount.host_path, "type": mount.type}}
        )
        mounts.append(
            {"name": f"host{index}", "mountPath": mount.mount_path, "readOnly": mount.read_only}
        )
    for index, (claim, path) in enumerate((claims or {}).items()):
        volumes.append({"name": f"claim{index}", "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": f"claim{index}", "mountPath": path})
    container: Obj = {
        "name": "scratch",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sleep", str(SCRATCH_DEADLINE_SECONDS)],
        "volumeMounts": mounts,
        "env": list(env),
    }
    if as_root:
        container["securityContext"] = {"runAsUser": 0}
    spec: Obj = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "activeDeadlineSeconds": SCRATCH_DEADLINE_SECONDS,
        "automountServiceAccountToken": False,
        "containers": [container],
        "volumes": volumes,
    }
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            # Deliberately none of the deployment's labels: no Service may select it.
            "labels": {RUN_LABEL_KEY: run_id, SCRATCH_LABEL_KEY: "true"},
        },
        "spec": spec,
    }


@contextmanager
def scratch_pod(kube: Kube, manifest: Obj, *, timeout: float = 180) -> Iterator[ScratchPod]:
    """Create the pod, wait until it runs, yield it; always delete it (and wait, bounded)."""
    meta = manifest["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    kube.apply(manifest)
    try:
        pod = kube.wait_pod_ready(namespace, name, timeout=timeout)
        yield ScratchPod(
            kube,
            namespace,
            name,
            manifest["spec"]["containers"][0]["name"],
            str(pod["spec"].get("nodeName")),
        )
    finally:
        with suppress(KubeError, WaitTimeout):
            kube.delete_pod(namespace, name, grace_period_seconds=0)
            kube.wait_pod_gone(namespace, name, timeout=60)


# -- images for in-cluster clients ---------------------------------------------------------
def client_image(provider: str, cluster_name: str, fallback: str) -> str:
    """The image of an in-cluster MySQL client pod, made available to the cluster.

    ``$MYSQLSTS_CLIENT_IMAGE`` if set (it must be pullable by the cluster); on a kind
    cluster, the lab's toolbox image (MariaDB client, getent, ncat, curl), loaded into the
    nodes from the local Docker (``kind load`` skips nodes that already have it); on
    other clusters ``fallback`` (the deployment's MySQL image, which carries a client).
    """
    chosen = os.environ.get(CLIENT_IMAGE_ENV)
    if chosen:
        return chosen
    if provider != "kind":
        return fallback
    image = lab_config.load().images["toolbox"]
    kind = tools.find_kind()
    if kind is None:
        raise EnvironmentProblem(f"kind binary not found; cannot load {image} into the cluster")
    done = tools.run([kind, "load", "docker-image", image, "--name", cluster_name], timeout=300)
    if done.returncode != 0:
        raise EnvironmentProblem(
            f"kind load docker-image {image} --name {cluster_name} failed: "
            f"{done.first_error_line()} (build the lab's images with `tox -e lab`, or set "
            f"${CLIENT_IMAGE_ENV})"
        )
    return image


def env_from_container(container: Obj, source: str, target: str) -> list[Obj]:
    """The container's ``source`` environment entry renamed ``target`` (none if absent).

    Lets a client pod read the root password from where the deployment keeps it (a
    Secret reference stays a reference) instead of carrying it as a literal.
    """
    for entry in container.get("env") or []:
        if entry.get("name") == source:
            return [{**entry, "name": target}]
    return []
