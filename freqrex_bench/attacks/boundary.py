"""The Boundary attack (Brendel, Rauber and Bethge, "Decision-Based Adversarial Attacks: Reliable Attacks
Against Black-Box Machine Learning Models", ICLR 2018), ART's implementation run through our oracle: a
peer black-box attack that needs only the model's top-1 decisions."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..limits import MAX_STEPS
from ..strategy import register
from .peer import Door, PeerAttack, PeerParameters
from .settings import AttackSettings


class BoundaryParameters(PeerParameters):
    """Parameters of the Boundary attack (ART's names and meaning): at most `max_iter` iterations, each
    up to `num_trial` batches of `sample_size` random orthogonal steps of relative size `delta`, then up
    to `num_trial` steps of relative size `epsilon` towards the clip; both sizes adapt by `step_adapt`.
    With the peer attacks' `max_queries` and `init_size`. Bad values raise InvalidInputError through the
    strategy or the suite."""

    max_iter: int = Field(5000, ge=1, le=MAX_STEPS, description="most Boundary-attack iterations")
    num_trial: int = Field(25, ge=1, le=1000, description="most trials per step size search")
    sample_size: int = Field(20, ge=1, le=1000, description="orthogonal steps per trial (queries, in one batch)")
    delta: float = Field(0.01, gt=0, le=1, description="initial orthogonal step, relative to the distance")
    epsilon: float = Field(0.01, gt=0, le=1, description="initial step towards the clip, relative to the distance")
    step_adapt: float = Field(0.667, gt=0, lt=1, description="factor by which both step sizes adapt")


@register
class BoundaryAttack(PeerAttack):
    """The Boundary attack (Brendel, Rauber and Bethge, ICLR 2018; ART's `BoundaryAttack`) on the
    waveform, a decision-based black-box peer: from a seeded blended-noise adversarial (foolbox's start) it
    takes random steps along the decision boundary and towards the clip, minimising the L2 distance.
    Every query goes through the oracle (counted, cached, budgeted; at most `max_queries` per clip),
    untargeted or towards `AttackSettings.target_class`, and the result is judged by the same goal as
    every attack (SNR floor, 16-bit judgement). `changed` counts the signals it had asked the model about
    (cached or not) when the result was found. Shapes: the clip float32 [T], samples kept within [-1, 1]
    (or the clip's own range).

    Parameters (BoundaryParameters): `max_queries`, `max_iter`, `num_trial`, `sample_size`, `delta`,
    `epsilon`, `step_adapt`, `init_size`. Raises InvalidInputError for an unknown parameter or value,
    and when adversarial-robustness-toolbox is missing (naming `pip install 'freqrex-bench[art]'`).
    """

    name = "boundary"
    Parameters = BoundaryParameters
    unit = "queries"
    parameters: BoundaryParameters

    def __init__(self, settings: AttackSettings | None = None, **parameters: Any) -> None:
        self._configure(settings or AttackSettings(), parameters)

    def build(self, art: Any, classifier: Any, targeted: bool, batch_size: int) -> Any:
        """ART's BoundaryAttack on `classifier`, quiet, with this strategy's parameters."""
        p = self.parameters
        return art.attacks.evasion.BoundaryAttack(
            classifier, batch_size=batch_size, targeted=targeted, delta=p.delta, epsilon=p.epsilon,
            step_adapt=p.step_adapt, max_iter=p.max_iter, num_trial=p.num_trial, sample_size=p.sample_size,
            init_size=p.init_size, verbose=False)

    def progress(self, attack: Any | None, door: Door) -> int:
        """Signals asked of the model so far through `door` (cached or not)."""
        return door.asked
