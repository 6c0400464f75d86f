"""The errors that stop a run before any test: each carries one line for the user.

Two families, with distinct exit codes so that CI logs tell "you asked for something
impossible" from "the environment or the deployment did not come up".
"""

from __future__ import annotations

# pytest's own code for usage errors; bad options and bad manifests are usage errors.
EXIT_BAD_INPUT = 4
# Not one of pytest's codes (0-5): the cluster or the deployment could not be set up.
EXIT_SETUP_FAILED = 6
# The run's reports contain the root password (found by the end-of-run secret scan).
EXIT_SECRET_FOUND = 7


class SuiteError(Exception):
    """A problem the user must fix; ``str(error)`` is the single line they see."""

    exit_code = EXIT_SETUP_FAILED


class InputError(SuiteError):
    """Options, paths or manifests that cannot work (nothing was created yet)."""

    exit_code = EXIT_BAD_INPUT


class EnvironmentProblem(SuiteError):
    """Docker, kind, the API server or the node is not usable."""


class DeploymentFailed(SuiteError):
    """The manifests were applied but the StatefulSet did not come up as described."""


class CrashLoop(DeploymentFailed):
    """An init container fails each time it starts: waiting longer cannot help."""


class NotDeclared(AssertionError):
    """The manifests lack what a check needs (a read Service, claims...): the check fails
    with this one line, naming what is missing, instead of a traceback."""
