"""A master-replica deployment declares a master and at least one replica.

The article's promises (replicas replicate, refuse writes, serve reads) are about
replicas. With ``replicas: 1`` every check about them is skipped, naming the declared
count; this check is what makes such a run red instead of green on nothing.
"""

from __future__ import annotations

from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments


def test_the_manifests_declare_a_master_and_at_least_one_replica(deployment: Deployment) -> None:
    """The StatefulSet declares at least two pods: pod 0 the master, the others replicas."""
    attachments.table(
        f"StatefulSet {deployment.statefulset}",
        [{"replicas declared": deployment.replicas, "master": deployment.master_pod,
          "replica pods": ", ".join(deployment.replica_pods()) or "none"}],
    )  # fmt: skip
    pods = "pod" if deployment.replicas == 1 else "pods"
    assert deployment.replicas >= 2, (
        f"the manifests declare {deployment.replicas} {pods}: a master-replica deployment needs "
        "at least one replica"
    )
