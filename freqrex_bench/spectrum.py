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

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """Complex [n] coefficients at frequencies `hz` (float [n], Hz) -> the edited complex [n], elementwise."""
        ...


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
    """The rfft of one real mono clip (the paper's F(x), §2-3): the M = T // 2 + 1 bins strategies edit.

    `coeffs` is complex64 [M] (bin k is at `hz[k]` Hz), `n_samples` the clip length T in samples and
    `sample_rate` its rate in Hz. Build it with `from_signal`.
    """

    coeffs: np.ndarray
    n_samples: int
    sample_rate: int

    @classmethod
    def from_signal(cls, signal: np.ndarray, sample_rate: int) -> Spectrum:
        """The spectrum of a mono clip, float [T] (cast to float32), at `sample_rate` Hz: scipy.fft.rfft
        stored as complex64 [T // 2 + 1]; keep(all bins) reproduces the clip to float32 precision.

        Raises InvalidInputError for a clip that is not 1-D or has fewer than 2 samples.
        """
        x = np.asarray(signal, dtype=np.float32)
        if x.ndim != 1 or x.size < 2:
            raise InvalidInputError(f"Spectrum needs a mono clip of >= 2 samples, got shape {x.shape}")
        return cls(scipy.fft.rfft(x).astype(np.complex64), x.size, int(sample_rate))

    @property
    def n_bins(self) -> int:
        """M, the number of rfft bins (T // 2 + 1)."""
        return self.coeffs.size

    @cached_property
    def hz(self) -> np.ndarray:
        """float64 [M]: the centre frequency of every bin in Hz (k x sample_rate / T)."""
        return scipy.fft.rfftfreq(self.n_samples, d=1.0 / self.sample_rate)

    @cached_property
    def magnitude(self) -> np.ndarray:
        """float32 [M]: |X[k]| of every bin (breaks responsibility ties, loudest first)."""
        return np.abs(self.coeffs)

    @cached_property
    def signal(self) -> np.ndarray:
        """float32 [T]: the clip itself, resynthesised from all bins (what every change is measured against)."""
        return self.synthesize(self.coeffs[None, :])[0]

    def _synthesize_rows(self, rows: int, coeffs_for: Callable[[slice], np.ndarray]) -> np.ndarray:
        """Inverse rfft of `rows` spectra, built and transformed a chunk of rows at a time."""
        out = np.empty((rows, self.n_samples), dtype=np.float32)
        for start in range(0, rows, _SYNTH_CHUNK):
            chunk = slice(start, min(start + _SYNTH_CHUNK, rows))
            out[chunk] = scipy.fft.irfft(coeffs_for(chunk), n=self.n_samples, axis=-1, workers=-1)
        return out

    def synthesize(self, coeffs: np.ndarray) -> np.ndarray:
        """Batched inverse rfft to T samples: complex [K, M] (or [M]) -> float32 [K, T], 64 rows per irfft."""
        coeffs = np.atleast_2d(coeffs)
        return self._synthesize_rows(coeffs.shape[0], lambda chunk: coeffs[chunk])

    def keep(self, masks: np.ndarray) -> np.ndarray:
        """Signals holding only the masked bins, the others zeroed (removal is the neutral value, paper §4):
        bool [K, M] (or [M]) -> float32 [K, T]. Raises InvalidInputError for masks that are not [K, M]."""
        masks = _as_masks(masks, self.n_bins)
        return self._synthesize_rows(masks.shape[0], lambda chunk: np.where(masks[chunk], self.coeffs, 0))

    def remove(self, masks: np.ndarray) -> np.ndarray:
        """Signals with the masked bins zeroed (F(x) minus the set, paper Def. 3): the clip minus keep(masks),
        by linearity of the irfft. bool [K, M] (or [M]) -> float32 [K, T]; InvalidInputError as for keep."""
        return self.signal[None, :] - self.keep(masks)

    def keep_bins(self, bins: np.ndarray) -> np.ndarray:
        """float32 [T]: the signal of one set of bins kept alone; `bins` is int [n] bin indices in [0, M)."""
        mask = np.zeros(self.n_bins, dtype=bool)
        mask[np.asarray(bins, dtype=np.int64)] = True
        return self.keep(mask)[0]

    def mutate(self, masks: np.ndarray, mutation: BinMutation) -> np.ndarray:
        """Signals with `mutation` applied to the masked bins of each row, the other bins unchanged (paper
        Alg. 2 l. 6): bool [K, M] (or [M]) -> float32 [K, T]. The mutation sees all M coefficients (complex64)
        and their Hz at once. Raises InvalidInputError for masks that are not [K, M]."""
        masks = _as_masks(masks, self.n_bins)
        mutated = np.asarray(mutation.apply(self.coeffs, self.hz), dtype=np.complex64)
        return self._synthesize_rows(masks.shape[0], lambda chunk: np.where(masks[chunk], mutated, self.coeffs))

    def stft(self, frame_size: int, hop: int | None = None) -> STFTView:
        """A Hann-windowed STFT view of the clip (the paper's F_T, Alg. 3) for time-localised edits;
        `frame_size` and `hop` in samples (hop default frame_size // 4). Raises InvalidInputError for a
        frame size outside [2, T] or a hop outside [1, frame_size]."""
        return STFTView.of(self.signal, self.sample_rate, frame_size, hop)


@dataclass(frozen=True)
class STFTView:
    """STFT cells of one clip (the paper's F_T, Alg. 3) and the inverse that maps edited cells back to a clip.

    `cells` is complex128 [F, N] (F = frame_size // 2 + 1 bins, N frames), `hz` float64 [F] bin
    frequencies in Hz, `times` float64 [N] frame centres in seconds, `n_samples` the clip length T;
    `transform` is the scipy.signal.ShortTimeFFT used both ways.
    """

    cells: np.ndarray
    hz: np.ndarray
    times: np.ndarray
    n_samples: int
    transform: scipy.signal.ShortTimeFFT = field(repr=False)

    @classmethod
    def of(cls, signal: np.ndarray, sample_rate: int, frame_size: int, hop: int | None = None) -> STFTView:
        """The STFT of a float [T] `signal` at `sample_rate` Hz: periodic Hann frames of `frame_size` samples,
        `hop` samples apart (default frame_size // 4), FFT length frame_size.

        Raises InvalidInputError for a frame size outside [2, T] or a hop outside [1, frame_size].
        """
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
        """int64 [n]: the STFT bin (index into `hz`) nearest to each of `hz` (float [n], Hz); many Fourier
        bins may share one (paper Alg. 3 l. 2, F -> F')."""
        edges = (self.hz[1:] + self.hz[:-1]) / 2
        return np.searchsorted(edges, np.asarray(hz, dtype=float))

    def synthesize(self, cells: np.ndarray) -> np.ndarray:
        """Inverse STFT (paper Alg. 3 l. 6, F_T^-1) of complex [..., F, N] cells -> float32 [..., T], T the
        clip's own length."""
        return self.transform.istft(cells, k1=self.n_samples).astype(np.float32)
