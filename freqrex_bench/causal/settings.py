"""Settings of causal discovery: one validated, documented place for every knob of Algorithm 1."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..limits import MAX_FREQUENCIES, MAX_QUERIES


class CausalSettings(BaseModel):
    """Settings of causal discovery (paper Alg. 1 and §4; each field's description says what it does).
    Defaults follow the paper (p=4, chain length 5, confidence 0.5 of the original score, §6).

    Frozen; unknown keys and out-of-range values raise pydantic's ValidationError when built directly,
    InvalidInputError naming the key through CausalDiscovery, explain() or a suite.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    method: Literal["freqrex-ns", "paper", "removal", "occlusion"] = Field(
        "freqrex-ns",
        description="how bins are ranked (causal.rankings): freqrex-ns (the default: the paper's sufficiency "
        "responsibility for the explanation, score-aware occlusion per unit energy for the attacks), paper "
        "(the paper's Algorithm 1, with the departures in docs/design.md, for reproducing its tables), "
        "removal (removal responsibility), occlusion (score-aware occlusion alone)",
    )
    p: int = Field(4, ge=2, le=8, description="parts each set is split into; 2^p - 2 mutants per split")
    partition: Literal["contiguous", "scatter"] = Field(
        "contiguous", description="contiguous bands at random cut points, or scattered random subsets"
    )
    beam: int = Field(2, ge=1, le=64, description="parts refined further at each depth, most responsible first")
    max_depth: int = Field(12, ge=1, le=64, description="deepest refinement level (4^12 bins covers any clip)")
    min_part_size: int = Field(1, ge=1, le=MAX_FREQUENCIES,
                               description="parts this small (in bins) are not split further")
    epsilon: float = Field(
        0.01, ge=0, le=1,
        description="stop iterating once adding an iteration moves the running responsibility map by "
        "at most this Earth Mover's Distance, frequency scaled to [0, 1] of Nyquist",
    )
    patience: int = Field(2, ge=1, le=1000, description="consecutive iterations that must pass the epsilon test")
    max_iterations: int = Field(20, ge=1, le=100_000, description="iteration cap when the EMD test never passes")
    max_queries: int = Field(2000, ge=1, le=MAX_QUERIES,
                             description="query cap for ranking the bins (the responsibility phase)")
    chain_length: int = Field(5, ge=0, le=10_000, description="further prefixes over which a subset must stay stable")
    min_confidence: float = Field(
        0.5, ge=0, le=1, description="a sufficient subset needs score >= this x the original score"
    )
    grid_ratio: float = Field(2.0, gt=1, le=16, description="ratio between probed prefix sizes")
    refine_points: int = Field(3, ge=1, le=64, description="prefix sizes probed per refinement round")
    keep_share: float = Field(
        0.6, gt=0, le=1, description="freqrex-ns: share of max_queries for the keep side (paper responsibility)")
    prune_share: float = Field(
        0.1, ge=0, le=1, description="freqrex-ns: share of max_queries for pruning the sufficient prefix")
    occlusion_bands: int = Field(32, ge=1, le=4096, description="occlusion: equal bands removed at the first level")
    occlusion_branch: int = Field(4, ge=2, le=64, description="occlusion: children of a refined band")
    occlusion_batch: int = Field(16, ge=1, le=4096, description="occlusion: bands refined per round (one batch)")
    alpha: float = Field(
        1.0, ge=0, le=4,
        description="occlusion: bands are refined and attacked by margin drop / energy^alpha (0: drop alone)")
