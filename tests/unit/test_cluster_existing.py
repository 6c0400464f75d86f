from __future__ import annotations

from typing import Any

import pytest

from mysqlsts.cluster.existing import choose_node
from mysqlsts.errors import EnvironmentProblem, InputError


def node(
    name: str, ready: bool = True, labels: dict[str, str] | None = None, taint: bool = False
) -> dict[str, Any]:
    spec: dict[str, Any] = {"taints": [{"key": "k", "effect": "NoSchedule"}]} if taint else {}
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


CONTROL = node("cp", labels={"node-role.kubernetes.io/control-plane": ""}, taint=True)


def test_first_ready_schedulable_worker_is_chosen_and_must_be_labelled() -> None:
    assert choose_node([CONTROL, node("w2"), node("w1", ready=False), node("w3")], None) == (
        "w2",
        True,
    )


def test_a_node_already_labelled_is_preferred_and_not_relabelled() -> None:
    labelled = node("w9", labels={"mysqlsts.io/local-pv": "true"})
    assert choose_node([node("w1"), labelled], None) == ("w9", False)


def test_the_node_asked_for() -> None:
    assert choose_node([node("w1"), node("w2")], "w2") == ("w2", True)
    with pytest.raises(InputError, match=r"--local-pv-node w7: no such node \(nodes: w1, w2\)"):
        choose_node([node("w1"), node("w2")], "w7")
    with pytest.raises(InputError, match="is not Ready"):
        choose_node([node("w1", ready=False)], "w1")


def test_single_node_clusters_use_an_untainted_control_plane() -> None:
    single = node("only", labels={"node-role.kubernetes.io/control-plane": ""})
    assert choose_node([single], None) == ("only", True)
    with pytest.raises(EnvironmentProblem, match="no Ready schedulable node"):
        choose_node([CONTROL], None)
