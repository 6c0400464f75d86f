"""The one way the suite talks to Kubernetes: the official Python client, returning dicts.

Objects come back as plain dicts in the API's JSON shape (camelCase, as ``kubectl get -o
json`` prints them), the same shape as the rendered manifests, so tests compare the two
directly and the pure helpers in :mod:`mysqlsts.k8s.status` read both. Every API failure
becomes a :class:`KubeError` whose message is one line. Every wait goes through
:func:`mysqlsts.waiting.wait_for`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import portforward, stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, PortForward

from mysqlsts.errors import CrashLoop, DeploymentFailed, EnvironmentProblem
from mysqlsts.k8s.diagnosis import unplaced_reason, waits_unexplained
from mysqlsts.k8s.events import event_time
from mysqlsts.k8s.status import (
    condition,
    image_pull_failures,
    init_crash_loop,
    is_pod_ready,
    pull_failure_events,
    ready_endpoint_pods,
    statefulset_ready,
    summarize_pod,
    summarize_statefulset,
)
from mysqlsts.redaction import redact
from mysqlsts.waiting import Seen, wait_for

Obj = dict[str, Any]
FIELD_MANAGER = "mysqlsts"
# One API request never blocks a wait beyond its own bound.
REQUEST_TIMEOUT = (10, 30)


class KubeError(Exception):
    """An API call failed; ``status`` is the HTTP status (0 when there was no response)."""

    def __init__(self, action: str, status: int, message: str) -> None:
        self.status = status
        super().__init__(redact(f"{action}: {message}"))


class ExecTimeout(KubeError):
    pass


def api_error_message(error: ApiException) -> str:
    """The API's own one-line message from an ApiException (body ``message`` if any)."""
    body = getattr(error, "body", None)
    if body:
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
        if message:
            return f"{message} (HTTP {error.status})"
    reason = (error.reason or "").strip().splitlines()
    return f"HTTP {error.status} {reason[0] if reason else ''}".strip()


def _wrap(action: str, error: BaseException) -> KubeError:
    if isinstance(error, ApiException):
        return KubeError(action, error.status or 0, api_error_message(error))
    return KubeError(
        action, 0, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    )


