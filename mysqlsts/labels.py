"""The labels the suite puts on what it creates or touches, in one place.

Ours (``mysqlsts.io/...``), so they never match anything a deployment or a cluster sets.
"""

from __future__ import annotations

# The node that holds the local PVs (kind config, or the existing provider labels it).
LOCAL_PV_LABEL_KEY = "mysqlsts.io/local-pv"
LOCAL_PV_LABEL_VALUE = "true"
# Every object the run applies carries this label, so that teardown and the conflict
# check can tell the run's objects from anybody else's.
RUN_LABEL_KEY = "mysqlsts.io/run"
# Every short-lived pod a check or the run starts, so that evidence and people can tell
# them apart from the deployment's pods.
SCRATCH_LABEL_KEY = "mysqlsts.io/scratch"
