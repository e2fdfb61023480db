"""Clips in: finding a suite's clips and labels, reading audio files, checking a clip is usable,
downmixing and resampling to a model's rate."""

from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import numpy as np
import soundfile
import soxr

from . import validation
from .errors import InvalidInputError

if TYPE_CHECKING:
    from .suite import DataSpec

# Peak below which a clip is treated as silence (about -140 dBFS: below 24-bit PCM resolution).
SILENCE_PEAK = 1e-7
MAX_CHANNELS = 16
# Samples beyond +-MAX_PEAK (24 dB above full scale) are corrupt data, not audio: an error, like NaN.
MAX_PEAK = 16.0
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
_SUFFIX_NAMES = ", ".join(suffix[1:] for suffix in AUDIO_SUFFIXES)
_GLOB_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Clip:
    """A mono clip, `signal` float32 [T] at `sample_rate` Hz, with what was done to get it there: the
    `source_rate` (Hz) and `channels` it had, and `warnings` about it (e.g. a peak above full scale)."""

    signal: np.ndarray
    sample_rate: int
    source_rate: int
    channels: int
    warnings: tuple[str, ...] = ()


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a wav/flac/ogg/mp3 file as float32 [frames, channels] (the channel count from the file's
    header, never guessed from the array's shape) and its sample rate in Hz.

    Raises InvalidInputError when the file is missing or libsndfile cannot decode it.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"audio file not found: {path}")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise InvalidInputError(f"cannot read {path} as audio: {exc}") from exc
    return data, int(rate)


def _to_mono(x: np.ndarray, downmix: bool, channels_last: bool = False) -> tuple[np.ndarray, int]:
    """Return a [T] clip and its channel count.

    `channels_last` says the array is [frames, channels] as a file header stated it (any shape is then
    unambiguous); otherwise, for a user's array, the channels are the short axis of a 2-D array.
    """
    if channels_last:
        channel_axis = 1
    elif x.ndim == 1 or (x.ndim == 2 and 1 in x.shape):
        return x.reshape(-1), 1
    elif x.ndim != 2:
        raise InvalidInputError(f"a clip must be [samples] or [samples, channels], got shape {x.shape}")
    else:
        channel_axis = 1 if x.shape[1] <= x.shape[0] else 0
        if x.shape[channel_axis] > MAX_CHANNELS or x.shape[1 - channel_axis] <= MAX_CHANNELS:
            raise InvalidInputError(
                f"cannot tell samples from channels in a clip of shape {x.shape}; "
                f"pass [samples] or [samples, channels] with at most {MAX_CHANNELS} channels"
            )
    channels = x.shape[channel_axis]
    if channels == 1:
        return x.reshape(-1), 1
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
    """Check a clip, downmix it and resample it (soxr, "HQ") to `target_rate` Hz.

    `signal` is a float or PCM-integer array, [T] or [T, channels] (or [channels, T]), or a path to an
    audio file whose own rate and channel count are then used (a different `sample_rate` is an error,
    not a silent reinterpretation). Returns a mono float32 [T'] `Clip` at `target_rate`; its `warnings`
    name a peak above full scale (1.0), which a 16-bit copy would clip.

    Raises InvalidInputError naming the problem for empty, NaN/inf, corrupt (a sample beyond
    +-MAX_PEAK), silent, ambiguous-shape or multi-channel (with downmix=False) clips, for a missing or
    invalid sample rate (or one contradicting the file's), and for a file that cannot be read.
    """
    channels_last = isinstance(signal, (str, Path))
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
    x = x.astype(np.float32)
    _check_peak(x)
    x, channels = _to_mono(x, downmix, channels_last)
    peak = float(np.abs(x).max())
    if peak < SILENCE_PEAK:
        raise InvalidInputError(
            f"clip is silent (peak |x| = {peak:.3g}): a model's decision on silence has no frequencies to explain"
        )
    if rate != target_rate:
        x = soxr.resample(x, rate, target_rate, quality="HQ").astype(np.float32)
    if x.size < 2:
        raise InvalidInputError(f"clip has {x.size} sample at {target_rate} Hz; need at least 2")
    warnings: tuple[str, ...] = ()
    if peak > 1.0:
        warnings = (f"clip peak {peak:.4g} exceeds full scale (1.0): a 16-bit copy of it is clipped",)
    return Clip(np.ascontiguousarray(x), target_rate, rate, channels, warnings)


