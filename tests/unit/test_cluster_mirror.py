"""The registry mirror: its address, what Docker pulls from it, what the nodes read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mysqlsts import programs
from mysqlsts.cluster import kind_config, mirror
from mysqlsts.errors import EnvironmentProblem, InputError
from mysqlsts.registry_mirror import RegistryMirror, parse_registry_mirror
from mysqlsts.settings import resolve


@pytest.mark.parametrize(
    ("given", "address", "scheme"),
    [
        ("127.0.0.1:5001", "127.0.0.1:5001", "http"),  # loopback: plain HTTP, as Docker
        ("localhost:5001", "localhost:5001", "http"),
        ("registry.corp.example:5000", "registry.corp.example:5000", "https"),
        ("http://registry.corp.example", "registry.corp.example", "http"),
        ("https://127.0.0.1:5001/", "127.0.0.1:5001", "https"),
    ],
)
def test_a_mirror_address_is_host_and_port_with_a_scheme_for_the_nodes(
    given: str, address: str, scheme: str
) -> None:
    parsed = parse_registry_mirror(given)
    assert parsed is not None
    assert (parsed.address, parsed.scheme) == (address, scheme)


@pytest.mark.parametrize("given", ["127.0.0.1:99999", "a b", "ftp://x", "host:port", "x/y/z"])
def test_a_malformed_mirror_is_one_line(given: str) -> None:
    with pytest.raises(InputError, match="is not HOST\\[:PORT\\]"):
        parse_registry_mirror(given)


def test_a_mirror_is_for_kind_clusters_only() -> None:
    with pytest.raises(InputError, match="--registry-mirror is for kind clusters"):
        resolve({"cluster": "existing", "registry_mirror": "r:5000"}, environ={})


def test_docker_pulls_every_mirrored_registry_from_the_mirror_under_the_same_path() -> None:
    registry = RegistryMirror("127.0.0.1", 5001, "http")
    assert mirror.through(registry, "mysql:5.7-debian") == "127.0.0.1:5001/library/mysql:5.7-debian"
    assert (
        mirror.through(registry, "kindest/node:v1.32.0@sha256:abc")
        == "127.0.0.1:5001/kindest/node:v1.32.0@sha256:abc"
    )
    assert (
        mirror.through(registry, "gcr.io/google-samples/xtrabackup:1.0")
        == "127.0.0.1:5001/google-samples/xtrabackup:1.0"
    )
    assert mirror.through(registry, "quay.io/x/y:1") is None


def test_the_nodes_read_one_hosts_toml_per_registry(tmp_path: Path) -> None:
    mounts = mirror.write_hosts_dirs(tmp_path, "http://mysqlsts-registry:5000")
    assert [inside for _, inside in mounts] == [
        "/etc/containerd/certs.d/docker.io",
        "/etc/containerd/certs.d/gcr.io",
        "/etc/containerd/certs.d/registry.k8s.io",
    ]
    text = (tmp_path / "docker.io" / "hosts.toml").read_text()
    assert 'server = "https://registry-1.docker.io"' in text
    assert '[host."http://mysqlsts-registry:5000"]' in text
    assert 'capabilities = ["pull", "resolve"]' in text


def test_every_node_mounts_the_mirror_config_and_containerd_reads_it(tmp_path: Path) -> None:
    shared = mirror.write_hosts_dirs(tmp_path, "https://r:5000")
    pv = [(tmp_path / "pv", "/mnt/data")]
    config = yaml.safe_load(kind_config.render([pv, []], shared, [mirror.CONTAINERD_PATCH]))
    assert config["containerdConfigPatches"] == [mirror.CONTAINERD_PATCH]
    for node in config["nodes"]:
        inside = {m["containerPath"]: m.get("readOnly", False) for m in node["extraMounts"]}
        assert inside["/etc/containerd/certs.d/gcr.io"] is True
    assert config["nodes"][1]["extraMounts"][0] == {
        "hostPath": str(tmp_path / "pv"),
        "containerPath": "/mnt/data",
    }


def test_a_loopback_mirror_is_reached_through_the_container_that_publishes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {
        "ps": programs.Completed(0, "mysqlsts-registry\n", ""),
        "port": programs.Completed(0, "5000/tcp -> 127.0.0.1:5001\n", ""),
    }
    monkeypatch.setattr(mirror.programs, "run", lambda argv, timeout: answers[argv[1]])
    endpoint, relay = mirror.node_endpoint(RegistryMirror("127.0.0.1", 5001, "http"))
    assert endpoint == "http://mysqlsts-registry:5000"
    assert relay == mirror.Relay("mysqlsts-registry", 5000)


def test_a_loopback_mirror_no_container_publishes_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mirror.programs, "run", lambda argv, timeout: programs.Completed(0, "", ""))
    with pytest.raises(EnvironmentProblem, match="which the kind nodes cannot reach"):
        mirror.node_endpoint(RegistryMirror("127.0.0.1", 5001, "http"))


def test_a_remote_mirror_is_reached_as_given() -> None:
    endpoint, relay = mirror.node_endpoint(RegistryMirror("registry.corp", 5000, "https"))
    assert (endpoint, relay) == ("https://registry.corp:5000", None)
