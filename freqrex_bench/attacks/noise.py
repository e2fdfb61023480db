"""The white-noise baseline: does an unstructured change of the same size as the causal attack's flip
the clip? Also `reference_snr`, the SNR the noise and gradient baselines work at."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ..limits import MAX_TRIALS
from ..metrics import energy_for_snr
from ..results import AttackResult
from ..status import Status
from ..strategy import Context, Parameters, register
from .base import AttackStrategy
from .fourier import FourierAttack
from .run import Adversarial, AttackRun
from .settings import AttackSettings

DEFAULT_SNR_DB = 30.0


def reference_snr(ctx: Context, fourier: FourierAttack, settings: AttackSettings,
                  fixed: float | None) -> tuple[float, int]:
    """The SNR (dB) a baseline works at, and the model queries spent finding it: `fixed` (dB), else what
    the causal Fourier attack needed on this clip (run once through `ctx`), else the minimum SNR, else
    DEFAULT_SNR_DB; never below the minimum SNR. Raises TargetError when the model fails."""
    snr, prior = fixed, 0
    if snr is None:
        result = ctx.result_of(fourier)
        snr, prior = (result.snr_db if result.success else settings.min_snr_db), result.queries + result.prior_queries
    snr = DEFAULT_SNR_DB if snr is None else snr
    return (snr if settings.min_snr_db is None else max(snr, settings.min_snr_db)), prior


class NoiseParameters(Parameters):
    """Parameters of the white-noise baseline: `trials`, the number of noise draws, and `snr_db`, their SNR
    in dB (default: reference_snr). Bad values raise InvalidInputError through the strategy or the suite."""

    trials: int = Field(10, ge=1, le=MAX_TRIALS, description="seeded noise draws, classified in one batch")
    snr_db: float | None = Field(
        None, description="SNR of the noise in dB (default: what the Fourier attack needed on the clip)")


@register
class WhiteNoise(AttackStrategy):
    """`trials` seeded white-noise draws at the reference SNR, classified in one batch (a baseline,
    docs/design.md "Attacks": white noise at the causal attack's SNR); `changed` is how many draws it
    took to find one that works.

    Parameters (NoiseParameters): `trials`, `snr_db`. Raises InvalidInputError for an unknown parameter or value.
    """

    name = "white-noise"
    Parameters = NoiseParameters
    requires = {"fourier": "fourier"}
    unit = "noise draws"
    parameters: NoiseParameters

    def __init__(self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
                 **parameters: Any) -> None:
        settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(settings)
        self._configure(settings, parameters)

    def query_estimate(self) -> int:
        """Model queries per clip: the `trials` draws in one batch and the 16-bit check of a success."""
        return self.parameters.trials + 1

    def prepare(self, ctx: Context) -> tuple[int, dict[str, Any], float]:
        """(model queries of the Fourier attack read for the reference SNR, {reference_snr_db, trials}, the
        SNR in dB). Raises TargetError when the model fails."""
        snr, prior = reference_snr(ctx, self.fourier, self.settings, self.parameters.snr_db)
        return prior, {"reference_snr_db": snr, "trials": self.parameters.trials}, snr

    def search(self, run: AttackRun, snr: float) -> AttackResult:
        """Gaussian noise draws from default_rng([ctx.seed, 2]), float [trials, T], each scaled to exactly
        `snr` dB against the clip, judged in one batch by the goal; the first that works is the result.
        Raises QueryBudgetExceeded when the batch would pass the budget."""
        ctx, trials = run.ctx, self.parameters.trials
        x = ctx.spectrum.signal
        noise = np.random.default_rng([ctx.seed, 2]).standard_normal((trials, x.size))
        noise *= np.sqrt(energy_for_snr(np.sum(np.square(x)), snr) / np.sum(np.square(noise), axis=1, keepdims=True))
        candidates = (x + noise).astype(np.float32)
        hits = run.goal.attempt(ctx, candidates)
        run.details["hits"] = int(hits.sum())
        if not hits.any():
            return run.failed(Status.NO_FLIP, f"none of {trials} noise draws flipped the class")
        first = int(np.argmax(hits))
        return run.conclude(Adversarial(candidates[first], first + 1))
