"""The last line of defence: look for a secret in every file a run leaves behind.

Redaction (:mod:`mysqlsts.redaction`) masks secrets where text is produced; this scan checks
the result, so that a report format or plugin that copies text around unredacted (an
exception message, captured output, a base64-inlined attachment) fails the run instead
of publishing the password.

What counts as a hit: the secret or its base64 form, also HTML-, XML- and JSON-escaped,
in any file, and inside base64 blobs embedded in files (``data:...;base64,`` URIs, which
is how pytest-html's self-contained page and Allure's single-file report inline
attachments), decoded recursively. One exception keeps digit-only passwords such as the
article's usable: a digit secret inside a longer number (a timestamp) is not a hit.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MASK = "***"
# Base64 runs worth decoding: data: URIs (pytest-html), quoted strings (Allure's
# single file keeps every data file as d("name", "<base64>")). Short runs are words.
_EMBEDDED = re.compile(rb"(?<![A-Za-z0-9+/])([A-Za-z0-9+/]{16,}={0,2})(?![A-Za-z0-9+/=])")
_MAX_DEPTH = 3
# Files bigger than this are not read (a run writes nothing near it; binaries are skipped).
MAX_FILE_BYTES = 200_000_000


@dataclass(frozen=True)
class Needle:
    pattern: bytes
    form: str  # which form of which secret: "secret", "secret, base64", "secret, JSON"...


@dataclass(frozen=True)
class Finding:
    path: Path
    form: str
    embedded: bool  # found inside a decoded base64 blob of the file

    def line(self, base: Path) -> str:
        try:
            shown = self.path.relative_to(base)
        except ValueError:
            shown = self.path
        where = " (inside an embedded base64 blob)" if self.embedded else ""
        return f"{shown}: {self.form}{where}"


def needles(secrets: Iterable[str]) -> list[Needle]:
    """Every form in which a secret could appear in a report file."""
    found: dict[bytes, str] = {}
    for value in secrets:
        if not value:
            continue
        encoded = base64.b64encode(value.encode()).decode()
        for base, base_form in ((value, "secret"), (encoded, "secret, base64")):
            forms = [
                (base, base_form),
                (html.escape(base), f"{base_form}, HTML-escaped"),
                (json.dumps(base)[1:-1], f"{base_form}, JSON-escaped"),
                (json.dumps(base, ensure_ascii=False)[1:-1], f"{base_form}, JSON-escaped"),
            ]
            for text, form in forms:  # the plainest name wins when forms coincide
                found.setdefault(text.encode(), form)
    return [Needle(pattern, form) for pattern, form in found.items()]


def _is_digit(byte: int) -> bool:
    return 48 <= byte <= 57


def _real_hit(data: bytes, start: int, pattern: bytes) -> bool:
    """False when a secret that starts/ends with a digit is part of a longer number."""
    end = start + len(pattern)
    before = start > 0 and _is_digit(pattern[0]) and _is_digit(data[start - 1])
    after = end < len(data) and _is_digit(pattern[-1]) and _is_digit(data[end])
    return not (before or after)


def _hits(data: bytes, needle: Needle) -> bool:
    start = data.find(needle.pattern)
    while start != -1:
        if _real_hit(data, start, needle.pattern):
            return True
        start = data.find(needle.pattern, start + 1)
    return False


def scan_bytes(
    data: bytes, secret_needles: list[Needle], depth: int = 0
) -> Iterator[tuple[str, bool]]:
    """(form, embedded) for each needle found in ``data`` or in its base64 blobs."""
    for needle in secret_needles:
        if _hits(data, needle):
            yield needle.form, depth > 0
    if depth >= _MAX_DEPTH:
        return
    for match in _EMBEDDED.finditer(data):
        if len(match.group(1)) % 4:
            continue  # not padded base64 (identifiers, paths)
        try:
            decoded = base64.b64decode(match.group(1), validate=True)
        except (binascii.Error, ValueError):
            continue
        yield from scan_bytes(decoded, secret_needles, depth + 1)


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    # Symlinks are not followed: reports/latest points at a run folder scanned anyway.
    for directory, _dirs, names in os.walk(root, followlinks=False):
        for name in sorted(names):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path


def scan(root: Path, secrets: Iterable[str]) -> list[Finding]:
    """Every file under ``root`` (or ``root`` itself) that contains one of ``secrets``."""
    secret_needles = needles(secrets)
    if not secret_needles:
        return []
    findings: list[Finding] = []
    for path in _files(root):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue  # vanished or unreadable: nothing the run published
        seen: set[tuple[str, bool]] = set()
        for form, embedded in scan_bytes(data, secret_needles):
            if (form, embedded) not in seen:
                seen.add((form, embedded))
                findings.append(Finding(path, form, embedded))
    return findings


def redact_files(root: Path, secrets: Iterable[str]) -> list[Path]:
    """Mask the secrets in place in every text file under ``root`` (e.g. exported logs)."""
    secret_needles = sorted(needles(secrets), key=lambda n: len(n.pattern), reverse=True)
    changed: list[Path] = []
    for path in _files(root):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue  # binary: not a log
        new = data
        for needle in secret_needles:
            new = new.replace(needle.pattern, MASK.encode())
        if new != data:
            path.write_bytes(new)
            changed.append(path)
    return changed
