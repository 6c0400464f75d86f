"""Hard faults on a node, for the checks that make them: reached through Docker or a pod.

A fault is made from the node itself, where a container's main process is not PID 1 and
the kernel lets SIGKILL or SIGSTOP through: signal it (``kill``), drop a pod's traffic
with iptables in the pod's network namespace (``nsenter -t PID -n``), or, on kind only,
freeze the whole node (``docker pause``). The node is reached one of two ways:

- ``docker`` (kind): every node is a Docker container of the same name; commands run
  with ``docker exec <node>``;
- ``pod`` (any cluster, opt-in with ``--node-access pod``): a short-lived privileged pod
  pinned to the node (``hostPID``, privileged, made by the one runner of short-lived
  pods) runs the same commands in the node's namespaces (``nsenter -t 1 -m -u -i -n -p``),
  as Chaos Mesh's and Litmus's node agents and ``kubectl debug node/NAME`` do. A node
  freeze needs the node itself and stays kind-only.

Both run the very same node commands, so they give the same verdicts. Every fault that
must be undone is recorded in the run's state directory before it is made and forgotten
once undone, so that the run's teardown (:func:`undo_recorded`) undoes whatever an
interrupted or killed check left: a process resumed, a node unpaused, a rule removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from mysqlsts import programs
from mysqlsts.cluster.provider import NODE_ACCESS_DOCKER, NODE_ACCESS_POD
from mysqlsts.errors import EnvironmentProblem
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pods import RunningPod, running, short_lived_pod
from mysqlsts.labels import RUN_LABEL_KEY, SCRATCH_LABEL_KEY
from mysqlsts.waiting import WaitTimeout

DOCKER_TIMEOUT = 30.0
FAULTS_FILE = "faults.jsonl"
FROZEN, PAUSED, PARTITIONED = "frozen", "paused", "partitioned"
NODE_AGENT = "node-agent"  # the purpose label of the privileged pods
# The node's own namespaces (its PID 1's): the node's binaries, its view of processes.
ON_THE_NODE = ("nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--")


@dataclass(frozen=True)
class Fault:
    """A fault in force, with what it takes to undo it."""

    kind: str  # FROZEN | PAUSED | PARTITIONED
    node: str
    what: str
    pid: int = 0  # FROZEN: the process; PARTITIONED: a process in the pod's netns
    peer: str = ""  # PARTITIONED: the address whose traffic is dropped
    access: str = NODE_ACCESS_DOCKER  # how the node was reached: how to undo it


class NodeShell(Protocol):
    """A way to run commands on a node, as root, in the node's namespaces."""

    access: str

    def run(self, node: str, argv: Sequence[str]) -> programs.Completed: ...

    def pause(self, node: str, *, undo: bool = False) -> programs.Completed: ...

    def close(self) -> None: ...


@dataclass
class DockerNodes:
    """kind: the node is a Docker container on this machine."""

    access: str = NODE_ACCESS_DOCKER

    def run(self, node: str, argv: Sequence[str]) -> programs.Completed:
        return programs.run(["docker", "exec", node, *argv], timeout=DOCKER_TIMEOUT)

    def pause(self, node: str, *, undo: bool = False) -> programs.Completed:
        verb = "unpause" if undo else "pause"
        return programs.run(["docker", verb, node], timeout=DOCKER_TIMEOUT)

    def close(self) -> None:
        pass


def node_agent(namespace: str, node: str, image: str, run_id: str) -> dict[str, object]:
    """The privileged pod that reaches ``node``: pinned to it, in the host's PID namespace."""
    return short_lived_pod(
        f"mysqlsts-node-agent-{node}-{run_id}",
        namespace,
        image,
        run_id=run_id,
        purpose=NODE_AGENT,
        node=node,
        privileged=True,
        host_pid=True,
    )


