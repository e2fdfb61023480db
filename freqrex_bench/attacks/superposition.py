"""Superposition of sufficient signals (paper §6.1, Table 2): does the model still hear class c in the sum
of many clips' sufficient signals for c?

A target-scope strategy: it runs once per target, over what causal discovery found on all its clips.
Per class, the sufficient signals of the correctly classified clips are summed cumulatively in a seeded
order (shorter signals zero-padded); every composition of two or more is classified, all in one batch.
The success rate is the share of compositions that keep the class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..causal import CausalDiscovery, CausalResult
from ..oracle import Oracle
from ..serialization import jsonable
from ..strategy import Strategy, register
from ..validation import whole_number


@dataclass(frozen=True)
class Explained:
    """One clip as superposition needs it: the predicted label index, its sufficient signal (float32 [T],
    None or empty when it had none), and its ground-truth label index (None: trust the model; -1: a
    label the model does not have)."""

    label: int
    sufficient: np.ndarray | None
    truth: int | None = None

    @classmethod
    def of(cls, result: CausalResult, truth: int | None = None) -> Explained:
        """From a causal result kept in memory, with `truth` the ground-truth label index (None: unknown, -1:
        not a label of the model)."""
        return cls(result.label, result.signal_of("sufficient"), truth)


@dataclass(frozen=True)
class TargetContext:
    """What a target-scope strategy sees: the target's oracle, every explained clip, and the seed (>= 0;
    InvalidInputError otherwise)."""

    oracle: Oracle
    clips: Sequence[Explained]
    seed: int = 0

    def __post_init__(self) -> None:
        whole_number(self.seed, "seed", minimum=0)


@dataclass(frozen=True)
class SuperpositionRow:
    """One class of Table 2: its label name, the clips composed, the compositions classified (clips - 1),
    how many `kept` the class, whether the sum of all did (None without compositions), and the model
    queries spent."""

    label: str
    clips: int
    compositions: int
    kept: int
    full_composition_kept: bool | None
    queries: int

    @property
    def success_rate(self) -> float | None:
        """Share of the compositions that kept the class (None without compositions)."""
        return self.kept / self.compositions if self.compositions else None

    def to_dict(self) -> dict[str, object]:
        """The row as plain JSON values, with its success rate."""
        return {**asdict(self), "success_rate": self.success_rate}


@dataclass(frozen=True)
class SuperpositionResult:
    """Table 2 for one target: one row per predicted class."""

    rows: list[SuperpositionRow]

    @property
    def queries(self) -> int:
        """Model queries all compositions cost."""
        return sum(row.queries for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The record stored in results.jsonl."""
        return jsonable({"rows": [row.to_dict() for row in self.rows], "queries": self.queries})


@register
class Superposition(Strategy):
    """Cross-clip strategy (paper §6.1, Table 2): run once per target over its clips' sufficient signals.
    Configured by the suite's `discovery:` settings (through the causal discovery it reads)."""

    name = "superposition"
    Record = SuperpositionResult
    requires = {"discovery": "causal"}
    settings_section = "discovery"
    scope = "target"

    def __init__(self, settings: Any = None, discovery: CausalDiscovery | None = None, **parameters: Any) -> None:
        self.discovery = discovery or CausalDiscovery(settings)
        self._configure(self.discovery.settings, parameters)

    def query_estimate(self) -> int:
        """One query per clip and composition: about one per clip."""
        return 1

    def run(self, ctx: TargetContext) -> SuperpositionResult:
        """Compose each predicted class's sufficient signals (one oracle batch per class), using only clips
        whose ground truth is unknown or equal to the prediction. Raises TargetError when the model fails."""
        labels = ctx.oracle.target.labels
        rows = []
        for label in sorted({clip.label for clip in ctx.clips}):
            signals = [
                clip.sufficient for clip in ctx.clips
                if clip.label == label and (clip.truth is None or clip.truth == label) and clip.sufficient is not None
                and clip.sufficient.size > 0 and np.any(clip.sufficient)
            ]
            rows.append(self._compose(ctx.oracle, label, labels, signals, ctx.seed))
        return SuperpositionResult(rows)

    @staticmethod
    def _compose(oracle: Oracle, label: int, labels: list[str], signals: list[np.ndarray],
                 seed: int) -> SuperpositionRow:
        """One row: `signals` (float32 [T_i] each) zero-padded to the longest and summed cumulatively in a
        seeded order (default_rng([seed, label])); the sums of 2, 3, ... signals classified in one batch."""
        if len(signals) < 2:
            return SuperpositionRow(labels[label], len(signals), 0, 0, None, 0)
        order = np.random.default_rng([seed, label]).permutation(len(signals))
        stacked = np.zeros((len(signals), max(s.size for s in signals)), dtype=np.float32)
        for row, index in enumerate(order):
            stacked[row, : signals[index].size] = signals[index]
        compositions = np.cumsum(stacked, axis=0)[1:]
        before = oracle.queries
        kept = oracle.classify(compositions).labels == label
        return SuperpositionRow(labels[label], len(signals), len(kept), int(kept.sum()), bool(kept[-1]),
                                oracle.queries - before)
