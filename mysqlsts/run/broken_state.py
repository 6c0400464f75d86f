"""The evidence of a broken state: everything a reviewer needs, taken before any repair.

The namespace's events, each pod's description and logs, the StatefulSet, claims, PVs and
nodes (:mod:`mysqlsts.reporting.namespace_evidence`), and the replication state of every pod. The
plugin takes it when a check fails; a disturbing check takes it first, before it restores
the deployment (:func:`mysqlsts.scenarios.disturbance.disturbance`), so that the report shows
the state that failed, not the repaired one.
"""

from __future__ import annotations

from mysqlsts.db.mysql import MYSQL_TRANSIENT, AccessDenied, MySQL, describe_error
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.redaction import redact
from mysqlsts.reporting import namespace_evidence
from mysqlsts.waiting import WaitTimeout

# A broken pod must not hold the report up: one short try per pod.
CONNECT_TIMEOUT = 5.0


def replication_states(mysql: MySQL, deployment: Deployment) -> list[tuple[str, str]]:
    """The replica status of every pod of the manifests (or why it could not be read)."""
    found: list[tuple[str, str]] = []
    for pod in deployment.pod_names():
        try:
            status = mysql.replica_status(pod, timeout=CONNECT_TIMEOUT)
            text = status.text() if status else "(not a replica: no replica status)"
        except (*MYSQL_TRANSIENT, AccessDenied, WaitTimeout) as error:
            text = f"(could not read it: {describe_error(error)})"
        found.append((f"replica status of {pod}", redact(text)))
    return found


def broken_state(kube: Kube, mysql: MySQL, deployment: Deployment) -> list[tuple[str, str]]:
    """(title, text) pairs, redacted: events, pods and logs, objects, replication."""
    return [
        *namespace_evidence.collect(kube, deployment.namespace),
        *namespace_evidence.cluster_objects(kube, deployment.namespace),
        *replication_states(mysql, deployment),
    ]
