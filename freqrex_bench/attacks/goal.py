"""What every attack shares: its settings, its goal, the SNR constraint, and how an outcome becomes a record.

As in TextAttack, the goal (untargeted or targeted, optionally judged as a 16-bit wav) and the
constraint (minimum SNR) live apart from the search and the transformation, and are applied in one
place, `Goal.attempt`, so causal attacks and baselines are compared under exactly the same rules
(DESIGN "Fair comparison": one mutation ladder, one frequency budget, one minimum SNR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from ..errors import InvalidInputError, QueryBudgetExceeded
from ..limits import MAX_FREQUENCIES
from ..mutations import Ladder, Mutation, to_spec
from ..mutations.ladder import DEFAULT_LADDER
from ..results import AttackResult, measure, pcm16, snr_db
from ..status import Status
from .base import Context


class AttackSettings(BaseModel):
    """Rules shared by every attack and baseline in a comparison."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    ladder: list[Any] = Field(
        default_factory=lambda: list(DEFAULT_LADDER),
        description="mutations, e.g. [{amplitude: 0}, {amplitude: 0.5}, {phase: 1.57}]; sorted by strength",
    )
    max_frequencies: int = Field(1000, ge=1, le=MAX_FREQUENCIES, description="most Fourier bins an attack may alter (paper: 1000)")
    min_snr_db: float | None = Field(None, description="no change may go below this SNR in dB")
    target: StrictStr | StrictInt | None = Field(None, description="flip to this class (name or index)")
    pcm16_robust: bool = Field(False, description="only count flips that survive writing a 16-bit wav")
    grid_ratio: float = Field(2.0, gt=1, le=16, description="ratio between probed sizes when searching n")
    refine_points: int = Field(3, ge=1, le=64, description="sizes probed per refinement round")
    exact_below: int = Field(
        64, ge=0, le=4096,
        description="once the bracket around the first success spans this many sizes or fewer, probe them all "
        "in one batch, so the smallest n in it is found even if success is not monotone in n",
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
        return Ladder.from_specs(self.ladder)


@dataclass(frozen=True)
class Goal:
    """When an attempt counts: the class changes (or becomes `target`) and the change keeps at least
    `min_snr_db`, both judged on what the model would read: the 16-bit wav when `pcm16` is set."""

    original: int
    target: int | None
    pcm16: bool
    min_snr_db: float | None
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
        return cls(ctx.label, target, settings.pcm16_robust, settings.min_snr_db, ctx.spectrum.sample_rate)

    @property
    def trivial(self) -> bool:
        """A targeted attack at the class the clip already has."""
        return self.target == self.original

    def reached(self, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels)
        return labels == self.target if self.target is not None else labels != self.original

    def shown(self, signals: np.ndarray) -> np.ndarray:
        """What the model is shown for candidate signals: 16-bit wavs when pcm16, else the floats."""
        return pcm16(signals, self.sample_rate) if self.pcm16 else np.asarray(signals, dtype=np.float32)

    def snr_ok(self, original: np.ndarray, signals: np.ndarray) -> np.ndarray:
        if self.min_snr_db is None:
            return np.ones(len(signals), dtype=bool)
        return np.array([snr_db(original, s) >= self.min_snr_db for s in signals])

    def attempt(self, ctx: Context, signals: np.ndarray) -> np.ndarray:
        """Which candidates succeed: classified in one batch, SNR measured on what the model saw."""
        shown = self.shown(signals)
        allowed = self.snr_ok(ctx.spectrum.signal, shown)
        reached = np.zeros(len(shown), dtype=bool)
        if allowed.any():
            reached[allowed] = self.reached(ctx.oracle.classify(shown[allowed]).labels)
        return reached


@dataclass(frozen=True)
class Found:
    """An attack's answer: the signal, how much was changed, and with what."""

    signal: np.ndarray
    changed: int | None
    mutation: Mutation | None = None
    bins: np.ndarray | None = None


@dataclass
class Attack:
    """One strategy's run on one clip: its goal, where its query count starts, and its notes."""

    ctx: Context
    name: str
    unit: str
    settings: AttackSettings
    prior_queries: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.goal = Goal.of(self.ctx, self.settings)
        self.before = self.ctx.oracle.queries
        if self.goal.target is not None:
            self.details["target"] = self.ctx.labels[self.goal.target]
        # The unaltered clip's 16-bit copy, judged like any attempt: if it alone reaches the goal,
        # storage changes the decision and no attack may take credit for a 16-bit flip.
        self.pcm16_alone = bool(self.goal.reached([self.ctx.pcm16_label])[0])
        if self.pcm16_alone:
            self.details["pcm16_alone"] = (
                f"the unaltered clip stored as a 16-bit wav is already classified "
                f"{self.ctx.labels[self.ctx.pcm16_label]}"
            )

    def failed(self, status: Status, reason: str) -> AttackResult:
        """The record of an attempt that did not reach the goal, with its status and reason."""
        self.details["reason"] = reason
        return self._record(None, status)

    def trivial(self) -> AttackResult | None:
        """The failure record when there is nothing an attack could prove, else None: a targeted attack
        at the clip's own class, or a goal judged as a 16-bit wav that the clip's own copy reaches."""
        if self.goal.trivial:
            return self.failed(Status.ALREADY_TARGET, "the clip already has the target class")
        if self.goal.pcm16 and self.pcm16_alone:
            return self.failed(Status.PCM16_ALONE, self.details["pcm16_alone"] + ": storage alone changes the "
                               "decision, so no flip judged as a 16-bit wav can be credited to an attack")
        return None

    def conclude(self, found: Found) -> AttackResult:
        """The record of a found signal: the model's answer on exactly it (16-bit quantised when the
        goal demands it), the change's metrics, and whether the flip survives a 16-bit wav."""
        signal = self.goal.shown(found.signal[None])[0]
        try:
            labels, scores = self.ctx.oracle.classify(signal[None])
        except QueryBudgetExceeded:
            return self.failed(Status.BUDGET, "budget ran out before the result could be checked")
        success = bool(self.goal.reached(labels)[0] and self.goal.snr_ok(self.ctx.spectrum.signal, signal[None])[0])
        if not success:
            return self.failed(Status.UNCONFIRMED, "the found signal did not reach the goal")
        survives: bool | None = True
        if self.pcm16_alone:
            survives = None  # the clip's own 16-bit copy already flips: survival would prove nothing
        elif not self.goal.pcm16:
            try:
                survives = bool(self.goal.reached(self.ctx.oracle.classify(pcm16(signal, self.goal.sample_rate)).labels)[0])
            except QueryBudgetExceeded:
                survives = None
        return self._record(found, Status.SUCCESS, signal, self.ctx.labels[int(labels[0])],
                            float(scores[0, labels[0]]), survives)

    def _record(
        self, found: Found | None, status: Status, signal: np.ndarray | None = None, label_after: str | None = None,
        score_after: float | None = None, survives: bool | None = None,
    ) -> AttackResult:
        metrics = measure(self.ctx.spectrum.signal, signal) if signal is not None else dict.fromkeys(("snr_db", "l2", "linf"))
        return AttackResult(
            strategy=self.name, success=status is Status.SUCCESS, status=status, queries=self.ctx.oracle.queries - self.before,
            prior_queries=self.prior_queries, changed=found.changed if found else None, unit=self.unit,
            mutation=to_spec(found.mutation) if found and found.mutation is not None else None, **metrics,
            label_before=self.ctx.labels[self.ctx.label], score_before=self.ctx.score, label_after=label_after,
            score_after=score_after, survives_pcm16=survives, adversarial=signal,
            bins=[] if found is None or found.bins is None else [int(b) for b in found.bins], details=self.details,
        )
