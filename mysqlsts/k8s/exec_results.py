"""What a command run in a container (``Kube.exec``) returned, and how its exit status is
read from the exec stream's error channel."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from mysqlsts.k8s.api_errors import KubeError
from mysqlsts.redaction import redact


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str
    stderr: str

    def check(self, what: str) -> ExecResult:
        if self.returncode != 0:
            raise AssertionError(
                redact(
                    f"{what} exited {self.returncode}: {self.stderr.strip() or self.stdout.strip()}"
                )
            )
        return self


def parse_exec_status(error_channel: str) -> int:
    """The exit code from the exec error channel (a v1 Status in YAML/JSON)."""
    if not error_channel.strip():
        # The channel is only written when the process ended; nothing means the stream
        # was cut before that.
        raise KubeError("exec", 0, "the stream closed without an exit status")
    status = yaml.safe_load(error_channel) or {}
    if status.get("status") == "Success":
        return 0
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                return int(cause["message"])
    raise KubeError("exec", int(status.get("code") or 0), str(status.get("message") or status))
