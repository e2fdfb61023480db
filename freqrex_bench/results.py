"""Attack records, the perturbation metrics every record carries, and writing adversarial examples."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from .errors import InvalidInputError
from .status import Status


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

    `queries` are this strategy's own; `prior_queries` those of the strategies it builds on (causal
    discovery, the Fourier attack), so comparisons with baselines can count the whole cost.
    `adversarial` is the exact float32 signal (None when the attack failed); it is written as .npy, not
    kept in JSON. `survives_pcm16` says whether the flip survives a 16-bit wav round trip (None when
    unknown, or when the clip's own 16-bit copy already changes the decision). `status` says how the
    attack ended (freqrex_bench.status.Status), `success` is `status == Status.SUCCESS`.
    """

    strategy: str
    success: bool
    status: Status
    queries: int
    prior_queries: int
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
        """Everything but the signal, as strict-JSON values (no NaN or inf: those become None)."""
        return jsonable({key: value for key, value in self.__dict__.items() if key != "adversarial"})


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays unwrapped, non-finite floats None, keys strings."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(item) for item in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def measure(original: np.ndarray, adversarial: np.ndarray) -> dict[str, float]:
    """SNR (dB), L2 and Linf of the change from `original` to `adversarial`."""
    change = adversarial.astype(np.float64) - original
    return {
        "snr_db": snr_db(original, adversarial),
        "l2": float(np.sqrt(np.sum(np.square(change)))),
        "linf": float(np.max(np.abs(change))),
    }


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(name: str) -> str:
    """A file stem from any name: safe characters, at most ~100 long, and a short hash of the raw name
    so distinct names ("a/b", "a_b") never collide."""
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:8]
    readable = _SAFE_NAME.sub("_", name).strip("._")[:100]
    return f"{readable}-{digest}" if readable else digest


def save_adversarial(signal: np.ndarray, sample_rate: int, folder: str | Path, name: str) -> tuple[Path, Path]:
    """Write a mono `signal` as float32 .npy (exact) and 16-bit .wav (for listening) inside `folder`.

    The file names come from `safe_stem(name)`, so no name can write outside `folder`; existing
    symbolic links there are replaced, never followed.
    """
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise InvalidInputError(f"an adversarial example must be a mono [samples] array, got shape {signal.shape}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = safe_stem(name)
    npy, wav = folder / f"{stem}.npy", folder / f"{stem}.wav"
    for path in (npy, wav):
        if path.is_symlink():
            path.unlink()
    np.save(npy, signal, allow_pickle=False)
    soundfile.write(str(wav), np.clip(signal, -1, 1), sample_rate, subtype="PCM_16")
    return npy, wav