@dataclass
class PodNodes:
    """Any cluster: one privileged pod per node reached, made on first use and deleted by
    :meth:`close` (and by its own deadline if the run is killed)."""

    kube: Kube
    namespace: str
    image: str
    run_id: str
    access: str = NODE_ACCESS_POD
    _agents: dict[str, RunningPod] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)

    def _agent(self, node: str) -> RunningPod:
        if node not in self._agents:
            manifest = node_agent(self.namespace, node, self.image, self.run_id)
            self._agents[node] = self._stack.enter_context(running(self.kube, manifest))
        return self._agents[node]

    def run(self, node: str, argv: Sequence[str]) -> programs.Completed:
        try:
            done = self._agent(node).exec([*ON_THE_NODE, *argv], timeout=DOCKER_TIMEOUT)
        except (KubeError, WaitTimeout) as error:
            return programs.Completed(1, "", f"error: node agent on {node}: {error}")
        return programs.Completed(done.returncode, done.stdout, done.stderr)

    def pause(self, node: str, *, undo: bool = False) -> programs.Completed:
        """A pod cannot pause its own node: the fault fails to be made, in one line, and
        its undoing has nothing to do (so no record of it outlives the check)."""
        if undo:
            return programs.Completed(0, "", "")
        return programs.Completed(
            1, "", f"error: freezing node {node} needs the node itself (docker pause of a kind "
            "node): a pod on the node cannot pause its own node"
        )  # fmt: skip

    def close(self) -> None:
        self._agents.clear()
        self._stack.close()


def _rule(fault: Fault, action: str) -> list[list[str]]:
    """The iptables commands that add (-I) or delete (-D) the partition's two rules."""
    enter = ["nsenter", "-t", str(fault.pid), "-n", "iptables", "-w", "5"]
    return [
        [*enter, action, chain, flag, fault.peer, "-j", "DROP", "-m", "comment", "--comment",
         "mysqlsts partition"]
        for chain, flag in (("INPUT", "-s"), ("OUTPUT", "-d"))
    ]  # fmt: skip


def _undo(fault: Fault, shell: NodeShell) -> programs.Completed:
    if fault.kind == FROZEN:
        done = shell.run(fault.node, ["kill", "-CONT", str(fault.pid)])
        # Killed while frozen (a liveness probe's restart): nothing is left to resume.
        gone = done.returncode != 0 and "no such process" in done.stderr.lower()
        return programs.Completed(0, "", "") if gone else done
    if fault.kind == PAUSED:
        return shell.pause(fault.node, undo=True)
    done = programs.Completed(0, "", "")
    for command in _rule(fault, "-D"):
        result = shell.run(fault.node, command)
        if result.returncode != 0 and "does a matching rule exist" not in result.stderr:
            done = result
    return done


def container_pid(shell: NodeShell, node: str, container_id: str) -> int:
    """The PID, in the node's namespace, of a container's main process."""
    done = shell.run(node, ["ctr", "--namespace=k8s.io", "task", "ls"])
    if done.returncode != 0:
        raise EnvironmentProblem(f"ctr task ls on node {node} failed: {done.first_error_line()}")
    for line in done.stdout.splitlines()[1:]:
        task, _, rest = line.strip().partition(" ")
        if task == container_id:
            return int(rest.split()[0])
    raise EnvironmentProblem(f"container {container_id[:12]} runs no task on node {node}")


