"""One clip in the frequency domain: its rfft bins and their Hz, and batched synthesis of edited spectra.

Every mutant the strategies send to a model is made here: keep or remove a set of bins (removal is the
neutral value: the bin is zeroed), or mutate selected bins. Synthesis is one vectorised irfft per batch.

`keep`, `remove` and `mutate` return signals. `edits` and `superposed` return `Mutants`: the same signals
known by what defines them, for the Oracle (oracle.Described), synthesised only when the model must see
them. A mutant's key is a SHA-1 of the clip's identity (a digest of its coefficients, length and rate,
taken once) and its edit: the kind (keep, remove, or a sum of kept sets in order) and the bin sets as
packed bit masks (M / 8 bytes), never the T samples. Equal keys mean equal float32 samples, and the edits
known to give equal samples share a key (a sum of one kept set on an empty context is that set kept;
every bin removed, or none kept, is exact silence, keyed as a raw silent signal); the same bins reached
another way (a superposition against one irfft) get another key, as their roundings differ. Synthesis is
float32 throughout (complex64 coefficients, float32 irfft and sums).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
import scipy.fft
import scipy.signal

from .errors import InvalidInputError
from .mutations.kinds import Amplitude
from .oracle import sample_key

# Rows per irfft call: pocketfft vectorises across rows from about 4 on; 16 bounds peak memory to 16 x M
# complex64 (31 MB for a 30 s clip at 16 kHz), small enough for the allocator to reuse rather than map afresh.
_SYNTH_CHUNK = 16
# Signals of kept bin sets that Pieces remembers for reuse (about 130 of a 30 s clip at 16 kHz).
PIECES_BYTES = 256 * 2**20


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


def set_digest(mask: np.ndarray) -> bytes:
    """A SHA-1 of one set of bins, bool [M], as a packed bit mask (M / 8 bytes): what a key says of the set."""
    return hashlib.sha1(np.packbits(mask).data, usedforsecurity=False).digest()


def _key(*parts: bytes) -> bytes:
    """One mutant's key: a SHA-1 of its length-prefixed parts (clip identity, edit kind, digests)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        digest.update(len(part).to_bytes(4, "little"))
        digest.update(part)
    return digest.digest()


def _sum_into(out: np.ndarray, signals: Sequence[np.ndarray]) -> None:
    """out (float32 [T]) = the float32 [T] `signals` added left to right, ((s0 + s1) + s2) + ..., in place."""
    if len(signals) == 1:
        np.copyto(out, signals[0])
        return
    np.add(signals[0], signals[1], out=out)
    for signal in signals[2:]:
        out += signal


