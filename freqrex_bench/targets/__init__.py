"""Target adapters: every model, whatever its framework, seen as labels + sample rate + batched scores.

`HFTarget`, `TorchScriptTarget`, `ONNXTarget` and `TFLiteTarget` import their frameworks only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .base import FramedTarget, Framing, Target, target_name
from .callable import CallableTarget, load_callable
from .pipeline import activate, aggregate_frames, expand_binary

_LAZY = {"HFTarget": ".hf", "TorchScriptTarget": ".torchscript", "ONNXTarget": ".onnx", "TFLiteTarget": ".tflite"}

__all__ = [
    "CallableTarget",
    "FramedTarget",
    "Framing",
    "HFTarget",
    "ONNXTarget",
    "TFLiteTarget",
    "Target",
    "TorchScriptTarget",
    "activate",
    "aggregate_frames",
    "expand_binary",
    "load_callable",
    "target_name",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
