"""Writing arrays and audio inside a folder, under names no model label or clip name can turn into a
path outside it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import soundfile

from .errors import InvalidInputError

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_stem(name: str) -> str:
    """A file stem from any name: safe characters (letters, digits, `.`, `_`, `-`), at most ~100 long,
    and an 8-hex-digit hash of the raw name so distinct names ("a/b", "a_b") never collide."""
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:8]
    readable = _SAFE_NAME.sub("_", name).strip("._")[:100]
    return f"{readable}-{digest}" if readable else digest


def fresh_path(path: Path) -> Path:
    """`path` with its folder made and any symbolic link at it removed, so writing never follows a link."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    return path


def write_wav(path: Path, signal: np.ndarray, sample_rate: int) -> Path:
    """A mono float signal ([T]) as a 16-bit PCM wav (clipped to [-1, 1]) at `sample_rate` Hz at `path`
    (its folder made, a link there replaced); returns `path`."""
    soundfile.write(str(fresh_path(path)), np.clip(signal, -1, 1), sample_rate, subtype="PCM_16")
    return path


def save_adversarial(signal: np.ndarray, sample_rate: int, folder: str | Path, name: str) -> tuple[Path, Path]:
    """Write a mono `signal` ([T]) as float32 .npy (exact) and 16-bit .wav at `sample_rate` Hz (for
    listening) inside `folder`; returns the (.npy, .wav) paths.

    The file names come from `safe_stem(name)`, so no name can write outside `folder`; existing symbolic
    links there are replaced, never followed. Raises InvalidInputError for a signal that is not [T].
    """
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise InvalidInputError(f"an adversarial example must be a mono [samples] array, got shape {signal.shape}")
    stem = safe_stem(name)
    npy = fresh_path(Path(folder) / f"{stem}.npy")
    np.save(npy, signal, allow_pickle=False)
    return npy, write_wav(Path(folder) / f"{stem}.wav", signal, sample_rate)
