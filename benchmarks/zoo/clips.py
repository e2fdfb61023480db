"""Materialise the zoo's clip sets into a folder: deterministic (seeded), nothing generated is committed.

    python -m benchmarks.zoo.clips OUT [--root REPO] [--sets silero-vad basic-pitch openwakeword]

writes
  OUT/silero-vad/speech/*.wav, OUT/silero-vad/non-speech/*.wav    16 kHz; suite labels: parent
  OUT/basic-pitch/tones/<note>_<timbre>.wav                        22.05 kHz; suite labels: prefix
  OUT/basic-pitch/speech/*.wav                                     22.05 kHz real speech, no note truth
  OUT/openwakeword/...                                             16 kHz, see phrases.py
  OUT/<set>/labels.csv (file,label,source for every clip with a ground truth, by bare file name,
  usable as a suite's data.labels_csv; file names are unique within a set)

Real recordings are read from the repository (REPO defaults to this file's repository):
tests/data/fsdd/*.wav (Free Spoken Digit Dataset, 8 kHz, CC BY-SA 4.0) and
tests/data/speech_commands/*.wav (Speech Commands, 16 kHz, CC BY 4.0). They are resampled with soxr
and padded with a seeded white-noise floor (-60 dBFS RMS) so a clip is not all speech.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FSDD = "tests/data/fsdd"
SPEECH_COMMANDS = "tests/data/speech_commands"
NOISE_RMS = 10 ** (-60 / 20)

SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
# 30 FSDD clips: every digit three times, every speaker five times (take 0 of each).
VAD_FSDD: tuple[str, ...] = tuple(f"{i % 10}_{SPEAKERS[i % 6]}_0.wav" for i in range(30))
# 22 FSDD clips for basic-pitch's real recordings: every digit twice or three times, every speaker 3-4 times.
PITCH_FSDD: tuple[str, ...] = tuple(f"{(3 * i + 1) % 10}_{SPEAKERS[(i + 3) % 6]}_0.wav" for i in range(22))

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# basic-pitch's 88 labels, as the repository's tests build them: MIDI 21 (A0) to 108 (C8)
PITCH_LABELS: list[str] = [f"{NOTE_NAMES[m % 12]}{m // 12 - 1}" for m in range(21, 109)]
PITCH_RATE = 22050
PITCH_LENGTH = 43844  # basic-pitch's fixed input: one model frame per clip
TONE_NOTES = (48, 55, 60, 64, 69, 72, 79)  # C3 G3 C4 E4 A4 C5 G5
TIMBRES = ("sine", "organ", "square", "pluck")

VAD_RATE = 16000


@dataclass
class Clip:
    name: str  # file name
    folder: str  # sub-folder inside the set
    signal: np.ndarray
    rate: int
    label: str | None  # ground truth (None: no truth for this model)
    source: str  # where it came from: a repository path or "synthetic"


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def noise(n: int, key: str, rms: float = NOISE_RMS) -> np.ndarray:
    """Seeded white noise; the seed comes from `key`, so each clip's noise is independent of the others."""
    return (rms * np.random.default_rng(_seed(key)).standard_normal(n)).astype(np.float32)


def read(root: Path, rel: str, rate: int) -> np.ndarray:
    """A repository recording as float32 mono at `rate` (soxr)."""
    import soundfile
    import soxr

    path = root / rel
    if not path.is_file():
        raise FileNotFoundError(f"{rel} not found under {root} (the zoo needs the repository's tests/data)")
    signal, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    signal = signal.mean(axis=1)
    return signal if sr == rate else soxr.resample(signal, sr, rate).astype(np.float32)


def pad(
    speech: np.ndarray, rate: int, key: str, before: float = 0.25, after: float = 0.25, length: int | None = None
) -> np.ndarray:
    """Speech with `before`/`after` seconds of padding (or padded to `length` samples) plus a noise floor."""
    start = int(before * rate)
    n = length if length is not None else start + len(speech) + int(after * rate)
    clip = np.zeros(n, np.float32)
    clip[start : start + len(speech)] = speech[: n - start]
    return clip + noise(n, key)


# --- silero-vad ---------------------------------------------------------------------------------------


def silero_vad_clips(root: Path = ROOT) -> list[Clip]:
    """32 real speech clips (30 FSDD digits + Speech Commands yes/no) and 8 non-speech clips, 16 kHz."""
    clips = []
    for name in VAD_FSDD:
        rel = f"{FSDD}/{name}"
        signal = pad(read(root, rel, VAD_RATE), VAD_RATE, rel)
        clips.append(Clip(f"fsdd_{name}", "speech", signal, VAD_RATE, "speech", rel))
    for word in ("yes", "no"):  # already 1 s of real recording with its own room noise
        rel = f"{SPEECH_COMMANDS}/{word}_1000ms.wav"
        clips.append(Clip(f"sc_{word}.wav", "speech", read(root, rel, VAD_RATE), VAD_RATE, "speech", rel))
    for word in ("noise", "silence"):
        rel = f"{SPEECH_COMMANDS}/{word}_1000ms.wav"
        clips.append(Clip(f"sc_{word}.wav", "non-speech", read(root, rel, VAD_RATE), VAD_RATE, "non-speech", rel))
    for name, signal in _non_speech(VAD_RATE, VAD_RATE).items():
        clips.append(Clip(f"synth_{name}.wav", "non-speech", signal, VAD_RATE, "non-speech", "synthetic"))
    return clips


