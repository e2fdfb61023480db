"""HFTarget: a transformers audio-classification model, from a local folder or a Pipeline object.

For speed it runs the pipeline's own feature extractor and model on whole batches; its scores equal
`pipeline(x, top_k=None)` (a test asserts this). Nothing is fetched from a hub: folders load offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidInputError, TargetError
from .base import Aggregate, FramedTarget, Output
from .hf_features import torch_features
from .torchscript import torch_device

_OUTPUT_FOR_PROBLEM: dict[str, Output] = {"multi_label_classification": "multilabel-logits"}
_OUTPUT_FOR_FUNCTION: dict[str, Output] = {"softmax": "logits", "sigmoid": "multilabel-logits", "none": "probabilities"}


def _load_folder(path: Path) -> tuple[Any, Any]:
    """Load a feature extractor and model offline, without transformers' weight-loading progress bar."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification
    from transformers.utils import logging

    if not (path / "config.json").is_file():
        raise InvalidInputError(f"{path} is not a Hugging Face model folder (no config.json)")
    bar_was_on = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        extractor = AutoFeatureExtractor.from_pretrained(path, local_files_only=True)
        model = AutoModelForAudioClassification.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot load an audio-classification model from {path}: {exc}") from exc
    finally:
        if bar_was_on:
            logging.enable_progress_bar()
    return extractor, model


# transformers' numpy fbank (AST and similar extractors) frames audio in 400-sample windows.
_FBANK_WINDOW = 400


def shortest_input(extractor: Any, config: Any) -> int:
    """The fewest samples the model can classify: one fbank window (400 samples) for AST extractors, the
    receptive field of the convolutional feature encoder for raw-waveform models (wav2vec2, HuBERT),
    else 2 (the model pads short input itself)."""
    if hasattr(extractor, "mel_filters") and type(extractor).__name__ == "ASTFeatureExtractor":
        return _FBANK_WINDOW
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if kernels and strides:
        field = 1
        for kernel, stride in reversed(list(zip(kernels, strides))):
            field = (field - 1) * stride + kernel
        return field
    return 2


class HFTarget(FramedTarget):
    """A Hugging Face audio classifier. `model` is a local model folder or a transformers Pipeline.

    Labels come from the model config, the sample rate from its feature extractor, and the activation
    as the pipeline chooses it: its `function_to_apply` if set, else from `config.problem_type`
    (override with `output`). Features are cast to the model's dtype, as the pipeline does. Set
    `frame_length` and `hop` (samples) to score long clips in windows aggregated by `aggregate`, e.g.
    10 s windows for AST on 30 s music. `device` ("cpu" or "cuda") is where the model runs: features go
    there and scores come back to the CPU.

    Raises InvalidInputError for a folder that is not a loadable audio-classification model (offline),
    an object that is not a Pipeline, a model without a feature extractor, a regression model, or device
    "cuda" without a GPU.
    """

    def __init__(
        self,
        model: str | Path | Any,
        output: Output | None = None,
        frame_length: int | None = None,
        hop: int | None = None,
        aggregate: Aggregate = "mean",
        name: str | None = None,
        device: str = "cpu",
    ) -> None:
        self.device = torch_device(device)
        function = None
        if isinstance(model, (str, Path)):
            self.feature_extractor, self.model = _load_folder(Path(model))
            self.name = name or Path(model).name
        elif hasattr(model, "model") and hasattr(model, "feature_extractor"):
            self.feature_extractor, self.model = model.feature_extractor, model.model
            self.name = name or str(getattr(model.model, "name_or_path", "") or type(model.model).__name__)
            function = getattr(model, "_postprocess_params", {}).get("function_to_apply")
        else:
            raise InvalidInputError(
                f"HFTarget needs a model folder or a transformers Pipeline, got {type(model).__name__}"
            )
        if self.feature_extractor is None:
            raise InvalidInputError(f"{self.name} has no feature extractor; it is not an audio model")
        config = self.model.config
        if config.problem_type == "regression":
            raise InvalidInputError(f"{self.name} is a regression model; HFTarget needs a classifier")
        self.model.eval()
        if self.device.type != "cpu":
            self.model.to(self.device)
        labels = [config.id2label[i] for i in range(config.num_labels)]
        rate = int(self.feature_extractor.sampling_rate)
        chosen: Output = output or _OUTPUT_FOR_FUNCTION.get(str(function)) or _OUTPUT_FOR_PROBLEM.get(
            str(config.problem_type), "logits")
        super().__init__(labels, rate, chosen, frame_length, hop, aggregate)
        self._torch_features = torch_features(self.feature_extractor)
        if self.framing is None:
            self.min_samples = shortest_input(self.feature_extractor, config)

    @property
    def differentiable(self) -> bool:
        """Whether torch_predict can give gradients: the feature extractor has a torch mirror
        (hf_features: AST, Wav2Vec2)."""
        return self._torch_features is not None

    def _torch_forward(self, batch: torch.Tensor) -> torch.Tensor:
        if self._torch_features is None:
            raise TargetError(f"{self.name} has no torch version of its feature extractor")
        features = self._torch_features(batch)
        if self.device.type == "cpu":
            return self.model(**features).logits
        return self.model(**{key: value.to(self.device) for key, value in features.items()}).logits.to(batch.device)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        features = self.feature_extractor(
            list(batch), sampling_rate=self.sample_rate, return_tensors="pt"
        )
        features = features.to(self.model.dtype)
        if self.device.type != "cpu":
            features = features.to(self.device)
        with torch.inference_mode():
            logits = self.model(**features).logits
        return logits.float().cpu().numpy()
