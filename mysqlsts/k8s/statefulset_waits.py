"""Waits on a StatefulSet, apart from its reads and acts (the e2e framework's
``statefulset/wait.go``): ready with its pods, failing at once on what waiting cannot mend."""

from __future__ import annotations

from mysqlsts.k8s.api_errors import TRANSIENT
from mysqlsts.k8s.client import Kube, Obj
from mysqlsts.k8s.pod_waits import (
    must,
    pod_state,
    raise_if_image_pull_fails,
    raise_if_init_crash_loops,
)
from mysqlsts.k8s.status import statefulset_ready, summarize_statefulset
from mysqlsts.waiting import Seen, wait_for


def wait_statefulset_ready(
    kube: Kube,
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
        sts = kube.get_statefulset(namespace, name)
        if sts is None:
            return Seen(False, f"StatefulSet {name} does not exist")
        selector = ",".join(
            f"{k}={v}"
            for k, v in sorted(
                ((sts["spec"].get("selector") or {}).get("matchLabels") or {}).items()
            )
        )
        pods = kube.list_pods(namespace, selector or None)
        for pod in pods:
            raise_if_image_pull_fails(kube, pod)
            if crash_loop_fails:
                raise_if_init_crash_loops(pod)
        state = "; ".join([summarize_statefulset(sts), *(pod_state(kube, p) for p in pods)])
        return Seen(statefulset_ready(sts, replicas), state, sts)

    want = "" if replicas is None else f" with {replicas} replicas"
    return must(
        wait_for(
            f"StatefulSet {namespace}/{name} to be ready{want}",
            probe,
            timeout=timeout,
            interval=2,
            transient=TRANSIENT,
        )
    )
