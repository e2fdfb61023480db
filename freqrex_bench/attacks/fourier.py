"""Algorithm 2, the Fourier attack: alter the fewest top-ranked frequencies, then the weakest mutation.

With the strongest mutation the constraint allows, find the smallest n such that mutating the n
top-ranked bins reaches the goal (n probed in batches by `search.first_size`, never one query per
n); then, n fixed, try every admissible mutation of the ladder in one batch and keep the weakest that
still works. The causal attack ranks the sufficient bins by responsibility; the frequency baselines
run the same engine on a random or a largest-magnitude ranking.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..mutations import Mutation
from ..results import AttackResult
from ..spectrum import Spectrum
from .base import Context
from .causal import CausalDiscovery, CausalResult
from .goal import AttackSettings, Goal, conclude, snr_allows
from .search import Condition, first_size


def _parseval_weights(spectrum: Spectrum, bins: np.ndarray) -> np.ndarray:
    """Time-domain energy per unit |coefficient|^2 of each rfft bin (DC and Nyquist count once)."""
    weights = np.full(bins.size, 2.0)
    weights[bins == 0] = 1.0
    if spectrum.n_samples % 2 == 0:
        weights[bins == spectrum.n_bins - 1] = 1.0
    return weights / spectrum.n_samples


def snr_curve(spectrum: Spectrum, bins: np.ndarray, mutation: Mutation) -> np.ndarray:
    """SNR (dB) of mutating the first n of `bins`, for every n, from the spectrum alone (Parseval)."""
    coeffs = spectrum.coeffs[bins].astype(np.complex128)
    change = np.abs(np.asarray(mutation.apply(coeffs, spectrum.hz[bins])) - coeffs) ** 2
    energy = np.cumsum(change * _parseval_weights(spectrum, bins))
    power = float(np.sum(np.square(spectrum.signal.astype(np.float64))))
    with np.errstate(divide="ignore"):
        return 10 * np.log10(power / energy)


def _mutated(spectrum: Spectrum, bins: np.ndarray, mutation: Mutation) -> np.ndarray:
    mask = np.zeros(spectrum.n_bins, dtype=bool)
    mask[bins] = True
    return spectrum.mutate(mask, mutation)[0]


def frequency_attack(
    ctx: Context, ranked: np.ndarray, settings: AttackSettings, name: str, details: dict[str, Any] | None = None
) -> AttackResult:
    """Algorithm 2 on the bins in `ranked` (most promising first), under `settings`."""
    goal, before = Goal.of(ctx, settings), ctx.oracle.queries
    details = {"candidates": int(ranked.size), **(details or {})}
    limit = min(settings.max_frequencies, ranked.size)
    if goal.trivial or limit == 0:
        reason = "the clip already has the target class" if goal.trivial else "no frequencies to alter"
        return conclude(ctx, goal, name, before, None, None, "frequencies", None, details={**details, "reason": reason})
    bins, ladder = ranked[:limit], settings.mutations
    allowed = snr_allows(settings, np.stack([snr_curve(ctx.spectrum, bins, m) for m in ladder]))
    strongest = np.where(allowed.any(axis=0), len(ladder) - 1 - np.argmax(allowed[::-1], axis=0), -1)
    reached: dict[int, bool] = {}

    def evaluate(sizes: list[int]) -> None:
        todo = [n for n in sizes if n not in reached and strongest[n - 1] >= 0]
        reached.update((n, False) for n in sizes if strongest[n - 1] < 0)
        if todo:
            signals = np.stack([_mutated(ctx.spectrum, bins[:n], ladder.steps[strongest[n - 1]]) for n in todo])
            reached.update(zip(todo, goal.attempt(ctx, signals)))

    n = first_size(Condition(evaluate, reached.__getitem__), 1, limit, settings.grid_ratio, settings.refine_points)
    if n is None:
        return conclude(ctx, goal, name, before, None, None, "frequencies", None,
                        details={**details, "reason": f"no flip within {limit} frequencies"})
    steps = [i for i in range(len(ladder)) if allowed[i, n - 1]]
    signals = np.stack([_mutated(ctx.spectrum, bins[:n], ladder.steps[i]) for i in steps])
    weakest = steps[int(np.argmax(goal.attempt(ctx, signals)))]
    return conclude(ctx, goal, name, before, signals[steps.index(weakest)], n, "frequencies",
                    ladder.steps[weakest], bins[:n], details)


Candidates = Literal["sufficient", "necessary", "ranking"]


def candidate_bins(causal: CausalResult, candidates: Candidates) -> np.ndarray:
    """The bins Algorithm 2 may alter, most responsible first: the sufficient set (the paper), the
    necessary set (which contains it, and whose removal flips the class by definition), or the whole
    responsibility ranking (ties by magnitude)."""
    if candidates == "ranking":
        return causal.ranking
    bins = causal.subsets.get(candidates)
    return np.empty(0, dtype=np.int64) if bins is None else bins.bins


class FourierAttack:
    """Algorithm 2 on the clip's causal frequencies (`candidates`, default the paper's sufficient set)."""

    name = "fourier"

    def __init__(
        self, settings: AttackSettings | None = None, discovery: CausalDiscovery | None = None,
        candidates: Candidates = "sufficient",
    ) -> None:
        self.settings = settings or AttackSettings()
        self.discovery = discovery or CausalDiscovery()
        self.candidates = candidates

    def run(self, ctx: Context) -> AttackResult:
        causal = ctx.result_of(self.discovery)
        bins = candidate_bins(causal, self.candidates)
        details = {"candidate_set": self.candidates, "discovery_queries": causal.queries}
        return frequency_attack(ctx, bins, self.settings, self.name, details)
