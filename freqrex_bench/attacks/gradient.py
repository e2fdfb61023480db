"""The white-box reference: L2 projected gradient descent on the waveform (Madry et al., 2018) within the
same SNR ball, for targets whose forward pass is differentiable in torch."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ..limits import MAX_STEPS
from ..metrics import l2_for_snr
from ..results import AttackResult
from ..status import Status
from ..strategy import Context, Parameters, register
from .base import AttackStrategy
from .fourier import FourierAttack
from .noise import reference_snr
from .run import Adversarial, AttackRun
from .settings import AttackSettings


class GradientParameters(Parameters):
    """Parameters of the white-box gradient baseline (L2 PGD, Madry et al. 2018): `steps`, the most PGD
    steps (one model query each), and `snr_db`, the radius of the L2 ball as an SNR in dB (default:
    noise.reference_snr). Bad values raise InvalidInputError through the strategy or the suite."""

    steps: int = Field(50, ge=1, le=MAX_STEPS, description="most PGD steps")
    snr_db: float | None = Field(
        None, description="radius of the L2 ball as an SNR in dB (default: what the Fourier attack needed)")


@register
class GradientAttack(AttackStrategy):
    """L2 PGD on the waveform (Madry et al. 2018) within the reference SNR (white-box), samples kept in
    [-1, 1]: step size 2.5 x radius / steps, the gradient of log P(class) normalised. Stops at the first
    step whose signal reaches the goal; `details["steps"]` says when (`changed` counts steps). Targets
    without a differentiable torch forward pass get a record with Status.NOT_APPLICABLE.

    Parameters (GradientParameters): `steps`, `snr_db`. Raises InvalidInputError for an unknown parameter or value.
    """

    name = "gradient"
    Parameters = GradientParameters
    requires = {"fourier": "fourier"}
    unit = "steps"
    parameters: GradientParameters

    def __init__(self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
                 **parameters: Any) -> None:
        settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(settings)
        self._configure(settings, parameters)

    def query_estimate(self) -> int:
        """Model queries per clip: one gradient query per step, and the 2 final checks."""
        return self.parameters.steps + 2

    def inapplicable(self, ctx: Context) -> str | None:
        """Why the target cannot be attacked (it has no differentiable torch forward pass), or None."""
        if getattr(ctx.oracle.target, "differentiable", False):
            return None
        return f"{type(ctx.oracle.target).__name__} has no differentiable torch forward pass"

    def prepare(self, ctx: Context) -> tuple[int, dict[str, Any], float]:
        """The ball's radius: (model queries of the Fourier attack read for the reference SNR, {reference_snr_db,
        radius_l2}, the L2 norm of a change at that SNR). Raises TargetError when the model fails."""
        snr, prior = reference_snr(ctx, self.fourier, self.settings, self.parameters.snr_db)
        radius = l2_for_snr(float(np.linalg.norm(ctx.spectrum.signal.astype(np.float32))), snr)
        return prior, {"reference_snr_db": snr, "radius_l2": radius}, radius

    def search(self, run: AttackRun, radius: float) -> AttackResult:
        """PGD from the clip within L2 norm `radius`: one Oracle.gradient query per step, the goal read from
        that query's scores of the float signal (run.conclude re-checks it, 16-bit when the goal says so).
        Raises QueryBudgetExceeded when the budget runs out."""
        ctx, goal, steps = run.ctx, run.goal, self.parameters.steps
        x = ctx.spectrum.signal.astype(np.float32)
        step = 2.5 * radius / steps
        label = goal.target_class if goal.target_class is not None else goal.original
        sign = 1.0 if goal.target_class is not None else -1.0  # raise log P(target), or lower log P(original)
        delta = np.zeros_like(x)
        for taken in range(1, steps + 1):
            scores, grad = ctx.oracle.gradient((x + delta)[None], label)
            run.details["steps"] = taken
            if goal.reached(np.argmax(scores, axis=1))[0]:
                return run.conclude(Adversarial(x + delta, taken))
            norm = float(np.linalg.norm(grad))
            if norm == 0:
                return run.failed(Status.NO_FLIP, "the gradient vanished")
            delta = delta + sign * step * grad[0] / norm
            delta *= min(1.0, radius / max(float(np.linalg.norm(delta)), 1e-12))
            delta = np.clip(x + delta, -1, 1) - x
        return run.failed(Status.NO_FLIP, f"no flip within {steps} steps")
