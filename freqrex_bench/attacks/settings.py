"""AttackSettings: the rules every attack and baseline in one comparison shares (docs/design.md,
"Attacks": one mutation ladder, one frequency budget, one minimum SNR, one goal)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from ..errors import InvalidInputError
from ..limits import MAX_FREQUENCIES
from ..mutations import Ladder, to_spec
from ..mutations.ladder import DEFAULT_LADDER


class AttackSettings(BaseModel):
    """Rules shared by every attack and baseline in a comparison (the suite's `attacks:` section); each
    field's description says what it does (max_frequencies: rfft bins, paper §6.1's budget of 1000;
    min_snr_db: dB; grid_ratio, refine_points and exact_below: the batched search for n, search.first_size).

    Frozen. An unknown key, a bad ladder or a bad value raises pydantic's ValidationError when built
    directly, InvalidInputError naming the key through a strategy or a suite.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    ladder: list[Any] = Field(
        default_factory=lambda: list(DEFAULT_LADDER),
        description="mutations, e.g. [{amplitude: 0}, {amplitude: 0.5}, {phase: 1.57}]; sorted by strength",
    )
    max_frequencies: int = Field(1000, ge=1, le=MAX_FREQUENCIES,
                                 description="most Fourier bins an attack may alter (paper: 1000)")
    min_snr_db: float | None = Field(None, description="no change may go below this SNR in dB")
    target_class: StrictStr | StrictInt | None = Field(
        None, description="flip to this class (name or index) instead of away from the original")
    pcm16_robust: bool = Field(False, description="only count flips that survive writing a 16-bit wav")
    grid_ratio: float = Field(2.0, gt=1, le=16, description="ratio between probed sizes when searching n")
    refine_points: int = Field(3, ge=1, le=64, description="sizes probed per refinement round")
    exact_below: int = Field(
        64, ge=0, le=4096,
        description="once the bracket around the first success spans this many sizes or fewer, probe them all "
        "in one batch, so the smallest n in it is found even if success is not monotone in n",
    )
    objective: Literal["highest-snr", "fewest-frequencies"] = Field(
        "highest-snr",
        description="what Algorithm 2 minimises: highest-snr (of the flips within max_frequencies, the least "
        "audible) or fewest-frequencies (the paper: the smallest n, then the weakest mutation)",
    )

    @field_validator("ladder")
    @classmethod
    def _ladder_is_valid(cls, value: list[Any]) -> list[Any]:
        try:
            for mutation in Ladder.from_specs(value):
                to_spec(mutation)
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def mutations(self) -> Ladder:
        """The ladder as Mutation objects, weakest first (paper Alg. 2's Δ)."""
        return Ladder.from_specs(self.ladder)
