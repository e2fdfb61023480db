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

from ..results import AttackResult
from .base import Context
from .fourier import FourierAttack, frequency_attack
from .goal import AttackSettings, Goal, conclude

DEFAULT_SNR_DB = 30.0


class RandomFrequencies:
    """Algorithm 2 on a seeded random ranking of all bins."""

    name = "random-frequencies"

    def __init__(self, settings: AttackSettings | None = None) -> None:
        self.settings = settings or AttackSettings()

    def run(self, ctx: Context) -> AttackResult:
        ranked = np.random.default_rng([ctx.seed, 1]).permutation(ctx.spectrum.n_bins)
        return frequency_attack(ctx, ranked, self.settings, self.name)


class LargestMagnitude:
    """Algorithm 2 on the bins ranked loudest first."""

    name = "largest-magnitude"

    def __init__(self, settings: AttackSettings | None = None) -> None:
        self.settings = settings or AttackSettings()

    def run(self, ctx: Context) -> AttackResult:
        ranked = np.argsort(-ctx.spectrum.magnitude, kind="stable")
        return frequency_attack(ctx, ranked, self.settings, self.name)


def reference_snr(ctx: Context, fourier: FourierAttack, settings: AttackSettings, fixed: float | None) -> float:
    """The SNR a baseline works at: `fixed`, else what the causal Fourier attack needed on this clip,
    else the minimum SNR, else DEFAULT_SNR_DB; never below the minimum SNR."""
    snr = fixed
    if snr is None:
        result = ctx.result_of(fourier)
        snr = result.snr_db if result.success else settings.min_snr_db
    snr = DEFAULT_SNR_DB if snr is None else snr
    return snr if settings.min_snr_db is None else max(snr, settings.min_snr_db)


class WhiteNoise:
    """`trials` seeded white-noise draws at the reference SNR, in one batch; the first that works wins."""

    name = "white-noise"

    def __init__(
        self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
        snr_db: float | None = None, trials: int = 10,
    ) -> None:
        self.settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(self.settings)
        self.snr_db, self.trials = snr_db, trials

    def run(self, ctx: Context) -> AttackResult:
        snr = reference_snr(ctx, self.fourier, self.settings, self.snr_db)
        goal, before = Goal.of(ctx, self.settings), ctx.oracle.queries
        x = ctx.spectrum.signal
        noise = np.random.default_rng([ctx.seed, 2]).standard_normal((self.trials, x.size))
        noise *= np.sqrt(np.sum(np.square(x)) / 10 ** (snr / 10) / np.sum(np.square(noise), axis=1, keepdims=True))
        candidates = (x + noise).astype(np.float32)
        hits = goal.attempt(ctx, candidates)
        details: dict[str, Any] = {"reference_snr_db": snr, "trials": self.trials, "hits": int(hits.sum())}
        chosen = candidates[int(np.argmax(hits))] if hits.any() else None
        return conclude(ctx, goal, self.name, before, chosen, int(hits.any()), "noise draws", None, details=details)


class GradientAttack:
    """L2 projected gradient descent on the waveform within the reference SNR (white-box)."""

    name = "gradient"

    def __init__(
        self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
        snr_db: float | None = None, steps: int = 50,
    ) -> None:
        self.settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(self.settings)
        self.snr_db, self.steps = snr_db, steps

    def run(self, ctx: Context) -> AttackResult:
        goal, before = Goal.of(ctx, self.settings), ctx.oracle.queries
        if not getattr(ctx.oracle.target, "differentiable", False):
            details = {"reason": f"{type(ctx.oracle.target).__name__} has no differentiable torch forward pass"}
            return conclude(ctx, goal, self.name, before, None, None, "steps", None, details=details)
        snr = reference_snr(ctx, self.fourier, self.settings, self.snr_db)
        x = ctx.spectrum.signal.astype(np.float32)
        radius = float(np.linalg.norm(x)) * 10 ** (-snr / 20)
        step = 2.5 * radius / self.steps
        label = goal.target if goal.target is not None else goal.original
        sign = 1.0 if goal.target is not None else -1.0  # raise log P(target), or lower log P(original)
        delta = np.zeros_like(x)
        taken = 0
        for taken in range(1, self.steps + 1):
            scores, grad = ctx.oracle.gradient((x + delta)[None], label)
            if goal.reached(np.argmax(scores, axis=1))[0]:
                break
            norm = float(np.linalg.norm(grad))
            if norm == 0:
                break
            delta = delta + sign * step * grad[0] / norm
            delta *= min(1.0, radius / max(float(np.linalg.norm(delta)), 1e-12))
        details = {"reference_snr_db": snr, "radius_l2": radius, "steps": taken}
        return conclude(ctx, goal, self.name, before, x + delta, taken, "steps", None, details=details)
