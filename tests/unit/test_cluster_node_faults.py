"""Faults on nodes: recorded before they are made, undone after, swept at teardown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mysqlsts import programs
from mysqlsts.cluster import node_faults
from mysqlsts.k8s import pods as node_faults_pods

TASKS = "TASK     PID    STATUS\nabc123   4242   RUNNING\n"


@pytest.fixture
def docker(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(argv: list[str], *, timeout: float, cwd: object = None) -> programs.Completed:
        calls.append([str(a) for a in argv])
        out = TASKS if "task" in argv else ""
        return programs.Completed(0, out, "")

    monkeypatch.setattr(node_faults.programs, "run", run)
    return calls


def test_a_frozen_process_is_resumed_and_forgotten(tmp_path: Path, docker: list[list[str]]) -> None:
    faults = node_faults.NodeFaults(tmp_path)
    with faults.frozen("w1", "abc123", "mysqld of mysql-1") as fault:
        assert fault.pid == 4242
        recorded = (tmp_path / node_faults.FAULTS_FILE).read_text().splitlines()
        assert json.loads(recorded[0])["kind"] == node_faults.FROZEN
    assert ["docker", "exec", "w1", "kill", "-STOP", "4242"] in docker
    assert docker[-1] == ["docker", "exec", "w1", "kill", "-CONT", "4242"]
    assert (tmp_path / node_faults.FAULTS_FILE).read_text() == ""


def test_a_fault_is_undone_when_the_check_fails(tmp_path: Path, docker: list[list[str]]) -> None:
    with pytest.raises(RuntimeError), node_faults.NodeFaults(tmp_path).paused("w2"):
        raise RuntimeError("the check failed")
    assert docker == [["docker", "pause", "w2"], ["docker", "unpause", "w2"]]


def test_a_partition_adds_and_removes_both_rules(tmp_path: Path, docker: list[list[str]]) -> None:
    with node_faults.NodeFaults(tmp_path).partitioned("w1", "abc123", "10.244.1.5", "mysql-2"):
        pass
    inserted = [c for c in docker if "-I" in c]
    deleted = [c for c in docker if "-D" in c]
    assert [c[c.index("-I") + 1] for c in inserted] == ["INPUT", "OUTPUT"]
    assert [c[c.index("-D") + 1] for c in deleted] == ["INPUT", "OUTPUT"]
    assert all("nsenter" in c and "4242" in c and "10.244.1.5" in c for c in inserted + deleted)


def test_the_teardown_undoes_what_a_killed_check_left(
    tmp_path: Path, docker: list[list[str]]
) -> None:
    fault = node_faults.Fault(node_faults.PAUSED, "w3", "node w3")
    (tmp_path / node_faults.FAULTS_FILE).write_text(json.dumps(fault.__dict__) + "\n")
    assert node_faults.undo_recorded(tmp_path, None) == [
        "undid a fault a check left: paused node w3"
    ]
    assert docker == [["docker", "unpause", "w3"]]
    assert not (tmp_path / node_faults.FAULTS_FILE).exists()
    assert node_faults.undo_recorded(tmp_path, None) == []


def test_the_ways_to_reach_a_node(tmp_path: Path) -> None:
    made: list[str] = []

    def pod_nodes() -> node_faults.PodNodes:
        made.append("pod")
        return node_faults.PodNodes(FakeKube(), "agents", "toolbox:1", "r1")

    assert isinstance(node_faults.node_shell("docker", pod_nodes), node_faults.DockerNodes)
    assert isinstance(node_faults.node_shell("pod", pod_nodes), node_faults.PodNodes)
    assert node_faults.node_shell("", pod_nodes) is None and made == ["pod"]


# -- through a privileged pod on the node ------------------------------------------------------
class FakeKube:
    """Records what the node agents are asked; ``ctr task ls`` answers with TASKS."""

    def __init__(self) -> None:
        self.applied: list[dict] = []
        self.execs: list[list[str]] = []
        self.deleted: list[str] = []
        self.left: list[str] = []

    def apply(self, manifest: dict) -> dict:
        self.applied.append(manifest)
        return manifest

    def exec(self, namespace: str, pod: str, container: str, argv: list[str], **_: object):
        self.execs.append(argv)
        return node_faults.programs.Completed(0, TASKS if "task" in argv else "", "")

    def delete_pod(self, namespace: str, name: str, **_: object) -> bool:
        self.deleted.append(name)
        return True

    def list_pods(self, namespace: str, selector: str | None = None) -> list[dict]:
        return [{"metadata": {"name": n}} for n in self.left]


@pytest.fixture
def agents(monkeypatch: pytest.MonkeyPatch) -> FakeKube:
    kube = FakeKube()

    def ready(kube_: object, namespace: str, name: str, **_: object) -> dict:
        return {"spec": {"nodeName": name.split("-")[-2]}}

    monkeypatch.setattr(node_faults_pods, "wait_pod_ready", ready)
    monkeypatch.setattr(node_faults_pods, "wait_pod_gone", lambda *a, **k: None)
    return kube


def test_a_pod_runs_the_same_node_commands_in_the_nodes_namespaces(
    tmp_path: Path, agents: FakeKube, docker: list[list[str]]
) -> None:
    shell = node_faults.PodNodes(agents, "agents", "toolbox:1", "r1")  # type: ignore[arg-type]
    faults = node_faults.NodeFaults(tmp_path, shell)
    with faults.partitioned("w1", "abc123", "10.244.1.5", "mysql-2") as fault:
        assert fault.access == "pod"
        assert json.loads((tmp_path / node_faults.FAULTS_FILE).read_text())["access"] == "pod"
    faults.close()
    (agent,) = agents.applied
    assert agent["spec"]["hostPID"] is True and agent["spec"]["nodeName"] == "w1"
    assert agent["spec"]["containers"][0]["securityContext"]["privileged"] is True
    assert agent["metadata"]["labels"]["mysqlsts.io/scratch"] == node_faults.NODE_AGENT
    on_node = [argv[len(node_faults.ON_THE_NODE) :] for argv in agents.execs]
    assert all(
        argv[: len(node_faults.ON_THE_NODE)] == list(node_faults.ON_THE_NODE)
        for argv in agents.execs
    )
    # What Docker would have run on the node, and only that.
    with node_faults.NodeFaults(
        tmp_path / "d" if (tmp_path / "d").mkdir() is None else tmp_path
    ).partitioned("w1", "abc123", "10.244.1.5", "mysql-2"):
        pass
    assert on_node == [argv[3:] for argv in docker]
    assert agents.deleted == [agent["metadata"]["name"]]
    assert (tmp_path / node_faults.FAULTS_FILE).read_text() == ""


def test_a_node_cannot_be_paused_from_a_pod(tmp_path: Path, agents: FakeKube) -> None:
    shell = node_faults.PodNodes(agents, "agents", "toolbox:1", "r1")  # type: ignore[arg-type]
    faults = node_faults.NodeFaults(tmp_path, shell)
    with (
        pytest.raises(node_faults.EnvironmentProblem, match="needs the node itself"),
        faults.paused("w2"),
    ):
        pass
    # Nothing was paused, so nothing is left for the teardown to undo.
    assert (tmp_path / node_faults.FAULTS_FILE).read_text() == ""
    assert node_faults.undo_recorded(tmp_path, None) == []


def test_the_teardown_undoes_a_pod_made_fault_through_a_new_agent_and_deletes_it(
    tmp_path: Path, agents: FakeKube
) -> None:
    fault = node_faults.Fault(node_faults.FROZEN, "w1", "mysqld of mysql-1", pid=4242, access="pod")
    (tmp_path / node_faults.FAULTS_FILE).write_text(json.dumps(fault.__dict__) + "\n")
    lines = node_faults.undo_recorded(
        tmp_path,
        lambda: node_faults.PodNodes(agents, "agents", "toolbox:1", "r1"),  # type: ignore[arg-type]
    )
    assert lines == ["undid a fault a check left: frozen mysqld of mysql-1"]
    assert agents.execs == [[*node_faults.ON_THE_NODE, "kill", "-CONT", "4242"]]
    assert len(agents.deleted) == 1


def test_agents_a_killed_check_left_are_swept(agents: FakeKube) -> None:
    agents.left = ["mysqlsts-node-agent-w1-r1"]
    swept = node_faults.sweep_node_agents(agents, "agents", "r1")  # type: ignore[arg-type]
    assert swept == ["deleted node agent agents/mysqlsts-node-agent-w1-r1, left by a check"]
    assert agents.deleted == ["mysqlsts-node-agent-w1-r1"]


def test_a_frozen_process_killed_meanwhile_counts_as_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(argv: list[str], *, timeout: float, cwd: object = None) -> programs.Completed:
        if "-CONT" in argv:  # the liveness probe restarted the container meanwhile
            return programs.Completed(1, "", "kill: (4242): No such process\n")
        return programs.Completed(0, TASKS if "task" in argv else "", "")

    monkeypatch.setattr(node_faults.programs, "run", run)
    with node_faults.NodeFaults(tmp_path).frozen("w1", "abc123", "mysqld of mysql-1"):
        pass
    assert (tmp_path / node_faults.FAULTS_FILE).read_text() == ""
