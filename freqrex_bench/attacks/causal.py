"""Causal discovery (paper Alg. 1): responsibility over Fourier bins, then sufficient / necessary / complete.

`CausalDiscovery(settings).run(ctx)` returns a `CausalResult`; `freqrex_bench.explain` is the one-call
front door. Definitions follow the paper (Defs. 1-4) with the precise meaning fixed in DESIGN.md:
- sufficient: smallest prefix B_k keeping the class with score >= min_confidence x original score,
  the class staying for `chain_length` further prefixes;
- necessary: smallest k >= sufficient with N(B_k) = c and N(X minus B_k) != c, stable likewise;
- complete: smallest k >= necessary that is also necessary, with the score equal to the original at
  2 decimals (|difference| <= 0.005).
If silence alone already gets the original class, nothing can be necessary: the result says
`stopped="silence_is_class"`, with the empty set as sufficient.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import QueryBudgetExceeded
from ..results import jsonable
from ..spectrum import Spectrum
from ..status import Status
from ..validation import validated
from .base import Context, strategy_key
from .registry import NoParameters, register
from .responsibility import ResponsibilityMap, responsibility
from .search import Condition, first_size
from .settings import CausalSettings
from .subsets import PrefixProbe, extraction_cost

SAME_SCORE = 0.005
# Equal Hz bands of the compact responsibility profile kept in every record.
PROFILE_BANDS = 128


@dataclass(frozen=True)
class Subset:
    """One extracted subset: its bins (most responsible first), signal, and the model's answer on it."""

    bins: np.ndarray
    signal: np.ndarray
    label: int
    score: float

    @property
    def size(self) -> int:
        return int(self.bins.size)


@dataclass
class CausalResult:
    """Everything causal discovery learnt about one clip's decision (fields per DESIGN "Public API").

    `responsibility` is the mean of the iterations' normalised maps (it sums to 1); `ranking` is every
    bin, most responsible first (ties: larger magnitude first), the order subsets are prefixes of. `subsets` maps
    "sufficient", "necessary", "complete" to what was found. `queries` and `seconds` cover the whole
    explain() call (including classifying the clip and silence); `responsibility_queries` and
    `extraction_queries` are the two phases. `stopped` is None, Status.BUDGET or Status.SILENCE_IS_CLASS.
    """

    label: int
    label_name: str
    score: float
    labels: list[str]
    sample_rate: int
    hz: np.ndarray
    responsibility: np.ndarray
    ranking: np.ndarray
    subsets: dict[str, Subset]
    inverse_label: int | None
    inverse_score: float | None
    queries: int
    responsibility_queries: int
    extraction_queries: int
    iterations: int
    emd: list[float]
    converged: bool
    seconds: float
    model_seconds: float
    stopped: Status | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def _bins(self, kind: str) -> np.ndarray | None:
        subset = self.subsets.get(kind)
        return None if subset is None else subset.bins

    @property
    def sufficient(self) -> np.ndarray | None:
        return self._bins("sufficient")

    @property
    def necessary(self) -> np.ndarray | None:
        return self._bins("necessary")

    @property
    def complete(self) -> np.ndarray | None:
        return self._bins("complete")

    @property
    def inverse_label_name(self) -> str | None:
        return None if self.inverse_label is None else self.labels[self.inverse_label]

    def score_shift(self, kind: str) -> float | None:
        """How far the subset's score for the original class is from the original score."""
        subset = self.subsets.get(kind)
        return None if subset is None else subset.score - self.score

    def fraction(self, kind: str) -> float | None:
        """Share of all bins the subset needs (the paper's Table 1 measure)."""
        subset = self.subsets.get(kind)
        return None if subset is None else subset.size / self.hz.size

    def signal_of(self, kind: str) -> np.ndarray | None:
        subset = self.subsets.get(kind)
        return None if subset is None else subset.signal

    def to_dict(self, bands: int = PROFILE_BANDS) -> dict[str, Any]:
        """A JSON record: the decision, each subset's size, share, Hz span and answer, the cost, and
        `profile`: responsibility and subset bin counts over `bands` equal Hz bands up to Nyquist,
        so class averages (paper Figs. 2-3) can be drawn from records of clips of any length."""
        edges = np.linspace(0, self.sample_rate / 2, bands + 1)
        band = np.clip(np.searchsorted(edges, self.hz, side="right") - 1, 0, bands - 1)
        profile = {"responsibility": np.bincount(band, self.responsibility, bands).astype(np.float32)}
        subsets = {}
        for kind, subset in self.subsets.items():
            hz = self.hz[subset.bins]
            profile[kind] = np.bincount(band[subset.bins], minlength=bands)
            subsets[kind] = {
                "size": subset.size, "fraction": self.fraction(kind), "label": self.labels[subset.label],
                "score": subset.score, "score_shift": self.score_shift(kind),
                "hz_min": float(hz.min()) if hz.size else None, "hz_max": float(hz.max()) if hz.size else None,
            }
        return jsonable({
            "label": self.label_name, "score": self.score, "n_bins": int(self.hz.size),
            "n_samples": round(float(self.sample_rate / self.hz[1])) if self.hz.size > 1 else 1,
            "sample_rate": self.sample_rate, "subsets": subsets, "inverse_label": self.inverse_label_name,
            "inverse_score": self.inverse_score, "queries": self.queries,
            "responsibility_queries": self.responsibility_queries, "extraction_queries": self.extraction_queries,
            "iterations": self.iterations, "converged": self.converged, "stopped": self.stopped,
            "seconds": self.seconds, "model_seconds": self.model_seconds, "profile": profile,
        })


