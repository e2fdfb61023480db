"""Algorithm 3, the STFT attack: apply the Fourier attack's mutation to the matching STFT cells of the
loudest frames only, the fewest frames that flip the class, escalating the frame size on failure.

For each frame size w (256, 512, 1024 by default; hop w/2 as scipy.signal.stft's default): map the
Fourier bins Algorithm 2 changed to their nearest STFT bins F', order frames by the summed magnitude
of F', and find the smallest m such that mutating F' in the top m frames reaches the goal (m probed in
batches). A signed mutation (SignedAmplitude) strengthens the cells nearest its amplified bins, except
cells that are also nearest a weakened bin, which are weakened. The next frame size is tried only if
this one failed, unless `all_frame_sizes` is set.
If Algorithm 2 did not succeed, its candidate bins and the ladder's strongest mutation are used.
The record's `prior_queries` counts what the Fourier attack and causal discovery spent before it.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from ..errors import QueryBudgetExceeded
from ..limits import MAX_FRAME
from ..metrics import snr_db
from ..mutations import Gains, Mutation, SignedAmplitude, from_spec
from ..results import AttackResult
from ..spectrum import STFTView
from ..status import Status
from ..strategy import Context, Parameters, register
from .base import AttackStrategy
from .fourier import FourierAttack, candidate_bins
from .run import Adversarial, AttackRun
from .settings import AttackSettings


def _frame_attack(
    run: AttackRun, view: STFTView, bins: np.ndarray, mutation: Mutation, max_frames: int | None
) -> tuple[Adversarial | None, dict[str, Any]]:
    """Smallest number of loudest frames whose F' cells, mutated, reach the goal at one frame size; and
    the per-size report (frames, of_frames, stft_bins, success, snr_db). Raises QueryBudgetExceeded."""
    ctx = run.ctx
    cells = np.unique(view.nearest_bins(ctx.spectrum.hz[bins]))
    order = np.argsort(-np.abs(view.cells[cells]).sum(axis=0), kind="stable")
    limit = order.size if max_frames is None else min(max_frames, order.size)
    mutation = on_cells(mutation, view, ctx.spectrum.hz[bins])
    mutated = np.asarray(mutation.apply(view.cells[cells], view.hz[cells, None]))

    def signal_of(m: int) -> np.ndarray:
        edited = view.cells.copy()
        edited[np.ix_(cells, order[:m])] = mutated[:, order[:m]]
        return view.synthesize(edited)

    report: dict[str, Any] = {"of_frames": int(order.size), "stft_bins": int(cells.size)}
    found = run.smallest(limit, signal_of)
    report.update(success=found is not None, frames=None if found is None else found[0])
    if found is None:
        return None, report
    frames, signal = found
    report["snr_db"] = snr_db(ctx.spectrum.signal, signal)
    return Adversarial(signal, frames, mutation, bins), report


def on_cells(mutation: Mutation, view: STFTView, hz: np.ndarray) -> Mutation:
    """The Fourier flip's `mutation` of the bins at `hz` (float [n], Hz) for the cells of `view`: itself,
    unless it is a SignedAmplitude, whose amplified frequencies become the view's bins nearest an amplified
    Fourier bin and nearest no weakened one (a cell both reach is weakened, as most of the edit is), or
    Gains, each of the view's bins nearest some of the Fourier bins taking the mean of their gains."""
    if isinstance(mutation, Gains):
        gains = dict(zip(mutation.hz, mutation.gains))
        nearest = view.nearest_bins(hz)
        cells = np.unique(nearest)
        means = [float(np.mean([gains.get(float(f), 1.0) for f in hz[nearest == cell]])) for cell in cells]
        return Gains(mutation.scale, tuple(view.hz[cells].tolist()), tuple(means))
    if not isinstance(mutation, SignedAmplitude):
        return mutation
    amplified = np.isin(hz, mutation.amplified_hz)
    up = np.setdiff1d(view.nearest_bins(hz[amplified]), view.nearest_bins(hz[~amplified]))
    return SignedAmplitude(mutation.scale, tuple(view.hz[up].tolist()))


