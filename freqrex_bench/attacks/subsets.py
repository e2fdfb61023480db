"""Sufficient, necessary and complete prefixes of the responsibility order (paper Alg. 1, l. 10-22).

Bins are ordered by responsibility (ties: larger magnitude first); B_k is the top k. For each subset
kind we want the smallest k meeting its condition that stays met for `chain` further prefixes. We never
scan k one at a time: the starting size and a geometric grid above it are probed in one batch (the
start often passes at once: necessary usually equals sufficient), the gap below the first passing
size is narrowed in batched rounds of `points` probes, then the chain is checked in one batch.
If the chain breaks, the search resumes above the break.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..oracle import Oracle
from ..spectrum import Spectrum


@dataclass
class PrefixProbe:
    """Classifies B_k (kept alone) and the clip without B_k, caching the score rows by k."""

    spectrum: Spectrum
    oracle: Oracle
    order: np.ndarray
    kept: dict[int, np.ndarray] = field(default_factory=dict)
    removed: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rank = np.empty(self.order.size, dtype=np.int64)
        self.rank[self.order] = np.arange(self.order.size)

    def masks(self, ks: Iterable[int]) -> np.ndarray:
        return self.rank[None, :] < np.asarray(list(ks), dtype=np.int64)[:, None]

    def ensure(self, ks: Iterable[int], removal: bool) -> None:
        """Classify every missing B_k (and, with `removal`, X minus B_k) in one oracle batch."""
        ks = sorted(set(ks))
        need_keep = [k for k in ks if k not in self.kept]
        need_remove = [k for k in ks if removal and k not in self.removed]
        union = sorted(set(need_keep) | set(need_remove))
        if not union:
            return
        signals = dict(zip(union, self.spectrum.keep(self.masks(union))))
        rows = [signals[k] for k in need_keep]
        rows += [self.spectrum.signal - signals[k] for k in need_remove]
        scores = self.oracle.classify(np.stack(rows)).scores
        self.kept.update(zip(need_keep, scores[: len(need_keep)]))
        self.removed.update(zip(need_remove, scores[len(need_keep) :]))

    def bins(self, k: int) -> np.ndarray:
        """Indices of B_k, most responsible first."""
        return self.order[:k].copy()


@dataclass(frozen=True)
class Criterion:
    """What a prefix must satisfy (`holds`), what must stay true after it (`stable`), and for how long."""

    holds: Callable[[PrefixProbe, int], bool]
    stable: Callable[[PrefixProbe, int], bool]
    chain: int
    removal: bool


def geometric_grid(n_bins: int, ratio: float) -> list[int]:
    """Prefix sizes 1, ~ratio, ~ratio^2, ..., n_bins."""
    count = int(np.ceil(np.log(max(n_bins, 2)) / np.log(ratio))) + 1
    return sorted({int(k) for k in np.round(np.geomspace(1, n_bins, count))} | {n_bins})


def extraction_cost(n_bins: int, grid_ratio: float, refine_points: int, chain_length: int) -> int:
    """A generous estimate of extraction queries: both grids, about log(gap) refinement rounds for each
    of the three subsets (necessary probes two signals per size), and the chains."""
    grid = len(geometric_grid(n_bins, grid_ratio))
    rounds = int(np.ceil(np.log(max(n_bins / grid_ratio, 2)) / np.log(refine_points + 1)))
    return 2 * grid + 4 * rounds * refine_points + 3 * chain_length


def _interior(lo: int, hi: int, points: int) -> list[int]:
    """Up to `points` evenly spaced sizes strictly between lo and hi."""
    if hi - lo - 1 <= points:
        return list(range(lo + 1, hi))
    return sorted({int(k) for k in np.round(np.linspace(lo, hi, points + 2)[1:-1])} - {lo, hi})


def smallest_stable(
    probe: PrefixProbe, criterion: Criterion, start: int, grid: list[int], points: int
) -> int | None:
    """The first k >= start found with criterion.holds(k) and stable() on k+1..k+chain.

    This is the smallest such k when holds() is monotone; otherwise it is the first transition the
    bracketing finds: an island where holds() is briefly true between two failing grid points is skipped.
    """
    n_bins = probe.order.size
    lo = start - 1
    while True:
        above = sorted({lo + 1} | {g for g in grid if g > lo})
        probe.ensure(above, criterion.removal)
        hi = next((g for g in above if criterion.holds(probe, g)), None)
        if hi is None:
            return None
        lo = max((g for g in above if g < hi), default=lo)
        while hi - lo > 1:
            inner = _interior(lo, hi, points)
            probe.ensure(inner, criterion.removal)
            first = next((k for k in inner if criterion.holds(probe, k)), None)
            if first is not None:
                lo, hi = max((k for k in inner if k < first), default=lo), first
            else:
                lo = inner[-1]
        chain = list(range(hi + 1, min(hi + criterion.chain, n_bins) + 1))
        probe.ensure(chain, criterion.removal)
        broken = next((k for k in chain if not criterion.stable(probe, k)), None)
        if broken is None:
            return hi
        lo = broken
