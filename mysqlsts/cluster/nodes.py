"""A node's own processes, for the checks that freeze one: reached through the provider.

On kind every node is a Docker container of the same name, so a container's main process
can be signalled from the node itself (``docker exec <node> kill -STOP <pid>``), where it
is not PID 1 and the kernel lets a signal stop it. Other clusters give no such access; the
checks that need it are skipped there, with the reason.

Every fault is recorded in the run's state directory before it is made and removed once it
is undone, so that the run's teardown (:func:`undo_recorded`) can undo whatever a killed
or interrupted check left behind.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from mysqlsts import programs
from mysqlsts.cluster.provider import NODE_ACCESS_DOCKER
from mysqlsts.errors import EnvironmentProblem

DOCKER_TIMEOUT = 20.0
FAULTS_FILE = "faults.jsonl"


@dataclass(frozen=True)
class Frozen:
    """A process stopped with SIGSTOP: where it is, so that it can be resumed."""

    node: str
    pid: int
    what: str


def _docker(node: str, *argv: str) -> programs.Completed:
    return programs.run(["docker", "exec", node, *argv], timeout=DOCKER_TIMEOUT)


def container_pid(node: str, container_id: str) -> int:
    """The PID, in the node's namespace, of a container's main process."""
    done = _docker(node, "ctr", "--namespace=k8s.io", "task", "ls")
    if done.returncode != 0:
        raise EnvironmentProblem(f"ctr task ls on node {node} failed: {done.first_error_line()}")
    for line in done.stdout.splitlines()[1:]:
        task, _, rest = line.strip().partition(" ")
        if task == container_id:
            return int(rest.split()[0])
    raise EnvironmentProblem(f"container {container_id[:12]} runs no task on node {node}")


def _record(state_dir: Path) -> Path:
    return state_dir / FAULTS_FILE


def _remember(state_dir: Path, fault: Frozen) -> None:
    with _record(state_dir).open("a", encoding="utf-8") as file:
        file.write(json.dumps(asdict(fault)) + "\n")


def _forget(state_dir: Path, fault: Frozen) -> None:
    path = _record(state_dir)
    if not path.exists():
        return
    kept = [line for line in path.read_text().splitlines() if json.loads(line) != asdict(fault)]
    path.write_text("".join(f"{line}\n" for line in kept))


def _signal(fault: Frozen, sig: signal.Signals) -> programs.Completed:
    return _docker(fault.node, "kill", f"-{sig.name.removeprefix('SIG')}", str(fault.pid))


@dataclass(frozen=True)
class NodeProcesses:
    """Signals for the containers of a kind cluster's nodes."""

    state_dir: Path

    @contextmanager
    def frozen(self, node: str, container_id: str, what: str) -> Iterator[Frozen]:
        """The container's main process stopped (SIGSTOP) for the body; resumed (SIGCONT)
        whatever happens, and recorded meanwhile for the run's teardown."""
        fault = Frozen(node, container_pid(node, container_id), what)
        _remember(self.state_dir, fault)  # first: an interrupted freeze is still undone
        try:
            done = _signal(fault, signal.SIGSTOP)
            if done.returncode != 0:
                raise EnvironmentProblem(f"SIGSTOP {what}: {done.first_error_line()}")
            yield fault
        finally:
            if _signal(fault, signal.SIGCONT).returncode == 0:
                _forget(self.state_dir, fault)


def node_processes(access: str, state_dir: Path) -> NodeProcesses | None:
    """Access to the nodes' processes, if the cluster's provider gives it (kind)."""
    return NodeProcesses(state_dir) if access == NODE_ACCESS_DOCKER else None


def undo_recorded(state_dir: Path) -> list[str]:
    """Resume every process a check left frozen (the run's teardown calls this)."""
    path = _record(state_dir)
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        fault = Frozen(**json.loads(line))
        done = _signal(fault, signal.SIGCONT)
        lines.append(
            f"resumed {fault.what} (pid {fault.pid} on {fault.node}), left frozen by a check"
            if done.returncode == 0
            else f"could not resume {fault.what} on {fault.node}: {done.first_error_line()}"
        )
    path.unlink()
    return lines
