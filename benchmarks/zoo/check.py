"""Quick check of the zoo: every model classifies every clip of its set; prints rates and query cost.

    python -m benchmarks.zoo.check [--clips DIR] [--root REPO] [--models ...] [--heads ...] [--batch 32]

Without --clips the clip sets are materialised into a temporary folder first (clips.py). For each model
it prints the accuracy (or detection rate) on its clips, every miss, and the seconds one query batch
takes: `--batch` different signals of one clip's length (the clip plus independent noise at 30 dB SNR,
as perturbed copies would be), timed after one warm-up call. Exit code 0 whatever the rates are; 1 if a
model cannot be loaded.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import clips as zoo_clips


def _read(path: Path) -> np.ndarray:
    import soundfile

    return soundfile.read(str(path), dtype="float32")[0]


def _labels(folder: Path) -> dict[str, str]:
    with open(folder / "labels.csv", newline="") as f:
        return {row["file"]: row["label"] for row in csv.DictReader(f)}


def query_seconds(target, clip: np.ndarray, batch: int, repeats: int = 3) -> float:
    """Median wall time of target.predict on `batch` distinct signals of the clip's length."""
    rng = np.random.default_rng(0)
    level = np.sqrt(np.mean(clip**2)) * 10 ** (-30 / 20)
    signals = (clip[None] + level * rng.standard_normal((batch, len(clip)))).astype(np.float32)
    target.predict(signals[:2])  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        target.predict(signals)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def classify(target, paths: list[Path]) -> np.ndarray:
    """Scores [N, C] for clips that may differ in length: same-length clips go in one batch."""
    signals = [_read(p) for p in paths]
    scores = np.zeros((len(paths), len(target.labels)), np.float32)
    by_length: dict[int, list[int]] = {}
    for i, s in enumerate(signals):
        by_length.setdefault(len(s), []).append(i)
    for idx in by_length.values():
        for start in range(0, len(idx), 32):
            part = idx[start : start + 32]
            scores[part] = target.predict(np.stack([signals[i] for i in part]))
    return scores


def check_labelled(name: str, target, folder: Path, batch: int, extra: Sequence[Path] = ()) -> dict:
    """Accuracy of target on the labelled clips of `folder`; `extra` clips are only reported."""
    truth = _labels(folder)
    paths = sorted(p for p in folder.rglob("*.wav") if p.name in truth)
    start = time.perf_counter()
    scores = classify(target, paths)
    seconds = time.perf_counter() - start
    predicted = [target.labels[i] for i in scores.argmax(axis=1)]
    correct = [p == truth[path.name] for p, path in zip(predicted, paths)]
    per_label: dict[str, list[bool]] = {}
    for path, ok in zip(paths, correct):
        per_label.setdefault(truth[path.name], []).append(ok)
    print(
        f"{name}: {sum(correct)}/{len(correct)} correct ({np.mean(correct):.0%}), "
        f"{seconds / len(paths) * 1000:.0f} ms/clip to classify"
    )
    for label, oks in sorted(per_label.items()):
        print(f"    {label}: {sum(oks)}/{len(oks)}")
    for path, p, ok, s in zip(paths, predicted, correct, scores):
        if not ok:
            print(f"    miss: {path.name} -> {p} ({s.max():.3f}); truth {truth[path.name]}")
    if extra:
        extra_scores = classify(target, list(extra))
        for path, s in zip(extra, extra_scores):
            print(f"    unlabelled {path.name} -> {target.labels[int(s.argmax())]} ({s.max():.3f})")
    sec = query_seconds(target, _read(paths[0]), batch)
    print(
        f"    query batch of {batch} x {len(_read(paths[0]))} samples: {sec:.3f} s ({sec / batch * 1000:.1f} ms/signal)"
    )
    return {
        "clips": len(paths),
        "correct": int(sum(correct)),
        "accuracy": float(np.mean(correct)),
        "per_label": {k: [int(sum(v)), len(v)] for k, v in per_label.items()},
        "seconds_per_batch": sec,
        "batch": batch,
    }


