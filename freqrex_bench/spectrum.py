"""One clip in the frequency domain: its rfft bins and their Hz, and batched synthesis of edited spectra.

Every mutant the strategies send to a model is made here: keep or remove a set of bins (removal is the
neutral value: the bin is zeroed), or mutate selected bins. Synthesis is one vectorised irfft per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import scipy.fft
import scipy.signal

from .errors import InvalidInputError

# Rows per irfft call: bounds peak memory to ~64 x M complex64 (123 MB for a 30 s clip at 16 kHz).
_SYNTH_CHUNK = 64


class BinMutation(Protocol):
    """Anything that edits complex coefficients given their frequencies (see freqrex_bench.mutations)."""

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray: ...


def _as_masks(masks: np.ndarray, n_bins: int) -> np.ndarray:
    """Coerce a [M] or [K, M] boolean mask to [K, M], checking its width."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim == 1:
        masks = masks[None, :]
    if masks.ndim != 2 or masks.shape[1] != n_bins:
        raise InvalidInputError(f"bin masks must have shape [K, {n_bins}], got {masks.shape}")
    return masks


@dataclass(frozen=True)
class Spectrum:
    """The rfft of one real clip. `coeffs[k]` is bin k, at `hz[k]` Hz."""

    coeffs: np.ndarray
    n_samples: int
    sample_rate: int

    @classmethod
    def from_signal(cls, signal: np.ndarray, sample_rate: int) -> Spectrum:
        """Transform a mono float clip; the result reproduces it (to float32 precision) via keep(all)."""
        x = np.asarray(signal, dtype=np.float32)
        if x.ndim != 1 or x.size < 2:
            raise InvalidInputError(f"Spectrum needs a mono clip of >= 2 samples, got shape {x.shape}")
        return cls(scipy.fft.rfft(x).astype(np.complex64), x.size, int(sample_rate))

    @property
    def n_bins(self) -> int:
        return self.coeffs.size

    @cached_property
    def hz(self) -> np.ndarray:
        """Centre frequency of every bin in Hz."""
        return scipy.fft.rfftfreq(self.n_samples, d=1.0 / self.sample_rate)

    @cached_property
    def magnitude(self) -> np.ndarray:
        return np.abs(self.coeffs)

    @cached_property
    def signal(self) -> np.ndarray:
        """The clip itself, resynthesised from all bins."""
        return self.synthesize(self.coeffs[None, :])[0]

    def _synthesize_rows(self, rows: int, coeffs_for: Callable[[slice], np.ndarray]) -> np.ndarray:
        """Inverse rfft of `rows` spectra, built and transformed a chunk of rows at a time."""
        out = np.empty((rows, self.n_samples), dtype=np.float32)
        for start in range(0, rows, _SYNTH_CHUNK):
            chunk = slice(start, min(start + _SYNTH_CHUNK, rows))
            out[chunk] = scipy.fft.irfft(coeffs_for(chunk), n=self.n_samples, axis=-1, workers=-1)
        return out

    def synthesize(self, coeffs: np.ndarray) -> np.ndarray:
        """Batched inverse rfft: complex [K, M] -> float32 [K, T]."""
        coeffs = np.atleast_2d(coeffs)
        return self._synthesize_rows(coeffs.shape[0], lambda chunk: coeffs[chunk])

    def keep(self, masks: np.ndarray) -> np.ndarray:
        """Signals holding only the masked bins: [K, M] bool -> [K, T]."""
        masks = _as_masks(masks, self.n_bins)
        return self._synthesize_rows(masks.shape[0], lambda chunk: np.where(masks[chunk], self.coeffs, 0))

    def remove(self, masks: np.ndarray) -> np.ndarray:
        """Signals with the masked bins zeroed: the clip minus keep(masks), by linearity of the irfft."""
        return self.signal[None, :] - self.keep(masks)

    def keep_bins(self, bins: np.ndarray) -> np.ndarray:
        """The signal of one set of bin indices."""
        mask = np.zeros(self.n_bins, dtype=bool)
        mask[np.asarray(bins, dtype=np.int64)] = True
        return self.keep(mask)[0]

    def mutate(self, masks: np.ndarray, mutation: BinMutation) -> np.ndarray:
        """Signals with `mutation` applied to the masked bins of each row: [K, M] bool -> [K, T]."""
        masks = _as_masks(masks, self.n_bins)
        mutated = np.asarray(mutation.apply(self.coeffs, self.hz), dtype=np.complex64)
        return self._synthesize_rows(masks.shape[0], lambda chunk: np.where(masks[chunk], mutated, self.coeffs))

    def stft(self, frame_size: int, hop: int | None = None) -> STFTView:
        """A Hann-windowed STFT view of the clip for time-localised edits."""
        return STFTView.of(self.signal, self.sample_rate, frame_size, hop)


@dataclass(frozen=True)
class STFTView:
    """STFT cells of one clip, `cells[f, t]`, and the inverse that maps edited cells back to a clip."""

    cells: np.ndarray
    hz: np.ndarray
    times: np.ndarray
    n_samples: int
    transform: scipy.signal.ShortTimeFFT = field(repr=False)

    @classmethod
    def of(cls, signal: np.ndarray, sample_rate: int, frame_size: int, hop: int | None = None) -> STFTView:
        if frame_size < 2 or frame_size > signal.size:
            raise InvalidInputError(
                f"STFT frame size must be in [2, {signal.size}] samples, got {frame_size}"
            )
        hop = frame_size // 4 if hop is None else hop
        if not 0 < hop <= frame_size:
            raise InvalidInputError(f"STFT hop must be in [1, {frame_size}], got {hop}")
        window = scipy.signal.windows.hann(frame_size, sym=False)
        transform = scipy.signal.ShortTimeFFT(window, hop=hop, fs=sample_rate, mfft=frame_size)
        cells = transform.stft(np.asarray(signal, dtype=np.float64))
        times = transform.t(signal.size)
        return cls(cells, transform.f, times, signal.size, transform)

    def nearest_bins(self, hz: np.ndarray) -> np.ndarray:
        """Index of the STFT bin nearest to each frequency (many Fourier bins may share one)."""
        edges = (self.hz[1:] + self.hz[:-1]) / 2
        return np.searchsorted(edges, np.asarray(hz, dtype=float))

    def synthesize(self, cells: np.ndarray) -> np.ndarray:
        """Inverse STFT of [..., F, frames] cells -> float32 [..., T]."""
        return self.transform.istft(cells, k1=self.n_samples).astype(np.float32)
