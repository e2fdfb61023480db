"""CallableTarget: any Python function from a float32 [B, T] batch to scores or logits."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import numpy as np

from .. import validation
from ..errors import InvalidInputError
from ..limits import MAX_FRAME
from .base import Aggregate, FramedTarget, Output


def load_callable(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    """Import `package.module:function` (the form suites use to name a numpy model; dotted attributes
    allowed). Raises InvalidInputError for a malformed name, a module that fails to import, a missing
    attribute or an object that is not callable."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidInputError(f"a callable must be named 'module:function', got {spec!r}")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(f"cannot import module {module_name!r} for {spec!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InvalidInputError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InvalidInputError(f"{spec!r} is not callable")
    return obj


class CallableTarget(FramedTarget):
    """Wrap a function `fn(batch [B, T] float32) -> [B, C]` (or [B, frames, C]).

    `fn` may also be a 'module:function' name (load_callable); `labels` are the class names and
    `sample_rate` fn's rate in Hz. `output` says what fn returns: "probabilities" (used as is), "logits"
    (softmax), or "multilabel-logits" (sigmoid). Set `frame_length` (samples) when fn takes fixed-length
    chunks, and `min_samples` when fn cannot classify shorter clips (they are then an error naming the
    minimum). Raises InvalidInputError for something that is not callable, or bad labels, rate, output,
    framing or min_samples.
    """

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray] | str,
        labels: Sequence[str],
        sample_rate: int,
        output: Output = "probabilities",
        frame_length: int | None = None,
        hop: int | None = None,
        aggregate: Aggregate = "mean",
        name: str | None = None,
        min_samples: int = 2,
    ) -> None:
        self.fn = load_callable(fn) if isinstance(fn, str) else fn
        if not callable(self.fn):
            raise InvalidInputError(f"CallableTarget needs a callable, got {type(fn).__name__}")
        self.name = name or (fn if isinstance(fn, str) else str(getattr(fn, "__name__", "callable")))
        super().__init__(labels, sample_rate, output, frame_length, hop, aggregate)
        self.min_samples = validation.whole_number(min_samples, "min_samples", maximum=MAX_FRAME)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(batch))
