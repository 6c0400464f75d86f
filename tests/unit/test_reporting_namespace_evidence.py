from __future__ import annotations

from typing import Any

from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.redaction import register_secret
from mysqlsts.reporting import namespace_evidence

POD = {
    "metadata": {"name": "mysql-1", "namespace": "mysql", "managedFields": [{"manager": "x"}]},
    "spec": {
        "initContainers": [{"name": "init-mysql"}, {"name": "clone-mysql"}],
        "containers": [{"name": "mysql"}, {"name": "xtrabackup"}],
    },
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
    },
}


class FakeKube:
    def __init__(self) -> None:
        self.log_calls: list[tuple[str, bool]] = []

    def events(self, namespace: str) -> list[dict[str, Any]]:
        return [
            {
                "lastTimestamp": "2026-01-01T00:00:00Z",
                "type": "Warning",
                "reason": "BackOff",
                "involvedObject": {"kind": "Pod", "name": "mysql-1"},
                "message": "Back-off restarting failed container",
                "count": 3,
            }
        ]

    def list_pods(self, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
        return [POD]

    def logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        previous: bool = False,
        tail_lines: int = 0,
    ) -> str | None:
        self.log_calls.append((container, previous))
        if container == "xtrabackup" and previous:
            return "+ mysql -uroot -ps3cret\ncrashed\n"
        if container == "clone-mysql" and not previous:
            raise KubeError("logs of mysql/mysql-1/clone-mysql", 500, "kubelet unreachable")
        return None if previous else f"{container} says hi\n"


def test_events_descriptions_and_every_containers_logs_including_previous() -> None:
    register_secret("s3cret")
    kube = FakeKube()
    collected = dict(namespace_evidence.collect(kube, "mysql"))  # type: ignore[arg-type]
    assert (
        "Warning BackOff Pod/mysql-1 (x3): Back-off restarting failed container"
        in collected["events"]
    )
    description = collected["pod mysql-1"]
    assert (
        description.startswith("mysql-1 Running not ready")
        and "Ready=False ContainersNotReady" in description
    )
    assert "managedFields" not in description
    # Init containers first (the order they run), each current and previous instance asked.
    assert [c for c, _ in kube.log_calls][::2] == [
        "init-mysql",
        "clone-mysql",
        "mysql",
        "xtrabackup",
    ]
    assert collected["mysql-1/init-mysql log"] == "init-mysql says hi\n"
    assert collected["mysql-1/clone-mysql log"].startswith("(could not get logs of clone-mysql: ")
    assert collected["mysql-1/xtrabackup previous log"] == "+ mysql -uroot -p***\ncrashed\n"
    assert "mysql-1/mysql previous log" not in collected  # no earlier instance
    text = namespace_evidence.as_text(list(collected.items()))
    assert "===== events =====" in text and "s3cret" not in text