@dataclass(frozen=True)
class Mutants:
    """K mutants of one clip, known by their edits and synthesised on demand (oracle.Described).

    `keys` holds one bytes per mutant (module docstring), `n_samples` is T, and `write(rows, out)` writes
    the float32 signals of the increasing int64 row indices `rows` [n] into `out`, float32 [n, T];
    `finite` says every signal is provably finite (Spectrum.bounded), so the oracle need not scan them.
    Build them with Spectrum.edits or .superposed, and join batches with `Mutants.join`.
    """

    keys: tuple[bytes, ...]
    n_samples: int
    write: Callable[[np.ndarray, np.ndarray], None] = field(repr=False, compare=False)
    finite: bool = False

    def __len__(self) -> int:
        return len(self.keys)

    def synthesize(self, rows: np.ndarray | None = None) -> np.ndarray:
        """float32 [n, T]: the signals of int row indices `rows` [n] in that order (all K when None)."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        out = np.empty((rows.size, self.n_samples), dtype=np.float32)
        if (order == np.arange(rows.size)).all():
            self.write(rows, out)
            return out
        self.write(rows[order], out)
        return out[np.argsort(order, kind="stable")]

    @classmethod
    def join(cls, batches: Sequence[Mutants]) -> Mutants:
        """The batches one after another, as one batch (each still synthesises its own rows, in place).
        Raises InvalidInputError for no batches or batches of different lengths T."""
        if not batches or len({batch.n_samples for batch in batches}) != 1:
            raise InvalidInputError("Mutants.join needs one or more batches of signals of one length")
        if len(batches) == 1:
            return batches[0]
        offsets = np.cumsum([0, *(len(batch) for batch in batches)])

        def write(rows: np.ndarray, out: np.ndarray) -> None:
            bounds = np.searchsorted(rows, offsets)
            for batch, start, lo, hi in zip(batches, offsets[:-1], bounds[:-1], bounds[1:]):
                if hi > lo:
                    batch.write(rows[lo:hi] - start, out[lo:hi])

        keys = tuple(key for batch in batches for key in batch.keys)
        return cls(keys, batches[0].n_samples, write, all(batch.finite for batch in batches))


class Pieces:
    """Signals of bin sets kept alone (one irfft each) and of left-to-right sums of them, remembered so a
    set or a context that recurs (met again in a later split or iteration) is synthesised or added once.
    Holds at most `max_bytes` of float32 [T] signals, the least recently used dropped first; the signals
    are read-only."""

    def __init__(self, spectrum: Spectrum, max_bytes: int = PIECES_BYTES) -> None:
        self.spectrum = spectrum
        self.capacity = max(1, max_bytes // (4 * spectrum.n_samples))
        self._signals: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.hits = 0

    def _remember(self, key: bytes, signal: np.ndarray) -> None:
        signal.flags.writeable = False
        self._signals[key] = signal
        self._signals.move_to_end(key)
        while len(self._signals) > self.capacity:
            self._signals.popitem(last=False)

    def get(self, digests: Sequence[bytes], masks: np.ndarray) -> list[np.ndarray]:
        """float32 [T] signals of the bin sets bool `masks` [n, M], whose set_digest values are `digests`:
        remembered ones reused, the others synthesised in one batched irfft."""
        missing = [i for i, digest in enumerate(digests) if digest not in self._signals and digest not in digests[:i]]
        self.hits += sum(digest in self._signals for digest in digests)
        fresh = self.spectrum.keep(masks[missing]) if missing else np.empty((0, self.spectrum.n_samples), np.float32)
        found = dict(zip((digests[i] for i in missing), fresh))
        found.update((digest, self._signals[digest]) for digest in digests if digest in self._signals)
        for digest in digests:  # only now: remembering one may drop another this call still needs
            self._remember(digest, found[digest])
        return [found[digest] for digest in digests]

    def sum(self, digests: Sequence[bytes], masks: np.ndarray) -> np.ndarray:
        """float32 [T]: the signals of the bin sets bool `masks` [n >= 1, M] (set_digest values `digests`)
        added left to right, ((s0 + s1) + s2) + ..., built on the longest prefix sum remembered (the same
        float32 samples however it is reached) and remembered in turn."""
        keys = [digests[0], *(_key(b"sum", *digests[: k + 1]) for k in range(1, len(digests)))]
        start = next((k for k in range(len(keys) - 1, 0, -1) if keys[k] in self._signals), 0)
        if start:
            self.hits += 1
            total = self._signals[keys[start]]
            self._signals.move_to_end(keys[start])
        else:
            total = self.get(digests[:1], masks[:1])[0]
        rest = self.get(digests[start + 1 :], masks[start + 1 :])
        if rest:
            summed = np.empty_like(total)
            _sum_into(summed, [total, *rest])
            total = summed
        self._remember(keys[-1], total)
        return total


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
        """Inverse rfft of `rows` spectra, built and transformed a chunk of rows at a time (one chunk: the
        irfft's own output, no copy)."""
        if rows <= _SYNTH_CHUNK:
            return self._irfft(coeffs_for(slice(0, rows)))
        out = np.empty((rows, self.n_samples), dtype=np.float32)
        for start in range(0, rows, _SYNTH_CHUNK):
            chunk = slice(start, min(start + _SYNTH_CHUNK, rows))
            out[chunk] = self._irfft(coeffs_for(chunk))
        return out

    def _irfft(self, coeffs: np.ndarray) -> np.ndarray:
        """float32 [n, T]: scipy.fft.irfft of complex [n, M] rows on every core (complex64 in, float32 out)."""
        signals = scipy.fft.irfft(coeffs, n=self.n_samples, axis=-1, workers=-1)
        return signals.astype(np.float32, copy=False)

    def synthesize(self, coeffs: np.ndarray) -> np.ndarray:
        """Batched inverse rfft to T samples: complex [K, M] (or [M]) -> float32 [K, T], 16 rows per irfft."""
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
        kept = self.keep(masks)
        return np.subtract(self.signal[None, :], kept, out=kept)

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

    @cached_property
    def bounded(self) -> bool:
        """Whether every signal keeping or removing sets of bins is finite, proven once: by the triangle
        inequality no sample of any of them exceeds B = (|X_0| + 2 sum_k |X_k|) / T, and B is finite and
        below 1e30, so even a superposition of a million sets (at most 1e6 x B) stays inside float32's
        range (3.4e38)."""
        total = np.abs(self.coeffs.astype(np.complex128)).sum()
        return bool(np.isfinite(total) and 2 * total / self.n_samples < 1e30)

    @cached_property
    def identity(self) -> bytes:
        """The clip's identity in mutant keys: a SHA-1 of its coefficients, length and rate (taken once)."""
        digest = hashlib.sha1(np.ascontiguousarray(self.coeffs).data, usedforsecurity=False)
        digest.update(np.array([self.n_samples, self.sample_rate], dtype=np.int64).data)
        return digest.digest()

    @cached_property
    def silence_key(self) -> bytes:
        """The key of every bin removed and of no bin kept: the clip minus itself, and the irfft of zeros,
        are T exact zeros, so they are keyed as the raw silent signal is (oracle.sample_key), and one
        answer serves all three."""
        return sample_key(np.zeros(self.n_samples, dtype=np.float32))

    def edits(self, masks: np.ndarray, sets: Sequence[int] | np.ndarray | None = None,
              removed: Sequence[bool] | np.ndarray | None = None) -> Mutants:
        """Mutants keeping or removing sets of bins: row r is the set `masks[sets[r]]` (bool [S, M] or [M])
        kept alone, or removed from the clip where `removed[r]`; by default each set once, kept. The same
        signals as keep and remove; a set several rows use is synthesised once. Raises InvalidInputError for
        masks that are not [S, M], or `sets` and `removed` that do not match."""
        masks = _as_masks(masks, self.n_bins)
        which = np.arange(len(masks)) if sets is None else np.asarray(sets, dtype=np.int64)
        gone = np.zeros(which.size, dtype=bool) if removed is None else np.asarray(removed, dtype=bool)
        if gone.shape != which.shape or which.ndim != 1 or not np.isin(which, np.arange(len(masks))).all():
            raise InvalidInputError(f"edits needs one set index in [0, {len(masks)}) and one removed flag per row")
        digests = [set_digest(mask) for mask in masks]
        full, empty = np.asarray(masks.all(axis=1)), ~np.asarray(masks.any(axis=1))
        silent = np.where(gone, full[which], empty[which])
        keys = tuple(
            self.silence_key if quiet else _key(self.identity, b"remove" if out else b"keep", digests[j])
            for j, out, quiet in zip(which, gone, silent)
        )
        reused = set(np.flatnonzero(np.bincount(which, minlength=len(masks)) > 1).tolist())
        shared: dict[int, np.ndarray] = {}

        def write(rows: np.ndarray, out: np.ndarray) -> None:
            needed = sorted(set(which[rows].tolist()) - shared.keys())
            kept: dict[int, np.ndarray] = {}
            for start in range(0, len(needed), _SYNTH_CHUNK):
                chunk = needed[start : start + _SYNTH_CHUNK]
                kept.update(zip(chunk, self.keep(masks[chunk])))
            shared.update((j, signal) for j, signal in kept.items() if j in reused)
            for i, row in enumerate(rows):
                j = int(which[row])
                signal = shared[j] if j in shared else kept[j]
                if gone[row]:
                    np.subtract(self.signal, signal, out=out[i])
                else:
                    out[i] = signal

        return Mutants(keys, self.n_samples, write, self.bounded)

    def whole(self) -> Mutants:
        """The clip itself as one mutant: every bin kept (the samples and key of keep(all bins))."""
        return self.edits(np.ones(self.n_bins, dtype=bool))

    def alias(self, bins: np.ndarray, mutation: BinMutation) -> bytes | None:
        """The key of the edit whose samples mutating `bins` (int [n] bin indices) with `mutation` gives, or
        None when no edit does: removal (Amplitude scale 0) of a set puts the same coefficients through the
        same irfft as keeping the rest (zeros of either sign aside), so the raw signal of an attack and
        that kept set share one cached answer (oracle.Oracle.classify's `aliases`)."""
        if not (isinstance(mutation, Amplitude) and mutation.scale == 0):
            return None
        rest = np.ones(self.n_bins, dtype=bool)
        rest[np.asarray(bins, dtype=np.int64)] = False
        return _key(self.identity, b"keep", set_digest(rest))

    def superposed(self, context: Sequence[np.ndarray], parts: Sequence[np.ndarray], combos: np.ndarray,
                   remove: bool = False, pieces: Pieces | None = None) -> Mutants:
        """Mutants keeping the `context` sets (int [n_i] bins each) plus the `parts` (int [n_j] bins each) that
        each row of bool `combos` [S, p] selects, or, with `remove`, the clip without them, by superposition
        (paper Alg. 1 l. 4: 2^p - 2 mutants from p irffts, not one irfft each): a row is the left-to-right float32 sum
        of the signals of its sets, each kept alone (one irfft), the context sets in order, then the selected
        parts in part order. Its key is that ordered list of sets, which fixes the rounding; so the sum is
        built from any earlier one it extends: the context's from the longest prefix `pieces` remembers
        (a child's context is its parent's plus some siblings), each row from the row without its last
        part (one add a row). Signals of sets and of contexts that recur are taken from `pieces`.
        Raises InvalidInputError for combos that are not [S, len(parts)] or select no part."""
        combos = np.asarray(combos, dtype=bool)
        if combos.ndim != 2 or combos.shape[1] != len(parts) or not combos.any(axis=1).all():
            raise InvalidInputError(
                f"combos must be bool [S, {len(parts)}], each row selecting a part, got {combos.shape}")
        leaves = [*context, *parts]
        sets = np.zeros((len(leaves), self.n_bins), dtype=bool)
        for i, leaf in enumerate(leaves):
            sets[i, leaf] = True
        digests = [set_digest(mask) for mask in sets]
        n_context, kind = len(context), b"remove" if remove else b"keep"
        chosen = [[*range(n_context), *(n_context + np.flatnonzero(combo)).tolist()] for combo in combos]
        keys = tuple(
            _key(self.identity, kind, digests[rows[0]]) if len(rows) == 1
            else _key(self.identity, kind + b"-sum", *(digests[j] for j in rows))
            for rows in chosen
        )
        # the row that is this row without its last part, when there is one (the sum it extends)
        shorter = {tuple(rows): r for r, rows in enumerate(chosen)}
        extends = [shorter.get(tuple(rows[:-1]), -1) for rows in chosen]
        signals: list[np.ndarray] = []

        def write(rows: np.ndarray, out: np.ndarray) -> None:
            if not signals:  # the parts' signals in order, then the context's sum (none when empty)
                store = pieces or Pieces(self, 0)
                signals.extend(store.get(digests[n_context:], sets[n_context:]))
                if n_context:
                    signals.append(store.sum(digests[:n_context], sets[:n_context]))
            written = {int(row): i for i, row in enumerate(rows)}
            for i, row in enumerate(rows):
                before = written.get(extends[row], i)
                if before < i:
                    np.add(out[before], signals[chosen[row][-1] - n_context], out=out[i])
                else:
                    _sum_into(out[i], ([signals[-1]] if n_context else [])
                              + [signals[j - n_context] for j in chosen[row][n_context:]])
            if remove:
                np.subtract(self.signal, out, out=out)

        return Mutants(keys, self.n_samples, write, self.bounded)

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
