"""The exceptions freqrex-bench raises, so callers can catch one family and read one clear message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


class FreqrexError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidInputError(FreqrexError, ValueError):
    """A clip, setting or argument is unusable; the message names the value and what was expected."""


class TargetError(FreqrexError, RuntimeError):
    """A model raised, or returned something that is not a [batch, labels] array of finite scores."""


class QueryBudgetExceeded(FreqrexError):
    """The oracle refused a batch because it would spend more model queries than the budget allows."""

    def __init__(self, budget: int, used: int, requested: int) -> None:
        self.budget, self.used, self.requested = budget, used, requested
        super().__init__(
            f"query budget of {budget} exhausted: {used} queries spent, "
            f"{requested} more requested"
        )


def _key_path(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def validated(model: type[ModelT], data: Mapping[str, Any], where: str) -> ModelT:
    """Build a pydantic model, turning its errors into one InvalidInputError naming each bad key."""
    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _key_path(err["loc"]) or "(top level)"
            if err["type"] == "extra_forbidden":
                known = ", ".join(model.model_fields)
                problems.append(f"{key}: unknown setting (known: {known})")
            else:
                problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise InvalidInputError(f"invalid {where} settings: " + "; ".join(problems)) from None
