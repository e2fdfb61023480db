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
    seed: int = 0
    results: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, signal: np.ndarray, oracle: Oracle, seed: int = 0) -> Context:
        """Build the spectrum and classify the original clip (one query) to fix label and score."""
        spectrum = Spectrum.from_signal(signal, oracle.target.sample_rate)
        original = oracle.classify(np.asarray(signal, dtype=np.float32)[None, :])
        label = int(original.labels[0])
        return cls(spectrum, oracle, label, float(original.scores[0, label]), seed)

    @property
    def labels(self) -> list[str]:
        return self.oracle.target.labels

    def result_of(self, strategy: Strategy) -> Any:
        """The strategy's result for this clip, computed once and then reused by later strategies."""
        if strategy.name not in self.results:
            self.results[strategy.name] = strategy.run(self)
        return self.results[strategy.name]
