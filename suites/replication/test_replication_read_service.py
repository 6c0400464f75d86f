"""Reads through the read Service reach every ready pod, measured inside the cluster.

Clients of the article send reads to ``mysql-read``, a ClusterIP Service over all pods:
each new connection may land on any ready pod. That spreading happens in the cluster's
data path (kube-proxy), so it is measured from a client pod in the cluster; a
port-forward from the host to a Service pins a single pod and would prove nothing.
"""

from __future__ import annotations

import math
import time
from collections import Counter

from mysqlsts.k8s.client import Kube
from mysqlsts.k8s.status import is_pod_ready
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.reporting.steps import step
from mysqlsts.run.environment import RunInfo
from mysqlsts.scenarios.clients import answers_through, mysql_client

# Connections are made until missing a pod by chance is this unlikely (if the Service
# picks pods uniformly at random, as kube-proxy's iptables and IPVS modes do).
MISS_PROBABILITY = 1e-6
MAX_CONNECTIONS = 300


def connections_needed(pods: int, miss_probability: float = MISS_PROBABILITY) -> int:
    """Connections after which each of ``pods`` equally likely pods has been reached with
    probability at least ``1 - miss_probability`` (union bound over the pods)."""
    if pods <= 1:
        return 3
    return math.ceil(math.log(miss_probability / pods) / math.log(1 - 1 / pods))


@step("the read Service's ready endpoints are the StatefulSet's ready pods")
def ready_pods_behind(kube: Kube, deployment: Deployment, service: str) -> list[str]:
    ns = deployment.namespace
    ready = sorted(
        p["metadata"]["name"]
        for p in kube.list_pods(ns, deployment.label_selector)
        if is_pod_ready(p)
    )
    assert ready, f"no ready pod of StatefulSet {deployment.statefulset}"
    endpoints = kube.service_pods(ns, service)
    attachments.table(
        f"ready pods and the ready endpoints of Service {service}",
        [
            {"pod": p, "ready": p in ready, "endpoint": p in endpoints}
            for p in sorted({*ready, *endpoints})
        ],
    )
    assert endpoints == ready, (
        f"Service {service} has ready endpoints {endpoints}, the StatefulSet's ready pods "
        f"are {ready}"
    )
    return ready


@step("{count} fresh connections to the read Service from inside the cluster")
def answers_from_inside(
    kube: Kube, deployment: Deployment, run: RunInfo, service: str, count: int
) -> Counter[str]:
    """Which pod answered ``SELECT @@hostname`` for each of ``count`` new connections."""
    with mysql_client(kube, deployment, run, "read-client") as pod:
        started = time.monotonic()
        tally = answers_through(pod, deployment, service, count)
        elapsed = time.monotonic() - started
    attachments.table(
        f"{count} connections to Service {service} from pod {pod.name} on {pod.node} "
        f"({elapsed:.1f}s, image {run.client_image})",
        [{"answered by": k, "connections": v} for k, v in tally.most_common()],
    )
    return tally


def test_read_service_spreads_connections_over_every_ready_pod(
    deployment: Deployment, kube: Kube, mysqlsts_run: RunInfo
) -> None:
    """From a client pod in the deployment's namespace, N fresh connections to the read
    Service each ask ``SELECT @@hostname``: every one is answered, only by ready pods of
    the StatefulSet, and every ready pod answers at least once (N is chosen so that
    missing a pod by chance has probability below 1e-6; N and the time are bounded).
    """
    service = deployment.read_service
    ready = ready_pods_behind(kube, deployment, service)
    count = min(connections_needed(len(ready)), MAX_CONNECTIONS)
    tally = answers_from_inside(kube, deployment, mysqlsts_run, service, count)
    strangers = sorted(k for k in tally if k not in ready)
    assert not strangers, f"answers that are not a ready pod's hostname: {strangers}"
    answered = sum(tally.values())
    assert answered == count, f"{count} connections, {answered} answers: {tally}"
    missed = sorted(set(ready) - set(tally))
    assert not missed, (
        f"ready pods never reached through Service {service} in {count} connections: "
        f"{missed} (answers: {dict(tally)})"
    )
