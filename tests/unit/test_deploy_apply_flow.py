"""Deploy and teardown against a recording fake of the Kube helper (no cluster)."""

from __future__ import annotations

from typing import Any

import article
import pytest

from mysqlsts.deploy import apply as deploy
from mysqlsts.errors import DeploymentFailed, EnvironmentProblem
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.manifests import transformations
from mysqlsts.manifests.model import discover

Obj = dict[str, Any]


class FakeKube:
    def __init__(self, existing: dict[tuple[str, str], Obj] | None = None) -> None:
        self.existing = existing or {}  # (kind, name) -> object
        self.contents: dict[str, list[Obj]] = {}
        self.calls: list[str] = []
        self.fail_on: str | None = None

    def get_object(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        return self.existing.get((kind, name))

    def list_objects(self, api_version: str, kind: str, namespace: str | None = None) -> list[Obj]:
        return self.contents.get(kind, [])

    def apply(self, obj: Obj) -> Obj:
        self.calls.append(f"apply {obj['kind']} {obj['metadata']['name']}")
        if self.fail_on == obj["kind"]:
            raise KubeError(f"apply {obj['kind']}", 422, "invalid")
        return obj

    def delete_object(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> bool:
        self.calls.append(f"delete {kind} {name}")
        return True

    def list_pvcs(self, namespace: str) -> list[Obj]:
        return [{"metadata": {"name": n}} for n in ("data-mysql-0", "data-mysql-1", "other-claim")]


@pytest.fixture(autouse=True)
def deletions_are_awaited(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake cluster records each wait for a deleted object instead of polling."""

    def gone(
        kube: FakeKube,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        **_: Any,
    ) -> None:
        kube.calls.append(f"gone {kind} {name}")

    monkeypatch.setattr(deploy, "wait_object_gone", gone)


def deployment(run_id: str = "r1") -> Any:
    return discover(transformations.prepare(article.objects(), "mysql", run_id).objects)


def test_fresh_cluster_applies_everything_in_order_and_records_it() -> None:
    kube, record = FakeKube(), deploy.DeployRecord()
    d = deployment()
    skip = deploy.check_conflicts(kube, d, "r1", record)  # type: ignore[arg-type]
    deploy.apply_all(kube, d, skip, record)  # type: ignore[arg-type]
    assert (
        kube.calls[0] == "apply PersistentVolume example-mysql-pv"
        and kube.calls[-1] == "apply StatefulSet mysql"
    )
    assert len(record.created) == 10 and record.namespace_created


def test_a_failed_apply_is_still_recorded_for_teardown() -> None:
    kube, record = FakeKube(), deploy.DeployRecord()
    kube.fail_on = "Secret"
    with pytest.raises(DeploymentFailed, match="apply Secret: invalid"):
        deploy.apply_all(kube, deployment(), set(), record)  # type: ignore[arg-type]
    assert record.created[-1][1] == "Secret"


def test_foreign_objects_stop_the_run() -> None:
    kube = FakeKube({("Namespace", "mysql"): {"metadata": {"name": "mysql"}}})
    kube.contents["StatefulSet"] = [{"metadata": {"name": "mysql"}}]
    with pytest.raises(
        EnvironmentProblem, match=r"namespace mysql already holds objects .*StatefulSet mysql"
    ):
        deploy.check_conflicts(kube, deployment(), "r1", deploy.DeployRecord())  # type: ignore[arg-type]
    kube = FakeKube(
        {("PersistentVolume", "example-mysql-pv-2"): {"metadata": {"name": "example-mysql-pv-2"}}}
    )
    with pytest.raises(
        EnvironmentProblem, match="PersistentVolume example-mysql-pv-2 already exists"
    ):
        deploy.check_conflicts(kube, deployment(), "r1", deploy.DeployRecord())  # type: ignore[arg-type]


def test_empty_namespace_and_same_storage_class_are_reused_not_deleted() -> None:
    sc = next(o for o in article.objects() if o["kind"] == "StorageClass")
    kube = FakeKube(
        {
            ("Namespace", "mysql"): {"metadata": {"name": "mysql"}},
            ("StorageClass", "local-storage"): sc,
        }
    )
    kube.contents["ConfigMap"] = [{"metadata": {"name": "kube-root-ca.crt"}}]
    record = deploy.DeployRecord()
    d = deployment()
    skip = deploy.check_conflicts(kube, d, "r1", record)  # type: ignore[arg-type]
    deploy.apply_all(kube, d, skip, record)  # type: ignore[arg-type]
    assert not record.namespace_created and len(record.notes) == 2
    assert (
        "apply Namespace mysql" not in kube.calls
        and "apply StorageClass local-storage" not in kube.calls
    )
    kube.calls.clear()
    deploy.teardown(kube, d, record)  # type: ignore[arg-type]
    assert (
        "delete Namespace mysql" not in kube.calls
        and "delete StorageClass local-storage" not in kube.calls
    )
    assert kube.calls.index("delete StatefulSet mysql") < kube.calls.index("delete ConfigMap mysql")
    assert "delete PersistentVolumeClaim data-mysql-1" in kube.calls
    assert "delete PersistentVolumeClaim other-claim" not in kube.calls
    assert kube.calls.index("gone StatefulSet mysql") < kube.calls.index(
        "delete PersistentVolume example-mysql-pv"
    )


def test_teardown_of_a_created_namespace_deletes_it_then_the_cluster_scoped_objects() -> None:
    kube, record = FakeKube(), deploy.DeployRecord()
    d = deployment()
    deploy.apply_all(kube, d, set(), record)  # type: ignore[arg-type]
    kube.calls.clear()
    lines = deploy.teardown(kube, d, record)  # type: ignore[arg-type]
    assert kube.calls[:2] == ["delete Namespace mysql", "gone Namespace mysql"]
    assert kube.calls[2:6] == [
        "delete StorageClass local-storage",
        "delete PersistentVolume example-mysql-pv-3",
        "delete PersistentVolume example-mysql-pv-2",
        "delete PersistentVolume example-mysql-pv",
    ]
    assert lines[0] == "deleted namespace mysql" and record.created == []
    kube.calls.clear()
    assert deploy.teardown(kube, d, record) == [] and kube.calls == []  # idempotent
