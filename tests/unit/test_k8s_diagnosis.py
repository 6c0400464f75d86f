"""Why a deployment did not come up, in one line (pure: pods, events and logs given)."""

from __future__ import annotations

from typing import Any

from mysqlsts.k8s import diagnosis

Obj = dict[str, Any]
HOSTNAME_LOG = "+ set -ex\n+ hostname\nbash: hostname: command not found\n"


def pod(
    name: str,
    *,
    ready: bool = False,
    init: list[Obj] | None = None,
    main: list[Obj] | None = None,
    unscheduled: str | None = None,
) -> Obj:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if unscheduled:
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": unscheduled,
            }
        )
    return {
        "metadata": {"name": name},
        "status": {
            "phase": "Running" if ready else "Pending",
            "conditions": conditions,
            "initContainerStatuses": init or [],
            "containerStatuses": main or [],
        },
    }


def crashed_init(name: str = "init-mysql") -> Obj:
    return {
        "name": name,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
        "restartCount": 3,
        "ready": False,
    }


def logs(found: dict[tuple[str, str, bool], str]) -> diagnosis.LogReader:
    return lambda pod, container, previous: found.get((pod, container, previous))


def test_an_init_container_in_a_crash_loop_names_its_exit_and_the_line_that_explains_it() -> None:
    line = diagnosis.diagnose(
        [pod("mysql-0", init=[crashed_init()])],
        [],
        logs({("mysql-0", "init-mysql", True): HOSTNAME_LOG}),
        ["mysql-0", "mysql-1"],
    )
    assert line == (
        "pod mysql-0: init container init-mysql exited 1, restarted 3 times: "
        "bash: hostname: command not found"
    )


def test_the_first_pod_not_ready_is_explained_and_a_later_missing_one_is_not() -> None:
    ready = pod("mysql-0", ready=True)
    pending = pod(
        "mysql-1",
        unscheduled="0/4 nodes are available: 1 node(s) didn't match "
        "PersistentVolume's node affinity",
    )
    line = diagnosis.diagnose([ready, pending], [], logs({}), ["mysql-0", "mysql-1", "mysql-2"])
    assert line == (
        "pod mysql-1 is Pending: 0/4 nodes are available: 1 node(s) didn't match "
        "PersistentVolume's node affinity"
    )
    assert diagnosis.diagnose([ready], [], logs({}), ["mysql-0", "mysql-1"]) == (
        "pod mysql-1 was not created (the pods before it are ready)"
    )
    assert diagnosis.diagnose([ready], [], logs({}), ["mysql-0"]) is None


def test_an_image_that_cannot_be_pulled_is_named() -> None:
    pulling = {
        "name": "mysql",
        "image": "mysql:5.7",
        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off\npulling"}},
    }
    line = diagnosis.diagnose([pod("mysql-0", main=[pulling])], [], logs({}), ["mysql-0"])
    assert line == (
        "pod mysql-0: container mysql cannot pull image mysql:5.7: ImagePullBackOff: "
        "Back-off pulling"
    )


def test_a_running_pod_that_is_not_ready_names_the_probe_failure() -> None:
    running = {"name": "mysql", "state": {"running": {}}, "ready": False}
    events = [
        {
            "involvedObject": {"kind": "Pod", "name": "mysql-0"},
            "message": "Readiness probe failed: ERROR 2002",
        },
        {
            "involvedObject": {"kind": "Pod", "name": "mysql-1"},
            "message": "Readiness probe failed: other",
        },
    ]
    line = diagnosis.diagnose([pod("mysql-0", main=[running])], events, logs({}), ["mysql-0"])
    assert line == "pod mysql-0: running but not ready: Readiness probe failed: ERROR 2002"


def test_an_init_container_still_running_holds_the_pod() -> None:
    cloning = {"name": "clone-mysql", "state": {"running": {}}}
    done = {"name": "init-mysql", "state": {"terminated": {"exitCode": 0}}}
    line = diagnosis.diagnose([pod("mysql-1", init=[done, cloning])], [], logs({}), ["mysql-1"])
    assert line == "pod mysql-1: init container clone-mysql is running (the pod waits for it)"


def test_the_explaining_line_prefers_an_error_to_the_last_line() -> None:
    assert diagnosis.explaining_line("a\nERROR 1045: denied\n+ exit 1\n") == "ERROR 1045: denied"
    assert diagnosis.explaining_line("a\nb\n") == "b"
    assert diagnosis.explaining_line(None) == "(no log)"


def test_a_pod_held_by_a_claim_that_waits_for_a_provisioner_names_it() -> None:
    held = pod("mysql-1")
    held["spec"] = {
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-mysql-1"}}]
    }
    claim = {"kind": "PersistentVolumeClaim", "name": "data-mysql-1"}
    events = [
        {"involvedObject": claim, "reason": "WaitForFirstConsumer", "message": "waiting"},
        {
            "involvedObject": claim,
            "reason": "ExternalProvisioning",
            "message": "Waiting for a volume to be created either by the external provisioner "
            "'rancher.io/local-path' or manually",
        },
    ]
    line = diagnosis.diagnose(
        [pod("mysql-0", ready=True), held], events, logs({}), ["mysql-0", "mysql-1"]
    )
    assert line == (
        "pod mysql-1 is Pending: its claim data-mysql-1 waits: Waiting for a volume to be "
        "created either by the external provisioner 'rancher.io/local-path' or manually"
    )
