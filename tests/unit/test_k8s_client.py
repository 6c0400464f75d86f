from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_apiserver import FakeAPI, serve, status, ws_frame, ws_read

from mysqlsts.errors import DeploymentFailed, EnvironmentProblem
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.exec_results import parse_exec_status
from mysqlsts.k8s.pod_waits import wait_pod_ready
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.redaction import register_secret
from mysqlsts.waiting import WaitTimeout

NS = "/api/v1/namespaces/mysql"


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with serve() as fake:
        yield fake


@pytest.fixture
def kube(api: FakeAPI, tmp_path: Path) -> Kube:
    return Kube.from_kubeconfig(
        api.kubeconfig(tmp_path), discovery_cache=tmp_path / "discovery.json"
    )


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "mysql"}}


def test_objects_come_back_as_api_json_dicts(api: FakeAPI, kube: Kube) -> None:
    api.on("GET", f"{NS}/pods/mysql-0", {**pod("mysql-0"), "status": {"podIP": "10.0.0.1"}})
    got = kube.get_pod("mysql", "mysql-0")
    assert (
        got is not None and got["status"]["podIP"] == "10.0.0.1"
    )  # camelCase, like kubectl -o json
    assert kube.get_pod("mysql", "absent") is None


def test_list_pods_passes_the_selector_and_sorts(api: FakeAPI, kube: Kube) -> None:
    api.on("GET", f"{NS}/pods", {"kind": "PodList", "items": [pod("mysql-1"), pod("mysql-0")]})
    assert [p["metadata"]["name"] for p in kube.list_pods("mysql", "app=mysql")] == [
        "mysql-0",
        "mysql-1",
    ]
    assert api.requests[-1].query["labelSelector"] == ["app=mysql"]


def test_scale_patches_the_scale_subresource(api: FakeAPI, kube: Kube) -> None:
    path = "/apis/apps/v1/namespaces/mysql/statefulsets/mysql/scale"
    api.on("PATCH", path, {"kind": "Scale", "spec": {"replicas": 3}})
    kube.scale_statefulset("mysql", "mysql", 3)
    request = api.requests[-1]
    assert request.body == {"spec": {"replicas": 3}}
    assert request.headers["Content-Type"].startswith("application/")


def test_api_errors_become_one_line_with_the_servers_message(api: FakeAPI, kube: Kube) -> None:
    api.on(
        "GET", f"{NS}/pods/mysql-0", status(403, 'pods "mysql-0" is forbidden: nope'), status=403
    )
    with pytest.raises(KubeError) as caught:
        kube.get_pod("mysql", "mysql-0")
    assert (
        str(caught.value) == 'get pod mysql/mysql-0: pods "mysql-0" is forbidden: nope (HTTP 403)'
    )
    assert caught.value.status == 403


def test_delete_of_a_missing_pod_is_false(api: FakeAPI, kube: Kube) -> None:
    api.on("DELETE", f"{NS}/pods/mysql-1", pod("mysql-1"))
    assert kube.delete_pod("mysql", "mysql-1", grace_period_seconds=0)
    assert api.requests[-1].body == {"gracePeriodSeconds": 0}
    assert not kube.delete_pod("mysql", "mysql-9")


def test_logs_are_redacted_and_missing_previous_logs_are_none(api: FakeAPI, kube: Kube) -> None:
    register_secret("123456")
    api.on("GET", f"{NS}/pods/mysql-1/log", "+ mysql -h 127.0.0.1 -uroot -p123456 -e 'SELECT 1'\n")
    assert (
        kube.logs("mysql", "mysql-1", "xtrabackup")
        == "+ mysql -h 127.0.0.1 -uroot -p*** -e 'SELECT 1'\n"
    )
    assert api.requests[-1].query["container"] == ["xtrabackup"]
    api.on(
        "GET",
        f"{NS}/pods/mysql-1/log",
        status(400, "previous terminated container not found"),
        status=400,
    )
    assert kube.logs("mysql", "mysql-1", "xtrabackup", previous=True) is None


def test_events_oldest_first(api: FakeAPI, kube: Kube) -> None:
    api.on(
        "GET",
        f"{NS}/events",
        {
            "items": [
                {"lastTimestamp": "2026-01-02T00:00:00Z", "reason": "b"},
                {"lastTimestamp": "2026-01-01T00:00:00Z", "reason": "a"},
            ]
        },
    )
    assert [e["reason"] for e in kube.events("mysql")] == ["a", "b"]


def test_endpoint_slices_of_a_service(api: FakeAPI, kube: Kube) -> None:
    api.on(
        "GET",
        "/apis/discovery.k8s.io/v1/namespaces/mysql/endpointslices",
        {"items": [{"endpoints": []}]},
    )
    assert kube.endpoint_slices("mysql", "mysql-read") == [{"endpoints": []}]
    assert api.requests[-1].query["labelSelector"] == ["kubernetes.io/service-name=mysql-read"]


