"""What a strategy sees: one clip under one target, its original decision, the oracle, earlier results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..oracle import Oracle
from ..spectrum import Spectrum


class Strategy(Protocol):
    """Every attack and explanation method has this one signature (captum-style)."""

    name: str

    def run(self, ctx: Context) -> Any: ...


@dataclass
class Context:
    """One clip under one target. `results` holds earlier strategies' records by strategy name."""

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
        if strategy.name not in self.results:
            self.results[strategy.name] = strategy.run(self)
        return self.results[strategy.name]
