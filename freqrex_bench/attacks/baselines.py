"""Baselines for the causal attacks, under the same ladder, frequency budget and minimum SNR.

- RandomFrequencies / LargestMagnitude: Algorithm 2's engine on a random or loudest-first ranking of all
  bins, so the only difference from the causal attack is where the frequencies come from.
- WhiteNoise: seeded white noise at the SNR the causal Fourier attack needed on the same clip (or at
  `snr_db`): does an unstructured change of the same size flip it?
- GradientAttack: white-box L2 PGD on the waveform inside the same SNR ball, for targets whose forward
  pass is differentiable in torch (HF and TorchScript targets): the strong reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ..errors import QueryBudgetExceeded
from ..limits import MAX_STEPS, MAX_TRIALS
from ..results import AttackResult
from ..status import Status
from .base import Context, strategy_key
from .fourier import FourierAttack, frequency_attack
from .goal import Attack, AttackSettings, Found
from .registry import NoParameters, Parameters, check_parameters, register

DEFAULT_SNR_DB = 30.0


class _RankedFrequencies:
    """Algorithm 2 on a ranking of all bins that needs no causal analysis."""

    name: str
    Parameters = NoParameters

    def __init__(self, settings: AttackSettings | None = None, **parameters: Any) -> None:
        self.settings = settings or AttackSettings()
        self.parameters = check_parameters(self.name, parameters)

    @property
    def key(self) -> str:
        return strategy_key(self.name, self.settings)

    def rank(self, ctx: Context) -> np.ndarray:
        raise NotImplementedError

    def run(self, ctx: Context) -> AttackResult:
        return frequency_attack(Attack(ctx, self.name, "frequencies", self.settings), self.rank(ctx))


@register
class RandomFrequencies(_RankedFrequencies):
    """Algorithm 2 on a seeded random ranking of all bins."""

    name = "random-frequencies"

    def rank(self, ctx: Context) -> np.ndarray:
        return np.random.default_rng([ctx.seed, 1]).permutation(ctx.spectrum.n_bins)


@register
class LargestMagnitude(_RankedFrequencies):
    """Algorithm 2 on the bins ranked loudest first."""

    name = "largest-magnitude"

    def rank(self, ctx: Context) -> np.ndarray:
        return np.argsort(-ctx.spectrum.magnitude, kind="stable")


def reference_snr(ctx: Context, fourier: FourierAttack, settings: AttackSettings, fixed: float | None) -> tuple[float, int]:
    """The SNR a baseline works at, and the queries spent finding it: `fixed`, else what the causal
    Fourier attack needed on this clip, else the minimum SNR, else DEFAULT_SNR_DB; never below the
    minimum SNR."""
    snr, prior = fixed, 0
    if snr is None:
        result = ctx.result_of(fourier)
        snr, prior = (result.snr_db if result.success else settings.min_snr_db), result.queries + result.prior_queries
    snr = DEFAULT_SNR_DB if snr is None else snr
    return (snr if settings.min_snr_db is None else max(snr, settings.min_snr_db)), prior


class NoiseParameters(Parameters):
    """Parameters of the white-noise baseline."""

    trials: int = Field(10, ge=1, le=MAX_TRIALS, description="seeded noise draws, classified in one batch")
    snr_db: float | None = Field(
        None, description="SNR of the noise in dB (default: what the Fourier attack needed on the clip)")


@register
class WhiteNoise:
    """`trials` seeded white-noise draws at the reference SNR, in one batch; `changed` is how many
    draws it took to find one that works.

    Parameters (NoiseParameters): `trials`, `snr_db`. Raises InvalidInputError for an unknown parameter or value.
    """

    name = "white-noise"
    Parameters = NoiseParameters

    def __init__(self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
                 **parameters: Any) -> None:
        self.settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(self.settings)
        self.parameters = check_parameters(self.name, parameters)
        self.snr_db: float | None = self.parameters.snr_db
        self.trials: int = self.parameters.trials

    @property
    def key(self) -> str:
        return strategy_key(self.name, self.settings, self.fourier, self.snr_db, self.trials)

    def run(self, ctx: Context) -> AttackResult:
        snr, prior = reference_snr(ctx, self.fourier, self.settings, self.snr_db)
        attack = Attack(ctx, self.name, "noise draws", self.settings, prior,
                        {"reference_snr_db": snr, "trials": self.trials})
        if (trivial := attack.trivial()) is not None:
            return trivial
        x = ctx.spectrum.signal
        noise = np.random.default_rng([ctx.seed, 2]).standard_normal((self.trials, x.size))
        noise *= np.sqrt(np.sum(np.square(x)) / 10 ** (snr / 10) / np.sum(np.square(noise), axis=1, keepdims=True))
        candidates = (x + noise).astype(np.float32)
        try:
            hits = attack.goal.attempt(ctx, candidates)
        except QueryBudgetExceeded:
            return attack.failed(Status.BUDGET, "the query budget ran out")
        attack.details["hits"] = int(hits.sum())
        if not hits.any():
            return attack.failed(Status.NO_FLIP, f"none of {self.trials} noise draws flipped the class")
        first = int(np.argmax(hits))
        return attack.conclude(Found(candidates[first], first + 1))


class GradientParameters(Parameters):
    """Parameters of the white-box gradient baseline."""

    steps: int = Field(50, ge=1, le=MAX_STEPS, description="most PGD steps")
    snr_db: float | None = Field(
        None, description="radius of the L2 ball as an SNR in dB (default: what the Fourier attack needed)")


@register
class GradientAttack:
    """L2 projected gradient descent on the waveform within the reference SNR (white-box), samples kept
    in [-1, 1]. Stops at the first step whose signal reaches the goal; `details["steps"]` says when.

    Parameters (GradientParameters): `steps`, `snr_db`. Raises InvalidInputError for an unknown parameter or value.
    """

    name = "gradient"
    Parameters = GradientParameters

    def __init__(self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
                 **parameters: Any) -> None:
        self.settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(self.settings)
        self.parameters = check_parameters(self.name, parameters)
        self.snr_db: float | None = self.parameters.snr_db
        self.steps: int = self.parameters.steps

    @property
    def key(self) -> str:
        return strategy_key(self.name, self.settings, self.fourier, self.snr_db, self.steps)

    def run(self, ctx: Context) -> AttackResult:
        if not getattr(ctx.oracle.target, "differentiable", False):
            attack = Attack(ctx, self.name, "steps", self.settings, details={"applicable": False})
            return attack.failed(Status.NOT_APPLICABLE, f"{type(ctx.oracle.target).__name__} has no differentiable torch forward pass")
        snr, prior = reference_snr(ctx, self.fourier, self.settings, self.snr_db)
        x = ctx.spectrum.signal.astype(np.float32)
        radius = float(np.linalg.norm(x)) * 10 ** (-snr / 20)
        attack = Attack(ctx, self.name, "steps", self.settings, prior, {"reference_snr_db": snr, "radius_l2": radius})
        if (trivial := attack.trivial()) is not None:
            return trivial
        goal, step = attack.goal, 2.5 * radius / self.steps
        label = goal.target if goal.target is not None else goal.original
        sign = 1.0 if goal.target is not None else -1.0  # raise log P(target), or lower log P(original)
        delta = np.zeros_like(x)
        for taken in range(1, self.steps + 1):
            try:
                scores, grad = ctx.oracle.gradient((x + delta)[None], label)
            except QueryBudgetExceeded:
                return attack.failed(Status.BUDGET, "the query budget ran out")
            attack.details["steps"] = taken
            if goal.reached(np.argmax(scores, axis=1))[0]:
                return attack.conclude(Found(x + delta, taken))
            norm = float(np.linalg.norm(grad))
            if norm == 0:
                return attack.failed(Status.NO_FLIP, "the gradient vanished")
            delta = delta + sign * step * grad[0] / norm
            delta *= min(1.0, radius / max(float(np.linalg.norm(delta)), 1e-12))
            delta = np.clip(x + delta, -1, 1) - x
        return attack.failed(Status.NO_FLIP, f"no flip within {self.steps} steps")