def _non_speech(rate: int, n: int) -> dict[str, np.ndarray]:
    """Synthetic non-speech: white and pink noise, a pure tone, a mains-like hum, a two-tone chord, a floor."""
    t = np.arange(n) / rate
    rng = np.random.default_rng(_seed("non-speech"))
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.fft.rfftfreq(n, 1 / rate)[1:])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6))
    out = {
        "white_noise": 0.1 * white / white.std(),
        "pink_noise": 0.1 * pink / pink.std(),
        "tone_440hz": 0.3 * np.sin(2 * np.pi * 440 * t),
        "hum_50hz": 0.3 * hum / np.abs(hum).max(),
        "chord_c_e": 0.15 * (np.sin(2 * np.pi * 261.63 * t) + np.sin(2 * np.pi * 329.63 * t)),
        "noise_floor": np.zeros(n),
    }
    return {k: (v + noise(n, f"non-speech-{k}")).astype(np.float32) for k, v in out.items()}


# --- basic-pitch --------------------------------------------------------------------------------------


def note_hz(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def tone(midi: int, timbre: str, rate: int = PITCH_RATE, n: int = PITCH_LENGTH) -> np.ndarray:
    """A held note: sine, organ (7 harmonics at 1/k), square (odd harmonics), pluck (decaying harmonics);
    20 ms attack, 100 ms release, peak 0.5, plus the noise floor."""
    f = note_hz(midi)
    t = np.arange(n) / rate
    harmonics = [k for k in range(1, 40) if k * f < rate / 2]
    x: np.ndarray
    if timbre == "sine":
        x = np.sin(2 * np.pi * f * t)
    elif timbre == "organ":
        x = np.asarray(sum(np.sin(2 * np.pi * k * f * t) / k for k in harmonics if k <= 7))
    elif timbre == "square":
        x = np.asarray(sum(np.sin(2 * np.pi * k * f * t) / k for k in harmonics if k % 2))
    elif timbre == "pluck":
        x = np.asarray(sum(np.sin(2 * np.pi * k * f * t) / k * np.exp(-t * (2 + k)) for k in harmonics if k <= 11))
    else:
        raise ValueError(f"unknown timbre {timbre!r}; choose one of {TIMBRES}")
    envelope = np.ones(n)
    attack, release = int(0.02 * rate), int(0.1 * rate)
    envelope[:attack] = np.linspace(0, 1, attack)
    envelope[-release:] = np.linspace(1, 0, release)
    x = 0.5 * x / np.abs(x).max() * envelope
    return (x + noise(n, f"tone-{midi}-{timbre}")).astype(np.float32)


def basic_pitch_clips(root: Path = ROOT) -> list[Clip]:
    """28 synthetic notes (7 notes x 4 timbres) and 24 real speech clips (22 FSDD + yes/no), 22.05 kHz,
    each exactly one basic-pitch frame (43844 samples)."""
    clips = []
    for midi in TONE_NOTES:
        for timbre in TIMBRES:
            label = PITCH_LABELS[midi - 21]
            clips.append(Clip(f"{label}_{timbre}.wav", "tones", tone(midi, timbre), PITCH_RATE, label, "synthetic"))
    for name in PITCH_FSDD:
        rel = f"{FSDD}/{name}"
        signal = pad(read(root, rel, PITCH_RATE), PITCH_RATE, f"pitch-{rel}", length=PITCH_LENGTH)
        clips.append(Clip(f"fsdd_{name}", "speech", signal, PITCH_RATE, None, rel))
    for word in ("yes", "no"):
        rel = f"{SPEECH_COMMANDS}/{word}_1000ms.wav"
        signal = pad(read(root, rel, PITCH_RATE), PITCH_RATE, f"pitch-{rel}", length=PITCH_LENGTH)
        clips.append(Clip(f"sc_{word}.wav", "speech", signal, PITCH_RATE, None, rel))
    return clips


# --- writing ------------------------------------------------------------------------------------------

SETS = ("silero-vad", "basic-pitch", "openwakeword")


def write_set(out: Path, clips: list[Clip]) -> list[Path]:
    """Write clips as 16-bit wavs under out/<folder>/ and out/labels.csv (labelled clips, bare names)."""
    names = [clip.name for clip in clips]
    if len(set(names)) != len(names):
        raise ValueError("clip file names must be unique within a set")
    import soundfile

    paths = []
    for clip in clips:
        path = out / clip.folder / clip.name
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), clip.signal, clip.rate, subtype="PCM_16")
        paths.append(path)
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "label", "source"])
        for clip, path in zip(clips, paths):
            if clip.label is not None:
                writer.writerow([path.name, clip.label, clip.source])
    return paths


def materialise(out: Path, root: Path = ROOT, sets: tuple[str, ...] = SETS, heads: list[str] | None = None) -> dict:
    """Write the chosen sets under `out`; returns {set: [paths]} (openwakeword: {group: [paths]})."""
    made: dict = {}
    if "silero-vad" in sets:
        made["silero-vad"] = write_set(out / "silero-vad", silero_vad_clips(root))
    if "basic-pitch" in sets:
        made["basic-pitch"] = write_set(out / "basic-pitch", basic_pitch_clips(root))
    if "openwakeword" in sets:
        from . import phrases

        made["openwakeword"] = phrases.write(out / "openwakeword", heads or list(phrases.PHRASES))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the zoo's clip sets into a folder.")
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="repository root holding tests/data (default: this one)"
    )
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--heads", nargs="+", default=None, help="openWakeWord heads (default: all five)")
    args = parser.parse_args(argv)
    made = materialise(args.out, args.root, tuple(args.sets), args.heads)
    for name, paths in made.items():
        count = sum(len(v) for v in paths.values()) if isinstance(paths, dict) else len(paths)
        print(f"{name}: {count} clips in {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