def check_openwakeword(folder: Path, heads: list[str], batch: int) -> dict:
    from .targets import openwakeword_target

    groups = {p.name: sorted(p.glob("*.wav")) for p in sorted(folder.iterdir()) if p.is_dir()}
    results = {}
    for head in heads:
        target = openwakeword_target(head)
        row: dict[str, Any] = {}
        for group, paths in groups.items():
            start = time.perf_counter()
            p = classify(target, paths)[:, 1]
            row[group] = {
                "n": len(paths),
                "detected": int((p >= 0.5).sum()),
                "ms_per_clip": (time.perf_counter() - start) / len(paths) * 1000,
            }
            missed = [path.name for path, q in zip(paths, p) if (q >= 0.5) != (group == head)]
            kind = "positives" if group == head else "false alarms"
            print(
                f"openwakeword {head} on {group}: {row[group]['detected']}/{len(paths)} detected ({kind}), "
                f"{row[group]['ms_per_clip']:.0f} ms/clip"
            )
            for name in missed:
                print(f"    {'missed' if group == head else 'false alarm'}: {name}")
        if head in groups:
            sec = query_seconds(target, _read(groups[head][0]), batch)
            print(
                f"    query batch of {batch} x {len(_read(groups[head][0]))} samples: {sec:.3f} s "
                f"({sec / batch * 1000:.1f} ms/signal)"
            )
            row["seconds_per_batch"] = sec
        results[head] = row
    return results


def check_reference(folder: Path, heads: list[str], per_group: int = 4) -> dict:
    """Max |difference| of chunk scores between the reimplementation and openwakeword.Model.predict_clip
    on the first `per_group` clips of every group of the same length (2 s groups; the 3 s timer group alone)."""
    from .openwakeword_target import check_against_openwakeword

    groups = {p.name: sorted(p.glob("*.wav"))[:per_group] for p in sorted(folder.iterdir()) if p.is_dir()}
    by_length: dict[int, list[np.ndarray]] = {}
    for paths in groups.values():
        for path in paths:
            signal = _read(path)
            by_length.setdefault(len(signal), []).append(signal)
    worst = {h: 0.0 for h in heads}
    for signals in by_length.values():
        for head, diff in check_against_openwakeword(np.stack(signals), tuple(heads)).items():
            worst[head] = max(worst[head], diff)
    n = sum(len(v) for v in by_length.values())
    for head, diff in worst.items():
        print(
            f"openwakeword {head}: max |reimplementation - openwakeword.Model| over {n} clips' chunk scores = "
            f"{diff:.2g}"
        )
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classify every zoo clip with its model; print rates and timings.")
    parser.add_argument("--clips", type=Path, help="an already materialised clip folder (clips.py OUT)")
    parser.add_argument("--root", type=Path, default=zoo_clips.ROOT, help="repository root holding tests/data")
    parser.add_argument("--models", nargs="+", default=list(zoo_clips.SETS), choices=zoo_clips.SETS)
    parser.add_argument("--heads", nargs="+", default=None, help="openWakeWord heads (default: all five)")
    parser.add_argument("--batch", type=int, default=32, help="signals per timed query batch")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also compare the openWakeWord reimplementation with openwakeword.Model on a few clips",
    )
    args = parser.parse_args(argv)
    from . import phrases

    heads = args.heads or list(phrases.PHRASES)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.clips or Path(tmp)
        if args.clips is None:
            zoo_clips.materialise(out, args.root, tuple(args.models), heads)
        results: dict = {}
        try:
            from .targets import basic_pitch_target, silero_vad_target

            if "silero-vad" in args.models:
                results["silero-vad"] = check_labelled(
                    "silero-vad", silero_vad_target(), out / "silero-vad", args.batch
                )
            if "basic-pitch" in args.models:
                speech = sorted((out / "basic-pitch" / "speech").glob("*.wav"))
                results["basic-pitch"] = check_labelled(
                    "basic-pitch (tones)", basic_pitch_target(), out / "basic-pitch", args.batch, extra=speech
                )
            if "openwakeword" in args.models:
                results["openwakeword"] = check_openwakeword(out / "openwakeword", heads, args.batch)
                if args.reference:
                    results["openwakeword-reference"] = check_reference(out / "openwakeword", heads)
        except ImportError as exc:
            print(f"error: {exc}")
            return 1
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
