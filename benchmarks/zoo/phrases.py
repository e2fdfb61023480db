"""Synthesised wake-phrase clips for the openWakeWord heads, made with espeak-ng at benchmark time.

Every clip is one espeak-ng utterance (a voice, a speed in words per minute, a pitch 0-99), resampled
from espeak-ng's 22.05 kHz to 16 kHz with soxr, scaled to a fixed peak, placed 0.25 s into a 2 s clip
(3 s for the longer timer phrase) and given a seeded white-noise floor at -60 dBFS RMS (espeak-ng writes exact
digital silence around
speech). Nothing is committed: the clips are written to a folder given on the command line:

    python -m benchmarks.zoo.phrases OUT [--heads hey_jarvis alexa ...] [--measure]

writes OUT/<head>/<head>__<phrase>__<voice>__s<speed>__p<pitch>.wav (positives), OUT/negatives/*.wav (other
phrases, negatives for every head), OUT/labels_<head>.csv (file,label with labels <head> / not-<head>
for every clip in OUT, by bare file name, for a suite's `data.labels_csv`) and OUT/manifest.csv. With --measure it
also runs
each head on its positives and on the negatives and prints the detection rate (p >= 0.5).

The voice grid below is what the real heads detect well (see README.md for the measured rates and the
voices left out). Needs the `espeak-ng` program (Debian: apt-get install espeak-ng).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
LENGTH = 2 * SAMPLE_RATE  # every clip is 2 s
OFFSET = SAMPLE_RATE // 4  # speech starts 0.25 s in
PEAK = 0.5  # speech peak before the noise floor (-6 dBFS)
NOISE_RMS = 10 ** (-60 / 20)  # -60 dBFS white noise

# What each head is asked to hear (openWakeWord's model names; see its docs for the phrases).
PHRASES: dict[str, str] = {
    "hey_jarvis": "hey jarvis",
    "alexa": "alexa",
    "hey_mycroft": "hey mycroft",
    "weather": "what's the weather",
    "timer": "set a ten minute timer",
}
LENGTHS: dict[str, int] = {"timer": 3 * SAMPLE_RATE}  # the timer phrase needs more than 2 s at 130 wpm

# Per head, the espeak-ng voices (+variants) kept from a sweep of ~40 voices and variants, because the
# real head detects them at (nearly) every speed and pitch below (README.md lists the measured rates and the
# voices left out). Each voice is crossed with SPEEDS and PITCHES: 10 x 3 x 2 = 60 positives a head.
VOICES: dict[str, tuple[str, ...]] = {
    "hey_jarvis": (
        "en-us",
        "en-gb",
        "en-gb-scotland",
        "en-us-nyc",
        "en-us+f1",
        "en-us+f5",
        "en-gb+f2",
        "en-us+m3",
        "en-us+klatt",
        "en-us+steph",
    ),
    "alexa": (
        "en-us",
        "en-gb",
        "en-gb-x-rp",
        "en-gb-x-gbclan",
        "en-us+f1",
        "en-us+f5",
        "en-gb+f2",
        "en-us+m3",
        "en-us+m6",
        "en-us+klatt",
    ),
    # hey_mycroft hears almost only espeak's Scottish voice (and two US female variants)
    "hey_mycroft": (
        "en-gb-scotland",
        "en-gb-scotland+f1",
        "en-gb-scotland+f2",
        "en-gb-scotland+f3",
        "en-gb-scotland+f5",
        "en-gb-scotland+m3",
        "en-gb-scotland+m6",
        "en-gb-scotland+steph",
        "en-us+f1",
        "en-us+linda",
    ),
    "weather": (
        "en-us",
        "en-gb",
        "en-gb-scotland",
        "en-gb-x-rp",
        "en-us-nyc",
        "en-us+f1",
        "en-us+f5",
        "en-gb+f2",
        "en-us+m3",
        "en-us+klatt",
    ),
    "timer": (
        "en-us",
        "en",
        "en-gb",
        "en-us-nyc",
        "en-us+f1",
        "en-gb+f2",
        "en-us+m6",
        "en-us+Alex",
        "en-us+Annie",
        "en-us+steph",
    ),
}
SPEEDS: tuple[int, ...] = (130, 160, 190)
PITCHES: tuple[int, ...] = (40, 65)

# Negatives: other phrases (including near misses), a few voices each.
NEGATIVES: tuple[str, ...] = (
    "hello there",
    "turn on the lights",
    "what time is it",
    "play some music",
    "good morning",
    "hey travis",
    "alex",
    "jealous",
    "seven",
    "thank you very much",
    "open the door",
    "how are you",
    "hey marvin",
    "whether or not",
    "my computer",
    "set the table",
)
NEGATIVE_VOICES: tuple[str, ...] = ("en-us", "en-gb+f2", "en-gb-scotland")


@dataclass(frozen=True)
class Utterance:
    text: str
    voice: str = "en-us"
    speed: int = 160
    pitch: int = 50

    @property
    def stem(self) -> str:
        words = "_".join(self.text.replace("'", "").split())
        return f"{words}__{self.voice.replace('+', '-')}__s{self.speed}__p{self.pitch}"

    @property
    def seed(self) -> int:
        """A stable seed from the utterance itself (so a clip does not depend on what else is made)."""
        return int.from_bytes(hashlib.sha256(self.stem.encode()).digest()[:4], "little")


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(utterance: Utterance) -> tuple[np.ndarray, int]:
    """espeak-ng's raw output: float32 mono and its sample rate (22050)."""
    import soundfile

    if not espeak_available():
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        cmd = ["espeak-ng", "-v", utterance.voice, "-s", str(utterance.speed), "-p", str(utterance.pitch)]
        subprocess.run([*cmd, "-w", str(out), utterance.text], check=True, capture_output=True)
        signal, rate = soundfile.read(str(out), dtype="float32")
    if signal.ndim > 1:
        signal = signal.mean(axis=1)
    return signal, rate


