"""Torch versions of Hugging Face feature extractors, so gradients flow from logits to the waveform.

Each mirrors the numpy extractor transformers uses here (no torchaudio), and a test checks they agree.
Extractors not listed make an HFTarget non-differentiable; predict() always uses the real extractor.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch

FeatureFunction = Callable[[torch.Tensor], dict[str, torch.Tensor]]

# transformers' AST numpy fbank: 25 ms Hann frames (400 samples), 10 ms hop (160), 512-point FFT.
_AST_FRAME, _AST_HOP, _AST_FFT, _AST_PREEMPHASIS, _AST_FLOOR = 400, 160, 512, 0.97, 1.192092955078125e-07


def _ast(extractor: Any, batch: torch.Tensor) -> dict[str, torch.Tensor]:
    """Kaldi-style log-mel fbank: per-frame DC removal, pre-emphasis, window, power, mel, log, pad, normalise."""
    frames = batch.double().unfold(1, _AST_FRAME, _AST_HOP)
    frames = frames - frames.mean(dim=-1, keepdim=True)
    frames = torch.cat([frames[..., :1] * (1 - _AST_PREEMPHASIS),
                        frames[..., 1:] - _AST_PREEMPHASIS * frames[..., :-1]], dim=-1)
    window = torch.as_tensor(extractor.window, dtype=torch.float64)
    power = torch.fft.rfft(frames * window, n=_AST_FFT).abs() ** 2
    mel = power @ torch.as_tensor(extractor.mel_filters, dtype=torch.float64)
    fbank = torch.log(torch.clamp(mel, min=_AST_FLOOR))
    missing = extractor.max_length - fbank.shape[1]
    fbank = torch.nn.functional.pad(fbank, (0, 0, 0, missing)) if missing > 0 else fbank[:, : extractor.max_length]
    if extractor.do_normalize:
        fbank = (fbank - extractor.mean) / (extractor.std * 2)
    return {"input_values": fbank.float()}


def _wav2vec2(extractor: Any, batch: torch.Tensor) -> dict[str, torch.Tensor]:
    """Raw waveform, each clip normalised to zero mean and unit variance when the extractor does so."""
    if extractor.do_normalize:
        batch = (batch - batch.mean(dim=1, keepdim=True)) / torch.sqrt(
            batch.var(dim=1, unbiased=False, keepdim=True) + 1e-7)
    return {"input_values": batch}


def torch_features(extractor: Any) -> FeatureFunction | None:
    """The torch mirror of `extractor` (ASTFeatureExtractor, Wav2Vec2FeatureExtractor), or None when there
    is none: a function from a float32 torch [B, T] batch to the model's keyword inputs, {"input_values":
    float32 tensor}, differentiable with respect to the batch."""
    kind = type(extractor).__name__
    if kind == "ASTFeatureExtractor" and hasattr(extractor, "mel_filters"):
        return partial(_ast, extractor)
    if kind == "Wav2Vec2FeatureExtractor":
        return partial(_wav2vec2, extractor)
    return None
