"""HopSkipJump (Chen, Jordan and Wainwright, "HopSkipJumpAttack: A Query-Efficient Decision-Based
Attack", IEEE S&P 2020), ART's implementation run through our oracle: a peer black-box attack that needs
only the model's top-1 decisions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ..limits import MAX_STEPS, MAX_TRIALS
from ..strategy import register
from .peer import Door, PeerAttack, PeerParameters
from .settings import AttackSettings


class HopSkipJumpParameters(PeerParameters):
    """Parameters of HopSkipJump (ART's names and meaning): `max_iter` iterations (each a binary search to
    the decision boundary, a gradient estimate from `init_eval * sqrt(iteration)` random directions, at
    most `max_eval`, and a geometric step-size search); `norm` 2 or "inf"; and the peer attacks'
    `max_queries` and `init_size`. Bad values, or `init_eval` above `max_eval`, raise InvalidInputError
    through the strategy or the suite."""

    max_iter: int = Field(50, ge=1, le=MAX_STEPS, description="most HopSkipJump iterations")
    max_eval: int = Field(1000, ge=1, le=MAX_TRIALS,
                          description="most random directions (queries, in one batch) per gradient estimate")
    init_eval: int = Field(25, ge=1, le=MAX_TRIALS, description="random directions of the first gradient estimate")
    norm: Literal[2, "inf"] = Field(2, description="the distance minimised: 2 (L2) or inf (Linf)")

    @model_validator(mode="after")
    def _init_eval_within_max_eval(self) -> HopSkipJumpParameters:
        if self.init_eval > self.max_eval:
            raise ValueError(f"init_eval ({self.init_eval}) may not exceed max_eval ({self.max_eval})")
        return self


@register
class HopSkipJump(PeerAttack):
    """HopSkipJump (Chen, Jordan and Wainwright, IEEE S&P 2020; ART's `HopSkipJump`) on the waveform, a
    decision-based black-box peer: from a seeded blended-noise adversarial it walks along the decision
    boundary towards the clip, minimising the L2 (or Linf) distance. Every query goes through the oracle
    (counted, cached, budgeted; at most `max_queries` per clip), untargeted or towards
    `AttackSettings.target_class`, and the result is judged by the same goal as every attack (SNR floor,
    16-bit judgement). `changed` counts HopSkipJump iterations completed when the result was found (0:
    the blended initial adversarial). Shapes: the clip float32 [T], samples kept within [-1, 1] (or the
    clip's own range when it exceeds full scale).

    Parameters (HopSkipJumpParameters): `max_queries`, `max_iter`, `max_eval`, `init_eval`, `norm`,
    `init_size`. Raises InvalidInputError for an unknown parameter or value, and when
    adversarial-robustness-toolbox is missing (naming `pip install 'freqrex-bench[art]'`).
    """

    name = "hopskipjump"
    Parameters = HopSkipJumpParameters
    unit = "iterations"
    parameters: HopSkipJumpParameters

    def __init__(self, settings: AttackSettings | None = None, **parameters: Any) -> None:
        self._configure(settings or AttackSettings(), parameters)
        self.norm = self.parameters.norm

    def build(self, art: Any, classifier: Any, targeted: bool, batch_size: int) -> Any:
        """ART's HopSkipJump on `classifier`, quiet, with this strategy's parameters."""
        p = self.parameters
        return art.attacks.evasion.HopSkipJump(
            classifier, batch_size=batch_size, targeted=targeted, norm=p.norm, max_iter=p.max_iter,
            max_eval=p.max_eval, init_eval=p.init_eval, init_size=p.init_size, verbose=False)

    def progress(self, attack: Any | None, door: Door) -> int:
        """Iterations ART's HopSkipJump has completed (its `curr_iter`; 0 before it starts)."""
        return 0 if attack is None else int(attack.curr_iter)