def _check_peak(x: np.ndarray) -> None:
    """Reject a finite but absurd sample (a corrupt float file), naming its position and value."""
    flat = np.abs(x.reshape(-1))
    worst = int(np.argmax(flat))
    if flat[worst] <= MAX_PEAK:
        return
    if x.ndim == 2 and min(x.shape) > 1:
        frame, channel = np.unravel_index(worst, x.shape)
        where = f"sample {frame} of channel {channel}"
    else:
        where = f"sample {worst}"
    raise InvalidInputError(
        f"clip {where} is {float(x.reshape(-1)[worst]):.4g}, far above full scale (1.0); samples beyond "
        f"+-{MAX_PEAK:g} are taken as corrupt data"
    )


@dataclass(frozen=True)
class ClipRef:
    """One clip a suite will run: a stable id, where it is, and its ground-truth label (or None)."""

    id: str  # posix path relative to the suite folder when inside it, else the absolute posix path; unique
    path: Path  # absolute (symlinks kept as written, not resolved)
    label: str | None  # after label_map


def find_clips(spec: DataSpec, base: str | Path, seed: int) -> list[ClipRef]:
    """The clips a suite's `data:` section names, sorted by id, labelled, and cut to max_clips.

    Entries of spec.paths are tried literally first (a file, or a folder searched recursively for
    AUDIO_SUFFIXES, any case, without entering symlinked folders), else as glob patterns (`**` allowed;
    as with pathlib, `**` does not enter symlinked folders; matched folders are searched like folders).
    Relative paths start at `base`. The same file reached twice (or through a symlink) is kept once.
    `seed` picks the clips when `spec.sample` is "random". Raises InvalidInputError for an entry that
    names no audio file, a bad glob pattern, or labels that cannot be read (an empty name label, or a
    labels_csv that is missing, malformed, ambiguous, conflicting or lacks a clip).
    """
    base = _absolute(base)
    found = [path for i, entry in enumerate(spec.paths) for path in _expand(entry, base, f"data.paths[{i}]")]
    if not found:
        raise InvalidInputError(f"data.paths matched no audio files ({_SUFFIX_NAMES}); give at least one clip")
    clips = _unique({_clip_id(path, base): path for path in found})
    labels = _labels(spec, base, clips)
    refs = [ClipRef(i, path, _renamed(labels[i], spec.label_map)) for i, path in clips.items()]
    return _sample(refs, spec.max_clips, spec.sample, seed)


def read_clip(ref: ClipRef, sample_rate: int, duration: float | None) -> Clip:
    """Load, downmix and resample a clip to `sample_rate` Hz (prepare_clip), then crop or zero-pad its end
    to `duration` seconds (None: as it is). Raises InvalidInputError for an unusable file (naming the clip
    id), or a duration giving fewer than 2 samples or only silence."""
    try:
        clip = prepare_clip(ref.path, None, sample_rate)
    except InvalidInputError as exc:
        raise InvalidInputError(f"clip {ref.id!r}: {exc}") from exc
    if duration is None:
        return clip
    return replace(clip, signal=_fit(clip.signal, duration, clip.sample_rate, ref.id))


def _absolute(path: str | Path) -> Path:
    """An absolute, lexically normalised path; symlinks are kept so ids and parent labels read as written."""
    return Path(os.path.abspath(path))


def _is_audio(path: Path) -> bool:
    """An audio suffix and not a hidden file (macOS writes `._name.wav` metadata files beside clips)."""
    return path.suffix.lower() in AUDIO_SUFFIXES and not path.name.startswith(".")


