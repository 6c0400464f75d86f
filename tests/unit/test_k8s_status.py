from __future__ import annotations

from typing import Any

from mysqlsts.k8s import status as podstate


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "mysql-1", "namespace": "mysql"}, "status": status}


SCHEMA1 = "schema 1 image manifests are no longer supported"
PULL_FAILED = pod(
    phase="Pending",
    initContainerStatuses=[
        {"name": "init-mysql", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
        {
            "name": "clone-mysql",
            "image": "gcr.io/google-samples/xtrabackup:1.0",
            "state": {
                "waiting": {
                    "reason": "ErrImagePull",
                    "message": "failed to pull and unpack image: " + SCHEMA1,
                }
            },
        },
    ],
)


def test_image_pull_failure_carries_the_runtimes_message() -> None:
    assert podstate.image_pull_failures(PULL_FAILED) == [
        "pod mysql/mysql-1 container clone-mysql image gcr.io/google-samples/xtrabackup:1.0: "
        "ErrImagePull: failed to pull and unpack image: " + SCHEMA1
    ]


def test_backoff_and_invalid_names_count_too() -> None:
    for reason in ("ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"):
        p = pod(
            containerStatuses=[
                {"name": "m", "image": "x", "state": {"waiting": {"reason": reason}}}
            ]
        )
        assert reason in podstate.image_pull_failures(p)[0]
    crash = pod(
        containerStatuses=[{"name": "m", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
    )
    assert podstate.image_pull_failures(crash) == []


def test_pull_failure_events() -> None:
    events = [
        {
            "involvedObject": {"kind": "Pod", "name": "mysql-1"},
            "reason": "Failed",
            "message": "Failed to pull image x: 404",
        },
        {
            "involvedObject": {"kind": "Pod", "name": "mysql-0"},
            "reason": "Failed",
            "message": "Failed to pull image y",
        },
        {
            "involvedObject": {"kind": "Pod", "name": "mysql-1"},
            "reason": "Scheduled",
            "message": "image",
        },
    ]
    assert podstate.pull_failure_events(events, "mysql-1") == ["Failed to pull image x: 404"]


def test_summary_line() -> None:
    p = pod(
        phase="Pending",
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "message": "0/2 nodes are available: unbound PVC",
            },
            {"type": "Ready", "status": "False"},
        ],
    )
    assert (
        podstate.summarize_pod(p)
        == "mysql-1 Pending not ready unschedulable: 0/2 nodes are available: unbound PVC"
    )
    assert podstate.summarize_pod(PULL_FAILED).endswith(
        "[init-mysql: terminated Completed exit 0; clone-mysql: waiting ErrImagePull]"
    )


def test_ready() -> None:
    ready = pod(conditions=[{"type": "Ready", "status": "True"}])
    assert podstate.is_pod_ready(ready)
    ready["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert not podstate.is_pod_ready(ready)


def sts(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "mysql", "generation": 2},
        "spec": {"replicas": 2},
        "status": status,
    }


def test_statefulset_ready() -> None:
    good = dict(
        observedGeneration=2,
        replicas=2,
        readyReplicas=2,
        updatedReplicas=2,
        currentRevision="a",
        updateRevision="a",
    )
    assert podstate.statefulset_ready(sts(**good))
    assert not podstate.statefulset_ready(sts(**{**good, "readyReplicas": 1}))
    assert not podstate.statefulset_ready(sts(**{**good, "observedGeneration": 1}))
    assert not podstate.statefulset_ready(sts(**{**good, "updateRevision": "b"}))
    assert not podstate.statefulset_ready(sts(**good), replicas=3)
    assert (
        podstate.summarize_statefulset(sts(**good))
        == "StatefulSet mysql: want 2, have 2, ready 2, updated 2"
    )


def test_ready_pods_behind_a_service() -> None:
    slices = [
        {
            "endpoints": [
                {"conditions": {"ready": True}, "targetRef": {"kind": "Pod", "name": "mysql-1"}},
                {"conditions": {"ready": False}, "targetRef": {"kind": "Pod", "name": "mysql-2"}},
                {
                    "conditions": {},
                    "targetRef": {"kind": "Pod", "name": "mysql-0"},
                },  # absent = ready
            ]
        },
        {"endpoints": None},
        {
            "endpoints": [
                {"conditions": {"ready": True}, "targetRef": {"kind": "Pod", "name": "mysql-1"}}
            ]
        },
    ]
    assert podstate.ready_endpoint_pods(slices) == ["mysql-0", "mysql-1"]


def init_status(restarts: int, waiting: str, exit_code: int) -> dict[str, Any]:
    return pod(
        phase="Pending",
        initContainerStatuses=[
            {
                "name": "init-mysql",
                "restartCount": restarts,
                "state": {"waiting": {"reason": waiting}},
                "lastState": {"terminated": {"exitCode": exit_code}},
            }
        ],
    )


def test_an_init_container_crash_loops_after_three_failed_restarts() -> None:
    assert podstate.init_crash_loop(init_status(3, "CrashLoopBackOff", 1)) == (
        "pod mysql/mysql-1 init container init-mysql exited 1 and was restarted 3 times "
        "(CrashLoopBackOff)"
    )


def test_fewer_restarts_another_wait_or_a_clean_exit_is_no_crash_loop() -> None:
    assert podstate.init_crash_loop(init_status(2, "CrashLoopBackOff", 1)) is None
    assert podstate.init_crash_loop(init_status(5, "PodInitializing", 1)) is None
    assert podstate.init_crash_loop(init_status(5, "CrashLoopBackOff", 0)) is None
    main_loop = pod(
        containerStatuses=[
            {
                "name": "mysql",
                "restartCount": 9,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1}},
            }
        ]
    )
    assert podstate.init_crash_loop(main_loop) is None


def test_the_default_storage_class_is_the_annotated_one() -> None:
    marked = {
        "metadata": {"name": "standard", "annotations": {podstate.DEFAULT_CLASS_ANNOTATION: "true"}}
    }
    other = {"metadata": {"name": "local-storage"}}
    off = {"metadata": {"name": "old", "annotations": {podstate.DEFAULT_CLASS_ANNOTATION: "false"}}}
    assert podstate.default_storage_classes([other, marked, off]) == [marked]
