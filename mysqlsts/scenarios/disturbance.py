"""Around a test that disturbs the deployment: a scratch table, and the way back.

:func:`disturbance` gives the test a :class:`~mysqlsts.scenarios.scratch.ScratchTable` of its
own and, whatever happens, uncordons the nodes the test cordoned, restores the deployment
as declared (:func:`mysqlsts.run.declared.restore`) and drops the scratch database
everywhere. That the deployment *starts* as declared is the plugin's deployment guard's
job: a test whose precondition fails is an error, not a failure of its check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import allure

from mysqlsts.db.mysql import MySQL, describe_error
from mysqlsts.k8s.client import Kube
from mysqlsts.manifests.model import Deployment
from mysqlsts.reporting import attachments
from mysqlsts.run.broken_state import broken_state
from mysqlsts.run.declared import restore
from mysqlsts.scenarios.scratch import ScratchTable


@dataclass
class Disturbance:
    """What a disturbing test changed beyond the StatefulSet, for :func:`disturbance`."""

    scratch: ScratchTable
    kube: Kube
    cordoned: list[str] = field(default_factory=list)

    def cordon(self, node: str) -> datetime:
        """Cordon ``node``; returns the moment just before (to read later events from)."""
        since = datetime.now(UTC)
        self.cordoned.append(node)  # first: an interrupted patch is still undone
        self.kube.patch_node(node, {"spec": {"unschedulable": True}})
        return since

    def uncordon(self, node: str) -> None:
        with allure.step(f"uncordon {node}"):
            self.kube.patch_node(node, {"spec": {"unschedulable": False}})


@contextmanager
def disturbance(
    kube: Kube, mysql: MySQL, deployment: Deployment, label: str
) -> Iterator[Disturbance]:
    """A scratch table for the test; afterwards the deployment as declared, whatever happened.

    A failure's evidence is attached first, before the restore."""
    with allure.step("create a scratch database on the master"):
        disturbed = Disturbance(ScratchTable.create(mysql, label), kube)
    failed = False
    try:
        yield disturbed
    except BaseException:
        failed = True
        # The state that failed, before anything repairs it (the report's own evidence,
        # taken after the test, shows the restored deployment).
        with allure.step("evidence of the broken state, before the restore"):
            for title, text in broken_state(kube, mysql, deployment):
                attachments.text(f"before restore: {title}", text)
        raise
    finally:
        try:
            restore(kube, mysql, deployment, uncordon=disturbed.cordoned)
            with allure.step(f"drop {disturbed.scratch.database} everywhere"):
                disturbed.scratch.drop()
                mysql.wait_replicas_caught_up()
        except Exception as error:
            if not failed:
                raise
            # The check's own failure stays its verdict: a deployment its failure left
            # broken is reported here, and the next check that changes the deployment
            # finds it not as declared (an error in its setup).
            attachments.text("the restore failed too", describe_error(error))
