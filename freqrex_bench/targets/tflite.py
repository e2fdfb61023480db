"""TFLiteTarget: a TensorFlow Lite model run with LiteRT's interpreter (`ai-edge-litert`, no TensorFlow).

Keyword spotters, bird and sound classifiers on devices ship as TFLite. The audio input's layout ([N, L],
[N, L, 1] or [N, 1, L]) is read from the model. A dynamic batch axis is resized to each batch (one
interpreter call per batch); a batch fixed to 1 is run row by row. A fixed input length becomes the
frame length, as for ONNX models, so clips are framed and frame scores aggregated.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError, TargetError
from .base import FramedTarget
from .pipeline import Aggregate, Output

_LAYOUTS = {"N L": lambda b: b, "N L 1": lambda b: b[:, :, None], "N 1 L": lambda b: b[:, None, :]}


def _layout(signature: Sequence[int], path: Path) -> tuple[str, int | None, bool]:
    """Which axis holds samples, the input length if fixed (None if dynamic), and whether the batch is
    dynamic. Raises InvalidInputError for an input that is not audio-shaped."""
    dims = [int(d) for d in signature]
    dynamic_batch = bool(dims) and dims[0] == -1
    fixed = None
    if len(dims) == 2:
        layout, fixed = "N L", dims[1]
    elif len(dims) == 3 and dims[2] == 1:
        layout, fixed = "N L 1", dims[1]
    elif len(dims) == 3 and dims[1] == 1:
        layout, fixed = "N 1 L", dims[2]
    else:
        raise InvalidInputError(f"{path.name}: audio input has shape {dims}; expected [N, L], [N, L, 1] or [N, 1, L]")
    return layout, (None if fixed is None or fixed < 0 else fixed), dynamic_batch


class TFLiteTarget(FramedTarget):
    """A `.tflite` classifier whose float32 audio input is [N, L], [N, L, 1] or [N, 1, L].

    `input_index` picks the audio input among the model's inputs (default: the first; others are not
    supported), `output_name` an output (default: the first). A fixed input length becomes
    `frame_length` unless set; a model whose batch is fixed to 1 is run row by row. Models of a dynamic
    length may report a placeholder length of 1 in their declared shape: the shape signature decides.

    Raises InvalidInputError for a missing or unloadable file, a model with several inputs, an input that
    is not float32 or not audio-shaped, an unknown output name, or a missing `ai-edge-litert` (naming
    the extra to install); TargetError when the interpreter fails on a batch.
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
        output_name: str | None = None,
        num_threads: int | None = None,
        name: str | None = None,
    ) -> None:
        path = Path(path)
        if not path.is_file():
            raise InvalidInputError(f"TFLite model file not found: {path}")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise InvalidInputError(
                "a TFLite model needs the Python package 'ai-edge-litert'; install it with: "
                "pip install 'freqrex-bench[tflite]'") from None
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        except (ValueError, RuntimeError) as exc:
            raise InvalidInputError(f"{path} is not a loadable TFLite model: {exc}") from exc
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1:
            raise InvalidInputError(f"{path.name} takes {len(inputs)} inputs {[i['name'] for i in inputs]}; "
                                    f"TFLiteTarget supports models with one audio input")
        audio = inputs[0]
        if np.dtype(audio["dtype"]) != np.float32:
            raise InvalidInputError(f"{path.name}: audio input {audio['name']!r} is {np.dtype(audio['dtype'])}; "
                                    f"expected float32 samples (quantised inputs are not supported)")
        self.layout, fixed, self.dynamic_batch = _layout(audio["shape_signature"], path)
        self.input_index = int(audio["index"])
        names = [o["name"] for o in outputs]
        if output_name is not None and output_name not in names:
            raise InvalidInputError(f"{path.name} has no output {output_name!r}; it has {names}")
        self.output_index = int(outputs[names.index(output_name) if output_name else 0]["index"])
        self.path = path
        self.name = name or path.name
        self._shape: tuple[int, ...] | None = None
        super().__init__(list(labels), sample_rate, output, frame_length or fixed, hop, aggregate)

    def _run(self, feed: np.ndarray) -> np.ndarray:
        """One interpreter call on a model input; the tensors are reallocated only when the shape changes."""
        if feed.shape != self._shape:
            self.interpreter.resize_tensor_input(self.input_index, list(feed.shape))
            self.interpreter.allocate_tensors()
            self._shape = feed.shape
        self.interpreter.set_tensor(self.input_index, feed)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self.output_index))  # a copy: the buffer is reused

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        feed = np.ascontiguousarray(_LAYOUTS[self.layout](batch), dtype=np.float32)
        try:
            if self.dynamic_batch:
                return self._run(feed)
            return np.concatenate([self._run(feed[i : i + 1]) for i in range(len(feed))])
        except (ValueError, RuntimeError) as exc:
            raise TargetError(f"{self.name}: the TFLite interpreter failed on input {feed.shape}: {exc}") from exc

    @property
    def details(self) -> dict[str, Any]:
        """The audio layout and batching the target read from the model."""
        return {"layout": self.layout, "dynamic_batch": self.dynamic_batch, "frame_length":
                None if self.framing is None else self.framing.length}
