"""Prefixes of the responsibility order, kept alone or removed from the clip (paper Alg. 1, l. 10-22).

Bins are ordered by responsibility (ties: larger magnitude first); B_k is the top k. PrefixProbe
classifies B_k and the clip without B_k for many k in one batch; `search.first_size` decides which k.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..oracle import Oracle
from ..spectrum import Spectrum
from .search import geometric_grid


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


def extraction_cost(n_bins: int, grid_ratio: float, refine_points: int, chain_length: int) -> int:
    """A generous estimate of extraction queries: both grids, about log(gap) refinement rounds for each
    of the three subsets (necessary probes two signals per size), and the chains."""
    grid = len(geometric_grid(n_bins, grid_ratio))
    rounds = int(np.ceil(np.log(max(n_bins / grid_ratio, 2)) / np.log(refine_points + 1)))
    return 2 * grid + 4 * rounds * refine_points + 3 * chain_length
