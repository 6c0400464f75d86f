"""Applying the manifests in the article's order, and removing them.

The article applies PVs, the StorageClass, the Namespace, the ConfigMap, the Secret, the
Services and finally the StatefulSet; the suite does the same (whatever order a renderer
emits). Before applying, it refuses to touch anything it did not create. It records each
object as it creates it, so that teardown after an interruption removes exactly those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mysqlsts.errors import DeploymentFailed, EnvironmentProblem
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.object_waits import wait_object_gone
from mysqlsts.labels import RUN_LABEL_KEY
from mysqlsts.manifests.model import Deployment
from mysqlsts.waiting import WaitTimeout

Obj = dict[str, Any]
Ref = tuple[str, str, str, str | None]  # apiVersion, kind, name, namespace

ARTICLE_ORDER = (
    "PersistentVolume",
    "StorageClass",
    "Namespace",
    "ConfigMap",
    "Secret",
    "Service",
    "StatefulSet",
)
# Namespace contents that every namespace has and that nobody "put" there.
_BUILTIN_CONFIGMAPS = {"kube-root-ca.crt"}
_CONTENT_KINDS = (
    ("apps/v1", "StatefulSet"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "PersistentVolumeClaim"),
)


def apply_order(objects: list[Obj]) -> list[Obj]:
    """The objects in the article's order; other kinds go just before the StatefulSet."""
    last = ARTICLE_ORDER.index("StatefulSet")

    def rank(obj: Obj) -> float:
        kind = obj["kind"]
        return ARTICLE_ORDER.index(kind) if kind in ARTICLE_ORDER else last - 0.5

    return sorted(objects, key=rank)  # stable: files' own order within a kind


def ref(obj: Obj) -> Ref:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace")


def describe_ref(r: Ref) -> str:
    return f"{r[1]} {r[3] + '/' if r[3] else ''}{r[2]}"


def foreign_contents(listing: dict[str, list[Obj]], run_id: str) -> list[str]:
    """Objects in a namespace that this run did not create (ignoring built-in ones)."""
    found = []
    for kind, items in listing.items():
        for item in items:
            meta = item.get("metadata") or {}
            if (meta.get("labels") or {}).get(RUN_LABEL_KEY) == run_id:
                continue
            if kind == "ConfigMap" and meta.get("name") in _BUILTIN_CONFIGMAPS:
                continue
            if kind == "Secret" and item.get("type") == "kubernetes.io/service-account-token":
                continue
            found.append(f"{kind} {meta.get('name')}")
    return found


def storage_class_compatible(existing: Obj, wanted: Obj) -> bool:
    keys = ("provisioner", "volumeBindingMode", "reclaimPolicy")
    return all(existing.get(k) == wanted.get(k) for k in keys if k in wanted)


@dataclass
class DeployRecord:
    """What the run created, in creation order, and what it found and reused."""

    created: list[Ref] = field(default_factory=list)
    namespace_created: bool = False
    notes: list[str] = field(default_factory=list)


def check_conflicts(
    kube: Kube, deployment: Deployment, run_id: str, record: DeployRecord
) -> set[Ref]:
    """Refuse objects that already exist and are not the run's; return refs to skip."""
    skip: set[Ref] = set()
    for obj in deployment.objects:
        r = ref(obj)
        api_version, kind, name, namespace = r
        if namespace is not None:
            continue  # covered by the namespace check below
        existing = kube.get_object(api_version, kind, name)
        if existing is None:
            continue
        labels = (existing.get("metadata") or {}).get("labels") or {}
        if labels.get(RUN_LABEL_KEY) == run_id:
            continue
        if kind == "Namespace":
            listing = {k: kube.list_objects(v, k, namespace=name) for v, k in _CONTENT_KINDS}
            foreign = foreign_contents(listing, run_id)
            if foreign:
                shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
                raise EnvironmentProblem(
                    f"namespace {name} already holds objects this run did not create ({shown}); "
                    "delete them or deploy elsewhere"
                )
            skip.add(r)
            record.notes.append(f"namespace {name} existed (empty): used, not deleted at the end")
        elif kind == "StorageClass" and storage_class_compatible(existing, obj):
            skip.add(r)
            record.notes.append(f"StorageClass {name} existed with the same settings: used as is")
        else:
            raise EnvironmentProblem(
                f"{kind} {name} already exists and was not created by this run; "
                "delete it or use another cluster"
            )
    return skip


def apply_all(kube: Kube, deployment: Deployment, skip: set[Ref], record: DeployRecord) -> None:
    for obj in apply_order(list(deployment.objects)):
        r = ref(obj)
        if r in skip:
            continue
        # Recorded first: an interruption during the request still gets it removed.
        record.created.append(r)
        if obj["kind"] == "Namespace":
            record.namespace_created = True
        try:
            kube.apply(obj)
        except KubeError as error:
            raise DeploymentFailed(str(error)) from None


def teardown(kube: Kube, deployment: Deployment, record: DeployRecord) -> list[str]:
    """Remove what ``record`` says the run created; return lines for the user."""
    lines: list[str] = []
    if not record.created:
        return lines
    namespaced = [r for r in record.created if r[3] is not None]
    cluster_scoped = [r for r in record.created if r[3] is None]
    ns = deployment.namespace

    def attempt(what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except (KubeError, WaitTimeout) as error:
            lines.append(f"teardown: {what} failed: {error}")

    if record.namespace_created:
        attempt(f"delete namespace {ns}", lambda: kube.delete_object("v1", "Namespace", ns))
        attempt(
            f"wait for namespace {ns} to go",
            lambda: wait_object_gone(kube, "v1", "Namespace", ns, timeout=180),
        )
        lines.append(f"deleted namespace {ns}")
    else:
        for r in reversed([r for r in namespaced if r[1] != "Namespace"]):
            attempt(
                f"delete {describe_ref(r)}", lambda r=r: kube.delete_object(r[0], r[1], r[2], r[3])
            )

        # The StatefulSet's claims are not in the manifests but were made by this run.
        def delete_claims() -> None:
            for pvc in kube.list_pvcs(ns):
                name = pvc["metadata"]["name"]
                if any(
                    name.startswith(f"{t}-{deployment.statefulset}-")
                    for t in deployment.claim_templates
                ):
                    kube.delete_object("v1", "PersistentVolumeClaim", name, ns)

        if any(r[1] == "StatefulSet" for r in namespaced):
            attempt(f"delete claims of {deployment.statefulset}", delete_claims)
        for r in namespaced:
            if r[1] != "Namespace":
                attempt(
                    f"wait for {describe_ref(r)}",
                    lambda r=r: wait_object_gone(kube, *r, timeout=120),
                )
        lines.append(f"deleted the run's objects in namespace {ns}")
    for r in reversed(cluster_scoped):
        if r[1] == "Namespace":
            continue
        attempt(f"delete {describe_ref(r)}", lambda r=r: kube.delete_object(r[0], r[1], r[2]))
    for r in cluster_scoped:
        if r[1] == "PersistentVolume":
            attempt(
                f"wait for {describe_ref(r)}",
                lambda r=r: wait_object_gone(kube, r[0], r[1], r[2], timeout=120),
            )
    if cluster_scoped:
        lines.append(
            "deleted " + ", ".join(describe_ref(r) for r in cluster_scoped if r[1] != "Namespace")
        )
    record.created.clear()
    record.namespace_created = False
    return lines
