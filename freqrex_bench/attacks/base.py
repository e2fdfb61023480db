"""What a strategy sees: one clip under one target, its original decision, the oracle, earlier results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from ..oracle import Oracle
from ..results import pcm16
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
    """One clip under one target. `results` holds earlier strategies' records by strategy key.

    `silence_label` is the decision on silence and `pcm16_label` the decision on the clip's own 16-bit
    wav copy, judged before any attack: when storage alone changes the decision, no attack may take
    credit for a flip that survives (or is judged as) a 16-bit wav.
    """

    spectrum: Spectrum
    oracle: Oracle
    label: int
    score: float
    silence_label: int
    silence_score: float
    pcm16_label: int
    seed: int = 0
    results: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, signal: np.ndarray, oracle: Oracle, seed: int = 0, warnings: Sequence[str] = ()) -> Context:
        """Build the spectrum and classify the clip, silence and the clip's 16-bit copy (one batch; a
        clip read from a 16-bit file is its own copy, answered from the cache: two queries).

        `warnings` are the clip's own (e.g. from data.prepare_clip); a 16-bit copy that changes the
        decision adds one. Every record of the clip repeats them.

        Silence matters: removal is the neutral value, so if silence alone gets the clip's class,
        no set of frequencies can be necessary for it.
        """
        seed = whole_number(seed, "seed", minimum=0)
        spectrum = Spectrum.from_signal(signal, oracle.target.sample_rate)
        clip = np.asarray(signal, dtype=np.float32)
        copy = pcm16(clip, oracle.target.sample_rate)[0]
        labels, scores = oracle.classify(np.stack([clip, np.zeros_like(clip), copy]))
        label = int(labels[0])
        ctx = cls(spectrum, oracle, label, float(scores[0, label]), int(labels[1]), float(scores[1, label]),
                  int(labels[2]), seed, warnings=list(warnings))
        if ctx.pcm16_changes_decision:
            ctx.warnings.append(f"the unaltered clip stored as a 16-bit wav is classified {ctx.labels[ctx.pcm16_label]}, "
                                f"not {ctx.labels[label]}: storage alone changes the decision")
        return ctx

    @property
    def pcm16_changes_decision(self) -> bool:
        """Whether the unaltered clip, stored as a 16-bit wav, is already classified differently."""
        return self.pcm16_label != self.label

    @property
    def labels(self) -> list[str]:
        return self.oracle.target.labels

    def result_of(self, strategy: Strategy) -> Any:
        """The strategy's result for this clip, computed once and then reused by later strategies."""
        if strategy.key not in self.results:
            self.results[strategy.key] = strategy.run(self)
        return self.results[strategy.key]
