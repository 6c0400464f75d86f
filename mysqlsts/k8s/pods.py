"""The one way the suite runs a short-lived pod: built here, always deleted.

Some promises can only be observed from inside the cluster: a Service's load balancing
(a port-forward from the host pins one pod), what a local PV's directory on its node
holds, a claim emptied before a scale-out. Every such pod is made by
:func:`short_lived_pod` (labelled with the run and as scratch, never with the
deployment's labels, so that no Service selects it; it ends by itself after a deadline
even if nobody deletes it) and run in one of two ways:

- :func:`running`: it sleeps; the check ``exec``\\ s into it; it is deleted afterwards;
- :func:`run_to_completion`: it runs a command once; its phase and output come back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.exec_results import ExecResult
from mysqlsts.k8s.pod_waits import wait_pod_finished, wait_pod_gone, wait_pod_ready
from mysqlsts.labels import RUN_LABEL_KEY, SCRATCH_LABEL_KEY
from mysqlsts.waiting import WaitTimeout

Obj = dict[str, Any]
# A short-lived pod ends by itself after this long even if nobody deletes it (a killed run).
DEADLINE_SECONDS = 1800
CONTAINER = "scratch"


@dataclass(frozen=True)
class HostMount:
    """A directory of the node mounted into a short-lived pod."""

    host_path: str
    mount_path: str
    read_only: bool = True
    # "Directory" fails the pod when the path is absent: never create on the node by
    # accident. Use "DirectoryOrCreate" only for a directory the suite owns.
    type: str = "Directory"


def short_lived_pod(
    name: str,
    namespace: str,
    image: str,
    *,
    run_id: str,
    purpose: str = "check",
    command: Sequence[str] | None = None,
    node: str | None = None,
    node_selector: Mapping[str, str] | None = None,
    host_mounts: Sequence[HostMount] = (),
    claims: Mapping[str, str] | None = None,
    env: Sequence[Obj] = (),
    as_root: bool = False,
    privileged: bool = False,
    host_pid: bool = False,
) -> Obj:
    """A pod that runs ``command`` once (default: sleeps until its deadline).

    ``claims`` maps a claim name to the path where it is mounted. ``node`` pins the pod
    with ``nodeName`` (to inspect that very node); ``node_selector`` lets the scheduler
    choose among matching nodes; with neither the scheduler chooses freely.
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
        "name": CONTAINER,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(command) if command else ["sleep", str(DEADLINE_SECONDS)],
        "volumeMounts": mounts,
        "env": list(env),
    }
    if as_root:
        # Root, not privileged: root may remove the MySQL user's files without extra
        # capabilities, and privileged pods fail on hosts whose capability set is reduced.
        container["securityContext"] = {"runAsUser": 0}
    if privileged:
        # A node agent (mysqlsts.cluster.node_faults): root with every capability, to
        # enter the node's namespaces, signal its processes and change a pod's iptables.
        container["securityContext"] = {"runAsUser": 0, "privileged": True}
    spec: Obj = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "activeDeadlineSeconds": DEADLINE_SECONDS,
        "automountServiceAccountToken": False,
        "containers": [container],
        "volumes": volumes,
    }
    if host_pid:
        spec["hostPID"] = True  # the node's processes, PID 1 its init
    if node:
        spec["nodeName"] = node
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name[:63].rstrip("-."),
            "namespace": namespace,
            # Deliberately none of the deployment's labels: no Service may select it.
            "labels": {RUN_LABEL_KEY: run_id, SCRATCH_LABEL_KEY: purpose},
        },
        "spec": spec,
    }


@dataclass(frozen=True)
class RunningPod:
    kube: Kube
    namespace: str
    name: str
    node: str

    def exec(self, argv: Sequence[str], *, timeout: float = 60) -> ExecResult:
        return self.kube.exec(self.namespace, self.name, CONTAINER, list(argv), timeout=timeout)

    def sh(self, script: str, *, timeout: float = 60) -> ExecResult:
        """Run a POSIX shell script in the pod."""
        return self.exec(["sh", "-c", script], timeout=timeout)


@dataclass(frozen=True)
class Finished:
    phase: str  # Succeeded or Failed
    output: str

    @property
    def succeeded(self) -> bool:
        return self.phase == "Succeeded"


def _delete(kube: Kube, namespace: str, name: str) -> None:
    with suppress(KubeError, WaitTimeout):
        kube.delete_pod(namespace, name, grace_period_seconds=0)
        wait_pod_gone(kube, namespace, name, timeout=60)


@contextmanager
def running(kube: Kube, manifest: Obj, *, timeout: float = 180) -> Iterator[RunningPod]:
    """Create the pod, wait until it runs, yield it; always delete it (and wait, bounded)."""
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    kube.apply(manifest)
    try:
        pod = wait_pod_ready(kube, namespace, name, timeout=timeout)
        yield RunningPod(kube, namespace, name, str(pod["spec"].get("nodeName")))
    finally:
        _delete(kube, namespace, name)


def run_to_completion(kube: Kube, manifest: Obj, *, timeout: float = 120) -> Finished:
    """Create the pod, wait until it has run, return its phase and output; always delete it."""
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    kube.apply(manifest)
    try:
        done = wait_pod_finished(kube, namespace, name, timeout=timeout)
        output = kube.logs(namespace, name, CONTAINER) or ""
        return Finished(str(done["status"]["phase"]), output)
    finally:
        _delete(kube, namespace, name)


def env_from_container(container: Obj, source: str, target: str) -> list[Obj]:
    """The container's ``source`` environment entry renamed ``target`` (none if absent).

    Lets a client pod read the root password from where the deployment keeps it (a
    Secret reference stays a reference) instead of carrying it as a literal.
    """
    for entry in container.get("env") or []:
        if entry.get("name") == source:
            return [{**entry, "name": target}]
    return []
