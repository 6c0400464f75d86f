"""Named steps of a check, shown in Allure's tree and in the order they ran.

``@step("... {pod} ...")`` on a function makes each call a step whose title is formatted
with the call's own arguments, attributes included (``{old.name}``). ``allure.step`` as a
decorator formats with the arguments' string forms, so an attribute in its title fails.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import allure

P = ParamSpec("P")
R = TypeVar("R")


def step(title: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function as a step titled ``title.format(**its arguments)``."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            with allure.step(title_of(title, bound.arguments)):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def title_of(title: str, arguments: dict[str, Any]) -> str:
    """``title`` formatted with ``arguments``; left as written if a name is missing."""
    try:
        return title.format(**arguments)
    except (KeyError, AttributeError, IndexError):
        return title
