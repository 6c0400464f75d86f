"""Which way this run reaches the nodes' processes, decided once before the first check.

Without ``--node-access``, the provider's own way (kind: Docker; an existing cluster: none).
With ``--node-access pod`` the run first asks the API server, with a server-side dry run of
the very node agent it would create, whether the namespace admits it (Pod Security
admission and any other admission answer a dry run as they would the real request); a
refusal becomes the one-line reason every fault check is skipped with.
"""

from __future__ import annotations

from dataclasses import dataclass

from mysqlsts.cluster.node_faults import PodNodes, node_agent
from mysqlsts.cluster.provider import NODE_ACCESS_NONE, NODE_ACCESS_POD
from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.k8s.client import Kube
from mysqlsts.settings import Settings


@dataclass(frozen=True)
class NodeAccess:
    way: str  # NODE_ACCESS_DOCKER | NODE_ACCESS_POD | NODE_ACCESS_NONE
    namespace: str = ""  # pod: where the node agents run
    image: str = ""  # pod: their image
    refused: str = ""  # asked for and not given: why, in one line


def decide(
    kube: Kube,
    settings: Settings,
    provider_way: str,
    namespace: str,
    image: str,
    node: str,
    run_id: str,
) -> NodeAccess:
    """The run's way to the nodes; ``node`` is one the dry run names (any node will do)."""
    if settings.node_access is None:
        return NodeAccess(provider_way)
    if settings.node_access != NODE_ACCESS_POD:
        return NodeAccess(NODE_ACCESS_NONE, refused="--node-access none: the nodes are not reached")
    where = settings.node_access_namespace or namespace
    agent_image = settings.node_access_image or image
    try:
        kube.create_pod(node_agent(where, node, agent_image, run_id), dry_run=True)
    except KubeError as error:
        return NodeAccess(
            NODE_ACCESS_NONE,
            refused=(
                f"--node-access pod: namespace {where} does not admit the privileged node "
                f"agent (hostPID, privileged): {error}"
            ),
        )
    return NodeAccess(NODE_ACCESS_POD, where, agent_image)


def pod_nodes(kube: Kube, access: NodeAccess, run_id: str) -> PodNodes:
    return PodNodes(kube, access.namespace, access.image, run_id)
