"""Faithfulness of rankings: how fast a decision collapses when the top-ranked bins are removed
(deletion) and how fast it returns when only they are kept (insertion), for every ranking at an equal
query budget (Petsiuk et al. 2018's deletion/insertion metrics, over Fourier bins).

For a ranking of M bins and a log grid of prefix sizes k (1 .. M, `points` sizes), the deletion curve
is P(original class) of the clip with its top k bins removed, the insertion curve P(original class) of
the top k bins kept alone; each area is normalised over ln k to [0, 1]. A faithful ranking has a low
deletion AUC (the decision collapses soon) and a high insertion AUC. Also reported per ranking: its
sufficient size (the smallest prefix that keeps the class with score >= min_confidence x the clip's,
stable for chain_length more prefixes, as causal.subsets finds it; 0 where silence alone gets the class
with that confidence, as causal discovery judges it), its queries and seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from ..errors import QueryBudgetExceeded
from ..serialization import jsonable
from ..strategy import Context, Parameters, Strategy, register
from .discovery import CausalDiscovery
from .rankings import RANKERS, Problem, Ranking
from .settings import CausalSettings
from .subsets import PrefixProbe, lead_by_sufficiency, sufficient_prefix

RankingName = str


def log_grid(n_bins: int, points: int) -> np.ndarray:
    """Prefix sizes 1 .. n_bins on a log grid of at most `points` distinct sizes. int64 [G]."""
    return np.unique(np.round(np.geomspace(1, n_bins, points)).astype(np.int64))


def area(sizes: np.ndarray, scores: np.ndarray, n_bins: int) -> float:
    """The area under scores [G] over ln(sizes [G]), normalised by ln(n_bins) to [0, 1]."""
    if n_bins <= 1 or sizes.size < 2:
        return float(np.mean(scores))
    return float(np.trapezoid(scores, np.log(sizes)) / np.log(n_bins))


@dataclass(frozen=True)
class Curves:
    """Deletion and insertion curves of one ranking: the prefix sizes (int [G]) and P(class) at each."""

    sizes: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    n_bins: int

    @property
    def deletion_auc(self) -> float:
        """Normalised area under the deletion curve (lower: the decision collapses sooner)."""
        return area(self.sizes, self.deletion, self.n_bins)

    @property
    def insertion_auc(self) -> float:
        """Normalised area under the insertion curve (higher: fewer bins bring the decision back)."""
        return area(self.sizes, self.insertion, self.n_bins)


def curves(ctx: Context, order: np.ndarray, points: int) -> Curves:
    """The deletion and insertion curves of `order` (int64 [M]) on the clip of `ctx`: 2 x G signals in one
    oracle batch. Raises QueryBudgetExceeded."""
    spectrum = ctx.spectrum
    sizes = log_grid(spectrum.n_bins, points)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    prefixes = rank[None, :] < sizes[:, None]
    sets = np.tile(np.arange(sizes.size), 2)
    removed = np.arange(2 * sizes.size) < sizes.size
    scores = ctx.oracle.classify(spectrum.edits(prefixes, sets, removed)).scores[:, ctx.label]
    return Curves(sizes, scores[: sizes.size], scores[sizes.size:], spectrum.n_bins)


def sufficient_size(ctx: Context, order: np.ndarray, settings: CausalSettings, hints: Sequence[int] = ()) -> int | None:
    """The smallest sufficient prefix of `order` (causal.subsets' definition and search, probing the prefix
    sizes `hints` too), or None if none is; 0, for every order alike and without a query, on a clip whose
    class silence already gets with min_confidence of its score (Context.silence_is_sufficient, where
    causal discovery stops)."""
    if ctx.silence_is_sufficient(settings.min_confidence):
        return 0
    return sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, settings, hints)


@dataclass
class FaithfulnessResult:
    """Per ranking: deletion and insertion AUC and curves, sufficient size, queries (ranking and curves)
    and seconds; `queries` is this strategy's own total (a reused causal ranking costs it nothing)."""

    rankings: dict[str, dict[str, Any]]
    queries: int
    budget: int
    points: int
    reused: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The record stored in results.jsonl."""
        return jsonable({"rankings": self.rankings, "queries": self.queries, "budget": self.budget,
                         "points": self.points, "reused": self.reused})

    def write_files(self, folder: Any, target: str, clip_id: str, clip: Any) -> dict[str, str]:
        """Nothing beyond the record."""
        return {}


class FaithfulnessParameters(Parameters):
    """Parameters of the faithfulness comparison."""

    rankings: tuple[str, ...] = Field(
        ("freqrex-ns", "paper", "removal", "sliding-band", "freqrise", "loudest", "quietest", "random"),
        min_length=1, description=f"rankings to compare, from {sorted(RANKERS)}")
    points: int = Field(20, ge=2, le=200, description="prefix sizes on the log grid of each curve")
    budget: int | None = Field(
        None, ge=1, le=10_000_000,
        description="queries each ranking may spend (default: causal discovery's max_queries: an equal budget)")

    @field_validator("rankings")
    @classmethod
    def _known(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in names if name not in RANKERS]
        if unknown:
            raise ValueError(f"unknown ranking(s) {unknown}; expected some of {sorted(RANKERS)}")
        if len(set(names)) != len(names):
            raise ValueError(f"each ranking may appear once, got {list(names)}")
        return names


@register
class Faithfulness(Strategy):
    """Deletion and insertion curves of every listed ranking on each clip, at an equal query budget.

    The ranking causal discovery used (its `method`) is reused from the clip's causal result, so its
    budget is discovery's own; every other ranking is computed here with the same budget, and one with
    explanation alternatives (freqrex-ns) is measured in the order discovery would lead with
    (subsets.lead_by_sufficiency; that search's queries count in the row's `queries`, and for the reused
    ranking in discovery's extraction_queries). Parameters
    (FaithfulnessParameters): `rankings`, `points`, `budget`. Raises InvalidInputError for an unknown
    ranking or a bad value.
    """

    name = "faithfulness"
    Parameters = FaithfulnessParameters
    Record = FaithfulnessResult
    requires = {"discovery": "causal"}
    settings_section = "discovery"
    parameters: FaithfulnessParameters
    settings: CausalSettings

    def __init__(self, settings: CausalSettings | None = None, discovery: CausalDiscovery | None = None,
                 **parameters: Any) -> None:
        self.discovery = discovery or CausalDiscovery(settings)
        self._configure(self.discovery.settings, parameters)

    @property
    def budget(self) -> int:
        """Queries each ranking may spend."""
        return self.parameters.budget or self.settings.max_queries

    def query_estimate(self) -> int:
        """Every causal ranking's budget, and the curves and sufficient sizes (about 80 queries each)."""
        paid = [name for name in self.parameters.rankings if name != self.settings.method]
        return sum(self.budget for name in paid if name not in ("loudest", "quietest", "random")) + 80 * len(
            self.parameters.rankings)

    def run(self, ctx: Context) -> FaithfulnessResult:
        """Rank, then measure every ranking on the clip of `ctx`. Raises TargetError when the model fails;
        a budget that runs out leaves the rankings measured so far."""
        causal = ctx.result_of(self.discovery)
        before = ctx.oracle.queries
        problem = Problem(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, ctx.seed, self.settings)
        rows: dict[str, dict[str, Any]] = {}
        reused: list[str] = []
        for name in self.parameters.rankings:
            began, start = time.perf_counter(), ctx.oracle.queries
            try:
                if name == self.settings.method:
                    ranking = Ranking(causal.ranking, causal.responsibility, causal.responsibility_queries,
                                      causal.attack_ranking)
                    reused.append(name)
                else:
                    ranking = RANKERS[name](problem, self.budget)
                order = lead_by_sufficiency(ctx.spectrum, ctx.oracle, ctx.label, ctx.score,
                                            [ranking.order, *ranking.explanation_alternatives], self.settings,
                                            ranking.hints)[0]
                measured = curves(ctx, order, self.parameters.points)
                found = causal.subsets.get("sufficient") if name in reused else None
                size = found.size if found is not None else sufficient_size(ctx, order, self.settings, ranking.hints)
            except QueryBudgetExceeded:
                rows[name] = {"error": "the query budget ran out"}
                break
            rows[name] = {
                "deletion_auc": measured.deletion_auc, "insertion_auc": measured.insertion_auc,
                "sizes": measured.sizes, "deletion": measured.deletion, "insertion": measured.insertion,
                "sufficient_size": size, "ranking_queries": ranking.queries,
                "queries": ctx.oracle.queries - start + (ranking.queries if name in reused else 0),
                "seconds": time.perf_counter() - began,
            }
        return FaithfulnessResult(rows, ctx.oracle.queries - before, self.budget, self.parameters.points, reused)
