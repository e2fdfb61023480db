"""ONNXTarget: an ONNX model file run with onnxruntime on the CPU."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from .base import Aggregate, FramedTarget, Output


class ONNXTarget(FramedTarget):
    """Run an ONNX model whose audio input is [N, L], [N, L, 1] or [N, 1, L].

    The layout is read from the model. A fixed input length (e.g. basic-pitch's 43844 samples) becomes
    the frame length unless `frame_length` says otherwise; a model fixed to batch 1 is run row by row.
    `input_name` picks the audio input (default: the first), `extra_inputs` feeds constant arrays to
    any others (e.g. `{"sr": np.array(16000)}`), and `output_name` picks an output (default: the first).

    Raises InvalidInputError for a missing or unloadable file, an unknown input or output name,
    `extra_inputs` that do not give exactly the other inputs, an audio input of another layout, or bad
    labels, rate, output or framing.
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
        input_name: str | None = None,
        output_name: str | None = None,
        extra_inputs: Mapping[str, np.ndarray] | None = None,
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
        inputs = {i.name: i for i in self.session.get_inputs()}
        self.input_name = _pick(input_name, list(inputs), "input", path)
        self.extra_inputs = {key: np.asarray(value) for key, value in (extra_inputs or {}).items()}
        missing = set(inputs) - {self.input_name} - set(self.extra_inputs)
        unknown = set(self.extra_inputs) - set(inputs)
        if missing or unknown:
            raise InvalidInputError(
                f"{path.name} takes inputs {list(inputs)}; audio goes to {self.input_name!r}, "
                f"extra_inputs must give exactly the others (missing {sorted(missing)}, unknown {sorted(unknown)})"
            )
        self.layout, fixed_length, self.batch_one = _audio_layout(inputs[self.input_name].shape, path)
        self.output_name = _pick(output_name, [o.name for o in self.session.get_outputs()], "output", path)
        self.path = path
        self.name = name or path.name
        super().__init__(list(labels), sample_rate, output, frame_length or fixed_length, hop, aggregate)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        feed = {"N L": batch, "N L 1": batch[:, :, None], "N 1 L": batch[:, None, :]}[self.layout]
        rows = [feed[i : i + 1] for i in range(len(feed))] if self.batch_one else [feed]
        outs = [self.session.run([self.output_name], {self.input_name: row, **self.extra_inputs})[0] for row in rows]
        return np.concatenate(outs)


def _pick(name: str | None, available: list[str], what: str, path: Path) -> str:
    if name is None:
        return available[0]
    if name not in available:
        raise InvalidInputError(f"{path.name} has no {what} {name!r}; it has {available}")
    return name


def _audio_layout(shape: list, path: Path) -> tuple[str, int | None, bool]:
    """Which axis of the audio input holds samples, its length if fixed, and whether batch is fixed to 1."""
    dims = [d if isinstance(d, int) else None for d in shape]
    batch_one = bool(dims) and dims[0] == 1
    if len(dims) == 2:
        return "N L", dims[1], batch_one
    if len(dims) == 3 and dims[2] == 1:
        return "N L 1", dims[1], batch_one
    if len(dims) == 3 and dims[1] == 1:
        return "N 1 L", dims[2], batch_one
    raise InvalidInputError(
        f"{path.name}: audio input has shape {shape}; expected [N, L], [N, L, 1] or [N, 1, L]"
    )
