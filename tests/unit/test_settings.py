from __future__ import annotations

import re
from pathlib import Path

import pytest

from mysqlsts import option_table, settings
from mysqlsts.errors import InputError


def resolve(env: dict[str, str] | None = None, **given: object) -> settings.Settings:
    values = {f"mysqlsts_{k}": v for k, v in given.items()}
    return settings.resolve(values, env or {})


def test_defaults() -> None:
    s = resolve()
    assert (s.profile, s.cluster, s.cluster_name, s.keep_cluster) == (
        "offline-debian",
        "kind",
        "mysqlsts",
        False,
    )
    assert s.manifests is None and s.kubeconfig is None and s.deploy_timeout == 600


def test_environment_sets_every_option() -> None:
    env = {
        "MYSQLSTS_PROFILE": "upstream",
        "MYSQLSTS_MANIFESTS": "/m",
        "MYSQLSTS_CLUSTER": "existing",
        "MYSQLSTS_KUBECONFIG": "/k",
        "MYSQLSTS_KEEP_CLUSTER": "yes",
        "MYSQLSTS_CLUSTER_NAME": "c",
        "MYSQLSTS_LOCAL_PV_NODE": "n1",
        "MYSQLSTS_DEPLOY_TIMEOUT": "30",
    }
    s = resolve(env)
    assert s == settings.Settings(
        "upstream", Path("/m"), "existing", Path("/k"), True, "c", "n1", 30.0
    )


def test_command_line_wins_over_environment() -> None:
    s = resolve(
        {"MYSQLSTS_PROFILE": "upstream", "MYSQLSTS_KEEP_CLUSTER": "0"},
        profile="offline",
        keep_cluster=True,
    )
    assert s.profile == "offline" and s.keep_cluster


def test_existing_cluster_falls_back_to_kubeconfig_env_then_home() -> None:
    assert resolve({"KUBECONFIG": "/a:/b"}, cluster="existing").kubeconfig == Path("/a")
    assert resolve({"HOME": "/h"}, cluster="existing").kubeconfig == Path("/h/.kube/config")


@pytest.mark.parametrize(
    ("env", "given", "message"),
    [
        ({}, {"cluster": "minikube"}, "--cluster must be one of kind, existing"),
        ({"MYSQLSTS_KEEP_CLUSTER": "maybe"}, {}, "MYSQLSTS_KEEP_CLUSTER='maybe' is not a boolean"),
        ({}, {"deploy_timeout": "soon"}, "--deploy-timeout must be a number"),
        ({}, {"deploy_timeout": "0"}, "--deploy-timeout must be positive"),
        ({}, {"random_runs": "many"}, "--random-runs must be a whole number, got 'many'"),
        ({"MYSQLSTS_RANDOM_STEPS": "0"}, {}, "--random-steps must be at least 1, got 0"),
        ({}, {"kubeconfig": "/k"}, "--kubeconfig is for --cluster existing"),
        ({}, {"local_pv_node": "n"}, "--local-pv-node is for --cluster existing"),
    ],
)
def test_bad_values_are_one_line_input_errors(
    env: dict[str, str], given: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError) as caught:
        resolve(env, **given)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_help_names_the_environment_variable_and_default() -> None:
    spec = next(s for s in option_table.OPTIONS if s.flag == "--profile")
    assert option_table.help_text(spec).endswith("[env MYSQLSTS_PROFILE; default offline-debian]")
    assert {s.env for s in option_table.OPTIONS} >= {
        "MYSQLSTS_PROFILE",
        "MYSQLSTS_MANIFESTS",
        "MYSQLSTS_CLUSTER",
        "MYSQLSTS_KUBECONFIG",
        "MYSQLSTS_KEEP_CLUSTER",
        "MYSQLSTS_CLUSTER_NAME",
        "MYSQLSTS_LOCAL_PV_NODE",
    }


def test_keys_may_omit_the_dest_prefix_but_must_exist() -> None:
    assert settings.resolve({"cluster_name": "smoke"}, {}).cluster_name == "smoke"
    assert settings.resolve({"mysqlsts_cluster_name": "smoke"}, {}).cluster_name == "smoke"
    with pytest.raises(ValueError, match="unknown setting 'clustername'"):
        settings.resolve({"clustername": "x"}, {})


def test_workers_and_pv_node_mappings() -> None:
    chosen = settings.resolve({"workers": "4", "pv_node": ["a=w1", "b=w2"]}, {})
    assert chosen.workers == 4 and chosen.pv_nodes == (("a", "w1"), ("b", "w2"))
    from_env = settings.resolve({}, {"MYSQLSTS_PV_NODE": "a=w1,b=w2"})
    assert from_env.pv_nodes == (("a", "w1"), ("b", "w2"))
    assert settings.resolve({}, {}).workers == option_table.DEFAULT_WORKERS


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"workers": "0"}, "--workers must be at least 1"),
        ({"workers": "1"}, "--workers must be at least 2"),
        ({"pv_node": ["a"]}, "--pv-node 'a' is not FROM=TO"),
        ({"pv_node": ["a="]}, "is not FROM=TO"),
        ({"pv_node": ["a=b=c"]}, "is not FROM=TO"),
        ({"pv_node": ["a=w1", "a=w2"]}, "--pv-node maps a twice"),
    ],
)
def test_bad_placement_options_are_one_line(values: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        settings.resolve(values, {})
