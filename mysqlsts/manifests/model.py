"""What the manifests deploy, read from the objects themselves.

Suites never hard-code a namespace, a StatefulSet name, a replica count, a Service or a
password: they ask the :class:`Deployment` discovered here from the objects the run
applied. Point the suite at other manifests and the same tests follow them.

Discovery is pure: it registers nothing. Whoever learns the password from it registers it
for redaction explicitly (:func:`mysqlsts.redaction.register_secret`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mysqlsts.errors import InputError, NotDeclared
from mysqlsts.manifests import access
from mysqlsts.manifests.source import statefulset_of

Obj = dict[str, Any]


@dataclass(frozen=True)
class LocalPV:
    name: str
    path: str
    capacity: str
    storage_class: str | None


@dataclass(frozen=True)
class Deployment:
    """The deployment under test, as described by its (transformed) manifests."""

    objects: tuple[Obj, ...] = field(repr=False)
    namespace: str
    statefulset: str
    replicas: int
    selector: dict[str, str]
    headless_service: str
    read_services: tuple[str, ...]
    storage_class: str | None
    claim_templates: tuple[str, ...]
    pvs: tuple[LocalPV, ...]
    containers: tuple[str, ...]
    init_containers: tuple[str, ...]
    images: tuple[str, ...]
    mysql_container: str
    mysql_image: str
    mysql_port: int
    read_service_ports: tuple[int, ...]
    root_user: str
    password_source: str
    root_password: str = field(repr=False)

    # -- pods -------------------------------------------------------------------------
    @property
    def declares_local_pvs(self) -> bool:
        """Whether the manifests bring their own PersistentVolumes (the article's local PVs)
        rather than leave the claims to a provisioner (the tutorial's dynamic storage)."""
        return bool(self.pvs)

    def config_files(self) -> dict[str, str]:
        """``<ConfigMap>/<key>`` -> text, for every file of the manifests' ConfigMaps (the
        article's master.cnf and slave.cnf, the tutorial's primary.cnf and secondary.cnf)."""
        return {
            f"{o['metadata']['name']}/{key}": str(text)
            for o in self.objects_of_kind("ConfigMap")
            for key, text in (o.get("data") or {}).items()
        }

    @property
    def max_replicas(self) -> int:
        """How many pods the scaling checks may run: one per local PV the manifests declare;
        with dynamic provisioning (no PVs), one more than declared (each new claim is made)."""
        return len(self.pvs) if self.declares_local_pvs else self.replicas + 1

    def pod_name(self, ordinal: int) -> str:
        return f"{self.statefulset}-{ordinal}"

    def pod_names(self, replicas: int | None = None) -> list[str]:
        """Pod names for ``replicas`` (default: the manifests' replica count)."""
        count = self.replicas if replicas is None else replicas
        return [self.pod_name(i) for i in range(count)]

    @property
    def master_pod(self) -> str:
        """The article's design: ordinal 0 is the master, every other ordinal a replica."""
        return self.pod_name(0)

    def replica_pods(self, replicas: int | None = None) -> list[str]:
        return self.pod_names(replicas)[1:]

    def ordinal_of(self, pod: str) -> int:
        prefix = f"{self.statefulset}-"
        if not pod.startswith(prefix) or not pod[len(prefix) :].isdigit():
            raise ValueError(f"{pod} is not a pod of StatefulSet {self.statefulset}")
        return int(pod[len(prefix) :])

    def pod_host(self, ordinal: int) -> str:
        """The short DNS name other pods of the namespace use (``mysql-0.mysql``)."""
        return f"{self.pod_name(ordinal)}.{self.headless_service}"

    def pod_fqdn(self, ordinal: int) -> str:
        return f"{self.pod_host(ordinal)}.{self.namespace}.svc.cluster.local"

    def pvc_name(self, ordinal: int, template: str | None = None) -> str:
        if template is None and not self.claim_templates:
            raise NotDeclared(
                f"StatefulSet {self.statefulset} has no volumeClaimTemplates: its pods have no "
                "claims, so their data is not kept on persistent volumes"
            )
        return f"{template or self.claim_templates[0]}-{self.pod_name(ordinal)}"

    @property
    def label_selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.selector.items()))

    @property
    def read_service(self) -> str:
        """The Service clients use for reads (the article's mysql-read)."""
        if not self.read_services:
            raise NotDeclared(
                f"the manifests have no read Service: no non-headless Service selects a pod of "
                f"StatefulSet {self.statefulset}"
            )
        return self.read_services[0]

    def port_of(self, host: str) -> int:
        """The port a client dials on ``host``: the read Service's own port (its
        ``port``, which may differ from the container's), else the container's (pod DNS
        names and the headless Service reach the pods directly)."""
        if host in self.read_services:
            return self.read_service_ports[self.read_services.index(host)]
        return self.mysql_port

    def objects_of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    # -- the pod template ---------------------------------------------------------------
    @property
    def pod_spec(self) -> Obj:
        """The StatefulSet's pod template spec, as applied."""
        (sts,) = self.objects_of_kind("StatefulSet")
        return ((sts.get("spec") or {}).get("template") or {}).get("spec") or {}

    @property
    def mysql_container_spec(self) -> Obj:
        """The MySQL container of the pod template, as applied."""
        for container in self.pod_spec.get("containers") or []:
            if container.get("name") == self.mysql_container:
                return dict(container)
        raise LookupError(f"no container {self.mysql_container} in the StatefulSet")

    def master_host_names(self) -> set[str]:
        """Every name under which pod 0 (the master) can be reached from another pod."""
        host = self.pod_host(0)
        return {
            self.master_pod,
            host,
            f"{host}.{self.namespace}",
            f"{host}.{self.namespace}.svc",
            self.pod_fqdn(0),
        }


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# Labels the StatefulSet controller adds to each pod besides its template's.
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def pod_labels(template_labels: dict[str, str], statefulset: str, ordinal: int) -> dict[str, str]:
    """The labels pod ``ordinal`` carries once the StatefulSet controller made it."""
    return {
        **template_labels,
        POD_NAME_LABEL: f"{statefulset}-{ordinal}",
        POD_INDEX_LABEL: str(ordinal),
    }


