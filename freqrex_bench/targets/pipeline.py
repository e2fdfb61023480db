"""The target pipeline, defined once for numpy and torch arrays: frame the clip, run the model, turn its
outputs into probabilities, aggregate frames, expand a binary model's one column.

Every function takes arrays of either library and works through the array-API namespace of its input
(`array_api_compat`, as scipy and scikit-learn do), so `FramedTarget.predict` (numpy, for black-box
queries) and `FramedTarget.torch_predict` (torch, for the white-box gradient baseline) are one numeric
path that cannot drift apart (a test checks them equal on every target kind with a torch model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import scipy.special
from array_api_compat import array_namespace, is_torch_array

from ..errors import TargetError

Output = Literal["probabilities", "logits", "multilabel-logits"]
Aggregate = Literal["mean", "max"]
OUTPUTS: tuple[str, ...] = ("probabilities", "logits", "multilabel-logits")
AGGREGATES: tuple[str, ...] = ("mean", "max")
# Probabilities may stray this far outside [0, 1] (float32 rounding of a softmax) before it is an error.
PROBABILITY_SLACK = 1e-4

Array = Any  # a numpy ndarray or a torch Tensor


def frame_count(samples: int, length: int, step: int) -> int:
    """The number of frames of `length` samples, `step` samples apart, that cover `samples` samples (the
    last one zero-padded); at least 1."""
    return 1 + -(-max(samples - length, 0) // step)


def split_frames(batch: Array, length: int, step: int) -> Array:
    """[B, T] -> [B, F, length], same dtype, numpy or torch: frames `step` samples apart covering every
    sample, the tail zero-padded (F = frame_count(T, length, step))."""
    xp = array_namespace(batch)
    b, n = batch.shape
    frames = frame_count(n, length, step)
    padding = (frames - 1) * step + length - n
    if padding:
        batch = xp.concat([batch, xp.zeros((b, padding), dtype=batch.dtype)], axis=1)
    starts = xp.arange(frames)[:, None] * step
    index = starts + xp.arange(length)[None, :]
    return batch[:, index]


def as_columns(raw: Array) -> Array:
    """A model returning one number per input (a binary probability) becomes one column: [N] -> [N, 1]."""
    return raw[:, None] if raw.ndim == 1 else raw


def check_probabilities(scores: Array, name: str, hint: str) -> None:
    """TargetError when finite `scores` leave [0, 1] by more than PROBABILITY_SLACK; `hint` says what to do."""
    xp = array_namespace(scores)
    finite = scores[xp.isfinite(scores)]
    if finite.shape[0] and (float(xp.min(finite)) < -PROBABILITY_SLACK
                            or float(xp.max(finite)) > 1 + PROBABILITY_SLACK):
        raise TargetError(f"{name} returned values in [{float(xp.min(finite)):.3g}, {float(xp.max(finite)):.3g}]; "
                          f"{hint}")


def activate(raw: Array, output: Output, name: str) -> Array:
    """Raw model outputs [..., C] -> scores in [0, 1], same shape and dtype: softmax over the last axis
    for logits, a sigmoid for multi-label logits and for a binary model's single logit column (C = 1);
    probabilities are checked and passed through.

    Raises TargetError for `output="probabilities"` values outside [0, 1].
    """
    if output == "logits" and raw.shape[-1] > 1:
        return _softmax(raw)
    if output in ("logits", "multilabel-logits"):
        return _sigmoid(raw)
    check_probabilities(raw, name, "with output='probabilities'; if these are logits, pass output='logits' (or "
                                   "'multilabel-logits')")
    return raw


def _softmax(raw: Array) -> Array:
    """Softmax over the last axis with each library's own numerically careful implementation (the array
    API has none): scipy.special.softmax for numpy, torch.softmax for torch."""
    if is_torch_array(raw):
        import torch

        return torch.softmax(raw, dim=-1)
    return scipy.special.softmax(raw, axis=-1).astype(raw.dtype)


def _sigmoid(raw: Array) -> Array:
    """The logistic function with each library's own implementation: scipy.special.expit, torch.sigmoid."""
    if is_torch_array(raw):
        import torch

        return torch.sigmoid(raw)
    return scipy.special.expit(raw).astype(raw.dtype)


def aggregate_frames(scores: Array, how: Aggregate) -> Array:
    """Collapse the frame axis of [B, F, C] scores into one clip decision [B, C]: each label's mean or max."""
    xp = array_namespace(scores)
    return xp.max(scores, axis=1) if how == "max" else xp.mean(scores, axis=1)


def expand_binary(scores: Array, n_labels: int) -> Array:
    """One score column with two labels is P(label 1): [B, 1] -> [B, 2] = [1 - p, p]; any other scores
    are returned unchanged."""
    if scores.shape[-1] == 1 and n_labels == 2:
        xp = array_namespace(scores)
        return xp.concat([1 - scores, scores], axis=-1)
    return scores


def scores(batch: Array, forward: Callable[[Array], Array], forward_frames: Callable[[Array], Array] | None,
           framing: tuple[int, int] | None, output: Output, aggregate: Aggregate, n_labels: int, name: str) -> Array:
    """The whole pipeline: [B, T] clips -> [B, n_labels] probabilities.

    `forward` maps [N, L] model inputs to raw [N, C] (or [N] or [N, F', C]) outputs; with `framing` =
    (frame length, step), clips are cut into frames and `forward_frames` maps [B, F, L] frames to raw
    [B, F, ...] outputs. Raw outputs are activated (`output`), a time axis is aggregated (`aggregate`),
    and a binary model's single column is expanded after aggregation, so with "max" such a clip is
    positive when any frame is. Raises TargetError for outputs of the wrong shape or range.
    """
    if framing is None:
        raw = as_columns(forward(batch))
    else:
        raw = forward_frames(split_frames(batch, *framing))  # type: ignore[misc]
        raw = raw.reshape(batch.shape[0], -1, raw.shape[-1])
    if raw.dtype != batch.dtype:
        raw = array_namespace(raw).astype(raw, batch.dtype)
    probabilities = activate(raw, output, name)
    if probabilities.ndim == 3:
        probabilities = aggregate_frames(probabilities, aggregate)
    probabilities = expand_binary(probabilities, n_labels)
    if probabilities.ndim != 2:
        raise TargetError(f"{name} returned outputs of shape {tuple(raw.shape)}; expected [batch, labels] or "
                          f"[batch, time, labels]")
    return probabilities
