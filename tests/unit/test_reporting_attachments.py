"""Evidence attachments: tables render aligned, secrets never pass."""

from __future__ import annotations

from mysqlsts.redaction import forget_secrets, register_secret
from mysqlsts.reporting import attachments as attach


def test_table_aligns_columns_in_first_seen_order() -> None:
    text = attach.render_table([{"pod": "mysql-0", "server_id": 100}, {"pod": "mysql-10", "x": 1}])
    lines = text.splitlines()
    assert lines[0].split() == ["pod", "server_id", "x"]
    assert lines[2].startswith("mysql-0 ") and "100" in lines[2]
    assert attach.render_table([]) == "(no rows)"


def test_attachments_are_redacted_and_taken_once() -> None:
    register_secret("s3cr3t-pass")
    attach.begin()
    attach.text("status", "password=s3cr3t-pass")
    taken = attach.taken()
    assert len(taken) == 1 and "s3cr3t-pass" not in taken[0][1]
    assert attach.taken() == []
    forget_secrets()
