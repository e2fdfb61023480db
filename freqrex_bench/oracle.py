"""The one door to a model: batching, query counting, a hard budget, a cache, and checked outputs.

Strategies never call a target directly. They hand the Oracle a logical batch of signals; it answers
repeats from its cache, splits the rest into the user's batch size (so results never depend on it),
refuses work past the budget before any of it runs, and times the model so overhead can be measured.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

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


def _signal_key(row: np.ndarray) -> bytes:
    return hashlib.sha1(row.tobytes(), usedforsecurity=False).digest()


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

    def classify(self, signals: np.ndarray) -> Prediction:
        """Classify float [K, T] mono signals at the target's sample rate: Prediction(labels int64 [K],
        scores float32 [K, C]).

        Repeats (in the batch or seen before) come from the cache and cost no query; the rest run in
        chunks of `batch_size`. Raises InvalidInputError for a batch that is not a non-empty [K, T] of
        finite samples, or has fewer than the target's `min_samples`; QueryBudgetExceeded, before
        anything runs, when the uncached signals would pass the budget; TargetError when the model
        raises or returns anything but finite [chunk, C] probabilities.
        """
        batch = self._check_signals(signals)
        keys = [_signal_key(row) for row in batch] if self._cache is not None else None
        todo = self._uncached(keys, len(batch))
        if self.budget is not None and self.queries + len(todo) > self.budget:
            raise QueryBudgetExceeded(self.budget, self.queries, len(todo))
        fresh = self._predict(batch[todo]) if len(todo) else np.empty((0, len(self.target.labels)), np.float32)
        if keys is None or self._cache is None:
            scores = fresh
        else:
            for i, row in zip(todo, fresh, strict=True):
                self._cache[keys[i]] = row
            self.cache_hits += len(batch) - len(todo)
            scores = np.stack([self._cache[k] for k in keys])
        return Prediction(np.argmax(scores, axis=1), scores)

    def _uncached(self, keys: list[bytes] | None, n: int) -> list[int]:
        """Indices to send to the model: the first occurrence of each signal not yet cached."""
        if keys is None or self._cache is None:
            return list(range(n))
        seen: set[bytes] = set()
        todo = []
        for i, key in enumerate(keys):
            if key not in self._cache and key not in seen:
                seen.add(key)
                todo.append(i)
        return todo

    def _check_signals(self, signals: np.ndarray) -> np.ndarray:
        batch = np.asarray(signals)
        if batch.ndim != 2 or batch.shape[0] == 0 or batch.shape[1] == 0:
            raise InvalidInputError(
                f"the oracle takes a [batch, samples] array of mono signals, got shape {batch.shape}"
            )
        shortest = int(getattr(self.target, "min_samples", 1))
        if batch.shape[1] < shortest:
            rate = self.target.sample_rate
            raise InvalidInputError(
                f"{target_name(self.target)} needs clips of at least {shortest} samples ({shortest / rate:.3f} s at "
                f"{rate} Hz), got {batch.shape[1]} samples; use a longer clip"
            )
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if not np.isfinite(batch).all():
            raise InvalidInputError("signals sent to the oracle contain NaN or infinite samples")
        return batch

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

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        """Run the model in chunks of batch_size, checking every output."""
        out = []
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start : start + self.batch_size]
            with self._calling(chunk.shape):
                scores = self.target.predict(chunk)
            out.append(self._check_scores(scores, len(chunk)))
        return np.concatenate(out)

    def gradient(self, signals: np.ndarray, label: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores float32 [K, C] and the gradient float32 [K, T] of log P(`label`) with respect to each of
        the float [K, T] signals, for targets with a differentiable torch forward pass (the white-box
        attack). One model call of K queries, counted and budgeted; never cached.

        Raises InvalidInputError for a bad batch (as classify), TargetError for a target without a
        differentiable forward pass or a failing model, QueryBudgetExceeded when K queries would pass
        the budget.
        """
        import torch

        batch = self._check_signals(signals)
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
