"""What every target shares: the Target protocol, and FramedTarget, the base of the adapters.

A target turns a float32 [B, T] batch of mono clips at its own sample rate into float32 [B, C]
probabilities, one column per label. Frame-level models (fixed-length chunks in, or a time axis out)
are handled once, in `pipeline.scores`: the clip is cut into frames, the model scores each frame, and
frame scores are aggregated. Adapters implement only the model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .. import validation
from ..errors import InvalidInputError, TargetError
from ..limits import MAX_FRAME
from . import pipeline
from .pipeline import AGGREGATES, OUTPUTS, Aggregate, Output


@runtime_checkable
class Target(Protocol):
    """A classifier seen as a black box: `labels` (class names), `sample_rate` (Hz), and
    `predict(batch float32 [B, T]) -> float32 [B, len(labels)]` probabilities."""

    labels: list[str]
    sample_rate: int

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 [B, T] mono clips at `sample_rate` Hz -> float32 [B, len(labels)] probabilities in [0, 1]."""
        ...


def target_name(target: object) -> str:
    """A short human name for messages: the target's `name` if it has one, else its class."""
    return str(getattr(target, "name", None) or type(target).__name__)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{what} must be one of {list(allowed)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Framing:
    """Cut clips into frames of `length` samples, `hop` samples apart (default: back to back), zero-padding
    the tail so every sample lands in a frame. Raises InvalidInputError for lengths or hops outside
    [1, MAX_FRAME] or a hop longer than the frame."""

    length: int
    hop: int | None = None

    def __post_init__(self) -> None:
        validation.whole_number(self.length, "frame_length", maximum=MAX_FRAME)
        if self.hop is not None and validation.whole_number(self.hop, "hop", maximum=MAX_FRAME) > self.length:
            raise InvalidInputError(f"hop must be at most frame_length={self.length}, got {self.hop!r}")

    @property
    def step(self) -> int:
        """Samples between frame starts."""
        return self.hop or self.length

    def split(self, batch: np.ndarray) -> np.ndarray:
        """[B, T] clips -> [B, F, length] frames, same dtype, numpy or torch (pipeline.split_frames)."""
        return pipeline.split_frames(batch, self.length, self.step)


class FramedTarget:
    """The shared predict pipeline (targets.pipeline.scores) around an adapter's model call.

    `labels` are the class names, `sample_rate` the model's rate in Hz, `output` what the model returns
    ("probabilities", "logits" or "multilabel-logits"); `frame_length` and `hop` (samples) make it a
    frame-level model whose frame scores are aggregated by `aggregate` ("mean" or "max").

    Adapters implement `_forward(batch [N, L]) -> raw [N, C] or [N, F', C]`; a stateful model that must
    see frames in order overrides `_forward_frames(frames [B, F, L]) -> raw [B, F, ...]` instead. Adapters
    on torch models also implement `_torch_forward` (and `_torch_forward_frames`), which makes
    `torch_predict` differentiable: the same pipeline on torch tensors. `min_samples` is the fewest
    samples a clip may have (shorter clips are an error naming it; framed models pad).

    Raises InvalidInputError for bad labels, rate, output, aggregate or framing.
    """

    name: str
    min_samples: int = 2

    def __init__(
        self,
        labels: Sequence[str],
        sample_rate: int,
        output: Output = "probabilities",
        frame_length: int | None = None,
        hop: int | None = None,
        aggregate: Aggregate = "mean",
    ) -> None:
        self.labels = validation.label_names(labels)
        self.sample_rate = validation.sample_rate(sample_rate)
        self.output: Output = _choice(output, OUTPUTS, "output")  # type: ignore[assignment]
        self.aggregate: Aggregate = _choice(aggregate, AGGREGATES, "aggregate")  # type: ignore[assignment]
        if hop is not None and frame_length is None:
            raise InvalidInputError(f"hop={hop!r} needs frame_length (the samples per frame the model takes)")
        self.framing = None
        if frame_length is not None:
            hop = None if hop is None else validation.whole_number(hop, "hop")
            self.framing = Framing(validation.whole_number(frame_length, "frame_length"), hop)

    def _pipeline(self, batch: Any, forward: Any, forward_frames: Any) -> Any:
        framing = None if self.framing is None else (self.framing.length, self.framing.step)
        return pipeline.scores(batch, forward, forward_frames, framing, self.output, self.aggregate,
                               len(self.labels), self.name)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 [B, T] clips -> float32 [B, len(labels)] probabilities. Raises InvalidInputError for a
        batch that is not [B, T], TargetError for model outputs of the wrong shape or range."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 2 or batch.shape[1] == 0:
            raise InvalidInputError(
                f"{self.name} takes a [batch, samples] array of mono clips, got shape {batch.shape}"
            )
        return self._pipeline(batch, self._forward, self._forward_frames)

    def _forward_frames(self, frames: np.ndarray) -> np.ndarray:
        b, f, n = frames.shape
        raw = pipeline.as_columns(np.asarray(self._forward(frames.reshape(b * f, n))))
        return raw.reshape(b, -1, raw.shape[-1])

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def differentiable(self) -> bool:
        """Whether torch_predict can give gradients (adapters on torch models override _torch_forward)."""
        return type(self)._torch_forward is not FramedTarget._torch_forward

    def torch_predict(self, batch: Any) -> Any:
        """Differentiable float32 [B, len(labels)] scores of a torch [B, T] batch: the same pipeline as
        predict, on torch tensors. Raises TargetError when the target has no torch forward pass."""
        if not self.differentiable:
            raise TargetError(f"{self.name} has no differentiable torch forward pass")
        return self._pipeline(batch, self._torch_forward, self._torch_forward_frames)

    def _torch_forward_frames(self, frames: Any) -> Any:
        b, f, n = frames.shape
        raw = pipeline.as_columns(self._torch_forward(frames.reshape(b * f, n)))
        return raw.reshape(b, -1, raw.shape[-1])

    def _torch_forward(self, batch: Any) -> Any:
        raise NotImplementedError
