"""Superposition of sufficient signals (paper §6.1, Table 2): does the model still hear class c in the
sum of many clips' sufficient signals for c?

Per class, the sufficient signals of the correctly classified clips are summed cumulatively in a
seeded order (shorter signals zero-padded); every composition of two or more is classified, all in one
batch. The success rate is the share of compositions that keep the class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..oracle import Oracle
from ..validation import whole_number
from .causal import CausalResult
from .registry import NoParameters, register


@dataclass(frozen=True)
class SuperpositionRow:
    """One class: how many clips were composed and how often the compositions kept the class."""

    label: str
    clips: int
    compositions: int
    kept: int
    full_composition_kept: bool | None
    queries: int

    @property
    def success_rate(self) -> float | None:
        return self.kept / self.compositions if self.compositions else None

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "success_rate": self.success_rate}


@register
class Superposition:
    """Cross-clip strategy: run once per target over the causal results of all its clips."""

    name = "superposition"
    Parameters = NoParameters

    def __init__(self, seed: int = 0) -> None:
        self.seed = whole_number(seed, "seed", minimum=0)

    def run(self, oracle: Oracle, results: Sequence[CausalResult], truths: Sequence[int | None] | None = None) -> list[SuperpositionRow]:
        """`truths[i]` is clip i's ground-truth label index (None: trust the model), for "correctly classified"."""
        return self.run_signals(
            oracle, [r.label for r in results], [r.signal_of("sufficient") for r in results], truths
        )

    def run_signals(
        self, oracle: Oracle, predicted: Sequence[int], sufficient: Sequence[np.ndarray | None],
        truths: Sequence[int | None] | None = None,
    ) -> list[SuperpositionRow]:
        """The same from plain arrays: each clip's predicted label index and sufficient signal (None or
        empty when it had none), e.g. rebuilt from a run folder's records."""
        truths = list(truths) if truths is not None else [None] * len(predicted)
        rows = []
        for label in sorted(set(predicted)):
            signals = [
                signal for own, signal, truth in zip(predicted, sufficient, truths)
                if own == label and (truth is None or truth == label) and signal is not None and signal.size > 0
                and np.any(signal)
            ]
            rows.append(self._compose(oracle, label, oracle.target.labels, signals))
        return rows

    def _compose(self, oracle: Oracle, label: int, labels: list[str], signals: list[np.ndarray]) -> SuperpositionRow:
        if len(signals) < 2:
            return SuperpositionRow(labels[label], len(signals), 0, 0, None, 0)
        order = np.random.default_rng([self.seed, label]).permutation(len(signals))
        stacked = np.zeros((len(signals), max(s.size for s in signals)), dtype=np.float32)
        for row, index in enumerate(order):
            stacked[row, : signals[index].size] = signals[index]
        compositions = np.cumsum(stacked, axis=0)[1:]
        before = oracle.queries
        kept = oracle.classify(compositions).labels == label
        return SuperpositionRow(labels[label], len(signals), len(kept), int(kept.sum()), bool(kept[-1]), oracle.queries - before)