def statefulset_namespace(sts: Obj) -> str | None:
    """The namespace the manifests give their StatefulSet; None when they name none."""
    namespace = sts["metadata"].get("namespace")
    return str(namespace) if namespace else None


def discover(objects: list[Obj], origin: str = "the manifests") -> Deployment:
    """The :class:`Deployment` the objects describe; unusable manifests raise InputError."""
    sts = statefulset_of(objects, origin)  # once: every fact below is read from it
    sts_name = sts["metadata"]["name"]
    namespace = statefulset_namespace(sts)
    if namespace is None:
        raise InputError(
            f"StatefulSet {sts_name} has no metadata.namespace (the run places namespace-less "
            "manifests in a namespace of its own before discovery)"
        )
    spec = sts.get("spec") or {}
    template = spec.get("template") or {}
    pod_spec = template.get("spec") or {}
    containers = pod_spec.get("containers") or []
    if not containers:
        raise InputError(f"StatefulSet {sts_name} has no containers")
    init_containers = pod_spec.get("initContainers") or []
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    selector = dict(((spec.get("selector") or {}).get("matchLabels")) or template_labels)

    headless = spec.get("serviceName")
    if not headless:
        raise InputError(f"StatefulSet {sts_name} has no spec.serviceName (no pod DNS names)")
    service = access.find_object(objects, "Service", headless, namespace)
    if service is None:
        raise InputError(
            f"Service {headless} (spec.serviceName of StatefulSet {sts_name}) is not in {origin}"
        )
    if (service.get("spec") or {}).get("clusterIP") != "None":
        raise InputError(f"Service {headless} must be headless (clusterIP: None) for pod DNS names")
    # A read Service is one that selects at least one pod as the controller labels it
    # (a Service narrowed to pod-name=mysql-0 is still the read Service: the check that
    # reads through it then finds it reaching only that pod).
    replicas = int(spec.get("replicas", 1))
    labelled = [pod_labels(template_labels, sts_name, i) for i in range(max(replicas, 1))]
    read_services = tuple(
        o["metadata"]["name"]
        for o in objects
        if o["kind"] == "Service"
        and o["metadata"].get("namespace", namespace) == namespace
        and (o.get("spec") or {}).get("clusterIP") != "None"
        and any(_selects((o.get("spec") or {}).get("selector") or {}, ls) for ls in labelled)
    )

    claim_templates = spec.get("volumeClaimTemplates") or []
    storage_class = None
    if claim_templates:
        storage_class = (claim_templates[0].get("spec") or {}).get("storageClassName")
    pvs = tuple(
        LocalPV(
            name=o["metadata"]["name"],
            path=str(
                ((o["spec"].get("local") or o["spec"].get("hostPath") or {}).get("path")) or ""
            ),
            capacity=str((o["spec"].get("capacity") or {}).get("storage", "")),
            storage_class=o["spec"].get("storageClassName"),
        )
        for o in objects
        if o["kind"] == "PersistentVolume"
    )

    mysql_container, port = access.mysql_container(containers)
    password, password_source = access.root_password(mysql_container, objects, namespace)
    images: list[str] = []
    for container in [*init_containers, *containers]:
        if container.get("image") and container["image"] not in images:
            images.append(container["image"])

    return Deployment(
        objects=tuple(objects),
        namespace=namespace,
        statefulset=sts_name,
        replicas=replicas,
        selector=selector,
        headless_service=headless,
        read_services=read_services,
        storage_class=storage_class,
        claim_templates=tuple(t["metadata"]["name"] for t in claim_templates),
        pvs=pvs,
        containers=tuple(c["name"] for c in containers),
        init_containers=tuple(c["name"] for c in init_containers),
        images=tuple(images),
        mysql_container=mysql_container["name"],
        mysql_image=str(mysql_container.get("image") or ""),
        mysql_port=port,
        read_service_ports=tuple(
            access.service_port(
                access.find_object(objects, "Service", name, namespace) or {}, mysql_container, port
            )
            for name in read_services
        ),
        root_user=access.root_user(mysql_container),
        password_source=password_source,
        root_password=password,
    )
