"""Responsibility of every Fourier bin for a decision, by p-way partition refinement (paper Alg. 1, l. 1-9).

One iteration splits the bins into p parts (contiguous bands at random cut points, or scattered random
subsets), queries every non-empty proper combination of them in one batch, and credits each part 1/k, k =
the size of the smallest minimal passing combination that holds it, 0 if none does (Def. 2:
responsibility comes from minimal sufficient sets; the full set passes, being the clip or the parent's
passing combination, except in remove mode at the top: removing it leaves silence, which passes only if
silence does not get the label). Credit is scaled by depth (1 for the first split, 2 below it, ...): a
part that survives refinement is more precisely located evidence, as with ReX's "concentrate". The `beam`
best parts are refined the same way, with the rest of their smallest minimal passing combination kept as
context.

Iterations with fresh random partitions accumulate into a running map; each iteration is normalised
to sum 1 first (equal votes: how many parts happened to pass must not weigh one random draw more than
another), so the final map is the mean distribution and sums to 1. The paper stops when the Earth
Mover's Distance between an iteration's map and the running map is <= epsilon; one iteration is a
single random draw, so that distance does not shrink as evidence accumulates (measured 0.02-0.25 on
the same clip over 16 iterations) and the test passes by chance. We stop on that distance divided by
the iteration count, which is exactly how far the normalised running map moves when the iteration is
added, and require it <= epsilon on `patience` consecutive iterations (the paper's "small and stable").
`converged` therefore means the map stopped moving, not that it is right: with `partition="scatter"`
on band-limited evidence it settles quickly on a flat, uninformative map.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Literal

import numpy as np

from ..oracle import Oracle
from ..spectrum import Mutants, Pieces, Spectrum
from .settings import CausalSettings

Mode = Literal["keep", "remove"]

# Mutants per oracle call while refining; the oracle synthesises them a model batch at a time, so memory holds
# only the jobs' pieces (p + 1 signals each) and one model batch.
_GROUP_ROWS = 256


@dataclass(frozen=True)
class ResponsibilityMap:
    """The accumulated map and how it was reached.

    `values` is float64 [M], the mean of the iterations' normalised maps (it sums to 1; all zeros when
    no iteration ran); `iterations` how many ran; `emd` the movement of the running map per iteration
    after the first (module docstring); `converged` whether the epsilon test passed `patience` times in
    a row; `queries` the model queries the phase spent (cache hits excluded).
    """

    values: np.ndarray
    iterations: int
    emd: list[float]  # per iteration after the first: EMD between the running map before and after it
    converged: bool
    queries: int


@dataclass(frozen=True)
class _Job:
    """Split `part` (int64 bin indices) into p pieces and test their combinations on top of `context`: the
    parts (int64 bin indices each) that rode along in the ancestors' passing combinations, in the order
    they were met (a superposition adds their signals in that order)."""

    part: np.ndarray
    context: tuple[np.ndarray, ...]
    depth: int


def emd(p: np.ndarray, q: np.ndarray) -> float:
    """1-D Earth Mover's Distance (Rubner et al. 1998; paper Alg. 1 l. 6) between two non-negative maps,
    float [M] each, on the same bin grid, each normalised to sum 1, positions scaled to [0, 1].

    On one grid this is sum |cumsum(p) - cumsum(q)| x bin width: linear time, no sort; it equals
    scipy.stats.wasserstein_distance over positions k / (M - 1). inf when either map is all zero or M < 2.
    """
    sp, sq = p.sum(), q.sum()
    if sp <= 0 or sq <= 0 or p.size < 2:
        return float("inf")
    return float(np.abs(np.cumsum(p / sp - q / sq)).sum() / (p.size - 1))


def split(part: np.ndarray, p: int, kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """`part` (int64 [n] bin indices) cut into min(n, p) non-empty int64 parts (paper §4, parts need not be
    contiguous): `kind="contiguous"` cuts it at p - 1 random points into bands, any other kind
    ("scatter") deals a random permutation into p near-equal subsets, each sorted."""
    n = part.size
    if n <= p:
        return [part[i : i + 1] for i in range(n)]
    if kind == "contiguous":
        cuts = np.sort(rng.choice(n - 1, size=p - 1, replace=False)) + 1
        return np.split(part, cuts)
    shuffled = rng.permutation(part)
    return [np.sort(piece) for piece in np.array_split(shuffled, p)]


@lru_cache(maxsize=16)
def combinations_of(n: int) -> tuple[np.ndarray, np.ndarray]:
    """All S = 2^n - 1 non-empty subsets of n parts as `table`, bool [S, n], smallest first (the full set
    last), and `inside`, bool [S, S]: `inside[i, j]` when subset j is a strict subset of subset i. Both
    read-only (cached)."""
    rows = [np.isin(np.arange(n), c) for size in range(1, n + 1) for c in combinations(range(n), size)]
    table = np.array(rows, dtype=bool).reshape(-1, n)
    covers = (table[:, None, :] | ~table[None, :, :]).all(axis=2)
    inside = covers & (table.sum(1)[:, None] > table.sum(1)[None, :])
    for array in (table, inside):
        array.flags.writeable = False
    return table, inside


def minimal_passing(passing: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """bool [S]: the passing combinations none of whose strict subsets pass, i.e. the candidate
    sufficient subsets (minimal, paper Def. 1); `passing` is bool [S] over combinations_of's rows and
    `inside` its bool [S, S] matrix."""
    return passing & ~(inside & passing[None, :]).any(axis=1)


def _mutants(spectrum: Spectrum, job: _Job, parts: list[np.ndarray], mode: Mode, pieces: Pieces) -> Mutants:
    """Mutants of context + each proper combination of parts (kept, or removed from the clip), by
    superposition: p irffts, not 2^p - 2, and none for a part `pieces` already holds (the context is
    a sum of earlier parts)."""
    proper = combinations_of(len(parts))[0][:-1]
    return spectrum.superposed(job.context, parts, proper, remove=mode == "remove", pieces=pieces)


def _passing(
    spectrum: Spectrum, oracle: Oracle, label: int, jobs: list[_Job], splits: list[list[np.ndarray]], mode: Mode,
    pieces: Pieces,
) -> np.ndarray:
    """Which mutants of all jobs keep the label; jobs are grouped into oracle calls of ~_GROUP_ROWS
    signals (results do not depend on the grouping; the oracle synthesises a model batch at a time)."""
    answers, group = [], []
    for job, parts in zip(jobs, splits):
        group.append(_mutants(spectrum, job, parts, mode, pieces))
        if sum(len(g) for g in group) >= _GROUP_ROWS or job is jobs[-1]:
            labels = oracle.classify(Mutants.join(group)).labels
            answers.append(labels == label if mode == "keep" else labels != label)
            group = []
    return np.concatenate(answers)


def _credit(
    job: _Job, parts: list[np.ndarray], passing: np.ndarray, values: np.ndarray, magnitude: np.ndarray,
    settings: CausalSettings, whole_passes: bool = True,
) -> list[tuple[float, float, _Job]]:
    """Add each part's responsibility to its bins; return the parts worth refining with their contexts.

    `passing` covers the proper combinations; `whole_passes` says whether the full set does (by
    construction, but for the top of remove mode: see `responsibility`). A part's responsibility is
    1/|C| for the smallest *minimal* passing combination C holding it, else 0.
    """
    combos, inside = combinations_of(len(parts))
    minimal = minimal_passing(np.append(passing, whole_passes), inside)
    refinable = []
    for i, part in enumerate(parts):
        holding = np.flatnonzero(minimal & combos[:, i])
        if not holding.size:
            continue
        combo = combos[holding[0]]
        resp = 1.0 / combo.sum()
        values[part] += job.depth * resp
        if part.size > settings.min_part_size and job.depth < settings.max_depth:
            others = [parts[j] for j in np.flatnonzero(combo) if j != i]
            context = (*job.context, *others)
            energy = float(np.square(magnitude[part]).sum())
            refinable.append((resp, energy, _Job(part, context, job.depth + 1)))
    return refinable


def _iteration(
    spectrum: Spectrum, oracle: Oracle, label: int, settings: CausalSettings,
    rng: np.random.Generator, query_cap: int, mode: Mode, pieces: Pieces, top_passes: bool,
) -> tuple[np.ndarray, int]:
    """One pass of refinement from the whole spectrum; returns the map and the mutants it sent.

    `query_cap` bounds the mutants sent (cache hits included), so the oracle's budget is never hit here;
    `pieces` holds the signals of parts and contexts met before (in this or an earlier iteration);
    `top_passes` whether the full set of the first split passes.
    """
    values = np.zeros(spectrum.n_bins)
    frontier = [_Job(np.arange(spectrum.n_bins), (), 1)]
    spent = 0
    while frontier:
        splits = [split(job.part, settings.p, settings.partition, rng) for job in frontier]
        sizes = [2 ** len(parts) - 2 for parts in splits]
        affordable = int(np.searchsorted(np.cumsum(sizes), query_cap - spent, side="right"))
        frontier, splits = frontier[:affordable], splits[:affordable]
        if not frontier:
            break
        passing = _passing(spectrum, oracle, label, frontier, splits, mode, pieces)
        spent += len(passing)
        refinable = []
        offsets = np.cumsum([0, *sizes[:affordable]])
        for job, parts, start, stop in zip(frontier, splits, offsets[:-1], offsets[1:]):
            refinable += _credit(job, parts, passing[start:stop], values, spectrum.magnitude, settings,
                                 job.depth > 1 or top_passes)
        refinable.sort(key=lambda item: (-item[0], -item[1]))
        frontier = [job for _, _, job in refinable[: settings.beam]]
    return values, spent


def responsibility(
    spectrum: Spectrum, oracle: Oracle, label: int, settings: CausalSettings, rng: np.random.Generator,
    reserve: int = 0, mode: Mode = "keep",
) -> ResponsibilityMap:
    """Responsibility of each of the M bins for keeping `label` (paper Alg. 1 l. 1-9, Def. 2): iterations
    of partition refinement, drawn from `rng`, until the running map moves by <= epsilon (EMD) on
    `patience` iterations in a row, or max_iterations or max_queries is reached (module docstring).

    `mode="remove"` gives removal responsibility, the necessary side of Def. 3: a combination of parts
    passes when removing it (with the context) from the whole clip changes the decision, so a part earns
    1/k from the smallest minimal removal that holds it. At the top the full removal is silence: it
    passes only when silence does not get the label (asked of the oracle: a cache hit after
    Context.create); where it does, only proper combinations can earn credit.

    `reserve` model queries of the oracle's budget are left for extraction (at most half of what
    remains), so this phase never raises QueryBudgetExceeded. Raises TargetError when the model fails.
    """
    total = np.zeros(spectrum.n_bins)
    distances: list[float] = []
    spent, queries_before = 0, oracle.queries
    allowance = settings.max_queries
    if oracle.remaining is not None:
        allowance = min(allowance, max(oracle.remaining - reserve, oracle.remaining // 2))
    iterations = 0
    converged = False
    pieces = Pieces(spectrum)
    top_passes = mode == "keep" or bool(oracle.classify(spectrum.edits(np.ones((1, spectrum.n_bins), dtype=bool),
                                                                         removed=[True])).labels[0] != label)
    while iterations < settings.max_iterations:
        values, sent = _iteration(spectrum, oracle, label, settings, rng, allowance - spent, mode, pieces,
                                  top_passes)
        if sent == 0:
            break
        spent += sent
        iterations += 1
        if values.sum() > 0:
            values /= values.sum()
        if iterations > 1:
            distances.append(emd(values, total) / iterations)
        total += values
        recent = distances[-settings.patience :]
        if len(recent) == settings.patience and max(recent) <= settings.epsilon:
            converged = True
            break
    mean = total / max(iterations, 1)
    return ResponsibilityMap(mean, iterations, distances, converged, oracle.queries - queries_before)
