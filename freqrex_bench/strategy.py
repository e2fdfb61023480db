"""The strategy contract: what every explanation and attack method declares, what it sees, and the
registry that makes it known by name.

As in captum's `Attribution` (one signature for every method) and TextAttack's recipes (a registry), a
strategy is a small class that declares

- `name`: how suites, records and reports call it;
- `Parameters`: a pydantic model of its own parameters (type, default, bounds, meaning), validated
  by its constructor and by the suite schema alike: one declaration, two doors;
- `requires`: the strategies it builds on, as {constructor keyword: strategy name};
- `settings_section`: which shared suite section configures it (`attacks` or `discovery`);
- `Record`: the type `run` returns; `unit`: what an attack's `changed` counts;
- `scope`: "clip" (run on one clip, `run(Context)`) or "target" (once per target over all clips);
- `query_estimate()`: about how many model queries it spends per clip (for the up-front estimate).

Registering a class with `@register` is all the suite, the planner, the cost estimate and the report
need: adding a strategy touches its own module (and its test).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from .errors import InvalidInputError
from .metrics import pcm16
from .oracle import Oracle
from .spectrum import Spectrum
from .validation import validated, whole_number


class Parameters(BaseModel):
    """Base of every strategy's parameters: unknown keys and non-finite numbers are errors (pydantic's
    ValidationError when built directly, InvalidInputError naming the key through a strategy or suite)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NoParameters(Parameters):
    """For strategies configured only by the suite's shared `discovery:` or `attacks:` settings."""


_Parameters = Parameters  # the base class, for annotations inside Strategy (whose `Parameters` is a class)


class Strategy(ABC):
    """Base of every explanation and attack method (see the module docstring for what a class declares).

    Instances are configured once (`settings`, `parameters`, the strategies they build on) and then run on
    many clips; `key` identifies one configuration, so two differently configured strategies of the
    same name never share a cached result.
    """

    name: ClassVar[str]
    Parameters: ClassVar[type[Parameters]] = NoParameters
    Record: ClassVar[type]
    requires: ClassVar[Mapping[str, str]] = {}
    settings_section: ClassVar[Literal["attacks", "discovery"]] = "attacks"
    scope: ClassVar[Literal["clip", "target"]] = "clip"
    unit: ClassVar[str | None] = None

    settings: BaseModel
    parameters: _Parameters

    def _configure(self, settings: BaseModel, parameters: Mapping[str, Any]) -> None:
        """Keep the shared settings and validate `parameters` against `Parameters` (InvalidInputError
        naming each bad key and value)."""
        self.settings = settings
        self.parameters = validated(type(self).Parameters, parameters, f"{self.name} parameters")

    @property
    def key(self) -> str:
        """The name plus a canonical JSON of the settings, the parameters and the keys of the strategies
        this one builds on."""
        parts = [self.settings.model_dump(mode="json"), self.parameters.model_dump(mode="json"),
                 {keyword: getattr(self, keyword).key for keyword in self.requires}]
        return self.name + json.dumps(parts, sort_keys=True, default=str)

    @abstractmethod
    def run(self, ctx: Any) -> Any:
        """Run on one clip (`Context`) or, for scope "target", on one target's clips (TargetContext);
        returns a `Record`. Raises TargetError when the model fails."""

    @abstractmethod
    def query_estimate(self) -> int:
        """About how many model queries one clip costs this strategy (its own, an upper bound where the
        search allows one)."""


