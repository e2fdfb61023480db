"""The target pipeline in torch (frame, forward, activate, aggregate), so gradients reach the waveform.

Only targets built on torch models provide `_torch_forward`; the white-box gradient baseline uses this.
It mirrors FramedTarget.predict exactly; a test checks that both give the same scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from .base import FramedTarget


def split_frames(batch: torch.Tensor, length: int, step: int) -> torch.Tensor:
    """[B, T] -> [B, F, length], zero-padding the tail like Framing.split."""
    import torch

    n = batch.shape[1]
    frames = 1 + -(-max(n - length, 0) // step)
    padded = torch.nn.functional.pad(batch, (0, (frames - 1) * step + length - n))
    return padded.unfold(1, length, step)


def torch_scores(target: FramedTarget, batch: torch.Tensor) -> torch.Tensor:
    """Differentiable [B, C] scores of a [B, T] float32 batch."""
    import torch

    if target.framing is None:
        raw = target._torch_forward(batch)
    else:
        frames = split_frames(batch, target.framing.length, target.framing.step)
        raw = target._torch_forward_frames(frames)
        raw = raw.reshape(batch.shape[0], -1, raw.shape[-1])
    raw = raw[:, None] if raw.ndim == 1 else raw.float()
    if target.output == "logits" and raw.shape[-1] > 1:
        scores = torch.softmax(raw, dim=-1)
    elif target.output in ("logits", "multilabel-logits"):
        scores = torch.sigmoid(raw)
    else:
        scores = raw
    if scores.ndim == 3:
        scores = scores.amax(dim=1) if target.aggregate == "max" else scores.mean(dim=1)
    if scores.shape[-1] == 1 and len(target.labels) == 2:
        scores = torch.cat([1 - scores, scores], dim=-1)
    return scores
