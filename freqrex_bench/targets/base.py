"""What every target shares: the Target protocol, output activations, and framing for frame-level models.

A target turns a float32 [B, T] batch of mono clips at its own sample rate into float32 [B, C] scores,
one column per label. Frame-level models (fixed-length chunks in, or a time axis out) are handled here
once: the clip is cut into frames, the model scores each frame, and frame scores are aggregated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import scipy.special

from .. import validation
from ..errors import InvalidInputError, TargetError
from ..limits import MAX_FRAME

Output = Literal["probabilities", "logits", "multilabel-logits"]
Aggregate = Literal["mean", "max"]
OUTPUTS: tuple[str, ...] = ("probabilities", "logits", "multilabel-logits")
AGGREGATES: tuple[str, ...] = ("mean", "max")


@runtime_checkable
class Target(Protocol):
    """A classifier seen as a black box: labels, a sample rate, and batched scores."""

    labels: list[str]
    sample_rate: int

    def predict(self, batch: np.ndarray) -> np.ndarray: ...


def target_name(target: object) -> str:
    """A short human name for messages: the target's `name` if it has one, else its class."""
    return str(getattr(target, "name", None) or type(target).__name__)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{what} must be one of {list(allowed)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Framing:
    """Cut clips into fixed-length frames, zero-padding the tail so every sample lands in a frame."""

    length: int
    hop: int | None = None

    def __post_init__(self) -> None:
        validation.whole_number(self.length, "frame_length", maximum=MAX_FRAME)
        if self.hop is not None and validation.whole_number(self.hop, "hop", maximum=MAX_FRAME) > self.length:
            raise InvalidInputError(f"hop must be at most frame_length={self.length}, got {self.hop!r}")

    @property
    def step(self) -> int:
        return self.hop or self.length

    def split(self, batch: np.ndarray) -> np.ndarray:
        """[B, T] -> [B, F, length]."""
        n = batch.shape[1]
        frames = 1 + -(-max(n - self.length, 0) // self.step)
        padded_len = (frames - 1) * self.step + self.length
        padded = np.zeros((batch.shape[0], padded_len), dtype=np.float32)
        padded[:, :n] = batch
        if self.step == self.length:
            return padded.reshape(batch.shape[0], frames, self.length)
        windows = np.lib.stride_tricks.sliding_window_view(padded, self.length, axis=1)
        return windows[:, :: self.step].copy()


def as_columns(raw: np.ndarray) -> np.ndarray:
    """A model returning one number per input (a binary probability) becomes one column."""
    raw = np.asarray(raw, dtype=np.float32)
    return raw[:, None] if raw.ndim == 1 else raw


def aggregate_frames(scores: np.ndarray, how: Aggregate) -> np.ndarray:
    """Collapse the frame axis of [B, F, C] scores into one clip decision [B, C]: each label's mean or max."""
    return scores.max(axis=1) if how == "max" else scores.mean(axis=1)


def activate(raw: np.ndarray, output: Output, name: str) -> np.ndarray:
    """Model outputs -> scores in [0, 1]: softmax for logits, sigmoid for multi-label logits.

    A single output column is a binary model's P(positive): logits then take a sigmoid, not a softmax.
    """
    raw = np.asarray(raw, dtype=np.float32)
    if output == "logits" and raw.shape[-1] > 1:
        return scipy.special.softmax(raw, axis=-1).astype(np.float32)
    if output in ("logits", "multilabel-logits"):
        return scipy.special.expit(raw).astype(np.float32)
    finite = raw[np.isfinite(raw)]
    if finite.size and (finite.min() < -1e-4 or finite.max() > 1 + 1e-4):
        raise TargetError(
            f"{name} returned values in [{finite.min():.3g}, {finite.max():.3g}] with "
            f"output='probabilities'; if these are logits, pass output='logits' (or 'multilabel-logits')"
        )
    return raw


def expand_binary(scores: np.ndarray, n_labels: int) -> np.ndarray:
    """One score column with two labels is P(label 1): expand it to [1 - p, p]."""
    if scores.shape[-1] == 1 and n_labels == 2:
        return np.concatenate([1 - scores, scores], axis=-1)
    return scores


class FramedTarget:
    """Shared predict pipeline: check the batch, frame it, run the model, activate, aggregate frames.

    Frame scores and time axes are aggregated per label (mean or max over frames). A binary model's
    single P(positive) column is aggregated before it is expanded to [1 - p, p], so with "max" such a
    clip is positive when any frame is; a two-column model takes each column's own max instead.
    Adapters implement `_forward(batch [N, L]) -> raw [N, C] or [N, F', C]`; a stateful model that must
    see frames in order overrides `_forward_frames(frames [B, F, L]) -> raw [B, F, ...]` instead.
    """

    name: str
    # The fewest samples a clip may have; shorter clips are an error naming this (framed models pad).
    min_samples: int = 2

    def __init__(
        self,
        labels: list[str],
        sample_rate: int,
        output: Output = "probabilities",
        frame_length: int | None = None,
        hop: int | None = None,
        aggregate: Aggregate = "mean",
    ) -> None:
        self.labels = validation.label_names(labels)
        self.sample_rate = validation.sample_rate(sample_rate)
        self.output = _choice(output, OUTPUTS, "output")
        self.aggregate = _choice(aggregate, AGGREGATES, "aggregate")
        if hop is not None and frame_length is None:
            raise InvalidInputError(f"hop={hop!r} needs frame_length (the samples per frame the model takes)")
        self.framing = None
        if frame_length is not None:
            hop = None if hop is None else validation.whole_number(hop, "hop")
            self.framing = Framing(validation.whole_number(frame_length, "frame_length"), hop)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[1] == 0:
            raise InvalidInputError(
                f"{self.name} takes a [batch, samples] array of mono clips, got shape {batch.shape}"
            )
        if self.framing is None:
            raw = as_columns(self._forward(batch))
        else:
            raw = self._forward_frames(self.framing.split(batch))
            raw = raw.reshape(batch.shape[0], -1, raw.shape[-1])
        scores = activate(raw, self.output, self.name)
        if scores.ndim == 3:
            scores = aggregate_frames(scores, self.aggregate)
        scores = expand_binary(scores, len(self.labels))
        if scores.ndim != 2:
            raise TargetError(
                f"{self.name} returned outputs of shape {np.shape(raw)}; expected [batch, labels] "
                f"or [batch, time, labels]"
            )
        return scores

    def _forward_frames(self, frames: np.ndarray) -> np.ndarray:
        b, f, n = frames.shape
        raw = as_columns(self._forward(frames.reshape(b * f, n)))
        return raw.reshape(b, -1, raw.shape[-1])

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def differentiable(self) -> bool:
        """Whether torch_predict can give gradients (adapters on torch models override _torch_forward)."""
        return type(self)._torch_forward is not FramedTarget._torch_forward

    def torch_predict(self, batch: Any) -> Any:
        """Differentiable scores of a torch [B, T] batch: the same pipeline as predict, in torch."""
        from .differentiable import torch_scores

        if not self.differentiable:
            raise TargetError(f"{self.name} has no differentiable torch forward pass")
        return torch_scores(self, batch)

    def _torch_forward_frames(self, frames: Any) -> Any:
        b, f, n = frames.shape
        raw = self._torch_forward(frames.reshape(b * f, n))
        raw = raw[:, None] if raw.ndim == 1 else raw
        return raw.reshape(b, -1, raw.shape[-1])

    def _torch_forward(self, batch: Any) -> Any:
        raise NotImplementedError
