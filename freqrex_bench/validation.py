"""Checks shared by every entry point, so the same bad value gets the same clear message everywhere."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import pydantic

from .errors import InvalidInputError
from .limits import MAX_SAMPLE_RATE
from .suite_file import SuiteSource, key_path

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


def whole_number(value: object, what: str, minimum: int = 1, maximum: int | None = None) -> int:
    """`value` as an int in [minimum, maximum] (no upper bound when None); numpy integers and integral
    floats (16000.0) are accepted. Raises InvalidInputError, naming `what`, for bools, non-numbers,
    non-finite or fractional numbers and values out of range."""
    expected = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise InvalidInputError(f"{what} must be a whole number {expected}, got {value!r}")
    whole = int(float(value))
    if float(value) != whole or whole < minimum or (maximum is not None and whole > maximum):
        raise InvalidInputError(f"{what} must be a whole number {expected}, got {value!r}")
    return whole


def sample_rate(value: object, what: str = "sample_rate") -> int:
    """A sample rate as an int: a whole number of Hz in [1, MAX_SAMPLE_RATE]. Raises InvalidInputError,
    naming `what`, for anything else."""
    number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    if not math.isfinite(number) or number != int(number) or number <= 0:
        raise InvalidInputError(f"{what} must be a positive integer in Hz, got {value!r}")
    if number > MAX_SAMPLE_RATE:
        raise InvalidInputError(f"{what} must be at most {MAX_SAMPLE_RATE} Hz, got {value!r}")
    return int(number)


def label_names(labels: object) -> list[str]:
    """`labels` as a list of at least two distinct class names (str), since a one-label model can never
    change its decision. Raises InvalidInputError for a string or non-sequence, fewer than two names, or
    repeated names."""
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise InvalidInputError(f"labels must be a list of class names, got {labels!r}")
    names = [str(label) for label in labels]
    if len(names) < 2:
        raise InvalidInputError(f"a target needs at least two labels to have a decision to explain, got {names}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidInputError(f"labels must be distinct; repeated: {repeated}")
    return names


def validated(model: type[ModelT], data: Mapping[str, Any], where: str, lines: SuiteSource | None = None) -> ModelT:
    """`model` validated from `data`, its pydantic errors turned into one InvalidInputError line (prefixed
    "invalid `where`") naming each bad key path, the value found and what was expected; with `lines`
    (the data as read from a suite file), each key's line too."""
    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _shown(model, err["loc"])
            key = key_path(loc)
            line = lines.line_of(loc) if lines is not None else None
            at = f"line {line}: " if line is not None else ""
            if err["type"] == "extra_forbidden":
                known = known_keys(model, err["loc"][:-1])
                problems.append(f"{at}{key}: unknown key"
                                + (f" (expected one of: {', '.join(known)})" if known else ""))
            elif err["type"] == "missing":
                problems.append(f"{at}{key}: required key is missing")
            else:
                message = err["msg"].removeprefix("Value error, ")
                shown = "" if not err["loc"] or "got " in message else f" (got {_short(err.get('input'))})"
                problems.append(f"{at}{key}: {message}{shown}" if key else message)
        raise InvalidInputError(f"invalid {where}: " + "; ".join(problems)) from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(model: type[pydantic.BaseModel], loc: Sequence[Any]) -> tuple[Any, ...]:
    """The location as the user wrote it: without the tags pydantic inserts for tagged unions."""
    shown, current = [], model
    for part in loc:
        inner = _inner(current, part) if current is not None else None
        if not (isinstance(part, str) and _is_model(inner) and not _is_model(current)):
            shown.append(part)
        current = inner
    return tuple(shown)


def known_keys(model: type[pydantic.BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys the (nested) pydantic model at `loc` accepts, for "unknown key" messages ([] if unclear)."""
    current: Any = model
    for part in loc:
        current = _inner(current, part)
        if current is None:
            return []
    return list(current.model_fields) if _is_model(current) else []


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, pydantic.BaseModel)


def _inner(kind: Any, part: Any) -> Any:
    """The type one step inside `kind` along a validation-error location part."""
    if _is_model(kind) and isinstance(part, str) and part in kind.model_fields:
        return _unwrap(kind.model_fields[part].annotation)
    if isinstance(part, int):
        args = [a for a in get_args(kind) if a is not type(None)]
        return _unwrap(args[0]) if args else None
    for member in get_args(kind):  # a tagged union: the location names the chosen member's tag
        tag = member.model_fields.get("kind") if _is_model(member) else None
        if tag is not None and part in get_args(tag.annotation):
            return member
    return None


def _unwrap(kind: Any) -> Any:
    """Strip Annotated and Optional so the element or model type shows."""
    if get_origin(kind) is Annotated:
        return _unwrap(get_args(kind)[0])
    args = [a for a in get_args(kind) if a is not type(None)]
    if get_origin(kind) in (Union, UnionType) and len(args) == 1:
        return _unwrap(args[0])
    return kind
