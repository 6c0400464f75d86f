"""Faults on nodes: recorded before they are made, undone after, swept at teardown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mysqlsts import programs
from mysqlsts.cluster import node_faults

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
    assert node_faults.undo_recorded(tmp_path) == ["undid a fault a check left: paused node w3"]
    assert docker == [["docker", "unpause", "w3"]]
    assert not (tmp_path / node_faults.FAULTS_FILE).exists()
    assert node_faults.undo_recorded(tmp_path) == []


def test_only_kind_gives_access_to_its_nodes(tmp_path: Path) -> None:
    assert node_faults.node_faults("docker", tmp_path) is not None
    assert node_faults.node_faults("", tmp_path) is None


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
