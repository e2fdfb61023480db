"""What a strategy sees: one clip under one target, its original decision, the oracle, earlier results."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from ..oracle import Oracle
from ..spectrum import Spectrum
from ..validation import whole_number


class Strategy(Protocol):
    """Every attack and explanation method has this one signature (captum-style).

    `key` identifies the strategy with every setting that changes its result, so two differently
    configured strategies of the same name never share a cached result.
    """

    name: str

    @property
    def key(self) -> str: ...

    def run(self, ctx: Context) -> Any: ...


def _plain(part: object) -> object:
    if isinstance(part, BaseModel):
        return part.model_dump(mode="json")
    return getattr(part, "key", part)


def strategy_key(name: str, *parts: object) -> str:
    """`name` plus a canonical JSON of the settings (pydantic models, other strategies' keys, values)."""
    return name + json.dumps([_plain(p) for p in parts], sort_keys=True, default=str)


@dataclass
class Context:
    """One clip under one target. `results` holds earlier strategies' records by strategy key."""

    spectrum: Spectrum
    oracle: Oracle
    label: int
    score: float
    silence_label: int
    silence_score: float
    seed: int = 0
    results: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, signal: np.ndarray, oracle: Oracle, seed: int = 0) -> Context:
        """Build the spectrum and classify the clip and silence (one batch of two queries).

        Silence matters: removal is the neutral value, so if silence alone gets the clip's class,
        no set of frequencies can be necessary for it.
        """
        seed = whole_number(seed, "seed", minimum=0)
        spectrum = Spectrum.from_signal(signal, oracle.target.sample_rate)
        clip = np.asarray(signal, dtype=np.float32)
        labels, scores = oracle.classify(np.stack([clip, np.zeros_like(clip)]))
        label = int(labels[0])
        return cls(spectrum, oracle, label, float(scores[0, label]), int(labels[1]), float(scores[1, label]), seed)

    @property
    def labels(self) -> list[str]:
        return self.oracle.target.labels

    def result_of(self, strategy: Strategy) -> Any:
        """The strategy's result for this clip, computed once and then reused by later strategies."""
        if strategy.key not in self.results:
            self.results[strategy.key] = strategy.run(self)
        return self.results[strategy.key]
