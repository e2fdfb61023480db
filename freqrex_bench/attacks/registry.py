"""Strategies by name, and the one declaration of each strategy's parameters.

A strategy class declares `name` and `Parameters` (a pydantic model: every parameter's type, default,
bounds and meaning) and registers itself with `@register`. Its constructor validates what it is given
against `Parameters` (so `FourierAttack(candidates="sufficeint")` fails at once, naming the value), and
the suite schema validates `strategies:` entries against the same model: one declaration, two doors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from ..errors import InvalidInputError
from ..validation import validated

T = TypeVar("T", bound=type)


class Parameters(BaseModel):
    """Base of every strategy's parameters: unknown keys and non-finite numbers are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NoParameters(Parameters):
    """For strategies configured only by the suite's shared `discovery:` or `attacks:` settings."""


STRATEGIES: dict[str, type] = {}


def register(cls: T) -> T:
    """Class decorator: make a strategy known by its `name` to suites, the builder and reports."""
    name = cls.name  # type: ignore[attr-defined]
    if name in STRATEGIES and STRATEGIES[name] is not cls:
        raise ValueError(f"two strategies are named {name!r}: {STRATEGIES[name].__name__} and {cls.__name__}")
    STRATEGIES[name] = cls
    return cls


def parameters_of(name: str) -> type[Parameters]:
    """The parameter model of a registered strategy; InvalidInputError naming the known ones if unknown."""
    if name not in STRATEGIES:
        raise InvalidInputError(f"unknown strategy {name!r}; expected one of {sorted(STRATEGIES)}")
    return STRATEGIES[name].Parameters  # type: ignore[attr-defined, no-any-return]


def check_parameters(name: str, given: Mapping[str, Any]) -> Parameters:
    """`given` validated against strategy `name`'s Parameters; InvalidInputError naming each bad key."""
    return validated(parameters_of(name), given, f"{name} parameters")
