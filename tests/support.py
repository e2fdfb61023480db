"""Test helpers: where the real data and models are, and a known-answer model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import soundfile

from freqrex_bench.targets import CallableTarget

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
DEMO_MODEL = ROOT / "examples" / "models" / "fsdd-ast"
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def read(path: Path) -> tuple[np.ndarray, int]:
    signal, rate = soundfile.read(str(path), dtype="float32")
    return signal, rate


class PlantedBands:
    """A known-answer model: "present" iff the energy inside planted bands exceeds `fraction` of the
    clip's own band energy (half by default).

    The clip has loud tones outside the bands, so ranking bins by magnitude alone finds the wrong ones.
    """

    sample_rate = 8000
    bands = ((1000.0, 1200.0), (2500.0, 2600.0))

    def __init__(self, seed: int = 1, fraction: float = 0.5) -> None:
        n = self.sample_rate
        rng = np.random.default_rng(seed)
        self.hz = np.fft.rfftfreq(n, 1 / self.sample_rate)
        self.in_band = np.zeros(self.hz.size, dtype=bool)
        for lo, hi in self.bands:
            self.in_band |= (self.hz >= lo) & (self.hz < hi)
        noise = np.fft.rfft(0.02 * rng.standard_normal(n))
        noise[self.in_band] *= 0.5
        t = np.arange(n) / self.sample_rate
        tones = 0.5 * np.sin(2 * np.pi * 300 * t) + 0.4 * np.sin(2 * np.pi * 3300 * t)
        self.clip = (np.fft.irfft(noise, n) + tones).astype(np.float32)
        self.threshold = fraction * self.band_energy(self.clip[None])[0]
        self.target = CallableTarget(self, ["absent", "present"], self.sample_rate, name="planted-bands")

    def band_energy(self, batch: np.ndarray) -> np.ndarray:
        return np.square(np.abs(np.fft.rfft(batch, axis=1))[:, self.in_band]).sum(axis=1)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        present = 1 / (1 + np.exp(-10 * (self.band_energy(batch) / self.threshold - 1)))
        return np.stack([1 - present, present], axis=1)


def loudness_model(batch: np.ndarray) -> np.ndarray:
    """A known-answer model for any clip length: "loud" in proportion to RMS level against a fixed 0.05."""
    level = np.sqrt(np.mean(np.square(batch), axis=1))
    return np.stack([level, np.full_like(level, 0.05)], axis=1) / (level + 0.05)[:, None]


def peak_model(batch: np.ndarray) -> np.ndarray:
    """A known-answer model for any clip: "hot" when the peak exceeds 1.1 (so a clip peaking at 1.5 is hot
    as a float and not as a 16-bit wav, which clips it to 1.0)."""
    hot = (np.abs(batch).max(axis=1) > 1.1).astype(np.float32)
    return np.stack([1 - hot, hot], axis=1)