def _expand(entry: str, base: Path, where: str) -> list[Path]:
    """The audio files one data.paths entry names; an error if it names none."""
    path = _absolute(base / entry)
    if path.is_file() and path.suffix.lower() not in AUDIO_SUFFIXES:
        raise InvalidInputError(f"{where}: {entry!r} is not an audio file; expected a suffix in {_SUFFIX_NAMES}")
    if path.is_file():
        return [path]  # named explicitly: used even if hidden
    if path.is_dir():
        found = _walk(path)
    elif _GLOB_MAGIC.search(entry):
        found = _glob(entry, base, where)
    else:
        raise InvalidInputError(f"{where}: {entry!r} does not exist (looked for {path})")
    if not found:
        raise InvalidInputError(f"{where}: {entry!r} matched no audio files ({_SUFFIX_NAMES})")
    return found


def _walk(folder: Path) -> list[Path]:
    """Audio files anywhere under `folder`; symlinked sub-folders are not entered, so links cannot loop."""
    return [
        Path(parent, name)
        for parent, _, names in os.walk(folder, followlinks=False)
        for name in names
        if _is_audio(Path(name)) and os.path.isfile(os.path.join(parent, name))
    ]


def _glob(pattern: str, base: Path, where: str) -> list[Path]:
    """Audio files a glob pattern matches: pathlib globbing from the pattern's literal leading folders."""
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if _GLOB_MAGIC.search(part))
    root = _absolute(base.joinpath(*parts[:first]))
    try:
        matches = sorted(root.glob("/".join(parts[first:])))
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {pattern!r} is not a valid glob pattern: {exc}") from None
    found: list[Path] = []
    for match in map(_absolute, matches):
        if match.is_dir():
            found += _walk(match)
        elif match.is_file() and _is_audio(match):
            found.append(match)
    return found


def _clip_id(path: Path, base: Path) -> str:
    """The path relative to `base` in posix form when inside it, else the absolute posix path."""
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else path.as_posix()


def _unique(clips: dict[str, Path]) -> dict[str, Path]:
    """Clips sorted by id, one per real file: symlinked aliases collapse to the smallest id."""
    by_file: dict[str, str] = {}
    for clip_id in sorted(clips):
        by_file.setdefault(os.path.realpath(clips[clip_id]), clip_id)
    return {clip_id: clips[clip_id] for clip_id in sorted(by_file.values())}


def _labels(spec: DataSpec, base: Path, clips: dict[str, Path]) -> dict[str, str | None]:
    """Ground truth per clip id from labels_csv (which wins), the parent folder, the name prefix, or none."""
    if spec.labels_csv is not None:
        return _csv_labels(_absolute(base / spec.labels_csv), clips)
    if spec.labels == "none":
        return dict.fromkeys(clips)
    return {clip_id: _name_label(clip_id, path, spec.labels) for clip_id, path in clips.items()}


def _name_label(clip_id: str, path: Path, kind: str) -> str:
    """The parent folder's name, or the file stem up to its first '_' (the whole stem if it has none)."""
    label = path.parent.name if kind == "parent" else path.stem.split("_", 1)[0]
    if not label:
        raise InvalidInputError(f"clip {clip_id!r}: its {kind} label is empty; expected a non-empty {kind}")
    return label


def _csv_labels(path: Path, clips: dict[str, Path]) -> dict[str, str | None]:
    """Labels from a CSV whose `file` is a clip id (preferred) or a bare file name shared by no other clip."""
    rows = _read_label_csv(path)
    names = Counter(_nfc(clip.name) for clip in clips.values())
    labels: dict[str, str | None] = {}
    for raw_id, clip in clips.items():
        clip_id, name = _nfc(raw_id), _nfc(clip.name)
        if clip_id not in rows and name in rows and names[name] > 1:
            raise InvalidInputError(
                f"data.labels_csv: row {clip.name!r} is ambiguous: {names[name]} clips have that file name "
                f"(one is {clip_id!r}); write the clip's path relative to the suite folder instead"
            )
        label = rows.get(clip_id, rows.get(name))
        if label is None:
            raise InvalidInputError(
                f"data.labels_csv: {path.name} has no row for clip {clip_id!r}; "
                f"expected a row whose file is {clip_id!r} or {name!r}"
            )
        labels[raw_id] = label
    return labels


