"""Keeps secrets out of everything the suite prints or attaches to reports.

Secrets are registered once (discovery registers the root password) and every text that
leaves the process (evidence, timeout messages, error lines, test reports) goes through
:func:`redact`. The base64 form is registered too: Secret objects and some logs carry it.
"""

from __future__ import annotations

import base64
import threading

MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember ``value`` (and its base64 form) as something never to print."""
    if not value:
        return
    encoded = base64.b64encode(value.encode()).decode()
    with _lock:
        _secrets.add(value)
        _secrets.add(encoded)


def forget_secrets() -> None:
    """Drop every registered secret (tests use this to stay independent)."""
    with _lock:
        _secrets.clear()


def registered_secrets() -> list[str]:
    """The registered secrets (for the end-of-run scan of the report files)."""
    with _lock:
        return sorted(_secrets)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    with _lock:
        # Longest first, so a secret that contains another is masked whole.
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def contains_secret(text: str) -> bool:
    with _lock:
        return any(secret in text for secret in _secrets)
