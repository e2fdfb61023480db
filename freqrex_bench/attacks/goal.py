"""When an attack succeeds, in one place: composable criteria on the model's decision, the SNR
constraint on the change, and what the model is shown (the float signal, or its 16-bit wav).

As in foolbox's `criteria` and TextAttack's goal functions, these live apart from the search and the
transformation, so causal attacks and baselines are judged by exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import InvalidInputError
from ..metrics import pcm16, snr_db
from ..strategy import Context
from .settings import AttackSettings


class Criterion(Protocol):
    """Which decisions count as reached: int labels [K] -> bool [K]. Criteria compose with `&` and `|`
    (as foolbox's criteria do)."""

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """bool [K]: whether each of the int top-1 `labels` [K] counts as reached."""
        ...


class _Composable:
    def __and__(self, other: Criterion) -> Criterion:
        return Both(self, other)  # type: ignore[arg-type]

    def __or__(self, other: Criterion) -> Criterion:
        return Either(self, other)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Misclassification(_Composable):
    """The decision is no longer `original`, a label index (an untargeted attack; foolbox's Misclassification)."""

    original: int

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """bool [K]: `labels` (int [K]) != original."""
        return np.asarray(labels) != self.original


@dataclass(frozen=True)
class TargetedMisclassification(_Composable):
    """The decision is `target_class`, a label index (a targeted attack; foolbox's TargetedMisclassification)."""

    target_class: int

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """bool [K]: `labels` (int [K]) == target_class."""
        return np.asarray(labels) == self.target_class


@dataclass(frozen=True)
class Both(_Composable):
    """Both criteria hold."""

    first: Criterion
    second: Criterion

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """bool [K]: first(labels) and second(labels), for int `labels` [K]."""
        return self.first(labels) & self.second(labels)


@dataclass(frozen=True)
class Either(_Composable):
    """At least one criterion holds."""

    first: Criterion
    second: Criterion

    def __call__(self, labels: np.ndarray) -> np.ndarray:
        """bool [K]: first(labels) or second(labels), for int `labels` [K]."""
        return self.first(labels) | self.second(labels)


@dataclass(frozen=True)
class MinSNR:
    """The constraint on a change: its SNR against the clip (dB, metrics.snr_db) is at least `db`
    (no constraint when `db` is None)."""

    db: float | None

    def allows(self, original: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """bool [K]: which of the float [K, T] `signals` keep the SNR floor against the float [T] `original`
        (metrics.snr_db, dB)."""
        if self.db is None:
            return np.ones(len(signals), dtype=bool)
        return np.array([snr_db(original, signal) >= self.db for signal in signals])

    def allows_snr(self, snr: np.ndarray) -> np.ndarray:
        """bool, same shape as the float `snr` array (dB): which SNRs keep the floor (all when `db` is None)."""
        return np.ones_like(snr, dtype=bool) if self.db is None else snr >= self.db


def target_index(target_class: str | int | None, labels: list[str]) -> int | None:
    """A targeted attack's class (a name in `labels` or an index) as a label index, None for an untargeted
    attack. Raises InvalidInputError for an unknown name or an index outside 0..len(labels) - 1."""
    if isinstance(target_class, str):
        if target_class not in labels:
            raise InvalidInputError(f"attack target_class {target_class!r} is not one of the model's labels {labels}")
        return labels.index(target_class)
    if target_class is not None and not 0 <= target_class < len(labels):
        raise InvalidInputError(f"attack target_class index {target_class} is outside 0..{len(labels) - 1}")
    return target_class


@dataclass(frozen=True)
class Goal:
    """When an attempt counts: `criterion` holds for the decision and `constraint` for the change, both
    judged on what the model would read: the 16-bit wav of the signal when `pcm16` is set.

    `original` is the clip's label index, `target_class` the targeted index (None: untargeted) and
    `sample_rate` the clip's rate in Hz (for the 16-bit round trip).
    """

    criterion: Criterion
    constraint: MinSNR
    pcm16: bool
    sample_rate: int
    original: int
    target_class: int | None

    @classmethod
    def of(cls, ctx: Context, settings: AttackSettings) -> Goal:
        """The goal of an attack with `settings` on the clip of `ctx`. Raises InvalidInputError for a
        target_class the model does not have."""
        target = target_index(settings.target_class, ctx.labels)
        criterion: Criterion = Misclassification(ctx.label) if target is None else TargetedMisclassification(target)
        return cls(criterion, MinSNR(settings.min_snr_db), settings.pcm16_robust, ctx.spectrum.sample_rate, ctx.label,
                   target)

    @property
    def trivial(self) -> bool:
        """A targeted attack at the class the clip already has: reached before anything is changed."""
        return self.target_class is not None and self.target_class == self.original

    def reached(self, labels: np.ndarray) -> np.ndarray:
        """bool [K]: whether each of the int top-1 `labels` [K] meets the criterion (no SNR check)."""
        return self.criterion(np.asarray(labels))

    def shown(self, signals: np.ndarray) -> np.ndarray:
        """float32 [K, T]: what the model is shown for float [K, T] candidate signals, their 16-bit wavs
        read back (metrics.pcm16) when `pcm16`, else the signals themselves."""
        return pcm16(signals, self.sample_rate) if self.pcm16 else np.asarray(signals, dtype=np.float32)

    def attempt(self, ctx: Context, signals: np.ndarray, aliases: Sequence[bytes | None] | None = None) -> np.ndarray:
        """Which of the float [K, T] candidates succeed (bool [K]): those the constraint allows are
        classified in one oracle batch; the SNR (dB) is measured on what the model saw. `aliases` are the
        candidates' edit keys (spectrum.Spectrum.alias, one or None each), used when the model is shown
        the float signals. Raises QueryBudgetExceeded when the batch would pass the budget, TargetError
        when the model fails."""
        shown = self.shown(signals)
        allowed = self.constraint.allows(ctx.spectrum.signal, shown)
        reached = np.zeros(len(shown), dtype=bool)
        if allowed.any():
            known = None if aliases is None or self.pcm16 else [aliases[int(i)] for i in np.flatnonzero(allowed)]
            reached[allowed] = self.reached(ctx.oracle.classify(shown[allowed], aliases=known).labels)
        return reached
