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
    """Find the Fourier bins `target`'s decision on `signal` depends on (see CausalSettings for settings).

    The clip is checked, downmixed and resampled (soxr) to the target's rate first; `signal` may also
    be a path to an audio file. `budget` caps model queries (the result says `stopped="budget"` if it
    ran out during extraction); `batch_size` never changes the result, only speed.
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
