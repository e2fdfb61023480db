"""`explain`: the one-call front door to causal discovery on a single clip."""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .causal import CausalDiscovery, CausalResult
from .data import prepare_clip
from .errors import ClipWarning
from .oracle import Oracle
from .progress import query_bar
from .strategy import Context
from .targets.base import Target


def explain(
    target: Target,
    signal: np.ndarray | str | Path,
    sample_rate: int | None = None,
    seed: int = 0,
    *,
    batch_size: int = 32,
    budget: int | None = None,
    downmix: bool = True,
    progress: bool = False,
    **settings: Any,
) -> CausalResult:
    """Find the Fourier bins `target`'s decision on `signal` depends on (paper §3-4, Alg. 1): a CausalResult.

    `signal` is a float or PCM-integer array, [T] or [T, channels], at `sample_rate` Hz, or a path to an
    audio file (its own rate is used); it is checked, downmixed and resampled (soxr) to the target's
    rate first (data.prepare_clip). `seed` (>= 0) fixes every random partition. `budget` caps model
    queries (the result says `stopped=Status.BUDGET` if it ran out during extraction); `batch_size`
    never changes the result, only speed; `progress` shows a bar of model queries. `settings` are
    CausalSettings fields. Caveats about the clip are issued as ClipWarning.

    Raises InvalidInputError for an unknown setting or bad value, a bad seed, batch size or budget, or
    an unusable clip; TargetError when the model fails; QueryBudgetExceeded when the budget cannot even
    cover classifying the clip, silence and the clip's 16-bit copy (up to 3 queries).
    """
    began = time.perf_counter()
    discovery = CausalDiscovery(**settings)
    clip = prepare_clip(signal, sample_rate, target.sample_rate, downmix)
    with query_bar(progress, budget) as on_queries:
        oracle = Oracle(target, batch_size=batch_size, budget=budget, on_queries=on_queries)
        ctx = Context.create(clip.signal, oracle, seed, clip.warnings)
        for note in ctx.warnings:
            warnings.warn(note, ClipWarning, stacklevel=2)
        result = discovery.run(ctx)
    return dataclasses.replace(
        result, queries=oracle.queries, seconds=time.perf_counter() - began, model_seconds=oracle.model_seconds
    )
