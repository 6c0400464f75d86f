from __future__ import annotations

from mysqlsts import redaction


def test_registered_secrets_and_their_base64_are_masked() -> None:
    redaction.register_secret("s3cret")
    assert redaction.redact("pw=s3cret b64=czNjcmV0") == "pw=*** b64=***"
    assert redaction.contains_secret("xx s3cret") and not redaction.contains_secret("nothing")


def test_empty_secret_masks_nothing() -> None:
    redaction.register_secret("")
    redaction.register_secret(None)
    assert redaction.redact("text") == "text"


def test_longest_secret_first() -> None:
    redaction.register_secret("abc")
    redaction.register_secret("abcdef")
    assert redaction.redact("abcdef abc") == "*** ***"
