"""TorchScriptTarget: a `torch.jit` model file, with optional framing and streaming state."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidInputError
from .base import Aggregate, FramedTarget, Output

DEVICES = ("cpu", "cuda")


def torch_device(device: str) -> torch.device:
    """The torch device a target runs on: "cpu", or "cuda" (the first GPU torch sees; in a Ray worker, the
    GPU Ray reserved for it). Raises InvalidInputError for another name, or for cuda where torch sees no
    GPU: a model meant for a GPU never runs silently on the CPU."""
    if device not in DEVICES:
        raise InvalidInputError(f"device must be one of {list(DEVICES)}, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(
            f"device 'cuda': torch {torch.__version__} sees no CUDA GPU on this machine "
            "(torch.cuda.is_available() is False); expected device: cpu, or a machine with a GPU and a CUDA "
            "build of torch")
    return torch.device(device)


class TorchScriptTarget(FramedTarget):
    """Load `path` with `torch.jit.load` (CPU) and call it as `model(batch, *extra_args)` on float32
    [N, L] tensors; a tuple or list output is read at index 0. `labels` and `sample_rate` (Hz) come from
    the caller (the suite).

    Frame-level models set `frame_length` (samples per chunk). A streaming model that keeps state
    across chunks (silero-vad) sets `stateful=True`: each clip of the batch becomes one stream, frames
    are fed in time order with the whole batch at once, and `reset` (a method name; it must exist) is
    called before every batch so no state leaks between batches. `device` ("cpu" or "cuda") is where the
    model runs; batches go there and scores come back to the CPU.

    Raises InvalidInputError for a missing or unloadable file, stateful=True without frame_length, a
    missing reset method, bad labels, rate, output or framing, or device "cuda" without a GPU.
    """

    def __init__(
        self,
        path: str | Path,
        labels: Sequence[str],
        sample_rate: int,
        output: Output = "probabilities",
        frame_length: int | None = None,
        hop: int | None = None,
        aggregate: Aggregate = "mean",
        extra_args: Sequence[object] = (),
        stateful: bool = False,
        reset: str | None = "reset_states",
        name: str | None = None,
        device: str = "cpu",
    ) -> None:
        self.device = torch_device(device)
        path = Path(path)
        if not path.is_file():
            raise InvalidInputError(f"TorchScript model file not found: {path}")
        if stateful and not frame_length:
            raise InvalidInputError("stateful=True needs frame_length (the chunk size the model streams)")
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", DeprecationWarning)
                self.model = torch.jit.load(str(path), map_location=self.device)
        except RuntimeError as exc:
            raise InvalidInputError(f"{path} is not a loadable TorchScript model: {exc}") from exc
        self.model.eval()
        if stateful and reset is not None and not hasattr(self.model, reset):
            raise InvalidInputError(
                f"{path.name} has no method {reset!r} to reset its state between batches; pass reset= the "
                f"name of its reset method, or reset=None if the model keeps no state across calls"
            )
        self.path = path
        self.extra_args = tuple(extra_args)
        self.stateful = stateful
        self.reset = reset
        self.name = name or path.name
        super().__init__(list(labels), sample_rate, output, frame_length, hop, aggregate)

    def _raw(self, batch: torch.Tensor) -> torch.Tensor:
        out = self.model(batch.to(self.device), *self.extra_args)
        return (out[0] if isinstance(out, (tuple, list)) else out).float().to(batch.device)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self._raw(torch.from_numpy(batch)).numpy()

    def _forward_frames(self, frames: np.ndarray) -> np.ndarray:
        if not self.stateful:
            return super()._forward_frames(frames)
        with torch.inference_mode():
            return self._stream(torch.from_numpy(frames)).numpy()

    def _stream(self, frames: torch.Tensor) -> torch.Tensor:
        """Feed frames [B, F, L] in time order, one stream per clip, after resetting the model's state."""
        if self.reset is not None:
            getattr(self.model, self.reset)()
        steps = [self._raw(frames[:, t]) for t in range(frames.shape[1])]
        return torch.stack([s[:, None] if s.ndim == 1 else s for s in steps], dim=1)

    def _torch_forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self._raw(batch)

    def _torch_forward_frames(self, frames: torch.Tensor) -> torch.Tensor:
        return self._stream(frames) if self.stateful else super()._torch_forward_frames(frames)
