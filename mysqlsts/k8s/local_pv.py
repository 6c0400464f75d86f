"""The one builder of a local PersistentVolume object (a directory on one node, pinned to
it by node affinity), as the article declares its PVs: the storage check's throwaway PV,
the lab's smoke test and the unit tests' article all build theirs here."""

from __future__ import annotations

from typing import Any

HOSTNAME_LABEL = "kubernetes.io/hostname"


def local_pv(
    name: str,
    path: str,
    node: str,
    storage_class: str,
    capacity: str,
    *,
    reclaim_policy: str = "Retain",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": metadata,
        "spec": {
            "capacity": {"storage": capacity},
            "volumeMode": "Filesystem",
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": reclaim_policy,
            "storageClassName": storage_class,
            "local": {"path": path},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": HOSTNAME_LABEL, "operator": "In", "values": [node]}
                            ]
                        }
                    ]
                }
            },
        },
    }
