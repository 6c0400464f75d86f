"""The one way the suite talks to Kubernetes: the official Python client, returning dicts.

Objects come back as plain dicts in the API's JSON shape (camelCase, as ``kubectl get -o
json`` prints them), the same shape as the rendered manifests, so tests compare the two
directly and the pure helpers in :mod:`mysqlsts.k8s.status` read both. Every API failure
becomes a :class:`~mysqlsts.k8s.api_errors.KubeError` whose message is one line.

It reads and acts; the waits are apart, per kind of object, as in the Kubernetes e2e
framework: :mod:`mysqlsts.k8s.pod_waits`, :mod:`mysqlsts.k8s.statefulset_waits` and
:mod:`mysqlsts.k8s.object_waits`, each through :func:`mysqlsts.waiting.wait_for`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward, stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, PortForward

from mysqlsts.k8s.api_errors import ExecTimeout, KubeError, as_kube_error
from mysqlsts.k8s.events import event_time
from mysqlsts.k8s.exec_results import ExecResult, parse_exec_status
from mysqlsts.k8s.kubeconfig import load_api_client
from mysqlsts.k8s.status import ready_endpoint_pods
from mysqlsts.redaction import redact

Obj = dict[str, Any]
FIELD_MANAGER = "mysqlsts"
# One API request never blocks a wait beyond its own bound.
REQUEST_TIMEOUT = (10, 30)


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
            raise as_kube_error(action, error) from None

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
                raise as_kube_error("API discovery", error) from None
        return self._dynamic

    def version(self, timeout: float = 10) -> str:
        """The server's gitVersion; a cheap reachability check."""
        try:
            response = k8s.VersionApi(self.api_client).get_code(
                _preload_content=False, _request_timeout=(timeout, timeout)
            )
            return str(json.loads(response.data).get("gitVersion"))
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise as_kube_error(f"GET {self.server}/version", error) from None

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
            raise as_kube_error(action, error) from None
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
            raise as_kube_error(f"get {kind} {name}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise as_kube_error(f"get {kind} {name}", error) from None

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
            raise as_kube_error(f"list {kind}", error) from None
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
            raise as_kube_error(f"delete {kind} {name}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise as_kube_error(f"delete {kind} {name}", error) from None
        return True

    # -- pods -------------------------------------------------------------------------
    def create_pod(self, manifest: Obj, *, dry_run: bool = False) -> Obj:
        """Create a pod; ``dry_run``: admitted or refused (admission's message), not made."""
        meta, extra = manifest["metadata"], {"dry_run": "All"} if dry_run else {}
        action = f"create pod {meta['namespace']}/{meta['name']}{' (dry run)' * dry_run}"
        call = self.core.create_namespaced_pod
        return dict(self._json(action, call, meta["namespace"], manifest, **extra))

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
            raise as_kube_error(f"logs of {namespace}/{pod}/{container}", error) from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise as_kube_error(f"logs of {namespace}/{pod}/{container}", error) from None
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
            raise as_kube_error(action, error) from None
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
            raise as_kube_error(f"port-forward to {namespace}/{pod}:{port}", error) from None

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

    def get_node(self, name: str) -> Obj | None:
        return self._get_or_none(f"get node {name}", self.core.read_node, name)

    def get_service_account(self, namespace: str, name: str) -> Obj | None:
        return self._get_or_none(
            f"get serviceaccount {namespace}/{name}",
            self.core.read_namespaced_service_account,
            name,
            namespace,
        )

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
