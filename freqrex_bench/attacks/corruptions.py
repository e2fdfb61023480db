"""Corruption robustness (the ImageNet-C idea, Hendrycks and Dietterich 2019, for audio): does a model's
decision survive everyday corruptions of its input, and how fast does it give way as they get worse?

Every corruption has five severities with fixed, documented parameters, and is built on `audiomentations`
(0.43; its transforms are used, not reimplemented) or, for the codecs, on libsndfile's own encoders
through `soundfile`. The `corruptions` strategy applies the chosen corruptions at the chosen severities
to each clip, classifies every corrupted version of the clip in one oracle batch, and records per
corruption and severity what was applied, the decision and the score of the clip's own class.

The catalogue (`x` is the clip at the target's rate, T samples; every output has T samples):

| corruption | severity 1, 2, 3, 4, 5 | how (audiomentations transform, or codec) |
|---|---|---|
| `gaussian-noise` | SNR 30, 20, 10, 5, 0 dB | white Gaussian noise (AddGaussianSNR) |
| `background-noise` | SNR 20, 15, 10, 5, 0 dB | a seeded `noise_paths` clip at a seeded offset (AddBackgroundNoise) |
| `gain-down` | -6, -12, -18, -24, -30 dB | quieter (Gain) |
| `gain-up` | +6, +12, +18, +24, +30 dB | louder, then clipped to [-1, 1] (Gain, Clip) |
| `clipping` | 2, 4, 8, 16, 32% of samples | the loudest clipped, half at each end (ClippingDistortion) |
| `time-shift` | 5, 10, 20, 30, 40% of T | later or earlier (seeded), zero-filled, 5 ms fade (Shift) |
| `low-pass` | cutoff 3500, 3000, 2000, 1500, 1000 Hz | Butterworth, 24 dB/octave, zero phase (LowPassFilter) |
| `high-pass` | cutoff 250, 500, 1000, 1500, 2000 Hz | as low-pass (HighPassFilter) |
| `band-pass` | 100-3500, 300-3400, 500-3000, 700-2500, 1000-2000 Hz | as low-pass (BandPassFilter); 2 is telephone |
| `pitch-shift` | 1, 2, 3, 4, 6 semitones | up or down (seeded), length kept (PitchShift, signalsmith) |
| `time-stretch` | speed x or / 1.05, 1.1, 1.2, 1.3, 1.5 | faster or slower (seeded), cropped or padded (TimeStretch) |
| `resample` | rate / 1.5, 2, 3, 4, 6 | down to that rate and back up (Resample twice, soxr_hq) |
| `quantization` | 16, 12, 10, 8, 6 bits | rounded to steps of 1 / (2^(bits-1) + 1), no dither (BitCrush) |
| `mp3` | 64, 48, 32, 24, 16 kbps | MPEG Layer III constant-bitrate round trip (libsndfile with LAME) |
| `ogg-vorbis` | compression 0.2, 0.4, 0.6, 0.8, 1.0 | Ogg Vorbis round trip (libsndfile level: 0 best, 1 smallest) |
| `reverb` | RT60 0.2, 0.4, 0.6, 0.9, 1.2 s; DRR +10, +5, 0, -3, -6 dB | a shipped room IR (ApplyImpulseResponse) |

Details that decide results:

- SNRs are against the whole clip: 10 log10(sum x^2 / sum noise^2), silence included.
- Filter cutoffs at or above the Nyquist frequency are capped to 0.9999 x Nyquist by audiomentations, so at
  8 kHz `low-pass` severity 1 (3500 Hz) acts but a 4 kHz cutoff would leave the clip as it was; a band-pass
  whose lower edge is at or above Nyquist cannot be applied (the row records why).
- MP3 bitrates are clamped to what the MPEG version for the rate allows (MPEG-1 at 32-48 kHz: 32-320
  kbps, so severities 4 and 5 both encode at 32 kbps there; MPEG-2 at 16-24 kHz: 8-160; MPEG-2.5 at 8-12
  kHz: 8-64). Other rates have no MP3 mode: those rows record why instead of a decision. A stream too small
  to carry LAME's gapless header (low bitrates) decodes with the codec's delay in front: the delay is
  measured once per setting on a seeded probe signal and cut off, so the decoded clip lines up with x.
- `reverb` impulse responses are freqrex_bench/data/impulse_responses/room-<severity>.wav (made by
  examples/make_impulse_responses.py; README there). ApplyImpulseResponse scales its output to a peak of
  0.5; the output is then rescaled to x's RMS so reverberation is not also a gain change.
- Seeds: each (clip seed, corruption, severity) has its own seed, `corruption_seed`, which seeds Python's
  and numpy's global generators for audiomentations (their states are restored afterwards) and a numpy
  Generator for the directions (`time-shift`, `pitch-shift`, `time-stretch`). Not thread-safe: two threads
  corrupting at once would share the global generators.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import io
import os
import random
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.signal
import soundfile
import soxr
from pydantic import Field, field_validator, model_validator

from ..data import AUDIO_SUFFIXES
from ..errors import InvalidInputError
from ..metrics import snr_db
from ..serialization import jsonable
from ..strategy import Context, Parameters, Strategy, register
from .settings import AttackSettings

SEVERITIES = (1, 2, 3, 4, 5)
IMPULSE_RESPONSES = Path(__file__).resolve().parents[1] / "data" / "impulse_responses"
ROOMS = ((0.2, 10.0), (0.4, 5.0), (0.6, 0.0), (0.9, -3.0), (1.2, -6.0))  # RT60 (s), DRR (dB) of room-1..5.wav
FILTER_ROLLOFF_DB = 24  # per octave, zero phase (a 2nd-order Butterworth run forwards and backwards)
SHIFT_FADE_S = 0.005
# Sample rates (Hz) MPEG Layer III has a mode for, with the (lowest, highest) CBR bitrate in kbps there.
MP3_BITRATES = {8000: (8, 64), 11025: (8, 64), 12000: (8, 64), 16000: (8, 160), 22050: (8, 160),
                24000: (8, 160), 32000: (32, 320), 44100: (32, 320), 48000: (32, 320)}


class CorruptionNotApplicable(InvalidInputError):
    """A corruption that cannot be applied to this clip at this sample rate (an MP3 round trip at a rate
    MPEG has no mode for, a band-pass whose band starts above Nyquist); the strategy records the reason in
    the row instead of a decision."""


@dataclass
class Materials:
    """What a corruption may draw on: `rng`, a numpy Generator seeded by the corruption's seed (for
    directions), and `noise_files`, the background noise clips (absolute paths) with `names`, how records
    name them (relative to the suite folder when inside it)."""

    rng: np.random.Generator
    noise_files: tuple[Path, ...] = ()
    names: dict[str, str] = field(default_factory=dict)

    def sign(self) -> int:
        """+1 or -1, drawn from `rng` (later/earlier, up/down, faster/slower)."""
        return int(self.rng.choice([-1, 1]))


Apply = Callable[[np.ndarray, int, Any, Materials], tuple[np.ndarray, dict[str, Any]]]


@dataclass(frozen=True)
class Corruption:
    """One entry of the catalogue: `name`, what it does (`description`), its `levels` (severity s uses
    levels[s - 1]), `setting(level)` (how a level reads in records and the report), and `apply(x, rate,
    level, materials) -> (float [T], what was applied)`. `needs_noise`: only with background noise clips."""

    name: str
    description: str
    levels: tuple[Any, ...]
    setting: Callable[[Any], str]
    apply: Apply
    needs_noise: bool = False


MISSING = ("the corruptions strategy needs the Python package 'audiomentations'; install it with: "
           "pip install 'freqrex-bench[corruptions]'")


def _audiomentations() -> Any:
    """The audiomentations module (imported on first use: it is an optional extra), or InvalidInputError
    saying how to install it."""
    try:
        import audiomentations
    except ModuleNotFoundError:
        raise InvalidInputError(MISSING) from None
    return audiomentations


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    """y cropped or zero-padded at the end to n samples, float32."""
    out = np.zeros(n, dtype=np.float32)
    out[: min(n, y.size)] = y[:n]
    return out


def _gaussian_noise(x: np.ndarray, rate: int, snr: float, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    transform = _audiomentations().AddGaussianSNR(min_snr_db=snr, max_snr_db=snr, p=1.0)
    y = transform(x, rate)
    return y, {"transform": "AddGaussianSNR", "snr_db": snr, "noise_std": transform.parameters["noise_std"]}


def _background_noise(x: np.ndarray, rate: int, snr: float, materials: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    if not materials.noise_files:
        raise InvalidInputError("background-noise needs noise clips: give the corruptions strategy noise_paths")
    transform = _audiomentations().AddBackgroundNoise(
        sounds_path=[str(path) for path in materials.noise_files], min_snr_db=snr, max_snr_db=snr,
        noise_rms="relative", p=1.0)
    y = transform(x, rate)
    chosen = transform.parameters["noise_file_path"]
    return y, {"transform": "AddBackgroundNoise", "snr_db": snr, "noise_file": materials.names.get(chosen, chosen),
               "noise_sha256": _sha256(chosen), "offset_s": transform.parameters["offset"]}


@lru_cache(maxsize=256)
def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gain(clip: bool) -> Apply:
    def apply(x: np.ndarray, rate: int, db: float, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
        am = _audiomentations()
        y = am.Gain(min_gain_db=db, max_gain_db=db, p=1.0)(x, rate)
        if not clip:
            return y, {"transform": "Gain", "gain_db": db}
        clipped = float(np.mean(np.abs(y) > 1.0))
        return am.Clip(a_min=-1.0, a_max=1.0, p=1.0)(y, rate), {
            "transform": "Gain, Clip", "gain_db": db, "clip": [-1.0, 1.0], "clipped_fraction": clipped}
    return apply


def _clipping(x: np.ndarray, rate: int, percent: int, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    transform = _audiomentations().ClippingDistortion(min_percentile_threshold=percent,
                                                      max_percentile_threshold=percent, p=1.0)
    y = transform(x, rate)
    return y, {"transform": "ClippingDistortion", "percentile_threshold": percent,
               "clipped_fraction": float(np.mean(y != x))}


def _time_shift(x: np.ndarray, rate: int, share: float, materials: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    shift = materials.sign() * share
    transform = _audiomentations().Shift(min_shift=shift, max_shift=shift, shift_unit="fraction", rollover=False,
                                         fade_duration=SHIFT_FADE_S, p=1.0)
    return transform(x, rate), {"transform": "Shift", "shift_fraction": shift,
                                "shift_samples": int(round(shift * x.size)), "rollover": False,
                                "fade_s": SHIFT_FADE_S}


def _cap(hz: float, rate: int) -> float:
    """A cutoff as audiomentations applies it: capped to 0.9999 x Nyquist (rate // 2)."""
    return hz if hz <= rate // 2 else 0.9999 * (rate // 2)


def _pass_filter(kind: str) -> Apply:
    def apply(x: np.ndarray, rate: int, cutoff: float, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
        cls = getattr(_audiomentations(), kind)
        transform = cls(min_cutoff_freq=cutoff, max_cutoff_freq=cutoff, min_rolloff=FILTER_ROLLOFF_DB,
                        max_rolloff=FILTER_ROLLOFF_DB, zero_phase=True, p=1.0)
        y = transform(x, rate)
        applied = _cap(transform.parameters["cutoff_freq"], rate)
        return y, {"transform": kind, "cutoff_hz": cutoff, "applied_cutoff_hz": applied,
                   "rolloff_db_per_octave": FILTER_ROLLOFF_DB, "zero_phase": True}
    return apply


def _band_pass(x: np.ndarray, rate: int, band: tuple[float, float], _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    low, high = band
    if low >= rate // 2:
        raise CorruptionNotApplicable(f"the band {low:g}-{high:g} Hz starts above the Nyquist frequency "
                                      f"({rate // 2} Hz at {rate} Hz)")
    centre, width = (low + high) / 2, (high - low) / ((low + high) / 2)
    transform = _audiomentations().BandPassFilter(
        min_center_freq=centre, max_center_freq=centre, min_bandwidth_fraction=width, max_bandwidth_fraction=width,
        min_rolloff=FILTER_ROLLOFF_DB, max_rolloff=FILTER_ROLLOFF_DB, zero_phase=True, p=1.0)
    y = transform(x, rate)
    centre, bandwidth = transform.parameters["center_freq"], transform.parameters["bandwidth"]
    return y, {"transform": "BandPassFilter", "band_hz": [low, high],
               "applied_band_hz": [centre - bandwidth / 2, _cap(centre + bandwidth / 2, rate)],
               "rolloff_db_per_octave": FILTER_ROLLOFF_DB, "zero_phase": True}


def _pitch_shift(x: np.ndarray, rate: int, semitones: float, materials: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    shift = materials.sign() * semitones
    transform = _audiomentations().PitchShift(min_semitones=shift, max_semitones=shift, method="signalsmith_stretch",
                                              p=1.0)
    return transform(x, rate), {"transform": "PitchShift", "semitones": shift, "method": "signalsmith_stretch"}


def _time_stretch(x: np.ndarray, rate: int, factor: float, materials: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    speed = factor if materials.sign() > 0 else 1 / factor
    transform = _audiomentations().TimeStretch(min_rate=speed, max_rate=speed, leave_length_unchanged=True,
                                               method="signalsmith_stretch", p=1.0)
    return transform(x, rate), {"transform": "TimeStretch", "rate": speed, "method": "signalsmith_stretch",
                                "length": "cropped or zero-padded to the clip's"}


def _resample(x: np.ndarray, rate: int, factor: float, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    am = _audiomentations()
    low = max(1, int(round(rate / factor)))
    down = am.Resample(min_sample_rate=low, max_sample_rate=low, p=1.0)(x, rate)
    up = am.Resample(min_sample_rate=rate, max_sample_rate=rate, p=1.0)(np.asarray(down, dtype=np.float32), low)
    return _fit(np.asarray(up, dtype=np.float32), x.size), {"transform": "Resample, Resample", "factor": factor,
                                                             "intermediate_rate": low}


def _quantization(x: np.ndarray, rate: int, bits: int, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    transform = _audiomentations().BitCrush(min_bit_depth=bits, max_bit_depth=bits, p=1.0)
    return transform(x, rate), {"transform": "BitCrush", "bits": bits, "step": 1 / (2 ** (bits - 1) + 1)}


Options = tuple[tuple[str, Any], ...]  # soundfile.write keywords, hashable (codec_delay caches by them)


def _encode(x: np.ndarray, rate: int, codec: tuple[str, str], options: Options) -> tuple[np.ndarray, int]:
    """x written with libsndfile in memory as `codec` (format, subtype) with `options` and read back:
    (the decoded float32 signal at `rate`, the encoded size in bytes)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, x, rate, format=codec[0], subtype=codec[1], **dict(options))
    size = buffer.tell()
    buffer.seek(0)
    decoded, decoded_rate = soundfile.read(buffer, dtype="float32", always_2d=True)
    decoded = decoded.mean(axis=1)
    if decoded_rate != rate:
        decoded = soxr.resample(decoded, decoded_rate, rate).astype(np.float32)
    return decoded, size


@lru_cache(maxsize=128)
def codec_delay(rate: int, codec: tuple[str, str], options: Options) -> int:
    """Samples (>= 0) by which a libsndfile round trip of `codec` with `options` at `rate` Hz delays the
    signal: 0 when the stream carries gapless information, the encoder and decoder delay when it does not
    (MP3 at low bitrates). Measured on a seeded probe (1 s of noise band-limited to a tenth of the rate) as
    the lag of the decoded stream's cross-correlation peak, and cached per setting."""
    probe_rng = np.random.default_rng(20240611)
    spectrum = np.fft.rfft(probe_rng.standard_normal(rate))
    spectrum[int(0.1 * spectrum.size):] = 0
    probe = (0.3 * np.fft.irfft(spectrum, rate) / np.max(np.abs(np.fft.irfft(spectrum, rate)))).astype(np.float32)
    decoded, _ = _encode(probe, rate, codec, options)
    decoded = np.pad(decoded, (0, max(0, probe.size - decoded.size)))
    return int(np.argmax(scipy.signal.correlate(decoded, probe, mode="valid", method="fft")))


def _round_trip(x: np.ndarray, rate: int, codec: tuple[str, str], options: Options,
                ) -> tuple[np.ndarray, dict[str, Any]]:
    decoded, size = _encode(x, rate, codec, options)
    delay = codec_delay(rate, codec, options)
    return _fit(decoded[delay:], x.size), {"encoded_bytes": size, "decoder_delay_samples": delay,
                                           "decoded_samples": decoded.size}


def _mp3(x: np.ndarray, rate: int, kbps: int, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    if rate not in MP3_BITRATES:
        raise CorruptionNotApplicable(f"MPEG Layer III has no {rate} Hz mode (it takes {sorted(MP3_BITRATES)} Hz)")
    lowest, highest = MP3_BITRATES[rate]
    used = min(max(kbps, lowest), highest)
    level = min((highest - used) / (highest - lowest), 0.999)  # libsndfile maps level linearly onto the range
    y, measured = _round_trip(x, rate, ("MP3", "MPEG_LAYER_III"),
                              (("compression_level", level), ("bitrate_mode", "CONSTANT")))
    return y, {"codec": "MP3 (libsndfile, MPEG Layer III, LAME)", "kbps": kbps, "encoded_at_kbps": used,
               "compression_level": level, "bitrate_mode": "CONSTANT", **measured}


def _ogg_vorbis(x: np.ndarray, rate: int, level: float, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    y, measured = _round_trip(x, rate, ("OGG", "VORBIS"), (("compression_level", level),))
    return y, {"codec": "Ogg Vorbis (libsndfile, libvorbis)", "compression_level": level, **measured}


def _reverb(x: np.ndarray, rate: int, room: int, _: Materials) -> tuple[np.ndarray, dict[str, Any]]:
    path = IMPULSE_RESPONSES / f"room-{room}.wav"
    transform = _audiomentations().ApplyImpulseResponse(ir_path=str(path), leave_length_unchanged=True, p=1.0)
    y = np.asarray(transform(x, rate), dtype=np.float32)
    wet = _rms(y)
    if wet > 0:
        y = (y * (_rms(x) / wet)).astype(np.float32)
    rt60, drr = ROOMS[room - 1]
    return y, {"transform": "ApplyImpulseResponse", "impulse_response": path.name, "rt60_s": rt60, "drr_db": drr,
               "rescaled_to_clip_rms": True}


CATALOGUE: dict[str, Corruption] = {c.name: c for c in (
    Corruption("gaussian-noise", "white Gaussian noise at an SNR against the clip", (30.0, 20.0, 10.0, 5.0, 0.0),
               lambda v: f"SNR {v:g} dB", _gaussian_noise),
    Corruption("background-noise", "a noise clip from noise_paths at an SNR against the clip",
               (20.0, 15.0, 10.0, 5.0, 0.0), lambda v: f"SNR {v:g} dB", _background_noise, needs_noise=True),
    Corruption("gain-down", "quieter", (-6.0, -12.0, -18.0, -24.0, -30.0), lambda v: f"{v:+g} dB", _gain(False)),
    Corruption("gain-up", "louder, clipped to [-1, 1]", (6.0, 12.0, 18.0, 24.0, 30.0),
               lambda v: f"{v:+g} dB, clipped", _gain(True)),
    Corruption("clipping", "the loudest samples clipped", (2, 4, 8, 16, 32), lambda v: f"{v}% of samples", _clipping),
    Corruption("time-shift", "moved later or earlier, zero-filled", (0.05, 0.1, 0.2, 0.3, 0.4),
               lambda v: f"\u00b1{100 * v:g}% of the clip", _time_shift),
    Corruption("low-pass", "low-pass filter, 24 dB/octave", (3500.0, 3000.0, 2000.0, 1500.0, 1000.0),
               lambda v: f"below {v:g} Hz", _pass_filter("LowPassFilter")),
    Corruption("high-pass", "high-pass filter, 24 dB/octave", (250.0, 500.0, 1000.0, 1500.0, 2000.0),
               lambda v: f"above {v:g} Hz", _pass_filter("HighPassFilter")),
    Corruption("band-pass", "band-pass filter, 24 dB/octave",
               ((100.0, 3500.0), (300.0, 3400.0), (500.0, 3000.0), (700.0, 2500.0), (1000.0, 2000.0)),
               lambda v: f"{v[0]:g}-{v[1]:g} Hz", _band_pass),
    Corruption("pitch-shift", "pitch up or down, length kept", (1.0, 2.0, 3.0, 4.0, 6.0),
               lambda v: f"\u00b1{v:g} semitones", _pitch_shift),
    Corruption("time-stretch", "faster or slower, pitch kept", (1.05, 1.1, 1.2, 1.3, 1.5),
               lambda v: f"\u00d7 or \u00f7{v:g} speed", _time_stretch),
    Corruption("resample", "resampled down and back up", (1.5, 2.0, 3.0, 4.0, 6.0),
               lambda v: f"via rate / {v:g}", _resample),
    Corruption("quantization", "rounded to fewer bits", (16, 12, 10, 8, 6), lambda v: f"{v} bits", _quantization),
    Corruption("mp3", "MP3 round trip, constant bitrate", (64, 48, 32, 24, 16), lambda v: f"{v} kbps", _mp3),
    Corruption("ogg-vorbis", "Ogg Vorbis round trip", (0.2, 0.4, 0.6, 0.8, 1.0),
               lambda v: f"compression {v:g}", _ogg_vorbis),
    Corruption("reverb", "a room impulse response, RMS kept", (1, 2, 3, 4, 5),
               lambda v: f"RT60 {ROOMS[v - 1][0]:g} s, DRR {ROOMS[v - 1][1]:+g} dB", _reverb),
)}
"""Every corruption by name, in the order records and the report list them."""


def corruption_seed(seed: int, name: str, severity: int) -> int:
    """The seed of one corruption at one severity on one clip: SHA-256 of the clip's seed (>= 0), the
    corruption's name and the severity, as an int in [0, 2**32) (what numpy's global seed takes)."""
    digest = hashlib.sha256(f"{seed}\0{name}\0{severity}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Python's and numpy's global generators (what audiomentations draws from) seeded with `seed`, and
    restored to their previous states afterwards."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def corrupt(signal: np.ndarray, sample_rate: int, name: str, severity: int, seed: int = 0,
            noise_files: Sequence[str | Path] = (), noise_names: dict[str, str] | None = None,
            ) -> tuple[np.ndarray, dict[str, Any]]:
    """Corruption `name` of CATALOGUE at `severity` (1-5) applied to a mono clip, float [T] at `sample_rate`
    Hz: (float32 [T], what was applied: the transform and its parameters, the seed, any warning raised).

    Deterministic: the same arguments give the same output (seeded by corruption_seed(seed, name,
    severity)). `noise_files` are the clips `background-noise` draws from (`noise_names` maps their
    absolute paths to how records name them). Raises InvalidInputError for an unknown name, a severity
    outside 1-5, a clip that is not 1-D, or background-noise without noise files; CorruptionNotApplicable
    when the corruption has no meaning at this rate (see the module docstring); InvalidInputError when
    audiomentations is not installed.
    """
    if name not in CATALOGUE:
        raise InvalidInputError(f"unknown corruption {name!r}; expected one of {list(CATALOGUE)}")
    if severity not in SEVERITIES:
        raise InvalidInputError(f"severity must be one of {list(SEVERITIES)}, got {severity!r}")
    x = np.asarray(signal, dtype=np.float32)
    if x.ndim != 1 or x.size < 2:
        raise InvalidInputError(f"corrupt takes a mono clip of >= 2 samples, got shape {x.shape}")
    entry = CATALOGUE[name]
    level = entry.levels[severity - 1]
    number = corruption_seed(seed, name, severity)
    files = tuple(Path(f) for f in noise_files)
    materials = Materials(np.random.default_rng(number), files, dict(noise_names or {}))
    with _seeded(number), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=".*had to be resampled")  # documented: files follow the clip's rate
        y, applied = entry.apply(x.copy(), int(sample_rate), level, materials)
    y = np.asarray(y, dtype=np.float32)
    if y.shape != x.shape:
        raise RuntimeError(f"{name} returned {y.shape[0]} samples for a clip of {x.size}")  # a bug, not an input
    if not np.isfinite(y).all():
        raise CorruptionNotApplicable(f"{name} at severity {severity} gave non-finite samples")
    applied = {"seed": number, **applied}
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]  # not import-time deprecations
    if said:
        applied["warnings"] = said
    return y, applied


def find_noise_files(paths: Sequence[str], base: Path) -> tuple[Path, ...]:
    """The audio files (wav, flac, ogg, mp3) `paths` name, relative to `base`: files, folders (searched
    recursively, hidden files skipped) and glob patterns (`**` for any depth); absolute, sorted, each once.
    Raises InvalidInputError, naming the entry, for one that does not exist or matches no audio file."""
    found: set[Path] = set()
    for entry in paths:
        path = Path(os.path.abspath(base / entry))
        if path.is_file():
            matches = [path]
        elif path.is_dir():
            matches = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")]
        elif glob.has_magic(entry):
            matches = [Path(os.path.abspath(p)) for p in glob.glob(str(path), recursive=True)]
            matches = [p for p in matches if p.is_file() and not p.name.startswith(".")]
        else:
            raise InvalidInputError(f"corruptions parameters: noise_paths: {entry!r} does not exist "
                                    f"(looked for {path})")
        audio = [p for p in matches if p.suffix.lower() in AUDIO_SUFFIXES]
        if not audio:
            raise InvalidInputError(f"corruptions parameters: noise_paths: {entry!r} matched no audio files "
                                    f"({', '.join(s[1:] for s in AUDIO_SUFFIXES)})")
        found.update(audio)
    return tuple(sorted(found))


@dataclass(frozen=True)
class CorruptionRow:
    """One corruption at one severity on one clip: `setting` (the catalogue's level, e.g. "SNR 10 dB"),
    `applied` (exactly what was done, seed included), the decision `label` on the corrupted clip, `score`
    (the probability of the clean clip's class there), `flipped` (label differs from the clean clip's),
    `score_drop` (the clean clip's score minus `score`), `change_snr_db` (SNR of the corruption against the
    clip, dB; None when nothing changed). When the corruption could not be applied, `error` says why and
    the decision fields are None."""

    corruption: str
    severity: int
    setting: str
    applied: dict[str, Any]
    label: str | None = None
    score: float | None = None
    flipped: bool | None = None
    score_drop: float | None = None
    change_snr_db: float | None = None
    error: str | None = None


@dataclass
class CorruptionsResult:
    """Every corruption and severity on one clip: the clean clip's decision (`label_before`, `score_before`),
    its `sample_rate` (Hz), one row per (corruption, severity) in catalogue order, and `queries`, the model
    queries spent (all corrupted versions in one oracle batch; repeats cost nothing)."""

    label_before: str
    score_before: float
    sample_rate: int
    rows: list[CorruptionRow]
    queries: int

    @property
    def flip_rate(self) -> float | None:
        """Share of the applied rows whose decision changed (None when none was applied)."""
        judged = [row.flipped for row in self.rows if row.flipped is not None]
        return sum(judged) / len(judged) if judged else None

    def to_dict(self) -> dict[str, Any]:
        """The record stored in results.jsonl (strict JSON: non-finite numbers become null)."""
        return jsonable({"label_before": self.label_before, "score_before": self.score_before,
                         "sample_rate": self.sample_rate, "flip_rate": self.flip_rate,
                         "rows": [asdict(row) for row in self.rows], "queries": self.queries})

    def write_files(self, folder: Any, target: str, clip_id: str, clip: Any) -> dict[str, str]:
        """Nothing beyond the record (every corrupted clip is reproduced by `corrupt` from its seed)."""
        return {}


def _once(values: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    """`values` unchanged; ValueError naming `what` when one appears twice."""
    if len(set(values)) != len(values):
        raise ValueError(f"each {what} may appear once, got {list(values)}")
    return values


class CorruptionsParameters(Parameters):
    """Parameters of the corruptions strategy: which `corruptions` (default: the whole catalogue, with
    `background-noise` only when `noise_paths` are given), which `severities` (1-5), and `noise_paths`, the
    background noise clips (files, folders or globs, relative to the suite file). Bad values raise
    InvalidInputError through the strategy or the suite."""

    corruptions: tuple[str, ...] | None = Field(
        None, min_length=1, description=f"corruptions to apply, from {list(CATALOGUE)} (default: all; "
        "background-noise only with noise_paths)")
    severities: tuple[int, ...] = Field(SEVERITIES, min_length=1, description="severities to apply, each 1-5")
    noise_paths: tuple[str, ...] = Field(
        (), description="background noise clips for background-noise: files, folders or globs, relative to the suite")

    @field_validator("corruptions")
    @classmethod
    def _known(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if names is None:
            return None
        unknown = [name for name in names if name not in CATALOGUE]
        if unknown:
            raise ValueError(f"unknown corruption(s) {unknown}; expected some of {list(CATALOGUE)}")
        return _once(names, "corruption")

    @field_validator("severities")
    @classmethod
    def _levels(cls, levels: tuple[int, ...]) -> tuple[int, ...]:
        bad = [level for level in levels if level not in SEVERITIES]
        if bad:
            raise ValueError(f"severities are 1 to 5, got {bad}")
        return _once(levels, "severity")

    @model_validator(mode="after")
    def _noise(self) -> CorruptionsParameters:
        if self.corruptions is not None and "background-noise" in self.corruptions and not self.noise_paths:
            raise ValueError("background-noise needs noise_paths (the noise clips to mix in)")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """The corruptions run, in catalogue order."""
        chosen = self.corruptions or tuple(name for name, c in CATALOGUE.items()
                                           if not c.needs_noise or self.noise_paths)
        return tuple(name for name in CATALOGUE if name in chosen)


@register
class Corruptions(Strategy):
    """Corruption robustness: every chosen corruption at every chosen severity on each clip, classified in
    one oracle batch; a row per (corruption, severity) says what was applied and whether the decision (the
    clean clip's top-1, `ctx.label`) changed. The catalogue and its severity table are in the module
    docstring and docs/suite.md.

    Parameters (CorruptionsParameters): `corruptions`, `severities`, `noise_paths`. `base` is the folder
    relative noise_paths start from: the planner passes the suite's folder (`uses_suite_folder`); default
    the current directory. Raises InvalidInputError for a bad parameter, noise paths that name no audio, or
    a missing audiomentations.
    """

    name = "corruptions"
    Parameters = CorruptionsParameters
    Record = CorruptionsResult
    settings_section = "attacks"
    uses_suite_folder: ClassVar[bool] = True
    parameters: CorruptionsParameters

    def __init__(self, settings: AttackSettings | None = None, base: str | Path | None = None,
                 **parameters: Any) -> None:
        self._configure(settings or AttackSettings(), parameters)
        if importlib.util.find_spec("audiomentations") is None:
            raise InvalidInputError(MISSING)
        self.base = Path(os.path.abspath(base if base is not None else Path.cwd()))
        self.noise_files = find_noise_files(self.parameters.noise_paths, self.base)
        self.noise_names = {str(p): p.relative_to(self.base).as_posix() if p.is_relative_to(self.base) else str(p)
                            for p in self.noise_files}

    def query_estimate(self) -> int:
        """Model queries per clip: one per corruption and severity, at most."""
        return len(self.parameters.names) * len(self.parameters.severities)

    def run(self, ctx: Context) -> CorruptionsResult:
        """Corrupt the clip of `ctx` every chosen way and classify every version in one oracle batch. Raises
        TargetError when the model fails, QueryBudgetExceeded when the batch would pass the budget (the
        runner records an error)."""
        x, rate = ctx.spectrum.signal, ctx.oracle.target.sample_rate
        rows: list[CorruptionRow] = []
        signals: list[np.ndarray] = []
        for name in self.parameters.names:
            for severity in self.parameters.severities:
                setting = CATALOGUE[name].setting(CATALOGUE[name].levels[severity - 1])
                try:
                    corrupted, applied = corrupt(x, rate, name, severity, ctx.seed, self.noise_files, self.noise_names)
                except CorruptionNotApplicable as exc:
                    seed = corruption_seed(ctx.seed, name, severity)
                    rows.append(CorruptionRow(name, severity, setting, {"seed": seed}, error=str(exc)))
                    continue
                rows.append(CorruptionRow(name, severity, setting, applied, change_snr_db=snr_db(x, corrupted)))
                signals.append(corrupted)
        before = ctx.oracle.queries
        if signals:
            labels, scores = ctx.oracle.classify(np.stack(signals))
            judged = iter(range(len(signals)))
            for i, row in enumerate(rows):
                if row.error is None:
                    k = next(judged)
                    label, score = int(labels[k]), float(scores[k, ctx.label])
                    rows[i] = replace(row, label=ctx.labels[label], score=score, flipped=label != ctx.label,
                                      score_drop=ctx.score - score)
        return CorruptionsResult(ctx.labels[ctx.label], ctx.score, rate, rows, ctx.oracle.queries - before)
