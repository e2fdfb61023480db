"""Checks shared by every entry point, so the same bad value gets the same clear message everywhere."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pydantic

from .errors import InvalidInputError

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


def whole_number(value: object, what: str, minimum: int = 1) -> int:
    """An integer >= minimum; numpy integers and integral floats (16000.0) are accepted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{what} must be a whole number >= {minimum}, got {value!r}")
    if value != int(value) or int(value) < minimum:
        raise InvalidInputError(f"{what} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def sample_rate(value: object, what: str = "sample_rate") -> int:
    """A sample rate: a positive whole number of Hz."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value) or value <= 0:
        raise InvalidInputError(f"{what} must be a positive integer in Hz, got {value!r}")
    return int(value)


def label_names(labels: object) -> list[str]:
    """A list of at least two distinct class names (a one-label model can never change its decision)."""
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise InvalidInputError(f"labels must be a list of class names, got {labels!r}")
    names = [str(label) for label in labels]
    if len(names) < 2:
        raise InvalidInputError(f"a target needs at least two labels to have a decision to explain, got {names}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInputError(f"labels must be distinct; repeated: {repeated}")
    return names


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
                problems.append(f"{key}: unknown setting (known: {', '.join(model.model_fields)})")
            else:
                problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise InvalidInputError(f"invalid {where}: " + "; ".join(problems)) from None
