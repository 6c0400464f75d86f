"""The plugin's report hooks in a real pytest run: evidence attached, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent

CONFTEST = """
import json
import types
import article
from mysqlsts.plugin import fixtures as plugin
from mysqlsts.plugin.state import CONTEXT_KEY
from mysqlsts.manifests.model import discover
from mysqlsts.redaction import register_secret

pytest_plugins = ["mysqlsts.plugin"]


class FakeKube:
    class api_client:
        @staticmethod
        def close():
            pass

    def events(self, namespace):
        return [{"type": "Warning", "reason": "BackOff", "message": "restarting",
                 "involvedObject": {"kind": "Pod", "name": "mysql-1"}}]

    def list_pods(self, namespace, selector=None):
        spec = {"initContainers": [{"name": "init-mysql"}], "containers": [{"name": "mysql"}]}
        return [{"metadata": {"name": "mysql-1"}, "status": {"phase": "Running"}, "spec": spec}]

    def logs(self, namespace, pod, container, previous=False, tail_lines=None):
        return "+ mysql -uroot -p123456\\n" if not previous else None

    def list_objects(self, api_version, kind, namespace=None):
        return [{"kind": kind, "metadata": {"name": "x", "managedFields": ["noise"]}}]

    def list_pvcs(self, namespace):
        return [{"kind": "PersistentVolumeClaim", "metadata": {"name": "data-mysql-0"}}]

    def list_nodes(self):
        return [{"kind": "Node", "metadata": {"name": "w1"}}]


class FakeMySQL:
    def replica_status(self, pod, timeout=60):
        if pod == "mysql-0":
            return None
        return types.SimpleNamespace(text=lambda: "Slave_IO_Running: Yes")


def pytest_configure(config):
    deployment = discover(article.objects())
    register_secret(deployment.root_password)  # as the run does once it has discovered it
    # Only state_dir of the run is read here (the deployment lock file lives there).
    info = types.SimpleNamespace(state_dir=str(config.rootpath))
    config.stash[CONTEXT_KEY] = plugin.Context(info, deployment, FakeKube(), FakeMySQL())


def pytest_runtest_logreport(report):
    if report.when == "call":
        extras = [
            {"name": e.get("name"), "content": e.get("content")}
            for e in getattr(report, "extras", [])
        ]
        with open(f"extras-{report.head_line}.json", "w") as f:
            json.dump({"longrepr": str(report.longrepr), "extras": extras}, f)
"""

TESTS = """
def test_fails(kube, deployment):
    assert deployment.root_password == "x", "the password is " + deployment.root_password

def test_passes(deployment):
    assert deployment.replicas == 2
"""


def test_failed_e2e_test_carries_redacted_evidence(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(str(HERE))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_e2e=TESTS)
    result = pytester.runpytest("-p", "no:pytest-kind", "--alluredir=allure", "--html=report.html")
    result.assert_outcomes(passed=1, failed=1)
    assert "123456" not in result.stdout.str()
    assert "the password is ***" in result.stdout.str()

    recorded = json.loads((pytester.path / "extras-test_fails.json").read_text())
    assert "123456" not in recorded["longrepr"]
    names = [e["name"] for e in recorded["extras"]]
    assert names == [
        "events",
        "pod mysql-1",
        "mysql-1/init-mysql log",
        "mysql-1/mysql log",
        "StatefulSets",
        "PersistentVolumeClaims",
        "PersistentVolumes",
        "nodes",
        "replica status of mysql-0",
        "replica status of mysql-1",
    ]
    texts = {e["name"]: e["content"] for e in recorded["extras"]}
    assert "managedFields" not in texts["StatefulSets"]
    assert texts["replica status of mysql-1"] == "Slave_IO_Running: Yes"
    assert "123456" not in json.dumps(recorded)
    assert not (pytester.path / "extras-test_passes.json").read_text().count('"name"')

    attachments = list((pytester.path / "allure").glob("*-attachment.txt"))
    assert len(attachments) == 10
    assert any("-p***" in a.read_text() for a in attachments)
    assert (pytester.path / "report.html").is_file()
