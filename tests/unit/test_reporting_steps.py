from __future__ import annotations

from dataclasses import dataclass

import allure

from mysqlsts.reporting import steps


@dataclass
class Pod:
    name: str


def test_the_title_is_formatted_with_the_real_arguments(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    titles: list[str] = []

    class Recorder:
        def __init__(self, title: str) -> None:
            titles.append(title)

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(allure, "step", Recorder)

    @steps.step("{old.name} returns to {node} ({count} times)")
    def returns(old: Pod, node: str, count: int = 2) -> str:
        return f"{old.name}@{node}"

    assert returns(Pod("mysql-2"), node="worker") == "mysql-2@worker"
    assert titles == ["mysql-2 returns to worker (2 times)"]


def test_a_title_that_cannot_be_formatted_stays_as_written() -> None:
    assert steps.title_of("{missing.attr}", {}) == "{missing.attr}"
    assert steps.title_of("{pod.nope}", {"pod": Pod("p")}) == "{pod.nope}"
