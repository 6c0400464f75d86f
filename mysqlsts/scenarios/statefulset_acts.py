"""What the checks do to the StatefulSet, in one room: scale it (and wait until it is ready
at that size), and prepare a scale-out whose new pod must clone (its claim, if an earlier
scale-in left one, emptied first)."""

from __future__ import annotations

import allure

from mysqlsts.deploy.pv_directories import helper_image
from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.pods import run_to_completion, short_lived_pod
from mysqlsts.k8s.statefulset_waits import wait_statefulset_ready
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments


def scale_to(kube: Kube, deployment: Deployment, replicas: int) -> None:
    """Scale the StatefulSet and wait until it has that many ready pods."""
    kube.scale_statefulset(deployment.namespace, deployment.statefulset, replicas)
    wait_statefulset_ready(kube, deployment.namespace, deployment.statefulset, replicas=replicas)


def empty_claim(
    kube: Kube, deployment: Deployment, claim: str, run_id: str, *, timeout: float = 180
) -> str:
    """Delete everything on ``claim`` (of a pod that does not run) through a short-lived pod.

    The pod mounts the claim (so it lands on the PV's node), runs as root and removes the
    claim's contents; the claim and its PV stay bound. Returns the pod's output.
    """
    namespace = deployment.namespace
    users = [
        pod["metadata"]["name"]
        for pod in kube.list_pods(namespace)
        if any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
            for v in (pod.get("spec") or {}).get("volumes") or []
        )
    ]
    assert not users, f"claim {claim} is in use by {users}: refusing to empty it"
    pod = short_lived_pod(
        f"mysqlsts-empty-{claim}",
        namespace,
        helper_image(deployment.mysql_image),
        run_id=run_id,
        purpose="empty-claim",
        command=[
            "sh",
            "-c",
            "set -eu; ls -A /claim; find /claim -mindepth 1 -delete; "
            'echo "emptied: $(ls -A /claim | wc -l) entries left"',
        ],
        claims={claim: "/claim"},
        as_root=True,
    )
    done = run_to_completion(kube, pod, timeout=timeout)
    assert done.succeeded, f"emptying {claim} failed: {done.output[-300:]}"
    return done.output


def next_ordinal_with_empty_claim(kube: Kube, deployment: Deployment, run_id: str) -> int:
    """The ordinal the next scale-out adds, its claim (if an earlier scale-in left one) empty."""
    ordinal = deployment.replicas
    assert ordinal < deployment.max_replicas, (
        f"the manifests have {len(deployment.pvs)} PVs and {deployment.replicas} replicas: "
        "no PV is left for a scale-out"
    )
    claim = deployment.pvc_name(ordinal)
    if kube.get_pvc(deployment.namespace, claim) is not None:
        with allure.step(f"empty claim {claim}, left by an earlier scale-in"):
            attachments.text(f"emptying {claim}", empty_claim(kube, deployment, claim, run_id))
    return ordinal
