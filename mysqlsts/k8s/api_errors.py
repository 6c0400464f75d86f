"""How an API failure reads: one line, the API's own message, the password masked.

Every call of :class:`mysqlsts.k8s.client.Kube` that fails raises :class:`KubeError`;
:data:`TRANSIENT` names the failures after which polling again may succeed.
"""

from __future__ import annotations

import json

import urllib3
from kubernetes.client.exceptions import ApiException

from mysqlsts.redaction import redact


class KubeError(Exception):
    """An API call failed; ``status`` is the HTTP status (0 when there was no response)."""

    def __init__(self, action: str, status: int, message: str) -> None:
        self.status = status
        super().__init__(redact(f"{action}: {message}"))


class ExecTimeout(KubeError):
    pass


def api_error_message(error: ApiException) -> str:
    """The API's own one-line message from an ApiException (body ``message`` if any)."""
    body = getattr(error, "body", None)
    if body:
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = None
        if message:
            return f"{message} (HTTP {error.status})"
    reason = (error.reason or "").strip().splitlines()
    return f"HTTP {error.status} {reason[0] if reason else ''}".strip()


def as_kube_error(action: str, error: BaseException) -> KubeError:
    if isinstance(error, ApiException):
        return KubeError(action, error.status or 0, api_error_message(error))
    return KubeError(
        action, 0, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    )


# Errors after which polling again may succeed (API server restarting, network blip).
TRANSIENT = (KubeError, urllib3.exceptions.HTTPError, OSError)
