"""The run's way to the nodes, decided once: the provider's, none, or a node agent that
the namespace admits (a server-side dry run first)."""

from __future__ import annotations

from typing import Any

import pytest

from mysqlsts import settings
from mysqlsts.errors import InputError
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.run import node_access


class Kube:
    def __init__(self, refuse: str = "") -> None:
        self.refuse, self.dry_runs = refuse, []

    def create_pod(self, manifest: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        assert dry_run, "deciding creates nothing"
        self.dry_runs.append(manifest)
        if self.refuse:
            raise KubeError("create pod (dry run)", 403, self.refuse)
        return manifest


def decide(kube: Kube, **values: Any) -> node_access.NodeAccess:
    chosen = settings.resolve(values, {})
    return node_access.decide(kube, chosen, "docker", "mysql", "toolbox:1", "w1", "r1")  # type: ignore[arg-type]


def test_without_the_option_the_providers_way_holds() -> None:
    kube = Kube()
    assert decide(kube) == node_access.NodeAccess("docker") and kube.dry_runs == []


def test_a_privileged_agent_admitted_by_a_dry_run_is_the_way() -> None:
    kube = Kube()
    access = decide(kube, node_access="pod", node_access_namespace="agents")
    assert access == node_access.NodeAccess("pod", "agents", "toolbox:1")
    (agent,) = kube.dry_runs
    assert agent["metadata"]["namespace"] == "agents" and agent["spec"]["hostPID"] is True


def test_a_refusal_is_one_line_that_names_the_namespace_and_the_reason() -> None:
    psa = 'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged'
    access = decide(Kube(refuse=psa), node_access="pod")
    assert access.way == "" and "\n" not in access.refused
    assert access.refused.startswith("--node-access pod: namespace mysql does not admit")
    assert access.refused.endswith(f"{psa}")


def test_none_means_no_way_even_on_kind() -> None:
    assert decide(Kube(), node_access="none").way == ""


def test_bad_node_access_options_are_one_line_input_errors() -> None:

    with pytest.raises(InputError, match="--node-access must be one of pod, none"):
        settings.resolve({"node_access": "ssh"}, {})
    with pytest.raises(InputError, match="go with --node-access pod"):
        settings.resolve({"node_access_namespace": "agents"}, {})
    with pytest.raises(InputError, match="--node-access-namespace 'Bad_NS' is not"):
        settings.resolve({"node_access": "pod", "node_access_namespace": "Bad_NS"}, {})
