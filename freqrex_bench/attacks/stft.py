"""Algorithm 3, the STFT attack: apply the Fourier attack's mutation to the matching STFT cells of the
loudest frames only, the fewest frames that flip the class, escalating the frame size on failure.

For each frame size w (256, 512, 1024 by default; hop w/2 as scipy.signal.stft's default): map the
Fourier bins Algorithm 2 changed to their nearest STFT bins F', order frames by the summed magnitude
of F', and find the smallest m such that mutating F' in the top m frames reaches the goal (m probed in
batches). The next frame size is tried only if this one failed, unless `all_frame_sizes` is set.
If Algorithm 2 did not succeed, its candidate bins and the ladder's strongest mutation are used.
The record's `prior_queries` counts what the Fourier attack and causal discovery spent before it.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from ..errors import QueryBudgetExceeded
from ..limits import MAX_FRAME
from ..mutations import Mutation, from_spec
from ..results import AttackResult, snr_db
from ..spectrum import STFTView
from ..status import Status
from .base import Context, strategy_key
from .fourier import FourierAttack, candidate_bins
from .goal import Attack, AttackSettings, Found
from .registry import Parameters, check_parameters, register
from .search import Condition, first_size


def _frame_attack(
    attack: Attack, view: STFTView, bins: np.ndarray, mutation: Mutation, max_frames: int | None
) -> tuple[Found | None, dict[str, Any]]:
    """Smallest number of loudest frames whose F' cells, mutated, reach the goal at one frame size."""
    ctx, settings = attack.ctx, attack.settings
    cells = np.unique(view.nearest_bins(ctx.spectrum.hz[bins]))
    order = np.argsort(-np.abs(view.cells[cells]).sum(axis=0), kind="stable")
    limit = order.size if max_frames is None else min(max_frames, order.size)
    mutated = np.asarray(mutation.apply(view.cells[cells], view.hz[cells, None]))
    signals: dict[int, np.ndarray] = {}
    reached: dict[int, bool] = {}

    def evaluate(sizes: list[int]) -> None:
        todo = [m for m in sizes if m not in reached]
        for m in todo:
            edited = view.cells.copy()
            edited[np.ix_(cells, order[:m])] = mutated[:, order[:m]]
            signals[m] = view.synthesize(edited)
        if todo:
            reached.update(zip(todo, attack.goal.attempt(ctx, np.stack([signals[m] for m in todo]))))

    report: dict[str, Any] = {"of_frames": int(order.size), "stft_bins": int(cells.size)}
    try:
        frames = first_size(Condition(evaluate, reached.__getitem__), 1, limit, settings.grid_ratio,
                            settings.refine_points, settings.exact_below)
    except QueryBudgetExceeded:
        frames, report["reason"] = None, "the query budget ran out"
    report.update(success=frames is not None, frames=frames)
    if frames is None:
        return None, report
    report["snr_db"] = snr_db(ctx.spectrum.signal, signals[frames])
    return Found(signals[frames], frames, mutation, bins), report


class STFTParameters(Parameters):
    """Parameters of the STFT attack (Algorithm 3)."""

    frame_sizes: tuple[Annotated[int, Field(ge=2, le=MAX_FRAME)], ...] = Field(
        (256, 512, 1024), min_length=1, description="STFT frame sizes w in samples, tried in order (hop w/2)")
    max_frames: int | None = Field(None, ge=1, le=MAX_FRAME, description="most frames one edit may touch")
    all_frame_sizes: bool = Field(False, description="try every frame size, not only until one succeeds (Table 4)")


@register
class STFTAttack:
    """Algorithm 3, starting from Algorithm 2's result for the same clip (computed once via ctx).

    Parameters (STFTParameters): `frame_sizes`, `max_frames`, `all_frame_sizes`. Raises InvalidInputError for
    an unknown parameter or value.
    """

    name = "stft"
    Parameters = STFTParameters

    def __init__(self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
                 **parameters: Any) -> None:
        self.settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(self.settings)
        self.parameters = check_parameters(self.name, parameters)
        self.frame_sizes: tuple[int, ...] = self.parameters.frame_sizes
        self.max_frames: int | None = self.parameters.max_frames
        self.all_frame_sizes: bool = self.parameters.all_frame_sizes

    @property
    def key(self) -> str:
        return strategy_key(self.name, self.settings, self.fourier, self.frame_sizes, self.max_frames,
                            self.all_frame_sizes)

    def _start(self, ctx: Context) -> tuple[np.ndarray, Mutation, bool, int]:
        """Bins and mutation to transfer (Algorithm 2's if it succeeded, else its candidates and the
        strongest mutation), whether they came from a success, and the queries spent getting them."""
        fourier = ctx.result_of(self.fourier)
        prior = fourier.queries + fourier.prior_queries
        if fourier.success:
            return np.asarray(fourier.bins, dtype=np.int64), from_spec(fourier.mutation), True, prior
        candidates = candidate_bins(ctx.result_of(self.fourier.discovery), self.fourier.candidates)
        return candidates[: self.settings.max_frequencies], self.settings.mutations.strongest, False, prior

    def run(self, ctx: Context) -> AttackResult:
        bins, mutation, from_fourier, prior = self._start(ctx)
        per_size: dict[int, dict[str, Any]] = {}
        attack = Attack(ctx, self.name, "frames", self.settings, prior,
                        {"from_fourier": from_fourier, "frame_sizes": per_size})
        if (trivial := attack.trivial()) is not None:
            return trivial
        if bins.size == 0:
            return attack.failed(Status.NOTHING_TO_ALTER, "no frequencies to alter")
        first_success: tuple[Found, int] | None = None
        for size in self.frame_sizes:
            if size > ctx.spectrum.n_samples:
                per_size[size] = {"success": False, "reason": "frame longer than the clip"}
                continue
            start = ctx.oracle.queries
            found, per_size[size] = _frame_attack(attack, ctx.spectrum.stft(size, hop=size // 2), bins, mutation,
                                                  self.max_frames)
            per_size[size]["queries"] = ctx.oracle.queries - start
            if found is not None and first_success is None:
                first_success = (found, size)
            if first_success is not None and not self.all_frame_sizes:
                break
        if first_success is None:
            return attack.failed(Status.NO_FLIP, "no frame size flipped the class")
        attack.details["frame_size"] = first_success[1]
        return attack.conclude(first_success[0])