class STFTParameters(Parameters):
    """Parameters of the STFT attack (Algorithm 3): `frame_sizes` w in samples, tried in order (hop w/2);
    `max_frames`, the most frames one edit may touch (None: all); `all_frame_sizes`, whether to try every
    size (paper Table 4). Bad values raise InvalidInputError through the strategy or the suite."""

    frame_sizes: tuple[Annotated[int, Field(ge=2, le=MAX_FRAME)], ...] = Field(
        (256, 512, 1024), min_length=1, description="STFT frame sizes w in samples, tried in order (hop w/2)")
    max_frames: int | None = Field(None, ge=1, le=MAX_FRAME, description="most frames one edit may touch")
    all_frame_sizes: bool = Field(False, description="try every frame size, not only until one succeeds (Table 4)")


@register
class STFTAttack(AttackStrategy):
    """Algorithm 3 (paper §5), starting from Algorithm 2's result for the same clip (computed once per clip
    through the context).

    Parameters (STFTParameters): `frame_sizes`, `max_frames`, `all_frame_sizes`. Raises InvalidInputError for
    an unknown parameter or value.
    """

    name = "stft"
    Parameters = STFTParameters
    requires = {"fourier": "fourier"}
    unit = "frames"
    parameters: STFTParameters

    def __init__(self, settings: AttackSettings | None = None, fourier: FourierAttack | None = None,
                 **parameters: Any) -> None:
        settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(settings)
        self._configure(settings, parameters)

    @property
    def frame_sizes(self) -> tuple[int, ...]:
        """STFT frame sizes w in samples, tried in order."""
        return self.parameters.frame_sizes

    def query_estimate(self) -> int:
        """About 40 model queries per frame size."""
        return 40 * len(self.frame_sizes)

    def prepare(self, ctx: Context) -> tuple[int, dict[str, Any], tuple[np.ndarray, Mutation]]:
        """Bins and mutation to transfer: (model queries of the Fourier attack and what it built on,
        {from_fourier, frame_sizes}, (int64 [n] bins, mutation)): Algorithm 2's if it succeeded, else its
        first max_frequencies candidates and the ladder's strongest mutation. Raises TargetError when the
        model fails."""
        fourier = ctx.result_of(self.fourier)
        prior = fourier.queries + fourier.prior_queries
        details: dict[str, Any] = {"from_fourier": fourier.success, "frame_sizes": {}}
        if fourier.success:
            return prior, details, (np.asarray(fourier.bins, dtype=np.int64), from_spec(fourier.mutation))
        candidates = candidate_bins(ctx.result_of(self.fourier.discovery), self.fourier.candidates)
        return prior, details, (candidates[: self.settings.max_frequencies], self.settings.mutations.strongest)

    def search(self, run: AttackRun, prepared: tuple[np.ndarray, Mutation]) -> AttackResult:
        """Algorithm 3 (paper §5, l. 1-10) at each frame size in turn, hop w/2, recording each size in
        details["frame_sizes"]; the first size that succeeds is the result (`changed` counts frames).
        Raises QueryBudgetExceeded when the budget runs out before any size succeeded."""
        ctx, (bins, mutation) = run.ctx, prepared
        per_size: dict[int, dict[str, Any]] = run.details["frame_sizes"]
        if bins.size == 0:
            return run.failed(Status.NOTHING_TO_ALTER, "no frequencies to alter")
        first_success: tuple[Adversarial, int] | None = None
        for size in self.frame_sizes:
            if size > ctx.spectrum.n_samples:
                per_size[size] = {"success": False, "reason": "frame longer than the clip"}
                continue
            start = ctx.oracle.queries
            try:
                found, per_size[size] = _frame_attack(run, ctx.spectrum.stft(size, hop=size // 2), bins, mutation,
                                                      self.parameters.max_frames)
            except QueryBudgetExceeded:
                if first_success is None:
                    raise
                per_size[size] = {"success": False, "reason": "the query budget ran out"}
                break
            per_size[size]["queries"] = ctx.oracle.queries - start
            if found is not None and first_success is None:
                first_success = (found, size)
            if first_success is not None and not self.parameters.all_frame_sizes:
                break
        if first_success is None:
            return run.failed(Status.NO_FLIP, "no frame size flipped the class")
        run.details["frame_size"] = first_success[1]
        return run.conclude(first_success[0])
