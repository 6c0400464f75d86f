"""``--registry-mirror HOST[:PORT]``: the registry the kind nodes pull through, parsed."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from mysqlsts.errors import InputError


@dataclass(frozen=True)
class RegistryMirror:
    host: str
    port: int | None
    scheme: str  # how the nodes' containerd talks to it: http or https

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


_MIRROR = re.compile(
    r"^(?:(?P<scheme>https?)://)?(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?/?$"
)


def parse_registry_mirror(value: Any) -> RegistryMirror | None:
    """``HOST[:PORT]``, optionally after ``http://`` or ``https://``; None when not given.

    Without a scheme a loopback mirror is spoken to in plain HTTP (as Docker does for
    loopback registries), any other over HTTPS.
    """
    if value in (None, ""):
        return None
    text = str(value).strip()
    match = _MIRROR.match(text)
    port = int(match["port"]) if match and match["port"] else None
    if not match or (port is not None and not 0 < port < 65536):
        raise InputError(
            f"--registry-mirror {text!r} is not HOST[:PORT] (for example registry.example:5000)"
        )
    mirror = RegistryMirror(match["host"], port, match["scheme"] or "https")
    if not match["scheme"] and mirror.is_loopback:
        mirror = RegistryMirror(mirror.host, port, "http")
    return mirror