@dataclass(frozen=True)
class NodeFaults:
    """Faults on the nodes, each undone whatever happens; ``shell`` reaches the nodes."""

    state_dir: Path
    shell: NodeShell = field(default_factory=DockerNodes)

    def _remember(self, fault: Fault) -> None:
        with (self.state_dir / FAULTS_FILE).open("a", encoding="utf-8") as file:
            file.write(json.dumps(asdict(fault)) + "\n")

    def _forget(self, fault: Fault) -> None:
        path = self.state_dir / FAULTS_FILE
        if path.exists():
            kept = [
                line for line in path.read_text().splitlines() if Fault(**json.loads(line)) != fault
            ]
            path.write_text("".join(f"{line}\n" for line in kept))

    @contextmanager
    def _in_force(
        self, fault: Fault, make: list[Callable[[], programs.Completed]]
    ) -> Iterator[Fault]:
        self._remember(fault)  # first: an interrupted fault is still undone
        try:
            for step in make:
                done = step()
                if done.returncode != 0:
                    raise EnvironmentProblem(
                        f"{fault.kind} {fault.what}: {done.first_error_line()}"
                    )
            yield fault
        finally:
            if _undo(fault, self.shell).returncode == 0:
                self._forget(fault)

    def _fault(self, kind: str, node: str, what: str, **more: object) -> Fault:
        return Fault(kind, node, what, access=self.shell.access, **more)  # type: ignore[arg-type]

    def kill(self, node: str, container_id: str, what: str) -> int:
        """SIGKILL a container's main process (a crash: nothing to undo, the kubelet
        restarts the container); returns the PID it had."""
        pid = container_pid(self.shell, node, container_id)
        done = self.shell.run(node, ["kill", "-KILL", str(pid)])
        if done.returncode != 0:
            raise EnvironmentProblem(f"SIGKILL {what}: {done.first_error_line()}")
        return pid

    def frozen(self, node: str, container_id: str, what: str) -> AbstractContextManager[Fault]:
        """The container's main process stopped (SIGSTOP) for the body, then SIGCONT."""
        pid = container_pid(self.shell, node, container_id)
        fault = self._fault(FROZEN, node, what, pid=pid)
        return self._in_force(fault, [lambda: self.shell.run(node, ["kill", "-STOP", str(pid)])])

    def paused(self, node: str) -> AbstractContextManager[Fault]:
        """The whole node frozen (``docker pause``: its kubelet and every pod stop), then
        unpaused: a node that stops answering, with its local disk intact (kind only)."""
        fault = self._fault(PAUSED, node, f"node {node}")
        return self._in_force(fault, [lambda: self.shell.pause(node)])

    def partitioned(
        self, node: str, container_id: str, peer: str, what: str
    ) -> AbstractContextManager[Fault]:
        """The traffic between a pod (any of its containers) and ``peer`` dropped, both ways,
        in the pod's network namespace; the rules removed afterwards."""
        pid = container_pid(self.shell, node, container_id)
        fault = self._fault(PARTITIONED, node, what, pid=pid, peer=peer)
        rules = _rule(fault, "-I")
        return self._in_force(
            fault, [lambda argv=argv: self.shell.run(node, argv) for argv in rules]
        )

    def close(self) -> None:
        """Deletes whatever the shell made to reach the nodes (the node agents)."""
        self.shell.close()


def sweep_node_agents(kube: Kube, namespace: str, run_id: str) -> list[str]:
    """Delete every node agent of the run still there (a check killed before its own
    cleanup ran); the run's teardown calls this after undoing the recorded faults."""
    selector = f"{RUN_LABEL_KEY}={run_id},{SCRATCH_LABEL_KEY}={NODE_AGENT}"
    left = [p["metadata"]["name"] for p in kube.list_pods(namespace, selector)]
    for name in left:
        kube.delete_pod(namespace, name, grace_period_seconds=0)
    return [f"deleted node agent {namespace}/{name}, left by a check" for name in left]


def node_shell(access: str, make_pod_nodes: Callable[[], PodNodes]) -> NodeShell | None:
    """How to reach the nodes for ``access`` (None: the cluster gives no such access)."""
    if access == NODE_ACCESS_DOCKER:
        return DockerNodes()
    if access == NODE_ACCESS_POD:
        return make_pod_nodes()
    return None


def undo_recorded(state_dir: Path, make_pod_nodes: Callable[[], PodNodes] | None) -> list[str]:
    """Undo every fault a check left in force (the run's teardown calls this); faults made
    through a node agent are undone through a new one, deleted afterwards."""
    path = state_dir / FAULTS_FILE
    if not path.exists():
        return []
    lines = []
    shells: dict[str, NodeShell] = {NODE_ACCESS_DOCKER: DockerNodes()}
    try:
        for line in path.read_text().splitlines():
            fault = Fault(**json.loads(line))
            if fault.access not in shells and make_pod_nodes is not None:
                shells[fault.access] = make_pod_nodes()
            shell = shells.get(fault.access)
            done = (
                _undo(fault, shell)
                if shell is not None
                else programs.Completed(1, "", f"no way to reach node {fault.node} here")
            )
            lines.append(
                f"undid a fault a check left: {fault.kind} {fault.what}"
                if done.returncode == 0
                else f"could not undo {fault.kind} {fault.what}: {done.first_error_line()}"
            )
    finally:
        for shell in shells.values():
            shell.close()
    path.unlink()
    return lines