# Errors after which polling again may succeed (API server restarting, network blip).
TRANSIENT = (KubeError, urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str
    stderr: str

    def check(self, what: str) -> ExecResult:
        if self.returncode != 0:
            raise AssertionError(
                redact(
                    f"{what} exited {self.returncode}: {self.stderr.strip() or self.stdout.strip()}"
                )
            )
        return self


def parse_exec_status(error_channel: str) -> int:
    """The exit code from the exec error channel (a v1 Status in YAML/JSON)."""
    if not error_channel.strip():
        # The channel is only written when the process ended; nothing means the stream
        # was cut before that.
        raise KubeError("exec", 0, "the stream closed without an exit status")
    status = yaml.safe_load(error_channel) or {}
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                return int(cause["message"])
    raise KubeError("exec", int(status.get("code") or 0), str(status.get("message") or status))


def load_api_client(kubeconfig: Path, *, retries: int | None = None) -> k8s.ApiClient:
    """An ApiClient for ``kubeconfig``; unreadable kubeconfigs are environment problems."""
    if not kubeconfig.is_file():
        raise EnvironmentProblem(f"kubeconfig {kubeconfig} does not exist")
    configuration = type.__call__(k8s.Configuration)
    try:
        k8s_config.load_kube_config(
            config_file=str(kubeconfig), client_configuration=configuration, persist_config=False
        )
    except (ConfigException, yaml.YAMLError, OSError, ValueError, TypeError) as error:
        raise EnvironmentProblem(
            f"kubeconfig {kubeconfig} is not usable: {str(error).splitlines()[0]}"
        ) from None
    if retries is not None:
        configuration.retries = retries
    return k8s.ApiClient(configuration)


class Kube:
    """Operations on one cluster. Methods take the namespace explicitly."""

    def __init__(self, api_client: k8s.ApiClient, discovery_cache: Path | None = None) -> None:
        self.api_client = api_client
        self.core = k8s.CoreV1Api(api_client)
        self.apps = k8s.AppsV1Api(api_client)
        self._discovery_cache = discovery_cache
        self._dynamic: Any = None

    @classmethod
    def from_kubeconfig(
        cls, kubeconfig: Path, discovery_cache: Path | None = None, retries: int | None = None
    ) -> Kube:
        return cls(load_api_client(kubeconfig, retries=retries), discovery_cache)

    @property
    def server(self) -> str:
        return str(self.api_client.configuration.host)

    # -- plumbing ---------------------------------------------------------------------
    @staticmethod
    def _json(action: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Call a generated API method and return its JSON body as dicts."""
        try:
            response = call(
                *args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT, **kwargs
            )
            return json.loads(response.data)
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise _wrap(action, error) from None

    def _get_or_none(self, action: str, call: Any, *args: Any, **kwargs: Any) -> Obj | None:
        try:
            return self._json(action, call, *args, **kwargs)
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    @property
    def dynamic(self) -> Any:
        if self._dynamic is None:
            # Imported here: discovery talks to the API server, only needed for apply.
            from kubernetes.dynamic import DynamicClient

            cache = str(self._discovery_cache) if self._discovery_cache else None
            try:
                self._dynamic = DynamicClient(self.api_client, cache_file=cache)
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
                raise _wrap("API discovery", error) from None
        return self._dynamic

    def version(self, timeout: float = 10) -> str:
        """The server's gitVersion; a cheap reachability check."""
        try:
            response = k8s.VersionApi(self.api_client).get_code(
                _preload_content=False, _request_timeout=(timeout, timeout)
            )
            return str(json.loads(response.data).get("gitVersion"))
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise _wrap(f"GET {self.server}/version", error) from None

    # -- any object (dynamic client) -------------------------------------------------------
    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except Exception as error:  # discovery raises its own ResourceNotFoundError family
            raise KubeError(f"look up {api_version} {kind}", 0, str(error)) from None

    def apply(self, obj: Obj) -> Obj:
        """Server-side apply ``obj`` with the suite's field manager."""
        meta = obj["metadata"]
        action = f"apply {obj['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(
            " /", " "
        )
        resource = self._resource(obj["apiVersion"], obj["kind"])
        try:
            result = self.dynamic.server_side_apply(
                resource,
                body=obj,
                namespace=meta.get("namespace"),
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(action, error) from None
        return result.to_dict()

    def get_object(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        resource = self._resource(api_version, kind)
        try:
            return self.dynamic.get(resource, name=name, namespace=namespace).to_dict()
        except ApiException as error:
            if error.status == 404:
                return None
            raise _wrap(f"get {kind} {name}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(f"get {kind} {name}", error) from None

    def list_objects(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> list[Obj]:
        resource = self._resource(api_version, kind)
        try:
            result = self.dynamic.get(resource, namespace=namespace, label_selector=label_selector)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(f"list {kind}", error) from None
        return list(result.to_dict().get("items") or [])

    def delete_object(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str = "Foreground",
    ) -> bool:
        """Delete (``propagation``: Foreground, Background or Orphan, as ``kubectl delete
        --cascade``); False when it was already gone."""
        resource = self._resource(api_version, kind)
        try:
            self.dynamic.delete(
                resource,
                name=name,
                namespace=namespace,
                body={"propagationPolicy": propagation},
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if error.status == 404:
                return False
            raise _wrap(f"delete {kind} {name}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(f"delete {kind} {name}", error) from None
        return True

    # -- pods -------------------------------------------------------------------------
    def get_pod(self, namespace: str, name: str) -> Obj | None:
        return self._get_or_none(
            f"get pod {namespace}/{name}", self.core.read_namespaced_pod, name, namespace
        )

    def list_pods(self, namespace: str, label_selector: str | None = None) -> list[Obj]:
        body = self._json(
            f"list pods in {namespace}",
            self.core.list_namespaced_pod,
            namespace,
            label_selector=label_selector,
        )
        return sorted(body.get("items") or [], key=lambda p: p["metadata"]["name"])

    def patch_pod(self, namespace: str, name: str, patch: Obj) -> Obj:
        """Strategic-merge patch (labels, annotations...)."""
        return self._json(
            f"patch pod {namespace}/{name}", self.core.patch_namespaced_pod, name, namespace, patch
        )

    def delete_pod(
        self, namespace: str, name: str, grace_period_seconds: int | None = None
    ) -> bool:
        """Delete a pod; False when it did not exist. Does not wait."""
        body = {} if grace_period_seconds is None else {"gracePeriodSeconds": grace_period_seconds}
        try:
            self._json(
                f"delete pod {namespace}/{name}",
                self.core.delete_namespaced_pod,
                name,
                namespace,
                body=body,
            )
        except KubeError as error:
            if error.status == 404:
                return False
            raise
        return True

    def logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        previous: bool = False,
        tail_lines: int | None = None,
        timestamps: bool = False,
    ) -> str | None:
        """A container's log (redacted); None when there is none (no previous instance).

        With ``timestamps`` each line starts with the runtime's RFC 3339 time (nanoseconds).
        """
        try:
            response = self.core.read_namespaced_pod_log(
                pod,
                namespace,
                container=container,
                previous=previous,
                tail_lines=tail_lines,
                timestamps=timestamps,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as error:
            if error.status in (400, 404):
                return None
            raise _wrap(f"logs of {namespace}/{pod}/{container}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(f"logs of {namespace}/{pod}/{container}", error) from None
        return redact(response.data.decode("utf-8", "replace"))

    def exec(
        self, namespace: str, pod: str, container: str, command: list[str], *, timeout: float = 60
    ) -> ExecResult:
        """Run ``command`` (argv, no shell unless you call one) in a container."""
        action = f"exec in {namespace}/{pod}/{container}"
        try:
            ws = stream(
                self.core.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                container=container,
                command=command,
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
            )
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(action, error) from None
        try:
            ws.run_forever(timeout=timeout)
            if ws.is_open():
                raise ExecTimeout(action, 0, f"{command[0]} did not finish within {timeout:g}s")
            stdout = ws.read_stdout(timeout=0) or ""
            stderr = ws.read_stderr(timeout=0) or ""
            code = parse_exec_status(ws.read_channel(ERROR_CHANNEL) or "")
        finally:
            ws.close()
        return ExecResult(code, stdout, stderr)

    def port_forward(self, namespace: str, pod: str, port: int) -> PortForward:
        """A port-forward to ``pod:port`` through the API server (no local listener).

        ``pf.socket(port)`` is a connected socket-like object; close ``pf`` when done.
        """
        try:
            return portforward(
                self.core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port)
            )
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise _wrap(f"port-forward to {namespace}/{pod}:{port}", error) from None

    # -- other kinds ------------------------------------------------------------------
    def get_statefulset(self, namespace: str, name: str) -> Obj | None:
        return self._get_or_none(
            f"get statefulset {namespace}/{name}",
            self.apps.read_namespaced_stateful_set,
            name,
            namespace,
        )

    def patch_statefulset(self, namespace: str, name: str, patch: Obj) -> Obj:
        return self._json(
            f"patch statefulset {namespace}/{name}",
            self.apps.patch_namespaced_stateful_set,
            name,
            namespace,
            patch,
        )

    def scale_statefulset(self, namespace: str, name: str, replicas: int) -> Obj:
        """Set spec.replicas through the scale subresource (what ``kubectl scale`` does)."""
        return self._json(
            f"scale statefulset {namespace}/{name} to {replicas}",
            self.apps.patch_namespaced_stateful_set_scale,
            name,
            namespace,
            {"spec": {"replicas": replicas}},
        )

    def get_pvc(self, namespace: str, name: str) -> Obj | None:
        return self._get_or_none(
            f"get pvc {namespace}/{name}",
            self.core.read_namespaced_persistent_volume_claim,
            name,
            namespace,
        )

    def list_pvcs(self, namespace: str, label_selector: str | None = None) -> list[Obj]:
        body = self._json(
            f"list pvcs in {namespace}",
            self.core.list_namespaced_persistent_volume_claim,
            namespace,
            label_selector=label_selector,
        )
        return list(body.get("items") or [])

    def endpoint_slices(self, namespace: str, service: str) -> list[Obj]:
        """The EndpointSlices of a Service (its ready and not-ready pods)."""
        body = self._json(
            f"list endpointslices of {namespace}/{service}",
            k8s.DiscoveryV1Api(self.api_client).list_namespaced_endpoint_slice,
            namespace,
            label_selector=f"kubernetes.io/service-name={service}",
        )
        return list(body.get("items") or [])

    def service_pods(self, namespace: str, service: str) -> list[str]:
        """The ready pods behind a Service (from its EndpointSlices), sorted."""
        return ready_endpoint_pods(self.endpoint_slices(namespace, service))

    def get_pv(self, name: str) -> Obj | None:
        return self._get_or_none(f"get pv {name}", self.core.read_persistent_volume, name)

    def get_namespace(self, name: str) -> Obj | None:
        return self._get_or_none(f"get namespace {name}", self.core.read_namespace, name)

    def list_nodes(self) -> list[Obj]:
        return list(self._json("list nodes", self.core.list_node).get("items") or [])

    def patch_node(self, name: str, patch: Obj) -> Obj:
        return self._json(f"patch node {name}", self.core.patch_node, name, patch)

    def events(self, namespace: str) -> list[Obj]:
        """The namespace's events, oldest first."""
        items = (
            self._json(
                f"list events in {namespace}", self.core.list_namespaced_event, namespace
            ).get("items")
            or []
        )
        return sorted(items, key=event_time)

    def pod_state(self, pod: Obj) -> str:
        """One line for a wait's last state: :func:`summarize_pod`, and for a pod on no
        node yet whose conditions say nothing, the last event about it or its claims."""
        summary = summarize_pod(pod)
        if not waits_unexplained(pod):
            return summary  # the usual case: no events to read
        try:
            reason = unplaced_reason(pod, self.events(pod["metadata"]["namespace"]))
        except KubeError:
            return summary  # the events only add detail to what the pod says
        return f"{summary} ({reason})" if reason else summary

    # -- waits ------------------------------------------------------------------------
    def wait_pod_ready(
        self, namespace: str, name: str, *, timeout: float = 300, crash_loop_fails: bool = False
    ) -> Obj:
        """Wait until the pod is ready. Fails at once when its image cannot be pulled and,
        with ``crash_loop_fails``, when an init container crash-loops (raises CrashLoop)."""

        def probe() -> Seen[Obj]:
            pod = self.get_pod(namespace, name)
            if pod is None:
                return Seen(False, f"pod {name} does not exist")
            raise_if_image_pull_fails(self, pod)
            if crash_loop_fails:
                raise_if_init_crash_loops(pod)
            return Seen(is_pod_ready(pod), self.pod_state(pod), pod)

        return _must(
            wait_for(
                f"pod {namespace}/{name} to be ready", probe, timeout=timeout, transient=TRANSIENT
            )
        )

    def wait_pod_replaced(
        self, namespace: str, name: str, old_uid: str, *, timeout: float = 300
    ) -> Obj:
        """Wait until a pod of that name with another uid is ready (after a delete)."""

        def probe() -> Seen[Obj]:
            pod = self.get_pod(namespace, name)
            if pod is None:
                return Seen(False, f"pod {name} does not exist")
            if pod["metadata"]["uid"] == old_uid:
                return Seen(False, f"pod {name} is still the old instance ({summarize_pod(pod)})")
            raise_if_image_pull_fails(self, pod)
            return Seen(is_pod_ready(pod), self.pod_state(pod), pod)

        return _must(
            wait_for(
                f"pod {namespace}/{name} to be replaced and ready",
                probe,
                timeout=timeout,
                transient=TRANSIENT,
            )
        )

    def wait_pod_instance_gone(
        self, namespace: str, name: str, uid: str, *, timeout: float = 120
    ) -> Obj | None:
        """Wait until the instance ``uid`` of pod ``name`` is gone; return its successor, if any."""

        def probe() -> Seen[Obj]:
            pod = self.get_pod(namespace, name)
            if pod is None:
                return Seen(True, "gone", None)
            if pod["metadata"]["uid"] != uid:
                return Seen(True, "replaced", pod)
            return Seen(False, summarize_pod(pod))

        return wait_for(
            f"the old instance of pod {namespace}/{name} to be gone",
            probe,
            timeout=timeout,
            transient=TRANSIENT,
        )

    def wait_pod_finished(self, namespace: str, name: str, *, timeout: float) -> Obj:
        """Wait until a run-to-completion pod has Succeeded or Failed; return it.

        Fails at once when the pod cannot pull its image.
        """

        def probe() -> Seen[Obj]:
            current = self.get_pod(namespace, name)
            if current is None:
                return Seen(False, f"pod {name} does not exist yet")
            raise_if_image_pull_fails(self, current)
            phase = (current.get("status") or {}).get("phase")
            return Seen(phase in ("Succeeded", "Failed"), self.pod_state(current), current)

        done = wait_for(
            f"pod {namespace}/{name} to run to completion",
            probe,
            timeout=timeout,
            transient=TRANSIENT,
        )
        assert done is not None
        return done

    def wait_pod_gone(self, namespace: str, name: str, *, timeout: float = 120) -> None:
        def probe() -> Seen[None]:
            pod = self.get_pod(namespace, name)
            return Seen(pod is None, "gone" if pod is None else summarize_pod(pod))

        wait_for(f"pod {namespace}/{name} to be gone", probe, timeout=timeout, transient=TRANSIENT)

    def wait_statefulset_ready(
        self,
        namespace: str,
        name: str,
        *,
        replicas: int | None = None,
        timeout: float = 600,
        crash_loop_fails: bool = False,
    ) -> Obj:
        """Wait until the StatefulSet has ``replicas`` (default: its spec) ready pods.

        Fails at once, with the runtime's message, when one of its pods cannot pull an
        image: that never resolves by waiting. With ``crash_loop_fails``, also when an init
        container of one of its pods crash-loops (raises CrashLoop).
        """

        def probe() -> Seen[Obj]:
            sts = self.get_statefulset(namespace, name)
            if sts is None:
                return Seen(False, f"StatefulSet {name} does not exist")
            selector = ",".join(
                f"{k}={v}"
                for k, v in sorted(
                    ((sts["spec"].get("selector") or {}).get("matchLabels") or {}).items()
                )
            )
            pods = self.list_pods(namespace, selector or None)
            for pod in pods:
                raise_if_image_pull_fails(self, pod)
                if crash_loop_fails:
                    raise_if_init_crash_loops(pod)
            state = "; ".join([summarize_statefulset(sts), *map(self.pod_state, pods)])
            return Seen(statefulset_ready(sts, replicas), state, sts)

        want = "" if replicas is None else f" with {replicas} replicas"
        return _must(
            wait_for(
                f"StatefulSet {namespace}/{name} to be ready{want}",
                probe,
                timeout=timeout,
                interval=2,
                transient=TRANSIENT,
            )
        )

    def wait_node_ready(self, name: str, *, timeout: float = 180) -> Obj:
        def probe() -> Seen[Obj]:
            node = self._get_or_none(f"get node {name}", self.core.read_node, name)
            if node is None:
                return Seen(False, f"node {name} does not exist")
            ready = condition(node, "Ready") or {}
            state = f"node {name} Ready={ready.get('status')} {ready.get('message') or ''}".strip()
            return Seen(ready.get("status") == "True", state, node)

        return _must(
            wait_for(f"node {name} to be Ready", probe, timeout=timeout, transient=TRANSIENT)
        )

    def wait_service_account(
        self, namespace: str, name: str = "default", *, timeout: float = 60
    ) -> Obj:
        """Pods cannot be created in a namespace before its service account exists."""

        def probe() -> Seen[Obj]:
            account = self._get_or_none(
                f"get serviceaccount {namespace}/{name}",
                self.core.read_namespaced_service_account,
                name,
                namespace,
            )
            return Seen(
                account is not None, f"service account {namespace}/{name} not yet created", account
            )

        return _must(
            wait_for(
                f"service account {namespace}/{name}", probe, timeout=timeout, transient=TRANSIENT
            )
        )

    def wait_pvc_phase(self, namespace: str, name: str, phase: str, *, timeout: float = 120) -> Obj:
        def probe() -> Seen[Obj]:
            pvc = self.get_pvc(namespace, name)
            if pvc is None:
                return Seen(False, f"PVC {name} does not exist")
            current = (pvc.get("status") or {}).get("phase")
            volume = (pvc.get("spec") or {}).get("volumeName") or "no volume"
            return Seen(current == phase, f"PVC {name} phase {current}, {volume}", pvc)

        return _must(
            wait_for(
                f"PVC {namespace}/{name} to be {phase}", probe, timeout=timeout, transient=TRANSIENT
            )
        )

    def wait_object_gone(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        timeout: float = 180,
    ) -> None:
        def probe() -> Seen[None]:
            obj = self.get_object(api_version, kind, name, namespace)
            if obj is None:
                return Seen(True, "gone")
            phase = (obj.get("status") or {}).get("phase")
            return Seen(
                False, f"{kind} {name} still exists" + (f" (phase {phase})" if phase else "")
            )

        wait_for(
            f"{kind} {name} to be deleted", probe, timeout=timeout, interval=2, transient=TRANSIENT
        )


def _must(value: Obj | None) -> Obj:
    assert value is not None, "a successful wait returns the object it waited for"
    return value


def raise_if_init_crash_loops(pod: Obj) -> None:
    crash_loop = init_crash_loop(pod)
    if crash_loop:
        raise CrashLoop(f"{crash_loop}: it will not start by waiting")


def raise_if_image_pull_fails(kube: Kube, pod: Obj) -> None:
    """Raise DeploymentFailed naming the image and the runtime's reason, if any."""
    failures = image_pull_failures(pod)
    if not failures:
        return
    detail = ""
    try:
        events = pull_failure_events(
            kube.events(pod["metadata"]["namespace"]), pod["metadata"]["name"]
        )
        if events:
            detail = f" (event: {events[-1]})"
    except KubeError:
        pass  # the container status already carries a message; events only add detail
    raise DeploymentFailed(redact(f"image cannot be pulled: {failures[0]}{detail}"))