def _discovery(api: FakeAPI) -> None:
    api.on("GET", "/version", {"major": "1", "minor": "34", "gitVersion": "v1.34.4"})
    api.on("GET", "/api", {"kind": "APIVersions", "versions": ["v1"]})
    api.on("GET", "/apis", {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
    api.on(
        "GET",
        "/api/v1",
        {
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {
                    "name": "configmaps",
                    "singularName": "configmap",
                    "namespaced": True,
                    "kind": "ConfigMap",
                    "verbs": ["get", "patch", "delete"],
                },
                {
                    "name": "namespaces",
                    "singularName": "namespace",
                    "namespaced": False,
                    "kind": "Namespace",
                    "verbs": ["get", "patch", "delete"],
                },
            ],
        },
    )


def test_apply_is_server_side_with_the_suites_field_manager(api: FakeAPI, kube: Kube) -> None:
    _discovery(api)
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "mysql", "namespace": "mysql"},
        "data": {"a": "b"},
    }
    api.on("PATCH", f"{NS}/configmaps/mysql", cm)
    assert kube.apply(cm)["data"] == {"a": "b"}
    request = api.requests[-1]
    assert request.headers["Content-Type"] == "application/apply-patch+yaml"
    assert request.query["fieldManager"] == ["mysqlsts"]
    assert request.query["force"][0].lower() == "true"
    assert request.body == cm


def test_get_and_delete_any_kind(api: FakeAPI, kube: Kube) -> None:
    _discovery(api)
    api.on(
        "GET",
        "/api/v1/namespaces/mysql",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mysql"}},
    )
    api.on("DELETE", "/api/v1/namespaces/mysql", {"kind": "Status", "status": "Success"})
    assert kube.get_object("v1", "Namespace", "mysql") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "mysql"},
    }
    assert kube.get_object("v1", "Namespace", "other") is None
    assert kube.delete_object("v1", "Namespace", "mysql")
    assert api.requests[-1].body == {"propagationPolicy": "Foreground"}
    assert not kube.delete_object("v1", "Namespace", "other")


def test_unreachable_api_server_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with serve() as fake:
        fake.url = f"http://127.0.0.1:{port}"
        kubeconfig = fake.kubeconfig(tmp_path)
    kube = Kube.from_kubeconfig(kubeconfig, retries=0)
    started = time.monotonic()
    with pytest.raises(KubeError, match=rf"GET http://127.0.0.1:{port}/version: "):
        kube.version(timeout=5)
    assert time.monotonic() - started < 5


def test_kubeconfig_problems_are_environment_problems(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="does not exist"):
        Kube.from_kubeconfig(tmp_path / "nope")
    (tmp_path / "garbage").write_text("clusters: 3\n")
    with pytest.raises(EnvironmentProblem, match="is not usable"):
        Kube.from_kubeconfig(tmp_path / "garbage")


def test_exec_status_channel() -> None:
    assert parse_exec_status('{"metadata":{},"status":"Success"}') == 0
    failure = (
        '{"status":"Failure","reason":"NonZeroExitCode",'
        '"message":"command terminated with non-zero exit code",'
        '"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}'
    )
    assert parse_exec_status(failure) == 3
    with pytest.raises(KubeError, match='container not found \\("nope"\\)'):
        parse_exec_status(
            '{"status":"Failure","message":"container not found (\\"nope\\")","code":500}'
        )
    with pytest.raises(KubeError, match="without an exit status"):
        parse_exec_status("")


