"""The one door to a model: batching, query counting, a hard budget, a cache, and checked outputs.

Strategies never call a target directly. They hand the Oracle a logical batch of signals; it answers
repeats from its cache, splits the rest into the user's batch size (so results never depend on it),
refuses work past the budget before any of it runs, and times the model so overhead can be measured.

A batch is either plain samples (a user's raw array: the cache knows each signal by a digest of its
samples) or `Described` signals, known by what defines them (the clip's identity and the edit, see
spectrum.Mutants): their keys are given, and the Oracle synthesises only the signals the model must
see, a model batch at a time, so repeats cost neither a hash of their samples nor their synthesis.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from . import validation
from .errors import FreqrexError, InvalidInputError, QueryBudgetExceeded, TargetError
from .targets.base import Target, target_name
from .targets.pipeline import check_probabilities


class Prediction(NamedTuple):
    """The answer on K signals: `labels` int64 [K] top-1 label indices and `scores` float32 [K, C]
    probabilities, one column per target label (unpacks as labels, scores)."""

    labels: np.ndarray
    scores: np.ndarray


@runtime_checkable
class Described(Protocol):
    """K signals of T samples known by what defines them (spectrum.Mutants is the implementation).

    `keys` holds one bytes per signal, equal exactly when the signals are equal (the describer's promise);
    `synthesize(rows)` returns the float32 [len(rows), T] signals of the int64 row indices `rows`. A
    describer may also set `finite = True`, promising every signal it synthesises is finite: the oracle
    then skips its scan for NaN and infinite samples.
    """

    def __len__(self) -> int:
        """K, the number of signals."""
        ...

    @property
    def keys(self) -> Sequence[bytes]:
        """One key per signal, K in all."""
        ...

    @property
    def n_samples(self) -> int:
        """T, the length of every signal in samples."""
        ...

    def synthesize(self, rows: np.ndarray) -> np.ndarray:
        """float32 [len(rows), T]: the signals of int64 `rows` [n], in that order."""
        ...


def sample_key(row: np.ndarray) -> bytes:
    """The cache key of a raw signal (float32 [T], C-contiguous): a SHA-1 of its samples, tagged so it never
    equals a described signal's key."""
    return b"samples:" + hashlib.sha1(row.data, usedforsecurity=False).digest()


@dataclass(frozen=True)
class _Raw:
    """A raw float32 [K, T] batch seen as Described: keys are its samples' digests (computed when first
    asked for), rows are views when they are consecutive (no copy)."""

    batch: np.ndarray

    @cached_property
    def keys(self) -> list[bytes]:
        return [sample_key(row) for row in self.batch]

    def __len__(self) -> int:
        return self.batch.shape[0]

    @property
    def n_samples(self) -> int:
        return self.batch.shape[1]

    def synthesize(self, rows: np.ndarray) -> np.ndarray:
        if rows.size and (np.diff(rows) == 1).all():
            return self.batch[rows[0] : rows[-1] + 1]
        return self.batch[rows]


class Oracle:
    """Counted, budgeted, cached and batched access to one target (docs/design.md, "Core interfaces").

    `batch_size` is the most signals per model call (speed only, never results); `budget` caps model
    queries (None: unlimited); `cache=False` turns the cache of repeated signals off. `queries` counts
    signals the model actually saw, `cache_hits` the ones answered from memory, `model_seconds` the
    time spent inside the model. `on_queries(n)` is called after each model batch (progress bars).
    Raises InvalidInputError for a `target` that is not a Target, a batch_size < 1 or a budget < 0.
    """

    def __init__(
        self,
        target: Target,
        batch_size: int = 32,
        budget: int | None = None,
        cache: bool = True,
        on_queries: Callable[[int], None] | None = None,
    ) -> None:
        if not isinstance(target, Target):
            raise InvalidInputError(
                f"expected a target (labels, sample_rate and predict(batch)), got {type(target).__name__}; "
                f"wrap a plain function with freqrex_bench.targets.CallableTarget(fn, labels, sample_rate)"
            )
        self.target = target
        self.batch_size = validation.whole_number(batch_size, "batch_size")
        self.budget = None if budget is None else validation.whole_number(budget, "budget", minimum=0)
        self.on_queries = on_queries
        self.queries = 0
        self.cache_hits = 0
        self.model_seconds = 0.0
        self._cache: dict[bytes, np.ndarray] | None = {} if cache else None

    @property
    def remaining(self) -> int | None:
        """Model queries left before the budget refuses, or None when unlimited."""
        return None if self.budget is None else self.budget - self.queries

    @contextmanager
    def holding_back(self, queries: int) -> Iterator[None]:
        """Lower the query budget by `queries` inside the block, so a search there leaves them for what
        follows (an attack's final check); nothing without a budget. The budget is restored on exit."""
        if self.budget is None or queries == 0:
            yield
            return
        self.budget -= queries
        try:
            yield
        finally:
            self.budget += queries

    def classify(self, signals: np.ndarray | Described, aliases: Sequence[bytes | None] | None = None) -> Prediction:
        """Classify K mono signals at the target's sample rate: Prediction(labels int64 [K], scores float32 [K, C]).

        `signals` is a float [K, T] array (cached by a digest of each signal's samples) or Described
        signals (cached by their keys, synthesised only when the model must see them). `aliases` gives a
        raw array's rows a second key each (or None): the key of an edit known to synthesise the same
        samples (spectrum.Spectrum.alias), so a raw signal and the described edit share one answer.
        Repeats (in the batch or seen before, by any of a signal's keys) come from the cache and cost no
        query; the rest run in chunks of `batch_size`. Raises InvalidInputError for a batch that is not a
        non-empty [K, T] of finite samples, has fewer than the target's `min_samples`, or aliases that do
        not match a raw batch; QueryBudgetExceeded, before anything runs, when the uncached signals
        would pass the budget; TargetError when the model raises or returns anything but finite
        [chunk, C] probabilities.
        """
        batch = signals if isinstance(signals, Described) else _Raw(self._check_array(signals))
        count = len(batch)
        self._check_length(batch.n_samples, count)
        keys = self._keys(batch, aliases) if self._cache is not None else None
        todo = self._uncached(keys, count)
        if self.budget is not None and self.queries + len(todo) > self.budget:
            raise QueryBudgetExceeded(self.budget, self.queries, len(todo))
        fresh = self._predict(batch, np.asarray(todo, dtype=np.int64))
        if keys is None or self._cache is None:
            scores = fresh
        else:
            for i, row in zip(todo, fresh, strict=True):
                self._cache.update(dict.fromkeys(keys[i], row))
            self.cache_hits += count - len(todo)
            scores = np.stack([self._remembered(row_keys) for row_keys in keys])
        return Prediction(np.argmax(scores, axis=1), scores)

    @staticmethod
    def _keys(batch: Described, aliases: Sequence[bytes | None] | None) -> list[tuple[bytes, ...]]:
        """Every row's cache keys: its own, then its alias if it has one."""
        if aliases is None:
            return [(key,) for key in batch.keys]
        if isinstance(batch, _Raw) and len(aliases) == len(batch):
            return [(key,) if alias is None else (key, alias) for key, alias in zip(batch.keys, aliases)]
        raise InvalidInputError(f"aliases name one key (or None) per row of a raw batch, got {len(aliases)} for "
                                f"{len(batch)} {'raw' if isinstance(batch, _Raw) else 'described'} signals")

    def _remembered(self, keys: tuple[bytes, ...]) -> np.ndarray:
        """The cached scores of a signal known by any of `keys`, now cached under all of them."""
        assert self._cache is not None
        scores = next(self._cache[key] for key in keys if key in self._cache)
        self._cache.update(dict.fromkeys(keys, scores))
        return scores

    def _uncached(self, keys: list[tuple[bytes, ...]] | None, n: int) -> list[int]:
        """Indices to send to the model: the first occurrence of each signal not yet cached under any key."""
        if keys is None or self._cache is None:
            return list(range(n))
        seen: set[bytes] = set()
        todo = []
        for i, row_keys in enumerate(keys):
            if not any(key in self._cache or key in seen for key in row_keys):
                seen.update(row_keys)
                todo.append(i)
        return todo

    def _check_array(self, signals: np.ndarray) -> np.ndarray:
        """A raw batch as C-contiguous float32 [K, T] of finite samples (no copy when it already is)."""
        batch = np.asarray(signals)
        if batch.ndim != 2 or batch.shape[0] == 0 or batch.shape[1] == 0:
            raise InvalidInputError(
                f"the oracle takes a [batch, samples] array of mono signals, got shape {batch.shape}"
            )
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        _check_finite(batch)
        return batch

    def _check_length(self, n_samples: int, count: int = 1) -> None:
        """Refuse an empty batch (`count` 0) and signals shorter than the target's min_samples."""
        if count == 0 or n_samples == 0:
            raise InvalidInputError(f"the oracle takes a non-empty batch of signals, got {count} of {n_samples} "
                                    f"samples")
        shortest = int(getattr(self.target, "min_samples", 1))
        if n_samples < shortest:
            rate = self.target.sample_rate
            raise InvalidInputError(
                f"{target_name(self.target)} needs clips of at least {shortest} samples ({shortest / rate:.3f} s at "
                f"{rate} Hz), got {n_samples} samples; use a longer clip"
            )

    @contextmanager
    def _calling(self, shape: tuple[int, ...]) -> Iterator[None]:
        """Time a model call, count its rows, and turn anything it raises into a TargetError."""
        began = time.perf_counter()
        try:
            yield
        except FreqrexError:
            raise
        except Exception as exc:
            raise TargetError(
                f"{target_name(self.target)} raised {type(exc).__name__} on a batch of shape {shape}: {exc}"
            ) from exc
        finally:
            self.model_seconds += time.perf_counter() - began
        self.queries += shape[0]
        if self.on_queries is not None:
            self.on_queries(shape[0])

    def _predict(self, batch: Described, rows: np.ndarray) -> np.ndarray:
        """Synthesise and run `rows` of `batch` in chunks of batch_size, checking every input and output."""
        out = [np.empty((0, len(self.target.labels)), np.float32)]
        for start in range(0, rows.size, self.batch_size):
            chunk = self._signals(batch, rows[start : start + self.batch_size])
            with self._calling(chunk.shape):
                scores = self.target.predict(chunk)
            out.append(self._check_scores(scores, len(chunk)))
        return np.concatenate(out)

    @staticmethod
    def _signals(batch: Described, rows: np.ndarray) -> np.ndarray:
        """The float32 [len(rows), T] signals of `rows`; raises InvalidInputError for synthesised signals of
        the wrong shape or with NaN or infinite samples (a raw batch was checked whole)."""
        chunk = batch.synthesize(rows)
        if isinstance(batch, _Raw):
            return chunk
        if chunk.shape != (rows.size, batch.n_samples) or chunk.dtype != np.float32:
            raise InvalidInputError(
                f"described signals must synthesise to float32 [{rows.size}, {batch.n_samples}], got "
                f"{chunk.dtype} {chunk.shape}"
            )
        if not getattr(batch, "finite", False):
            _check_finite(chunk)
        return chunk

    def gradient(self, signals: np.ndarray, label: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores float32 [K, C] and the gradient float32 [K, T] of log P(`label`) with respect to each of
        the float [K, T] signals, for targets with a differentiable torch forward pass (the white-box
        attack). One model call of K queries, counted and budgeted; never cached.

        Raises InvalidInputError for a bad batch (as classify), TargetError for a target without a
        differentiable forward pass or a failing model, QueryBudgetExceeded when K queries would pass
        the budget.
        """
        import torch

        batch = self._check_array(signals)
        self._check_length(batch.shape[1])
        if not getattr(self.target, "differentiable", False):
            raise TargetError(f"{target_name(self.target)} has no differentiable torch forward pass")
        if self.budget is not None and self.queries + len(batch) > self.budget:
            raise QueryBudgetExceeded(self.budget, self.queries, len(batch))
        inputs = torch.from_numpy(batch).requires_grad_(True)
        with self._calling(batch.shape):
            scores = self.target.torch_predict(inputs)  # type: ignore[attr-defined]
            (grad,) = torch.autograd.grad(torch.log(scores[:, label] + 1e-30).sum(), inputs)
        return self._check_scores(scores.detach().numpy(), len(batch)), grad.numpy()

    def _check_scores(self, scores: np.ndarray, rows: int) -> np.ndarray:
        name = target_name(self.target)
        scores = np.asarray(scores, dtype=np.float32)
        expected = (rows, len(self.target.labels))
        if scores.shape != expected:
            raise TargetError(
                f"{name} returned scores of shape {scores.shape}; expected {expected} "
                f"([batch, labels] for {len(self.target.labels)} labels)"
            )
        bad = ~np.isfinite(scores)
        if bad.any():
            raise TargetError(
                f"{name} returned {int(bad.sum())} NaN or infinite scores "
                f"(first in row {int(np.argwhere(bad)[0][0])} of the batch)"
            )
        check_probabilities(scores, name, "targets must return probabilities in [0, 1] (thresholds such as "
                                          "min_confidence compare them)")
        return scores


def _check_finite(batch: np.ndarray) -> None:
    """Raise InvalidInputError when float `batch` holds NaN or infinite samples (a finite sum proves none does,
    and costs no temporary array; only a sum that overflows or is NaN looks at every sample)."""
    if not np.isfinite(batch.sum()) and not np.isfinite(batch).all():
        raise InvalidInputError("signals sent to the oracle contain NaN or infinite samples")
