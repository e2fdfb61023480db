"""Attack records, the perturbation metrics every record carries, and writing adversarial examples."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from .errors import InvalidInputError


def snr_db(original: np.ndarray, perturbed: np.ndarray) -> float:
    """Signal-to-noise ratio of a perturbation in dB (inf when nothing changed)."""
    change = np.sum(np.square(perturbed.astype(np.float64) - original))
    signal = np.sum(np.square(original.astype(np.float64)))
    if change == 0:
        return float("inf")
    return float(10 * np.log10(signal / change)) if signal > 0 else float("-inf")


def pcm16(signals: np.ndarray, sample_rate: int) -> np.ndarray:
    """What a 16-bit wav of each signal reads back as: written and read by libsndfile, in memory."""
    signals = np.atleast_2d(signals)
    out = np.empty_like(signals, dtype=np.float32)
    for i, signal in enumerate(signals):
        buffer = io.BytesIO()
        soundfile.write(buffer, np.clip(signal, -1, 1), sample_rate, subtype="PCM_16", format="WAV")
        buffer.seek(0)
        out[i] = soundfile.read(buffer, dtype="float32")[0]
    return out


@dataclass
class AttackResult:
    """One attack on one clip. `changed` counts what was altered, in `unit`s (frequencies, frames...).

    `adversarial` is the exact float32 signal (None when the attack failed); it is written as .npy, not
    kept in JSON. `survives_pcm16` says whether the flip survives a 16-bit wav round trip.
    """

    strategy: str
    success: bool
    queries: int
    changed: int | None
    unit: str
    mutation: Any
    snr_db: float | None
    l2: float | None
    linf: float | None
    label_before: str
    score_before: float
    label_after: str | None
    score_after: float | None
    survives_pcm16: bool | None
    adversarial: np.ndarray | None = field(default=None, repr=False)
    bins: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the signal, as plain JSON-ready values."""
        return {key: value for key, value in self.__dict__.items() if key != "adversarial"}


def measure(original: np.ndarray, adversarial: np.ndarray) -> dict[str, float]:
    """SNR (dB), L2 and Linf of the change from `original` to `adversarial`."""
    change = adversarial.astype(np.float64) - original
    return {
        "snr_db": snr_db(original, adversarial),
        "l2": float(np.sqrt(np.sum(np.square(change)))),
        "linf": float(np.max(np.abs(change))),
    }


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def save_adversarial(signal: np.ndarray, sample_rate: int, folder: str | Path, name: str) -> tuple[Path, Path]:
    """Write `signal` as float32 .npy (exact) and 16-bit .wav (for listening) inside `folder`.

    `name` is reduced to safe characters, so a clip or model name can never write outside `folder`.
    """
    folder = Path(folder).resolve()
    stem = _SAFE_NAME.sub("_", name).strip("._") or "adversarial"
    npy, wav = folder / f"{stem}.npy", folder / f"{stem}.wav"
    if npy.parent != folder:
        raise InvalidInputError(f"refusing to write {name!r} outside {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    np.save(npy, np.asarray(signal, dtype=np.float32), allow_pickle=False)
    soundfile.write(str(wav), np.clip(signal, -1, 1), sample_rate, subtype="PCM_16")
    return npy, wav
