"""Perturbation metrics, in one place: SNR, L2, Linf, the 16-bit wav round trip, and SNR from a spectrum.

Every strategy and report reads these, so "SNR" means the same everywhere: the clip's energy over the
change's energy, in dB (higher = a subtler change).
"""

from __future__ import annotations

import io

import numpy as np
import soundfile


def snr_db(original: np.ndarray, perturbed: np.ndarray) -> float:
    """SNR of the change from `original` to `perturbed` (float [T] arrays, same length), in dB.

    10 log10(sum original^2 / sum (perturbed - original)^2); inf when nothing changed, -inf when the
    original is silent but the change is not.
    """
    change = float(np.sum(np.square(perturbed.astype(np.float64) - original)))
    signal = float(np.sum(np.square(original.astype(np.float64))))
    if change == 0:
        return float("inf")
    return float(10 * np.log10(signal / change)) if signal > 0 else float("-inf")


def snr_of_energy(signal_energy: float, change_energy: np.ndarray | float) -> np.ndarray | float:
    """SNR in dB of changes with the given energies (sum of squared samples) on a clip of `signal_energy`;
    inf for a zero change. Vectorised: float64 with the shape of `change_energy` (e.g. [n])."""
    with np.errstate(divide="ignore"):
        return 10 * np.log10(signal_energy / np.asarray(change_energy, dtype=np.float64))


def energy_for_snr(signal_energy: float, snr: float) -> float:
    """The energy (sum of squared samples) of a change that has `snr` dB against `signal_energy`."""
    return signal_energy / 10 ** (snr / 10)


def measure(original: np.ndarray, perturbed: np.ndarray) -> dict[str, float]:
    """`snr_db` (dB), `l2` and `linf` (in sample units, full scale 1.0) of the change from `original` to
    `perturbed` (float [T] arrays, same length), computed in float64."""
    change = perturbed.astype(np.float64) - original
    return {
        "snr_db": snr_db(original, perturbed),
        "l2": float(np.sqrt(np.sum(np.square(change)))),
        "linf": float(np.max(np.abs(change))),
    }


def pcm16(signals: np.ndarray, sample_rate: int) -> np.ndarray:
    """What a 16-bit wav of each signal reads back as: float [T] or [K, T] -> float32 [K, T]; `sample_rate`
    (Hz) only goes into the header.

    Written and read by libsndfile in memory, exactly as a user's file would be: samples beyond
    full scale are clipped, and libsndfile rounds toward minus infinity.
    """
    signals = np.atleast_2d(signals)
    out = np.empty_like(signals, dtype=np.float32)
    for i, signal in enumerate(signals):
        buffer = io.BytesIO()
        soundfile.write(buffer, np.clip(signal, -1, 1), sample_rate, subtype="PCM_16", format="WAV")
        buffer.seek(0)
        out[i] = soundfile.read(buffer, dtype="float32")[0]
    return out


def spectral_change_energy(coeffs: np.ndarray, mutated: np.ndarray, bins: np.ndarray, n_bins: int,
                           n_samples: int) -> np.ndarray:
    """Time-domain energy of changing rfft bins `bins` from `coeffs` to `mutated` ([n] each), cumulatively
    over the first 1..n of them, by Parseval: float64 [n].

    The DC and (even-length) Nyquist bins are real in any real signal: irfft keeps only the real part of
    whatever a mutation makes of them, and they count once, the other bins twice.
    """
    coeffs = coeffs.astype(np.complex128)
    mutated = mutated.astype(np.complex128)
    edge = (bins == 0) | ((bins == n_bins - 1) & (n_samples % 2 == 0))
    mutated = np.where(edge, mutated.real, mutated)
    weights = np.where(edge, 1.0, 2.0) / n_samples
    return np.cumsum(np.abs(mutated - coeffs) ** 2 * weights)


def l2_for_snr(signal_l2: float, snr: float) -> float:
    """The L2 norm of a change that has `snr` dB against a signal of L2 norm `signal_l2`."""
    return signal_l2 * 10 ** (-snr / 20)
