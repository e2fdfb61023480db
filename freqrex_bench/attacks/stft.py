"""Algorithm 3, the STFT attack: apply the Fourier attack's mutation to the matching STFT cells of the
loudest frames only, the fewest frames that flip the class, escalating the frame size on failure.

For each frame size w (256, 512, 1024 by default; hop w/2 as scipy.signal.stft's default): map the
Fourier bins Algorithm 2 changed to their nearest STFT bins F', order frames by the summed magnitude
of F', and find the smallest m such that mutating F' in the top m frames reaches the goal (m probed in
batches). The next frame size is tried only if this one failed, unless `all_frame_sizes` is set.
If Algorithm 2 did not succeed, the sufficient bins and the ladder's strongest mutation are used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..mutations import Mutation, from_spec
from ..results import AttackResult, snr_db
from ..spectrum import STFTView
from ..validation import whole_number
from .base import Context
from .fourier import FourierAttack
from .goal import AttackSettings, Goal, conclude, snr_allows
from .search import Condition, first_size


def _frame_attack(
    ctx: Context, goal: Goal, settings: AttackSettings, view: STFTView, bins: np.ndarray, mutation: Mutation,
    max_frames: int | None,
) -> tuple[int | None, np.ndarray | None, dict[str, Any]]:
    """Smallest number of loudest frames whose F' cells, mutated, reach the goal at one frame size."""
    cells = np.unique(view.nearest_bins(ctx.spectrum.hz[bins]))
    order = np.argsort(-np.abs(view.cells[cells]).sum(axis=0), kind="stable")
    limit = order.size if max_frames is None else min(max_frames, order.size)
    mutated = np.asarray(mutation.apply(view.cells[cells], view.hz[cells, None]))
    signals: dict[int, np.ndarray] = {}
    reached: dict[int, bool] = {}

    def signal_for(m: int) -> np.ndarray:
        edited = view.cells.copy()
        frames = order[:m]
        edited[np.ix_(cells, frames)] = mutated[:, frames]
        return view.synthesize(edited)

    def evaluate(sizes: list[int]) -> None:
        todo = [m for m in sizes if m not in reached]
        for m in todo:
            signals[m] = signal_for(m)
        ok = [m for m in todo if snr_allows(settings, snr_db(ctx.spectrum.signal, signals[m]))]
        reached.update((m, False) for m in todo if m not in ok)
        if ok:
            reached.update(zip(ok, goal.attempt(ctx, np.stack([signals[m] for m in ok]))))

    found = first_size(Condition(evaluate, reached.__getitem__), 1, limit, settings.grid_ratio, settings.refine_points)
    report = {"success": found is not None, "frames": found, "of_frames": int(order.size), "stft_bins": int(cells.size)}
    if found is not None:
        report["snr_db"] = snr_db(ctx.spectrum.signal, signals[found])
    return found, None if found is None else signals[found], report


class STFTAttack:
    """Algorithm 3, starting from Algorithm 2's result for the same clip (computed once via ctx)."""

    name = "stft"

    def __init__(
        self,
        settings: AttackSettings | None = None,
        fourier: FourierAttack | None = None,
        frame_sizes: tuple[int, ...] = (256, 512, 1024),
        max_frames: int | None = None,
        all_frame_sizes: bool = False,
    ) -> None:
        self.settings = settings or AttackSettings()
        self.fourier = fourier or FourierAttack(self.settings)
        self.frame_sizes = tuple(whole_number(w, "frame size", minimum=2) for w in frame_sizes)
        self.max_frames = None if max_frames is None else whole_number(max_frames, "max_frames")
        self.all_frame_sizes = all_frame_sizes

    def _start(self, ctx: Context) -> tuple[np.ndarray, Mutation, bool]:
        """The bins and mutation to transfer: Algorithm 2's if it succeeded, else sufficient + strongest."""
        fourier = ctx.result_of(self.fourier)
        if fourier.success:
            return np.asarray(fourier.bins), from_spec(fourier.mutation), True
        sufficient = ctx.result_of(self.fourier.discovery).sufficient
        bins = np.empty(0, dtype=np.int64) if sufficient is None else sufficient[: self.settings.max_frequencies]
        return bins, self.settings.mutations.strongest, False

    def run(self, ctx: Context) -> AttackResult:
        bins, mutation, from_fourier = self._start(ctx)
        goal, before = Goal.of(ctx, self.settings), ctx.oracle.queries
        details: dict[str, Any] = {"from_fourier": from_fourier, "frame_sizes": {}}
        if goal.trivial or bins.size == 0:
            details["reason"] = "the clip already has the target class" if goal.trivial else "no frequencies to alter"
            return conclude(ctx, goal, self.name, before, None, None, "frames", None, details=details)
        best: tuple[int, np.ndarray, int] | None = None
        for size in self.frame_sizes:
            if size > ctx.spectrum.n_samples:
                details["frame_sizes"][size] = {"success": False, "reason": "frame longer than the clip"}
                continue
            start = ctx.oracle.queries
            view = ctx.spectrum.stft(size, hop=size // 2)
            frames, signal, report = _frame_attack(ctx, goal, self.settings, view, bins, mutation, self.max_frames)
            details["frame_sizes"][size] = {**report, "queries": ctx.oracle.queries - start}
            if signal is not None and best is None:
                best = (frames, signal, size)
            if best is not None and not self.all_frame_sizes:
                break
        if best is None:
            return conclude(ctx, goal, self.name, before, None, None, "frames", mutation, details=details)
        details["frame_size"] = best[2]
        return conclude(ctx, goal, self.name, before, best[1], best[0], "frames", mutation, bins, details)
