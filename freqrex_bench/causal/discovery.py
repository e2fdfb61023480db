"""Causal discovery, the explainer (paper Alg. 1): responsibility over Fourier bins, then the sufficient,
necessary and complete subsets and the inverse classification.

`CausalDiscovery(settings).run(ctx)` returns a `CausalResult`; `freqrex_bench.explain` is the one-call
front door. The subsets are prefixes of the chosen method's ranking (causal.subsets). If silence alone
already gets the original class with score >= min_confidence x the clip's (Context.silence_is_sufficient:
the empty set is sufficient), discovery stops there: the result says `stopped=Status.SILENCE_IS_CLASS`,
with the empty set as sufficient and no necessary or complete set looked for. Silence that gets the
class less surely is explained as any clip.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..status import Status
from ..strategy import Context, Strategy, register
from ..validation import validated
from .rankings import RANKERS, Problem, Ranking
from .result import CausalResult, Subset
from .settings import CausalSettings
from .subsets import extract, extraction_cost, lead_by_sufficiency


@register
class CausalDiscovery(Strategy):
    """The causal strategy (paper §3-4, Alg. 1): responsibility map, then the sufficient, necessary and
    complete subsets (Defs. 1-4) and the inverse classification.

    Configured by CausalSettings (the suite's `discovery:`), given whole or as keyword overrides; it has
    no strategy parameters. Raises InvalidInputError for an unknown setting or a bad value.
    """

    name = "causal"
    Record = CausalResult
    settings_section = "discovery"
    settings: CausalSettings

    def __init__(self, settings: CausalSettings | None = None, **overrides: Any) -> None:
        base = (settings or CausalSettings()).model_dump()
        self._configure(validated(CausalSettings, {**base, **overrides}, "causal discovery settings"), {})

    def query_estimate(self) -> int:
        """Model queries per clip: the responsibility cap (max_queries), at most about 140 of extraction (with
        the searches of the alternative explanation orders' sufficient prefixes, with and without the pruned
        set's size, and the deletion probe of orders that tie: 99-113 queries a clip in all on the zoo's
        digit models) and the 2 that classify clip and silence."""
        return self.settings.max_queries + 142

    def run(self, ctx: Context) -> CausalResult:
        """Explain the clip's decision (paper Alg. 1): responsibility over its M bins (l. 1-9), then the
        subsets as prefixes of the ranking (l. 10-22; see the module docstring). Returns a CausalResult
        whose `queries` cover this call only.

        Raises TargetError when the model fails; a budget that runs out during extraction gives a
        result with `stopped=Status.BUDGET` and the subsets found so far (responsibility leaves room
        for extraction and never exhausts the budget).
        """
        began, model_before, queries_before = time.perf_counter(), ctx.oracle.model_seconds, ctx.oracle.queries
        spectrum, settings = ctx.spectrum, self.settings
        if ctx.silence_is_sufficient(settings.min_confidence):
            # Nothing at all already gets the decision: the empty set is sufficient; no further search.
            quiet = np.argsort(spectrum.magnitude, kind="stable")
            ranked = Ranking(quiet[::-1], np.zeros(spectrum.n_bins), 0, quiet)
            order, lead = ranked.order, 0
            silent = Subset(np.empty(0, dtype=np.int64), np.zeros(spectrum.n_samples, dtype=np.float32),
                            ctx.label, ctx.silence_score)
            stopped: Status | None = Status.SILENCE_IS_CLASS
            subsets, inverse, extraction_queries = {"sufficient": silent}, None, 0
        else:
            reserve = extraction_cost(spectrum.n_bins, settings.grid_ratio, settings.refine_points,
                                      settings.chain_length)
            problem = Problem(spectrum, ctx.oracle, ctx.label, ctx.score, ctx.seed, settings)
            ranked = RANKERS[settings.method](problem, self._allowance(ctx, reserve))
            extraction_start = ctx.oracle.queries
            remaining = ctx.oracle.remaining
            with ctx.oracle.holding_back(0 if remaining is None else min(reserve, remaining)):
                order, lead = lead_by_sufficiency(spectrum, ctx.oracle, ctx.label, ctx.score,
                                                  [ranked.order, *ranked.explanation_alternatives], settings,
                                                  ranked.hints)
            probe, found, stopped = extract(spectrum, ctx.oracle, ctx.label, ctx.score, order, settings, ranked.hints)
            extraction_queries = ctx.oracle.queries - extraction_start
            subsets = {
                kind: Subset(probe.bins(k), spectrum.keep(probe.masks([k]))[0],
                             int(np.argmax(probe.kept[k])), float(probe.kept[k][ctx.label]))
                for kind, k in found.items()
            }
            inverse = probe.removed.get(found["necessary"]) if "necessary" in found else None
        keep = ranked.details.get("keep", ranked.details)  # the responsibility phase's iterations, if any
        progress: dict[str, Any] = keep if isinstance(keep, dict) else {}
        return CausalResult(
            label=ctx.label,
            label_name=ctx.labels[ctx.label],
            score=ctx.score,
            labels=list(ctx.labels),
            sample_rate=spectrum.sample_rate,
            hz=spectrum.hz,
            responsibility=ranked.values,
            ranking=order,
            attack_ranking=ranked.attack_order,
            attack_alternatives=ranked.attack_alternatives,
            ranking_lead=lead,
            signed_alternatives=ranked.signed_alternatives,
            effect=ranked.effect,
            subsets=subsets,
            inverse_label=None if inverse is None else int(np.argmax(inverse)),
            inverse_score=None if inverse is None else float(np.max(inverse)),
            queries=ctx.oracle.queries - queries_before,
            responsibility_queries=ranked.queries,
            extraction_queries=extraction_queries,
            iterations=int(progress.get("iterations", 0)),
            emd=list(progress.get("emd", [])),
            converged=bool(progress.get("converged", False)),
            seconds=time.perf_counter() - began,
            model_seconds=ctx.oracle.model_seconds - model_before,
            stopped=stopped,
            settings=settings.model_dump(),
        )

    def _allowance(self, ctx: Context, reserve: int) -> int:
        """Queries the ranking may spend: max_queries, leaving `reserve` of a budget for extraction (but
        never less than half of what remains)."""
        allowance = self.settings.max_queries
        remaining = ctx.oracle.remaining
        if remaining is not None:
            allowance = min(allowance, max(remaining - reserve, remaining // 2))
        return allowance