def test_exec_returns_stdout_stderr_and_exit_code(api: FakeAPI, kube: Kube) -> None:
    def session(rfile, wfile, query) -> None:  # type: ignore[no-untyped-def]
        wfile.write(ws_frame(b"\x01hello\n") + ws_frame(b"\x02warn\n"))
        status = {
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": "2"}]},
        }
        wfile.write(ws_frame(b"\x03" + json.dumps(status).encode()))
        wfile.flush()

    api.websockets[f"{NS}/pods/mysql-0/exec"] = session
    result = kube.exec("mysql", "mysql-0", "mysql", ["sh", "-c", "echo hello"], timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (2, "hello\n", "warn\n")
    query = api.requests[-1].query
    assert query["command"] == ["sh", "-c", "echo hello"] and query["container"] == ["mysql"]
    with pytest.raises(AssertionError, match="exited 2: warn"):
        result.check("echo")


def test_port_forward_gives_a_socket_to_the_pod_port(api: FakeAPI, kube: Kube) -> None:
    def session(rfile, wfile, query) -> None:  # type: ignore[no-untyped-def]
        port = int(query["ports"][0])
        # The protocol: each channel (data 0, error 1) first carries the port number.
        wfile.write(ws_frame(bytes([0, port % 256, port // 256])))
        wfile.write(ws_frame(bytes([1, port % 256, port // 256])))
        wfile.flush()
        frame = ws_read(rfile)
        assert frame is not None and frame[1][0] == 0
        wfile.write(ws_frame(b"\x00pong:" + frame[1][1:]))
        wfile.flush()

    api.websockets[f"{NS}/pods/mysql-0/portforward"] = session
    forward = kube.port_forward("mysql", "mysql-0", 3306)
    sock = forward.socket(3306)
    sock.settimeout(10)
    sock.sendall(b"ping")
    assert sock.recv(100) == b"pong:ping"
    forward.close()
    assert api.requests[-1].query["ports"] == ["3306"]


def test_statefulset_wait_fails_at_once_on_an_image_that_cannot_be_pulled(
    api: FakeAPI, kube: Kube
) -> None:
    sts = {
        "metadata": {"name": "mysql", "namespace": "mysql", "generation": 1},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "mysql"}}},
        "status": {"observedGeneration": 1, "replicas": 1},
    }
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "gcr.io/x:1.0"'}
    stuck = {
        "metadata": {"name": "mysql-0", "namespace": "mysql"},
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [
                {"name": "clone-mysql", "image": "gcr.io/x:1.0", "state": {"waiting": waiting}}
            ],
        },
    }
    event = {
        "involvedObject": {"kind": "Pod", "name": "mysql-0"},
        "reason": "Failed",
        "message": 'Failed to pull image "gcr.io/x:1.0": schema 1 not supported',
    }
    api.on("GET", "/apis/apps/v1/namespaces/mysql/statefulsets/mysql", sts)
    api.on("GET", f"{NS}/pods", {"items": [stuck]})
    api.on("GET", f"{NS}/events", {"items": [event]})
    started = time.monotonic()
    with pytest.raises(DeploymentFailed) as caught:
        wait_statefulset_ready(kube, "mysql", "mysql", timeout=60)
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        "image cannot be pulled: pod mysql/mysql-0 container clone-mysql image gcr.io/x:1.0: "
        'ImagePullBackOff: Back-off pulling image "gcr.io/x:1.0" '
        '(event: Failed to pull image "gcr.io/x:1.0": schema 1 not supported)'
    )


def test_statefulset_wait_times_out_with_the_last_state(api: FakeAPI, kube: Kube) -> None:
    sts = {
        "metadata": {"name": "mysql", "namespace": "mysql", "generation": 1},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "mysql"}}},
        "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1},
    }
    pending = {
        "metadata": {"name": "mysql-1", "namespace": "mysql"},
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "message": "0/2 nodes: unbound PVC"}
            ],
        },
    }
    api.on("GET", "/apis/apps/v1/namespaces/mysql/statefulsets/mysql", sts)
    api.on("GET", f"{NS}/pods", {"items": [pending]})
    with pytest.raises(WaitTimeout) as caught:
        wait_statefulset_ready(kube, "mysql", "mysql", timeout=0.5)
    assert str(caught.value) == (
        "timed out after 0.5s waiting for StatefulSet mysql/mysql to be ready; last state: "
        "StatefulSet mysql/mysql: want 2, have 1, ready 1, updated 0; "
        "mysql-1 Pending not ready unschedulable: 0/2 nodes: unbound PVC"
    )


def test_a_pod_waiting_on_no_node_names_the_last_event_of_its_claim(
    api: FakeAPI, kube: Kube
) -> None:
    # The consumer pod of a claim whose provisioner never answers: the pod has no condition
    # saying why it waits; only the claim's events do.
    consumer = {
        **pod("consumer"),
        "metadata": {
            "name": "consumer",
            "namespace": "mysql",
            "uid": "new",
            "creationTimestamp": "2026-12-04T03:40:00Z",
        },
        "spec": {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "wffc"}}]},
        "status": {"phase": "Pending"},
    }

    def event(kind: str, name: str, at: str, reason: str, message: str, uid: str = "") -> dict:
        involved = {"kind": kind, "name": name, **({"uid": uid} if uid else {})}
        return {
            "involvedObject": involved,
            "lastTimestamp": at,
            "reason": reason,
            "message": message,
        }

    api.on("GET", f"{NS}/pods/consumer", consumer)
    api.on(
        "GET",
        f"{NS}/events",
        {
            "items": [
                # Before this pod existed, or about an earlier pod of the same name: not it.
                event("PersistentVolumeClaim", "wffc", "2026-12-04T03:39:00Z", "Old", "stale"),
                event("Pod", "consumer", "2026-12-04T03:45:00Z", "Killing", "gone", uid="old"),
                event(
                    "PersistentVolumeClaim",
                    "wffc",
                    "2026-12-04T03:41:00Z",
                    "ExternalProvisioning",
                    "waiting for a volume to be created by the external provisioner\n"
                    '"rancher.io/local-path"',
                ),
            ]
        },
    )
    with pytest.raises(WaitTimeout) as caught:
        wait_pod_ready(kube, "mysql", "consumer", timeout=0.5)
    assert str(caught.value).endswith(
        "last state: consumer Pending not ready (PersistentVolumeClaim wffc: "
        "ExternalProvisioning: waiting for a volume to be created by the external provisioner "
        '"rancher.io/local-path")'
    )