def clip_seed(seed: int, clip_id: str) -> int:
    """The seed a suite gives one clip: derived from the suite's `seed` and the clip's id (SHA-256), so every
    clip draws its own random numbers (random baselines, partitions) and a run is reproduced exactly by
    its seed, whatever the order, batch size or workers that run its clips. An int in [0, 2**63)."""
    digest = hashlib.sha256(f"{whole_number(seed, 'seed', minimum=0)}\0{clip_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


S = TypeVar("S", bound=type[Strategy])

STRATEGIES: dict[str, type[Strategy]] = {}
"""Every registered strategy class by name, in registration order."""


def register(cls: S) -> S:
    """Class decorator: make a strategy known by its `name` to suites, the planner and reports.

    Raises ValueError when another class already has that name.
    """
    if cls.name in STRATEGIES and STRATEGIES[cls.name] is not cls:
        raise ValueError(f"two strategies are named {cls.name!r}: {STRATEGIES[cls.name].__name__} and {cls.__name__}")
    STRATEGIES[cls.name] = cls
    return cls


def strategy_class(name: str) -> type[Strategy]:
    """The registered class called `name`; InvalidInputError naming the known ones if there is none."""
    if name not in STRATEGIES:
        raise InvalidInputError(f"unknown strategy {name!r}; expected one of {sorted(STRATEGIES)}")
    return STRATEGIES[name]


def check_parameters(name: str, given: Mapping[str, Any]) -> Parameters:
    """`given` validated against strategy `name`'s Parameters; InvalidInputError naming each bad key."""
    return validated(strategy_class(name).Parameters, given, f"{name} parameters")


@dataclass
class Context:
    """One clip under one target: what every clip-scope strategy sees.

    `spectrum` is the clip's rfft at the target's rate; `label` and `score` the target's decision on it
    (top-1 index, probability). `silence_label` is the decision on silence (`silence_score`: the clip's
    class's probability there), and `pcm16_label` the decision on the clip's own 16-bit wav copy, judged
    before any attack: when storage alone changes the decision, no attack may take credit for a flip that
    survives (or is judged as) a 16-bit wav. `seed` (>= 0) seeds the strategies' random draws: in a suite,
    clip_seed(suite seed, clip id), so each clip has its own. `results` holds earlier strategies' records
    by strategy key; `warnings` are caveats about the clip that every record repeats.
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
        """Build the spectrum of a mono float32 [T] clip at the target's rate and classify the clip, silence
        and the clip's 16-bit copy in one batch (a clip read from a 16-bit file is its own copy, answered
        from the cache: two queries).

        `warnings` are the clip's own (e.g. from data.prepare_clip); a 16-bit copy that changes the decision
        adds one. Silence matters: removal is the neutral value, so silence is what removing every bin leaves,
        and when it alone gets the clip's class surely (`silence_is_sufficient`) causal discovery has nothing to
        explain. Raises InvalidInputError for a negative seed or a clip the target cannot take, TargetError when
        the model fails, QueryBudgetExceeded when the oracle's budget cannot cover these (up to 3) queries.
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
            ctx.warnings.append(f"the unaltered clip stored as a 16-bit wav is classified "
                                f"{ctx.labels[ctx.pcm16_label]}, not {ctx.labels[label]}: storage alone changes "
                                f"the decision")
        return ctx

    def silence_is_sufficient(self, min_confidence: float) -> bool:
        """Whether silence alone gets the clip's class with score >= `min_confidence` x the clip's: the empty
        set is then sufficient (causal.subsets' rule; the chain of further prefixes belongs to an order,
        and the empty set is the same in every order), so causal discovery stops there
        (Status.SILENCE_IS_CLASS) and every ranking's sufficient size is 0 (causal.faithfulness)."""
        return self.silence_label == self.label and self.silence_score >= min_confidence * self.score

    @property
    def pcm16_changes_decision(self) -> bool:
        """Whether the unaltered clip, stored as a 16-bit wav, is already classified differently."""
        return self.pcm16_label != self.label

    @property
    def labels(self) -> list[str]:
        """The target's class names."""
        return self.oracle.target.labels

    def result_of(self, strategy: Strategy) -> Any:
        """The strategy's result (its Record) for this clip, computed once per `strategy.key` and then
        reused by later strategies; raises whatever the strategy's run raises."""
        if strategy.key not in self.results:
            self.results[strategy.key] = strategy.run(self)
        return self.results[strategy.key]
