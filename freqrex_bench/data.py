"""Clips in: reading audio files, checking a clip is usable, downmixing and resampling to a model's rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import soxr

from . import validation
from .errors import InvalidInputError

# Peak below which a clip is treated as silence (about -140 dBFS: below 24-bit PCM resolution).
SILENCE_PEAK = 1e-7
MAX_CHANNELS = 16


@dataclass(frozen=True)
class Clip:
    """A mono float32 clip at `sample_rate`, with what was done to get it there."""

    signal: np.ndarray
    sample_rate: int
    source_rate: int
    channels: int


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a wav/flac/ogg/mp3 file as float32 [T] or [T, channels], and its sample rate."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"audio file not found: {path}")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise InvalidInputError(f"cannot read {path} as audio: {exc}") from exc
    return data, int(rate)


def _to_mono(x: np.ndarray, downmix: bool) -> tuple[np.ndarray, int]:
    """Return a [T] clip and its channel count; channels are the short axis of a 2-D array."""
    if x.ndim == 1 or (x.ndim == 2 and 1 in x.shape):
        return x.reshape(-1), 1
    if x.ndim != 2:
        raise InvalidInputError(f"a clip must be [samples] or [samples, channels], got shape {x.shape}")
    channel_axis = 1 if x.shape[1] <= x.shape[0] else 0
    channels = x.shape[channel_axis]
    if channels > MAX_CHANNELS or x.shape[1 - channel_axis] <= MAX_CHANNELS:
        raise InvalidInputError(
            f"cannot tell samples from channels in a clip of shape {x.shape}; "
            f"pass [samples] or [samples, channels] with at most {MAX_CHANNELS} channels"
        )
    if not downmix:
        raise InvalidInputError(
            f"clip has {channels} channels (shape {x.shape}); pass mono audio or downmix=True"
        )
    return x.mean(axis=channel_axis), channels


def _as_float(x: np.ndarray) -> np.ndarray:
    """Float samples as they are; 8/16/32-bit PCM integers scaled to [-1, 1) (unsigned 8-bit re-centred)."""
    if np.issubdtype(x.dtype, np.floating):
        return x
    if x.dtype == np.uint8:
        return (x.astype(np.float32) - 128) / 128
    if x.dtype in (np.int8, np.int16, np.int32):
        return x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
    raise InvalidInputError(
        f"a clip must hold float samples or 8/16/32-bit PCM integers, got dtype {x.dtype}"
    )


def prepare_clip(
    signal: np.ndarray | str | Path,
    sample_rate: int | None,
    target_rate: int,
    downmix: bool = True,
) -> Clip:
    """Check a clip, downmix it and resample it (soxr) to `target_rate`.

    Raises InvalidInputError naming the problem for empty, NaN/inf, silent, ambiguous-shape or
    multi-channel (with downmix=False) clips, and for a missing or non-positive sample rate.
    `signal` may be a path to an audio file, whose own rate is then used (a different `sample_rate`
    is an error, not a silent reinterpretation).
    """
    if isinstance(signal, (str, Path)):
        path = signal
        signal, file_rate = load_audio(path)
        if sample_rate is not None and sample_rate != file_rate:
            raise InvalidInputError(
                f"{path} is {file_rate} Hz but sample_rate={sample_rate!r} was given; omit sample_rate for files"
            )
        sample_rate = file_rate
    rate = validation.sample_rate(sample_rate, "sample_rate")
    target_rate = validation.sample_rate(target_rate, "the target's sample_rate")
    x = _as_float(np.asarray(signal))
    if x.size == 0:
        raise InvalidInputError(f"clip is empty (shape {x.shape}): there is nothing to classify")
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.flatnonzero(bad.reshape(-1))[0])
        raise InvalidInputError(f"clip contains {int(bad.sum())} NaN or infinite samples (first at flat index {first})")
    x, channels = _to_mono(x.astype(np.float32), downmix)
    peak = float(np.abs(x).max())
    if peak < SILENCE_PEAK:
        raise InvalidInputError(
            f"clip is silent (peak |x| = {peak:.3g}): a model's decision on silence has no frequencies to explain"
        )
    if rate != target_rate:
        x = soxr.resample(x, rate, target_rate, quality="HQ").astype(np.float32)
    if x.size < 2:
        raise InvalidInputError(f"clip has {x.size} sample at {target_rate} Hz; need at least 2")
    return Clip(np.ascontiguousarray(x), target_rate, rate, channels)
