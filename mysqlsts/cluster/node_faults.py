"""Hard faults on a node, for the checks that make them: reached through the provider.

On kind every node is a Docker container of the same name, so the suite can act on it
from the host: signal a container's main process from the node itself (``docker exec
<node> kill ...``, where it is not PID 1 and the kernel lets SIGKILL or SIGSTOP through),
drop a pod's traffic with iptables in the pod's network namespace (``nsenter`` from the
node), or freeze the whole node (``docker pause``). Other clusters give no such access;
the checks that need it are skipped there, with the reason.

Every fault that must be undone is recorded in the run's state directory before it is
made and forgotten once undone, so that the run's teardown (:func:`undo_recorded`)
undoes whatever an interrupted or killed check left: a process resumed, a node
unpaused, a rule removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from mysqlsts import programs
from mysqlsts.cluster.provider import NODE_ACCESS_DOCKER
from mysqlsts.errors import EnvironmentProblem

DOCKER_TIMEOUT = 30.0
FAULTS_FILE = "faults.jsonl"
FROZEN, PAUSED, PARTITIONED = "frozen", "paused", "partitioned"


@dataclass(frozen=True)
class Fault:
    """A fault in force, with what it takes to undo it."""

    kind: str  # FROZEN | PAUSED | PARTITIONED
    node: str
    what: str
    pid: int = 0  # FROZEN: the process; PARTITIONED: a process in the pod's netns
    peer: str = ""  # PARTITIONED: the address whose traffic is dropped


def _docker(*argv: str) -> programs.Completed:
    return programs.run(["docker", *argv], timeout=DOCKER_TIMEOUT)


def _on_node(node: str, *argv: str) -> programs.Completed:
    return _docker("exec", node, *argv)


def _rule(fault: Fault, action: str) -> list[list[str]]:
    """The iptables commands that add (-I) or delete (-D) the partition's two rules."""
    enter = ["nsenter", "-t", str(fault.pid), "-n", "iptables", "-w", "5"]
    return [
        [*enter, action, chain, flag, fault.peer, "-j", "DROP", "-m", "comment", "--comment",
         "mysqlsts partition"]
        for chain, flag in (("INPUT", "-s"), ("OUTPUT", "-d"))
    ]  # fmt: skip


def _undo(fault: Fault) -> programs.Completed:
    if fault.kind == FROZEN:
        done = _on_node(fault.node, "kill", "-CONT", str(fault.pid))
        # Killed while frozen (a liveness probe's restart): nothing is left to resume.
        gone = done.returncode != 0 and "no such process" in done.stderr.lower()
        return programs.Completed(0, "", "") if gone else done
    if fault.kind == PAUSED:
        return _docker("unpause", fault.node)
    done = programs.Completed(0, "", "")
    for command in _rule(fault, "-D"):
        result = _on_node(fault.node, *command)
        if result.returncode != 0 and "does a matching rule exist" not in result.stderr:
            done = result
    return done


def container_pid(node: str, container_id: str) -> int:
    """The PID, in the node's namespace, of a container's main process."""
    done = _on_node(node, "ctr", "--namespace=k8s.io", "task", "ls")
    if done.returncode != 0:
        raise EnvironmentProblem(f"ctr task ls on node {node} failed: {done.first_error_line()}")
    for line in done.stdout.splitlines()[1:]:
        task, _, rest = line.strip().partition(" ")
        if task == container_id:
            return int(rest.split()[0])
    raise EnvironmentProblem(f"container {container_id[:12]} runs no task on node {node}")


@dataclass(frozen=True)
class NodeFaults:
    """Faults on the nodes of a kind cluster, each undone whatever happens."""

    state_dir: Path

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
    def _in_force(self, fault: Fault, make: list[list[str]]) -> Iterator[Fault]:
        self._remember(fault)  # first: an interrupted fault is still undone
        try:
            for argv in make:
                done = _docker(*argv)
                if done.returncode != 0:
                    raise EnvironmentProblem(
                        f"{fault.kind} {fault.what}: {done.first_error_line()}"
                    )
            yield fault
        finally:
            if _undo(fault).returncode == 0:
                self._forget(fault)

    def kill(self, node: str, container_id: str, what: str) -> int:
        """SIGKILL a container's main process (a crash: nothing to undo, the kubelet
        restarts the container); returns the PID it had."""
        pid = container_pid(node, container_id)
        done = _on_node(node, "kill", "-KILL", str(pid))
        if done.returncode != 0:
            raise EnvironmentProblem(f"SIGKILL {what}: {done.first_error_line()}")
        return pid

    def frozen(self, node: str, container_id: str, what: str) -> AbstractContextManager[Fault]:
        """The container's main process stopped (SIGSTOP) for the body, then SIGCONT."""
        fault = Fault(FROZEN, node, what, pid=container_pid(node, container_id))
        return self._in_force(fault, [["exec", node, "kill", "-STOP", str(fault.pid)]])

    def paused(self, node: str) -> AbstractContextManager[Fault]:
        """The whole node frozen (``docker pause``: its kubelet and every pod stop), then
        unpaused: a node that stops answering, with its local disk intact."""
        return self._in_force(Fault(PAUSED, node, f"node {node}"), [["pause", node]])

    def partitioned(
        self, node: str, container_id: str, peer: str, what: str
    ) -> AbstractContextManager[Fault]:
        """The traffic between a pod (any of its containers) and ``peer`` dropped, both ways,
        in the pod's network namespace; the rules removed afterwards."""
        fault = Fault(PARTITIONED, node, what, pid=container_pid(node, container_id), peer=peer)
        return self._in_force(fault, [["exec", node, *argv] for argv in _rule(fault, "-I")])


def node_faults(access: str, state_dir: Path) -> NodeFaults | None:
    """Faults on the nodes, if the cluster's provider gives access to them (kind)."""
    return NodeFaults(state_dir) if access == NODE_ACCESS_DOCKER else None


def undo_recorded(state_dir: Path) -> list[str]:
    """Undo every fault a check left in force (the run's teardown calls this)."""
    path = state_dir / FAULTS_FILE
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        fault = Fault(**json.loads(line))
        done = _undo(fault)
        lines.append(
            f"undid a fault a check left: {fault.kind} {fault.what}"
            if done.returncode == 0
            else f"could not undo {fault.kind} {fault.what}: {done.first_error_line()}"
        )
    path.unlink()
    return lines
