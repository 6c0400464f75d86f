"""Every test here disturbs the deployment: each starts from the deployment as declared.

The check runs in setup, after the deployment lock is taken (``_deployment_guard``): if an
earlier test left the deployment broken, this test is reported as an error in setup, not
as a failure of the check it makes.
"""

from __future__ import annotations

import pytest

from mysqlsts.deployment import Deployment
from mysqlsts.disruption import require_as_declared
from mysqlsts.kube import Kube
from mysqlsts.mysql import MySQL


@pytest.fixture(autouse=True)
def _deployment_as_declared(
    _deployment_guard: None, deployment: Deployment, kube: Kube, mysql: MySQL
) -> None:
    require_as_declared(kube, mysql, deployment)