def synthesise(utterance: Utterance, length: int = LENGTH, offset: int = OFFSET) -> np.ndarray:
    """One clip: float32 [length] at 16 kHz, speech peak PEAK from `offset`, noise floor at -60 dBFS."""
    import soxr

    signal, rate = speak(utterance)
    speech = soxr.resample(signal, rate, SAMPLE_RATE).astype(np.float32)
    nonzero = np.flatnonzero(np.abs(speech) > 1e-4)
    if nonzero.size == 0:
        raise RuntimeError(f"espeak-ng produced silence for {utterance}")
    speech = speech[nonzero[0] : nonzero[-1] + 1]  # trim espeak's own leading/trailing silence
    speech = speech / np.abs(speech).max() * PEAK
    if offset + len(speech) > length:
        raise ValueError(f"{utterance} lasts {len(speech) / SAMPLE_RATE:.2f} s: too long for the clip")
    clip = np.zeros(length, np.float32)
    clip[offset : offset + len(speech)] = speech
    rng = np.random.default_rng(utterance.seed)
    clip += (NOISE_RMS * rng.standard_normal(length)).astype(np.float32)
    return clip


def positives(head: str) -> list[Utterance]:
    text = PHRASES[head]
    return [Utterance(text, v, s, p) for v in VOICES[head] for s in SPEEDS for p in PITCHES]


def negatives() -> list[Utterance]:
    return [Utterance(text, v, 160, 50) for text in NEGATIVES for v in NEGATIVE_VOICES]


def write(out: Path, heads: list[str]) -> dict[str, list[Path]]:
    """Write every head's positives and the shared negatives under `out`; returns {folder: files}."""
    import soundfile

    made: dict[str, list[Path]] = {}
    groups = {head: positives(head) for head in heads}
    groups["negatives"] = negatives()
    for group, utterances in groups.items():
        folder = out / group
        folder.mkdir(parents=True, exist_ok=True)
        made[group] = []
        for u in utterances:
            path = folder / f"{group}__{u.stem}.wav" if group != "negatives" else folder / f"{u.stem}.wav"
            clip = synthesise(u, length=LENGTHS.get(group, LENGTH))
            soundfile.write(str(path), clip, SAMPLE_RATE, subtype="PCM_16")
            made[group].append(path)
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "group", "text", "voice", "speed", "pitch"])
        for group, utterances in groups.items():
            for u, path in zip(utterances, made[group]):
                w.writerow([path.relative_to(out).as_posix(), group, u.text, u.voice, u.speed, u.pitch])
    for head in heads:
        with open(out / f"labels_{head}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "label"])
            for group, paths in made.items():
                for path in paths:
                    w.writerow([path.name, head if group == head else f"not-{head}"])
    return made


def read_clips(paths: list[Path]) -> np.ndarray:
    import soundfile

    return np.stack([soundfile.read(str(p), dtype="float32")[0] for p in paths])


def measure(made: dict[str, list[Path]], heads: list[str], batch: int = 16) -> dict[str, dict]:
    """Each head's detection rate (p >= 0.5) on its positives, on the negatives and on other heads' positives."""
    import time

    from .openwakeword_target import OpenWakeWordPipeline

    results = {}
    for head in heads:
        pipeline = OpenWakeWordPipeline(head)
        row: dict = {}
        for group, paths in made.items():
            clips = read_clips(paths)
            start = time.perf_counter()
            p = np.concatenate([pipeline(clips[i : i + batch])[:, 1] for i in range(0, len(clips), batch)])
            row[group] = {
                "n": len(p),
                "detected": int((p >= 0.5).sum()),
                "p": p,
                "seconds_per_clip": (time.perf_counter() - start) / len(p),
                "files": paths,
            }
        results[head] = row
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the clips into")
    parser.add_argument("--heads", nargs="+", default=list(PHRASES), choices=sorted(PHRASES))
    parser.add_argument("--measure", action="store_true", help="run the real heads and print detection rates")
    parser.add_argument("--verbose", action="store_true", help="with --measure: list every missed positive")
    args = parser.parse_args(argv)
    made = write(args.out, args.heads)
    print(f"wrote {sum(len(v) for v in made.values())} clips to {args.out}")
    if args.measure:
        for head, row in measure(made, args.heads).items():
            for group, r in row.items():
                kind = "positives" if group == head else ("negatives" if group == "negatives" else "other head")
                print(
                    f"{head:12s} on {group:12s} ({kind:10s}): {r['detected']:3d}/{r['n']:3d} detected "
                    f"({r['detected'] / r['n']:.0%}), {r['seconds_per_clip'] * 1000:.0f} ms/clip"
                )
                if args.verbose and group == head:
                    for path, p in zip(r["files"], r["p"]):
                        if p < 0.5:
                            print(f"    missed {path.name} p={p:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