def _conditions(probe: PrefixProbe, label: int, score: float, settings: CausalSettings) -> dict[str, Condition]:
    """The three subset conditions. "Same score" is |score - original| <= 0.005, i.e. equal at two
    decimals without the rounding cliff at .xx5; complete must also be necessary (paper Def. 4)."""

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


def _extract(ctx: Context, order: np.ndarray, settings: CausalSettings) -> tuple[PrefixProbe, dict[str, int], Status | None]:
    """Find each subset's prefix size in turn (each starts where the previous one ended)."""
    probe = PrefixProbe(ctx.spectrum, ctx.oracle, order)
    found: dict[str, int] = {}
    start = 1
    try:
        for kind, condition in _conditions(probe, ctx.label, ctx.score, settings).items():
            k = first_size(condition, start, ctx.spectrum.n_bins, settings.grid_ratio, settings.refine_points)
            if k is None:
                break
            found[kind] = start = k
    except QueryBudgetExceeded:
        return probe, found, Status.BUDGET
    return probe, found, None


def _ranking(spectrum: Spectrum, resp: ResponsibilityMap) -> np.ndarray:
    """Every bin, most responsible first; ties (e.g. bins no split reached) loudest first."""
    return np.lexsort((-spectrum.magnitude, -resp.values))


@register
class CausalDiscovery:
    """The causal strategy: responsibility map, then the three subsets and the inverse classification.

    Configured by CausalSettings (the suite's `discovery:`), given whole or as keyword overrides; it has
    no strategy parameters. Raises InvalidInputError for an unknown setting or a bad value.
    """

    name = "causal"
    Parameters = NoParameters

    def __init__(self, settings: CausalSettings | None = None, **overrides: Any) -> None:
        base = (settings or CausalSettings()).model_dump()
        self.settings = validated(CausalSettings, {**base, **overrides}, "causal discovery settings")

    @property
    def key(self) -> str:
        return strategy_key(self.name, self.settings)

    def run(self, ctx: Context) -> CausalResult:
        began, model_before, queries_before = time.perf_counter(), ctx.oracle.model_seconds, ctx.oracle.queries
        spectrum, settings = ctx.spectrum, self.settings
        if ctx.silence_label == ctx.label:
            # Nothing at all already gets the decision: the empty set is sufficient, nothing is necessary.
            resp = ResponsibilityMap(np.zeros(spectrum.n_bins), 0, [], False, 0)
            silent = Subset(np.empty(0, dtype=np.int64), np.zeros(spectrum.n_samples, dtype=np.float32),
                            ctx.label, ctx.silence_score)
            subsets, inverse, stopped, extraction_queries = {"sufficient": silent}, None, Status.SILENCE_IS_CLASS, 0
        else:
            reserve = extraction_cost(spectrum.n_bins, settings.grid_ratio, settings.refine_points,
                                      settings.chain_length)
            resp = responsibility(spectrum, ctx.oracle, ctx.label, settings, np.random.default_rng(ctx.seed), reserve)
            extraction_start = ctx.oracle.queries
            probe, found, stopped = _extract(ctx, _ranking(spectrum, resp), settings)
            extraction_queries = ctx.oracle.queries - extraction_start
            subsets = {
                kind: Subset(probe.bins(k), spectrum.keep(probe.masks([k]))[0],
                             int(np.argmax(probe.kept[k])), float(probe.kept[k][ctx.label]))
                for kind, k in found.items()
            }
            inverse = probe.removed.get(found["necessary"]) if "necessary" in found else None
        return CausalResult(
            label=ctx.label,
            label_name=ctx.labels[ctx.label],
            score=ctx.score,
            labels=list(ctx.labels),
            sample_rate=spectrum.sample_rate,
            hz=spectrum.hz,
            responsibility=resp.values,
            ranking=_ranking(spectrum, resp),
            subsets=subsets,
            inverse_label=None if inverse is None else int(np.argmax(inverse)),
            inverse_score=None if inverse is None else float(np.max(inverse)),
            queries=ctx.oracle.queries - queries_before,
            responsibility_queries=resp.queries,
            extraction_queries=extraction_queries,
            iterations=resp.iterations,
            emd=resp.emd,
            converged=resp.converged,
            seconds=time.perf_counter() - began,
            model_seconds=ctx.oracle.model_seconds - model_before,
            stopped=stopped,
            settings=settings.model_dump(),
        )
