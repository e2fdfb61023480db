"""Causal discovery (paper Alg. 1): responsibility over Fourier bins, then sufficient / necessary / complete.

`CausalDiscovery(settings).run(ctx)` returns a `CausalResult`; `freqrex_bench.explain` is the one-call
front door. Definitions follow the paper (Defs. 1-4) with the precise meaning fixed in DESIGN.md:
- sufficient: smallest prefix B_k keeping the class with score >= min_confidence x original score,
  the class staying for `chain_length` further prefixes;
- necessary: smallest k >= sufficient with N(B_k) = c and N(X minus B_k) != c, stable likewise;
- complete: smallest k >= necessary with class c and the score equal to the original at 2 decimals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import QueryBudgetExceeded, validated
from .base import Context
from .responsibility import RefinementSettings, responsibility
from .subsets import Criterion, PrefixProbe, geometric_grid, smallest_stable


class CausalSettings(BaseModel):
    """Settings of causal discovery. Defaults follow the paper (p=4, chain 5, confidence 0.5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p: int = Field(4, ge=2, le=8, description="parts each set is split into; 2^p - 2 mutants per split")
    partition: Literal["contiguous", "scatter"] = Field(
        "contiguous", description="contiguous bands at random cut points, or scattered random subsets"
    )
    beam: int = Field(2, ge=1, description="parts refined further at each depth, most responsible first")
    max_depth: int = Field(12, ge=1, description="deepest refinement level (4^12 bins covers any clip)")
    min_part_size: int = Field(1, ge=1, description="parts this small (in bins) are not split further")
    epsilon: float = Field(
        0.01, ge=0,
        description="stop iterating once adding an iteration moves the running responsibility map by "
        "at most this Earth Mover's Distance, frequency scaled to [0, 1] of Nyquist",
    )
    patience: int = Field(2, ge=1, description="consecutive iterations that must pass the epsilon test")
    max_iterations: int = Field(20, ge=1, description="iteration cap when the EMD test never passes")
    max_queries: int = Field(2000, ge=1, description="query cap for the responsibility phase")
    chain_length: int = Field(5, ge=0, description="further prefixes over which a subset must stay stable")
    min_confidence: float = Field(
        0.5, ge=0, le=1, description="a sufficient subset needs score >= this x the original score"
    )
    grid_ratio: float = Field(2.0, gt=1, le=16, description="ratio between probed prefix sizes")
    refine_points: int = Field(3, ge=1, le=64, description="prefix sizes probed per refinement round")

    def refinement(self) -> RefinementSettings:
        return RefinementSettings(
            self.p, self.partition, self.beam, self.max_depth, self.min_part_size,
            self.epsilon, self.patience, self.max_iterations, self.max_queries,
        )


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
    """Everything causal discovery learnt about one clip's decision (fields per DESIGN "Public API")."""

    label: int
    label_name: str
    score: float
    labels: list[str]
    sample_rate: int
    hz: np.ndarray
    responsibility: np.ndarray
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
    stopped: str | None = None
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


def _criteria(label: int, score: float, settings: CausalSettings) -> dict[str, Criterion]:
    def keeps(probe: PrefixProbe, k: int) -> bool:
        return int(np.argmax(probe.kept[k])) == label

    def sufficient(probe: PrefixProbe, k: int) -> bool:
        return keeps(probe, k) and probe.kept[k][label] >= settings.min_confidence * score

    def necessary(probe: PrefixProbe, k: int) -> bool:
        return keeps(probe, k) and int(np.argmax(probe.removed[k])) != label

    def complete(probe: PrefixProbe, k: int) -> bool:
        return keeps(probe, k) and round(float(probe.kept[k][label]), 2) == round(score, 2)

    chain = settings.chain_length
    return {
        "sufficient": Criterion(sufficient, keeps, chain, removal=False),
        "necessary": Criterion(necessary, necessary, chain, removal=True),
        "complete": Criterion(complete, complete, 0, removal=False),
    }


class CausalDiscovery:
    """The causal strategy: responsibility map, then the three subsets and the inverse classification."""

    name = "causal"

    def __init__(self, settings: CausalSettings | None = None, **overrides: Any) -> None:
        base = (settings or CausalSettings()).model_dump()
        self.settings = validated(CausalSettings, {**base, **overrides}, "causal discovery")

    def run(self, ctx: Context) -> CausalResult:
        began, model_before, queries_before = time.perf_counter(), ctx.oracle.model_seconds, ctx.oracle.queries
        spectrum, settings = ctx.spectrum, self.settings
        rng = np.random.default_rng(ctx.seed)
        resp = responsibility(spectrum, ctx.oracle, ctx.label, settings.refinement(), rng)
        order = np.lexsort((-spectrum.magnitude, -resp.values))
        probe = PrefixProbe(spectrum, ctx.oracle, order)
        extraction_start = ctx.oracle.queries
        found: dict[str, int] = {}
        stopped = None
        try:
            start, grid = 1, geometric_grid(spectrum.n_bins, settings.grid_ratio)
            for kind, criterion in _criteria(ctx.label, ctx.score, settings).items():
                k = smallest_stable(probe, criterion, start, grid, settings.refine_points)
                if k is None:
                    break
                found[kind] = start = k
        except QueryBudgetExceeded:
            stopped = "budget"
        subsets = {
            kind: Subset(probe.bins(k), probe.spectrum.keep(probe.masks([k]))[0],
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
            subsets=subsets,
            inverse_label=None if inverse is None else int(np.argmax(inverse)),
            inverse_score=None if inverse is None else float(np.max(inverse)),
            queries=ctx.oracle.queries - queries_before,
            responsibility_queries=resp.queries,
            extraction_queries=ctx.oracle.queries - extraction_start,
            iterations=resp.iterations,
            emd=resp.emd,
            converged=resp.converged,
            seconds=time.perf_counter() - began,
            model_seconds=ctx.oracle.model_seconds - model_before,
            stopped=stopped,
            settings=settings.model_dump(),
        )
