"""A MySQL client inside the cluster, and what a Service answers it.

A Service's load balancing happens in the cluster's data path (kube-proxy): a
port-forward from the host pins one pod and would prove nothing. So the checks that read
through a Service do it from a short-lived client pod in the deployment's namespace,
which reads the root password from where the deployment keeps it (never a literal).
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from mysqlsts.k8s import pods
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.run.environment import RunInfo

PASSWORD_ENV = "MYSQL_PWD"  # read by the mysql/mariadb client
CONNECT_TIMEOUT_SECONDS = 5


@contextmanager
def mysql_client(
    kube: Kube, deployment: Deployment, run: RunInfo, purpose: str
) -> Iterator[pods.RunningPod]:
    """A running client pod (the run's client image) in the namespace; deleted afterwards."""
    env = pods.env_from_container(
        deployment.mysql_container_spec, "MYSQL_ROOT_PASSWORD", PASSWORD_ENV
    )
    manifest = pods.short_lived_pod(
        f"mysqlsts-{purpose}-{run.run_id}",
        deployment.namespace,
        run.client_image,
        run_id=run.run_id,
        purpose=purpose,
        env=env,
    )
    with pods.running(kube, manifest) as client:
        yield client


def answers_through(
    client: pods.RunningPod, deployment: Deployment, service: str, count: int
) -> Counter[str]:
    """``count`` fresh connections to ``service`` each ask ``SELECT @@hostname``: which pod
    answered how often ("FAILED" for a connection that got no answer)."""
    return Counter(query_through(client, deployment, service, "SELECT @@hostname", count))


def query_through(
    client: pods.RunningPod, deployment: Deployment, host: str, sql: str, count: int
) -> list[str]:
    """``count`` fresh connections to ``host`` (a Service or a pod's DNS name), each with
    the client's default session settings, as an application's: each answer's first row,
    tab-separated ("FAILED" for a connection that got no answer)."""
    query = (
        f"mysql -h {shlex.quote(host)} -P {deployment.port_of(host)} "
        f"-u {shlex.quote(deployment.root_user)} --connect-timeout={CONNECT_TIMEOUT_SECONDS} "
        f"-N -B -e {shlex.quote(sql)}"
    )
    script = f'i=0; while [ $i -lt {count} ]; do i=$((i+1)); {query} 2>&1 || echo "FAILED"; done'
    budget = count * (CONNECT_TIMEOUT_SECONDS + 1) + 30
    result = client.sh(script, timeout=budget).check(f"{count} connections to {host}")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]
