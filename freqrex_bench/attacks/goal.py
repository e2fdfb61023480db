"""What every attack shares: its settings, its goal (untargeted or targeted, optionally surviving a
16-bit wav), the SNR constraint, and how a finished attempt becomes an AttackResult.

As in TextAttack, the goal and the constraint live apart from the search and the transformation, so
the causal attacks and the baselines are compared under exactly the same rules (DESIGN "Fair
comparison": one mutation ladder, one frequency budget, one minimum SNR).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InvalidInputError
from ..mutations import Ladder, Mutation, to_spec
from ..mutations.ladder import DEFAULT_LADDER
from ..results import AttackResult, measure, pcm16
from .base import Context


class AttackSettings(BaseModel):
    """Rules shared by every attack and baseline in a comparison."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ladder: list[Any] = Field(
        default_factory=lambda: list(DEFAULT_LADDER),
        description="mutations, e.g. [{amplitude: 0}, {amplitude: 0.5}, {phase: 1.57}]; sorted by strength",
    )
    max_frequencies: int = Field(1000, ge=1, description="most Fourier bins an attack may alter (paper: 1000)")
    min_snr_db: float | None = Field(None, description="no change may go below this SNR in dB")
    target: str | int | None = Field(None, description="flip to this class (name or index) instead of any other")
    pcm16_robust: bool = Field(False, description="only count flips that survive writing a 16-bit wav")
    grid_ratio: float = Field(2.0, gt=1, le=16, description="ratio between probed sizes when searching n")
    refine_points: int = Field(3, ge=1, le=64, description="sizes probed per refinement round")

    @field_validator("ladder")
    @classmethod
    def _ladder_is_valid(cls, value: list[Any]) -> list[Any]:
        try:
            Ladder.from_specs(value)
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def mutations(self) -> Ladder:
        return Ladder.from_specs(self.ladder)


@dataclass(frozen=True)
class Goal:
    """When an attempt counts as a success, and what the model is shown to judge it."""

    original: int
    target: int | None
    pcm16: bool
    sample_rate: int

    @classmethod
    def of(cls, ctx: Context, settings: AttackSettings) -> Goal:
        target = settings.target
        if isinstance(target, str):
            if target not in ctx.labels:
                raise InvalidInputError(f"attack target {target!r} is not one of the model's labels {ctx.labels}")
            target = ctx.labels.index(target)
        elif target is not None and not 0 <= target < len(ctx.labels):
            raise InvalidInputError(f"attack target index {target} is outside 0..{len(ctx.labels) - 1}")
        return cls(ctx.label, target, settings.pcm16_robust, ctx.spectrum.sample_rate)

    def reached(self, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels)
        return labels == self.target if self.target is not None else labels != self.original

    def attempt(self, ctx: Context, signals: np.ndarray) -> np.ndarray:
        """Classify candidate signals (as 16-bit wavs when pcm16) in one batch; which reached the goal."""
        shown = pcm16(signals, self.sample_rate) if self.pcm16 else signals
        return self.reached(ctx.oracle.classify(shown).labels)

    @property
    def trivial(self) -> bool:
        """A targeted attack at the class the clip already has."""
        return self.target == self.original


def snr_allows(settings: AttackSettings, snr: np.ndarray) -> np.ndarray:
    """Which SNRs (dB) the minimum-SNR constraint admits."""
    snr = np.asarray(snr, dtype=float)
    return np.ones(snr.shape, dtype=bool) if settings.min_snr_db is None else snr >= settings.min_snr_db


def conclude(
    ctx: Context, goal: Goal, name: str, queries_before: int, adversarial: np.ndarray | None,
    changed: int | None, unit: str, mutation: Mutation | None, bins: np.ndarray | None = None,
    details: dict[str, Any] | None = None,
) -> AttackResult:
    """Turn an attack's outcome into a record: the model's answer on the exact float32 signal (already
    16-bit quantised when the goal demands it), the perturbation metrics, and whether the flip survives
    a 16-bit wav (one more query, unless the goal already demanded it)."""
    details = dict(details or {})
    if goal.target is not None:
        details["target"] = ctx.labels[goal.target]
    before = {"label_before": ctx.labels[ctx.label], "score_before": ctx.score}
    if adversarial is None:
        return AttackResult(
            name, False, ctx.oracle.queries - queries_before, None, unit, None, None, None, None, **before,
            label_after=None, score_after=None, survives_pcm16=None, bins=[], details=details,
        )
    adversarial = np.asarray(adversarial, dtype=np.float32)
    if goal.pcm16:
        adversarial = pcm16(adversarial, goal.sample_rate)[0]
    labels, scores = ctx.oracle.classify(adversarial[None])
    success = bool(goal.reached(labels)[0])
    survives = None
    if success:
        survives = True if goal.pcm16 else bool(goal.reached(ctx.oracle.classify(pcm16(adversarial, goal.sample_rate)).labels)[0])
    return AttackResult(
        name, success, ctx.oracle.queries - queries_before, changed, unit,
        None if mutation is None else to_spec(mutation), **measure(ctx.spectrum.signal, adversarial), **before,
        label_after=ctx.labels[int(labels[0])], score_after=float(scores[0, labels[0]]), survives_pcm16=survives,
        adversarial=adversarial if success else None, bins=[] if bins is None else [int(b) for b in bins], details=details,
    )
