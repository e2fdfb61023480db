"""ONNXTarget: an ONNX model file run with onnxruntime on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from .base import Aggregate, FramedTarget, Output


class ONNXTarget(FramedTarget):
    """Run an ONNX model whose first input is audio: [N, L], [N, L, 1] or [N, 1, L].

    The layout is read from the model. A fixed input length (e.g. basic-pitch's 43844 samples) becomes
    the frame length unless `frame_length` says otherwise. `output_name` picks one of several outputs
    (default: the first).
    """

    def __init__(
        self,
        path: str | Path,
        labels: Sequence[str],
        sample_rate: int,
        output: Output = "logits",
        frame_length: int | None = None,
        hop: int | None = None,
        aggregate: Aggregate = "mean",
        output_name: str | None = None,
        name: str | None = None,
    ) -> None:
        import onnxruntime

        path = Path(path)
        if not path.is_file():
            raise InvalidInputError(f"ONNX model file not found: {path}")
        try:
            self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise InvalidInputError(f"{path} is not a loadable ONNX model: {exc}") from exc
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.layout, fixed_length = _audio_layout(model_input.shape, path)
        outputs = [o.name for o in self.session.get_outputs()]
        if output_name is not None and output_name not in outputs:
            raise InvalidInputError(f"{path.name} has no output {output_name!r}; it has {outputs}")
        self.output_name = output_name or outputs[0]
        self.path = path
        self.name = name or path.name
        super().__init__(list(labels), sample_rate, output, frame_length or fixed_length, hop, aggregate)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        feed = {"N L": batch, "N L 1": batch[:, :, None], "N 1 L": batch[:, None, :]}[self.layout]
        (out,) = self.session.run([self.output_name], {self.input_name: feed})
        return out


def _audio_layout(shape: list, path: Path) -> tuple[str, int | None]:
    """Which axis of the model's first input holds samples, and its length if fixed."""
    dims = [d if isinstance(d, int) else None for d in shape]
    if len(dims) == 2:
        return "N L", dims[1]
    if len(dims) == 3 and dims[2] == 1:
        return "N L 1", dims[1]
    if len(dims) == 3 and dims[1] == 1:
        return "N 1 L", dims[2]
    raise InvalidInputError(
        f"{path.name}: first input has shape {shape}; expected audio as [N, L], [N, L, 1] or [N, 1, L]"
    )
