"""A Ladder: mutations sorted by strength (paper Alg. 2's Δ). Algorithm 2 tries the strongest first, then
minimises."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError
from .kinds import Mutation, from_spec


@dataclass(frozen=True)
class Ladder:
    """Mutations ordered weakest first (stable for equal strengths): paper Alg. 2's Δ. `mutations` are
    Mutation objects or plain data (from_spec). Raises InvalidInputError for an empty ladder or a bad
    mutation."""

    steps: tuple[Mutation, ...]

    def __init__(self, mutations: Iterable[Mutation | Any]) -> None:
        steps = tuple(sorted((from_spec(m) for m in mutations), key=lambda m: m.strength))
        if not steps:
            raise InvalidInputError("a mutation ladder needs at least one mutation")
        object.__setattr__(self, "steps", steps)

    @classmethod
    def from_specs(cls, specs: Sequence[Any]) -> Ladder:
        """Build from plain data, e.g. [{amplitude: 0}, {amplitude: 0.5}, {phase: 1.57}]. Raises
        InvalidInputError for a string or non-sequence, an empty list or a bad mutation."""
        if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence):
            raise InvalidInputError(f"a ladder is a list of mutations, got {specs!r}")
        return cls(specs)

    @property
    def strongest(self) -> Mutation:
        """The strongest mutation, the last step: what paper Alg. 2 l. 3 starts from (max(Δ))."""
        return self.steps[-1]

    def __iter__(self) -> Iterator[Mutation]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)


# Removal plus moderate attenuations: subtle edits, not loud boosted tones (docs/design.md, "Attacks").
# Attenuations keep strength (|log scale|) in step with the size of the change (|1 - scale|); a boost
# x2 would rank weaker than x0.25 while changing as much as removal.
DEFAULT_LADDER: tuple[dict[str, float], ...] = tuple({"amplitude": s} for s in (0.0, 0.25, 0.5, 0.75, 0.9))


def default_ladder() -> Ladder:
    """A new Ladder of DEFAULT_LADDER: amplitude x0.9, x0.75, x0.5, x0.25 and removal, weakest first."""
    return Ladder(DEFAULT_LADDER)