def _read_label_csv(path: Path) -> dict[str, str]:
    """`file` -> `label` from a UTF-8 CSV (a BOM is allowed); files are posix paths or bare file names."""
    if not path.is_file():
        raise InvalidInputError(f"data.labels_csv: {path} not found; expected a CSV with columns 'file' and 'label'")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, skipinitialspace=True)
            missing = [column for column in ("file", "label") if column not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInputError(
                    f"data.labels_csv: {path.name} lacks column(s) {missing}; expected a header with 'file' and "
                    f"'label', found {reader.fieldnames or []}"
                )
            rows: dict[str, tuple[str, int]] = {}
            for row in reader:
                _add_row(rows, row, reader.line_num, path.name)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"data.labels_csv: cannot read {path} as UTF-8 CSV: {exc}") from None
    return {file: label for file, (label, _) in rows.items()}


def _add_row(rows: dict[str, tuple[str, int]], row: dict[str, str | None], line: int, csv_name: str) -> None:
    """Add one CSV row; an empty cell, or the same file listed again with another label, is an error."""
    file, label = ((row.get(column) or "").strip() for column in ("file", "label"))
    if not file or not label:
        raise InvalidInputError(f"data.labels_csv: {csv_name} line {line} has an empty file or label; need both")
    file = _nfc(PurePosixPath(file.replace("\\", "/")).as_posix())
    earlier = rows.setdefault(file, (label, line))
    if earlier[0] != label:
        raise InvalidInputError(
            f"data.labels_csv: {csv_name} lists {file!r} with two labels: {earlier[0]!r} (line {earlier[1]}) "
            f"and {label!r} (line {line}); expected one"
        )


def _nfc(text: str) -> str:
    """Unicode NFC: file systems differ in how they store a name ("é" composed or as e + accent; macOS
    decomposes), so names and labels are compared in one form."""
    return unicodedata.normalize("NFC", text)


def _renamed(label: str | None, label_map: dict[str, str]) -> str | None:
    if label is None:
        return None
    label = _nfc(label)
    return _nfc(next((new for old, new in label_map.items() if _nfc(old) == label), label))


def _sample(refs: list[ClipRef], max_clips: int | None, how: str, seed: int) -> list[ClipRef]:
    """At most max_clips clips: the first in id order, or a seeded random pick kept in id order."""
    if max_clips is None or len(refs) <= max_clips:
        return refs
    if how == "first":
        return refs[:max_clips]
    pick = np.random.default_rng(seed).choice(len(refs), size=max_clips, replace=False)
    return [refs[i] for i in sorted(pick)]


def _fit(signal: np.ndarray, duration: float, rate: int, clip_id: str) -> np.ndarray:
    """Crop the end off, or zero-pad the end of, a clip to round(duration * rate) samples."""
    n = round(duration * rate) if math.isfinite(duration) else 0
    if n < 2:
        raise InvalidInputError(
            f"duration must be a finite number of seconds giving at least 2 samples at {rate} Hz, got {duration!r}"
        )
    fitted = signal[:n] if signal.size >= n else np.pad(signal, (0, n - signal.size))
    peak = float(np.abs(fitted).max())
    if peak < SILENCE_PEAK:
        raise InvalidInputError(
            f"clip {clip_id!r}: its first {duration} s are silent (peak |x| = {peak:.3g}); use a longer duration"
        )
    return np.ascontiguousarray(fitted, dtype=np.float32)
