"""The sufficient, necessary and complete subsets: prefixes of the responsibility order, kept alone or
removed from the clip (paper Alg. 1, l. 10-22; Defs. 1-4).

Bins are ordered by responsibility (ties: larger magnitude first); B_k is the top k. PrefixProbe
classifies B_k and the clip without B_k for many k in one batch; `search.first_size` decides which k:
- sufficient: smallest prefix B_k keeping the class with score >= min_confidence x original score,
  the class staying for `chain_length` further prefixes;
- necessary: smallest k >= sufficient with N(B_k) = c and N(X minus B_k) != c, stable likewise;
- complete: smallest k >= necessary that is also necessary, with the score equal to the original at
  2 decimals (|difference| <= SAME_SCORE = 0.005, without the rounding cliff at .xx5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import QueryBudgetExceeded
from ..oracle import Oracle
from ..search import Condition, first_size, geometric_grid
from ..spectrum import Spectrum
from ..status import Status
from .settings import CausalSettings

SAME_SCORE = 0.005


@dataclass
class PrefixProbe:
    """Classifies B_k (kept alone) and the clip without B_k (paper Alg. 1 l. 12-21), caching the score
    rows (float32 [C]) by k in `kept` and `removed`.

    `order` is every bin index (int64 [M]), most responsible first.
    """

    spectrum: Spectrum
    oracle: Oracle
    order: np.ndarray
    kept: dict[int, np.ndarray] = field(default_factory=dict)
    removed: dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rank = np.empty(self.order.size, dtype=np.int64)
        self.rank[self.order] = np.arange(self.order.size)

    def masks(self, ks: Iterable[int]) -> np.ndarray:
        """bool [len(ks), M]: row i marks the bins of B_ks[i]."""
        return self.rank[None, :] < np.asarray(list(ks), dtype=np.int64)[:, None]

    def ensure(self, ks: Iterable[int], removal: bool) -> None:
        """Classify every B_k not yet cached for the sizes `ks` (and, with `removal`, X minus B_k) in one
        oracle batch. Raises QueryBudgetExceeded or TargetError from the oracle."""
        ks = sorted(set(ks))
        need_keep = [k for k in ks if k not in self.kept]
        need_remove = [k for k in ks if removal and k not in self.removed]
        union = sorted(set(need_keep) | set(need_remove))
        if not union:
            return
        position = {k: i for i, k in enumerate(union)}
        sets = [position[k] for k in need_keep + need_remove]
        removed = [False] * len(need_keep) + [True] * len(need_remove)
        scores = self.oracle.classify(self.spectrum.edits(self.masks(union), sets, removed)).scores
        self.kept.update(zip(need_keep, scores[: len(need_keep)]))
        self.removed.update(zip(need_remove, scores[len(need_keep) :]))

    def bins(self, k: int) -> np.ndarray:
        """int64 [k]: the bin indices of B_k, most responsible first (a copy)."""
        return self.order[:k].copy()


def extraction_cost(n_bins: int, grid_ratio: float, refine_points: int, chain_length: int) -> int:
    """A generous estimate of extraction's model queries for a clip of `n_bins` bins: both grids, about
    log(gap) refinement rounds for each of the three subsets (necessary probes two signals per size),
    and the chains. Responsibility leaves this many of the budget for extraction."""
    grid = len(geometric_grid(n_bins, grid_ratio))
    rounds = int(np.ceil(np.log(max(n_bins / grid_ratio, 2)) / np.log(refine_points + 1)))
    return 2 * grid + 4 * rounds * refine_points + 3 * chain_length


def conditions(probe: PrefixProbe, label: int, score: float, settings: CausalSettings) -> dict[str, Condition]:
    """The three subset conditions on prefix sizes k (paper Defs. 1, 3, 4; Alg. 1 l. 14-19), with the
    paper's chain-length stability (§4) for sufficient and necessary. "Same score" is |score - original|
    <= 0.005, i.e. equal at two decimals without the rounding cliff at .xx5; complete must also be
    necessary (Def. 4). `score` is the original probability of `label`."""

    def keeps(k: int) -> bool:
        return int(np.argmax(probe.kept[k])) == label

    def sufficient(k: int) -> bool:
        return keeps(k) and probe.kept[k][label] >= settings.min_confidence * score

    def necessary(k: int) -> bool:
        return keeps(k) and int(np.argmax(probe.removed[k])) != label

    def complete(k: int) -> bool:
        return necessary(k) and abs(float(probe.kept[k][label]) - score) <= SAME_SCORE

    def kept(ks: list[int]) -> None:
        probe.ensure(ks, removal=False)

    def kept_and_removed(ks: list[int]) -> None:
        probe.ensure(ks, removal=True)

    chain = settings.chain_length
    return {
        "sufficient": Condition(kept, sufficient, keeps, chain),
        "necessary": Condition(kept_and_removed, necessary, necessary, chain),
        "complete": Condition(kept_and_removed, complete),
    }


def sufficient_prefix(probe: PrefixProbe, label: int, score: float, settings: CausalSettings,
                      hints: Sequence[int] = ()) -> int | None:
    """The size of the sufficient prefix of `probe.order` (the module docstring's definition, searched as
    extraction searches it: `first_sufficient`, with and without the prefix sizes `hints` probed), or
    None when no prefix is sufficient. Raises QueryBudgetExceeded or TargetError from the oracle."""
    return first_sufficient(conditions(probe, label, score, settings)["sufficient"], probe.spectrum.n_bins,
                            settings, hints)


def first_sufficient(condition: Condition, n_bins: int, settings: CausalSettings,
                     hints: Sequence[int] = ()) -> int | None:
    """The sufficient search: search.first_size from 1 on the sufficient `condition`; with `hints`, once
    more probing those prefix sizes with the grid (its answers mostly cached), the smaller size found
    winning. On a condition that is not monotone the two searches can end at different transitions, so
    a hint never makes the prefix larger, and a hinted size that holds with a stable chain bounds it. A
    budget that runs out during the second search keeps the first one's size. Raises what
    `condition.evaluate` raises (QueryBudgetExceeded, TargetError)."""
    k = first_size(condition, 1, n_bins, settings.grid_ratio, settings.refine_points)
    if hints:
        try:
            hinted = first_size(condition, 1, n_bins, settings.grid_ratio, settings.refine_points, hints=hints)
        except QueryBudgetExceeded:
            if k is None:
                raise
            return k
        if hinted is not None and (k is None or hinted < k):
            k = hinted
    return k


def lead_by_sufficiency(spectrum: Spectrum, oracle: Oracle, label: int, score: float, orders: Sequence[np.ndarray],
                        settings: CausalSettings, hints: Sequence[int] = ()) -> tuple[np.ndarray, int]:
    """The explanation order whose sufficient prefix is smallest, as (order, index into `orders`).

    `orders` are candidate orders of every bin (each int64 [M]), the main one first. Each one's sufficient
    prefix k is searched (`sufficient_prefix`, probing the sizes `hints` too; sizes the main order shares
    with another are cache hits); the smallest k wins. Orders that tie on it (they share a head: freqrex-ns's
    pruned S) are told apart by how soon removing their top bins collapses the decision (`collapse`, one
    batch; equal sums go to the earlier order): the lowest wins, whole, and extraction on it finds the same
    k. A single winner other than the main order leads for its first min(M, ceil(grid_ratio x (k + 1)) +
    chain_length + 1) bins, more than every size the search that found k decided on (the first size that
    held is below grid_ratio x k plus rounding, the chain ends at k + chain_length; the other search reads
    sizes past that span only once its bracket lies at or above k), so extraction on the result finds the
    same k; the main order's remaining bins follow in the main order. A budget that runs out leaves the
    earlier order (the main one, if it ties). Raises TargetError when the model fails.
    """
    if len(orders) < 2:
        return orders[0], 0
    sizes: list[float] = []
    for order in orders:
        try:
            k = sufficient_prefix(PrefixProbe(spectrum, oracle, order), label, score, settings, hints)
        except QueryBudgetExceeded:
            break
        sizes.append(np.inf if k is None else k)
    smallest = min(sizes, default=np.inf)
    if len(sizes) < 2 or not np.isfinite(smallest):
        return orders[0], 0
    tied = [i for i, k in enumerate(sizes) if k == smallest]
    if len(tied) > 1:
        try:
            pick = tied[int(np.argmin(collapse(spectrum, oracle, label, [orders[i] for i in tied])))]
            return orders[pick], pick
        except QueryBudgetExceeded:
            pass
    best = tied[0]
    if best == 0:
        return orders[0], 0
    span = min(spectrum.n_bins, int(np.ceil(settings.grid_ratio * (sizes[best] + 1))) + settings.chain_length + 1)
    lead = orders[best][:span]
    rest = np.ones(spectrum.n_bins, dtype=bool)
    rest[lead] = False
    return np.concatenate([lead, orders[0][rest[orders[0]]]]).astype(np.int64), best


def collapse(spectrum: Spectrum, oracle: Oracle, label: int, orders: Sequence[np.ndarray],
             points: int = 4) -> np.ndarray:
    """A coarse deletion curve per order, summed: float64 [len(orders)], for each order (int64 [M]) the sum
    of P(label) over the clip with its top k bins removed; lower: the decision collapses sooner (the
    deletion metric of Petsiuk et al. 2018, at a few sizes). Up to the length h of the head the orders
    share element by element (freqrex-ns's pruned S leads all its orders), every order removes the same
    bins and scores alike, so the sizes k are spent past it: up to `points` of them, spaced geometrically
    between h and M (the distinct rounded geomspace(max(h, 1), M, points + 2)[1:-1]; `points` >= 1). At most
    len(orders) x points queries in one oracle batch. Raises QueryBudgetExceeded or TargetError from the
    oracle."""
    head = min((int(np.argmax(np.append(order != orders[0], True))) for order in orders[1:]),
               default=spectrum.n_bins)
    sizes = np.unique(np.round(np.geomspace(max(head, 1), spectrum.n_bins, points + 2)[1:-1]).astype(np.int64))
    masks = np.concatenate([PrefixProbe(spectrum, oracle, order).masks(sizes) for order in orders])
    scores = oracle.classify(spectrum.edits(masks, removed=np.ones(len(masks), dtype=bool))).scores[:, label]
    return scores.astype(np.float64).reshape(len(orders), sizes.size).sum(axis=1)


def extract(spectrum: Spectrum, oracle: Oracle, label: int, score: float, order: np.ndarray,
            settings: CausalSettings, hints: Sequence[int] = ()) -> tuple[PrefixProbe, dict[str, int], Status | None]:
    """Find each subset's prefix size in turn (paper Alg. 1 l. 10-22), each search starting where the
    previous one ended; `order` is every bin index (int64 [M]), most responsible first. The sufficient
    search is `first_sufficient`, with and without the prefix sizes `hints` probed (freqrex-ns: the size
    of its pruned sufficient set, which leads the order; ours, not the paper's).

    Returns the probe (its cached answers), {subset kind: prefix size in bins} for the subsets found,
    and Status.BUDGET if the oracle's budget ran out (the subsets found before it are kept), else None.
    Raises TargetError when the model fails.
    """
    probe = PrefixProbe(spectrum, oracle, order)
    found: dict[str, int] = {}
    start = 1
    try:
        for kind, condition in conditions(probe, label, score, settings).items():
            k = (first_sufficient(condition, spectrum.n_bins, settings, hints) if kind == "sufficient" else
                 first_size(condition, start, spectrum.n_bins, settings.grid_ratio, settings.refine_points))
            if k is None:
                break
            found[kind] = start = k
    except QueryBudgetExceeded:
        return probe, found, Status.BUDGET
    return probe, found, None
