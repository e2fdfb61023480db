"""The first size k meeting a condition, found without ever scanning k one at a time.

Used for the sufficient / necessary / complete prefixes and for how many frequencies or frames an
attack must change. The starting size and a geometric grid above it (with any sizes the caller already
has reason to probe: `hints`) are evaluated in one batch; the
gap below the first size that holds is narrowed in batched rounds of `points` sizes; then the
condition's chain (the paper's stability check) is evaluated on the next `chain` sizes in one batch.
If the chain breaks, the search resumes above the break.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Condition:
    """A condition on sizes k (prefix sizes, frequencies or frames): `evaluate(sizes)` answers many sizes
    in one model batch; `holds(k)` and `stable(k)` then read the answers. `stable` must stay true for
    `chain` sizes after the one found (default: holds; the paper's chain length, §4)."""

    evaluate: Callable[[list[int]], None]
    holds: Callable[[int], bool]
    stable: Callable[[int], bool] | None = None
    chain: int = 0


def geometric_grid(limit: int, ratio: float) -> list[int]:
    """Sorted distinct int sizes 1, ~ratio, ~ratio^2, ..., limit (np.geomspace, rounded): the first batch
    of a search (docs/design.md, "Causal discovery" step 3). `ratio` must be > 1 (settings check it)."""
    count = int(np.ceil(np.log(max(limit, 2)) / np.log(ratio))) + 1
    return sorted({int(k) for k in np.round(np.geomspace(1, limit, count))} | {limit})


def _interior(lo: int, hi: int, points: int) -> list[int]:
    """Up to `points` evenly spaced sizes strictly between lo and hi."""
    if hi - lo - 1 <= points:
        return list(range(lo + 1, hi))
    return sorted({int(k) for k in np.round(np.linspace(lo, hi, points + 2)[1:-1])} - {lo, hi})


def first_size(
    condition: Condition, start: int, limit: int, ratio: float, points: int, exact_below: int = 0,
    hints: Iterable[int] = (),
) -> int | None:
    """The first k in [start, limit] found with holds(k), and stable() on k+1..k+chain (capped at limit);
    None if there is none (docs/design.md, "Causal discovery" step 3: grid, batched refinement, chain).

    This is the smallest such k when holds() is monotone. Otherwise it is the first transition the
    bracketing finds, unless the bracket spans at most `exact_below` sizes: then all of them are probed
    in one batch and the smallest that holds is taken. An island where holds() is briefly true below a
    failing grid size is never seen, unless one of the `hints` falls inside it: sizes in [start, limit]
    probed with the grid (e.g. the size of a set already known to hold; others are ignored). `ratio` is
    the grid ratio, `points` the sizes per refinement round. Whatever `condition.evaluate` raises
    (QueryBudgetExceeded, TargetError) propagates.
    """
    if start > limit:
        return None
    stable = condition.stable or condition.holds
    grid = sorted(set(geometric_grid(limit, ratio)) | {int(k) for k in hints if start <= k <= limit})
    lo = start - 1
    while True:
        above = sorted({lo + 1} | {g for g in grid if g > lo})
        condition.evaluate(above)
        hi = next((g for g in above if condition.holds(g)), None)
        if hi is None:
            return None
        lo = max((g for g in above if g < hi), default=lo)
        while hi - lo > 1:
            scan = hi - lo - 1 <= exact_below
            inner = list(range(lo + 1, hi)) if scan else _interior(lo, hi, points)
            condition.evaluate(inner)
            first = next((k for k in inner if condition.holds(k)), None)
            if scan:
                hi = first if first is not None else hi
                break
            if first is not None:
                lo, hi = max((k for k in inner if k < first), default=lo), first
            else:
                lo = inner[-1]
        chain = list(range(hi + 1, min(hi + condition.chain, limit) + 1))
        condition.evaluate(chain)
        broken = next((k for k in chain if not stable(k)), None)
        if broken is None:
            return hi
        if broken >= limit:
            return None
        lo = broken
