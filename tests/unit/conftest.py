from __future__ import annotations

from collections.abc import Iterator

import pytest

from mysqlsts.redaction import forget_secrets


@pytest.fixture(autouse=True)
def _no_leftover_secrets() -> Iterator[None]:
    """Each test registers its own secrets; none leak into the next test."""
    forget_secrets()
    yield
    forget_secrets()


pytest_plugins = ["pytester"]
