"""pytest plugin of the defects runner: run the claimed checks first, in their listed order.

A defect often breaks the deployment for whatever runs after its first catch (a replica
that never restarts, a master that lost its datadir); the claimed checks run first so
that they meet the defect itself, and the collateral checks run after them. Loaded with
``-p mysqlsts.negative_controls.claimed_first`` by ``python -m mysqlsts.cli.defects`` only.
"""

from __future__ import annotations

import pytest

OPTION = "--claimed-first"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        action="append",
        default=[],
        metavar="NODEID",
        help="run this check before all others (repeatable; in the order given)",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    first: list[str] = config.getoption(OPTION)
    rank = {node: index for index, node in enumerate(first)}
    # sorted() is stable: the others keep pytest's order.
    items[:] = sorted(items, key=lambda item: rank.get(item.nodeid, len(rank)))
