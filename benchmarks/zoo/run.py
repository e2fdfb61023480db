"""The model-zoo benchmark: does knowing the causes beat sorting frequencies by loudness, on real models?

    python -m benchmarks.zoo.run [--models fsdd-ast fsdd-dscnn ...] [--clips 24] [--out benchmarks/zoo/out]

(or `tox -e zoo`). For every zoo model it runs one suite through freqrex-bench itself, seed 0, default
settings (causal method freqrex-ns, objective highest-snr, one ladder and frequency budget for all):
causal discovery, the causal Fourier attack, the frequency baselines (loudest first, random, Kenansville)
and the faithfulness comparison of rankings at an equal query budget. It then writes OUT/results.md and
OUT/results.json: one table per model (rankings and strategies as rows; success at 20 and 30 dB, median
SNR of flips, deletion and insertion AUC, sufficient size, queries, seconds) and the acceptance checks:

1. success of the causal attack at SNR floors 20 and 30 dB >= each frequency baseline on >= 5 of 6
   models, and higher on 4;
2. the median SNR of its flips >= 5 dB above the best baseline's;
3. its ranking's deletion AUC below loudest-first's and random's on >= 5 of 6 models;
4. its median sufficient set <= 2/3 of the loudest-first prefix, and no larger than the paper method's;
5. discovery queries per clip (about 2,000).

Clips: the three spoken-digit models on the held-out speaker's recordings in tests/data/fsdd; silero-vad,
basic-pitch and openWakeWord on the clip sets benchmarks/zoo/clips.py materialises (openWakeWord needs
`pip install --no-deps openwakeword==0.4.0` and the Debian package espeak-ng; its models are CC BY-NC-SA,
installed at run time, never committed). Runs resume: re-running continues a model's unfinished run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FSDD_DATA = {"paths": [str(ROOT / "tests/data/fsdd/*_theo_*.wav")], "labels": "prefix",
             "label_map": {str(i): name for i, name in enumerate(DIGITS)}, "sample": "random"}
BASELINES = ("largest-magnitude", "random-frequencies", "kenansville")
ALL_RANKINGS = ["freqrex-ns", "paper", "removal", "sliding-band", "freqrise", "loudest", "quietest", "random"]
# Slow models (tens of ms per query) compare the rankings that cost nothing or little beside the default.
CHEAP_RANKINGS = ["freqrex-ns", "paper", "sliding-band", "loudest", "quietest", "random"]


def zoo(clips: Path) -> dict[str, dict[str, Any]]:
    """Every zoo model as a suite's target and data (clip sets under `clips`)."""
    models = ROOT / "examples" / "models"
    return {
        "fsdd-ast": {"target": {"kind": "hf", "path": str(models / "fsdd-ast")}, "data": FSDD_DATA},
        "fsdd-dscnn": {"target": {"kind": "torchscript", "path": str(models / "fsdd-dscnn" / "model.pt"),
                                  "labels": DIGITS, "sample_rate": 8000, "output": "logits"}, "data": FSDD_DATA},
        "fsdd-wavcnn": {"target": {"kind": "onnx", "path": str(models / "fsdd-wavcnn" / "model.onnx"),
                                   "labels": DIGITS, "sample_rate": 8000, "output": "logits"}, "data": FSDD_DATA},
        "silero-vad": {"target": {"kind": "torchscript", "path": "pkg:silero_vad/data/silero_vad.jit",
                                  "labels": ["non-speech", "speech"], "sample_rate": 16000,
                                  "output": "probabilities", "frame_length": 512, "extra_args": [16000],
                                  "stateful": True, "aggregate": "max"},
                       "data": {"paths": [str(clips / "silero-vad" / "speech")], "sample": "random"}},
        "basic-pitch": {"target": {"kind": "onnx", "path": "pkg:basic_pitch/saved_models/icassp_2022/nmp.onnx",
                                   "labels": _pitch_labels(), "sample_rate": 22050, "output": "probabilities",
                                   "output_name": "StatefulPartitionedCall:1", "batch_size": 16},
                        "data": {"paths": [str(clips / "basic-pitch" / "tones")], "sample": "random"},
                        "rankings": CHEAP_RANKINGS},
        "openwakeword-hey_jarvis": {
            "target": {"kind": "callable", "function": "benchmarks.zoo.openwakeword_target:hey_jarvis",
                       "labels": ["not-hey_jarvis", "hey_jarvis"], "sample_rate": 16000},
            "data": {"paths": [str(clips / "openwakeword" / "hey_jarvis")], "sample": "random"},
            "rankings": CHEAP_RANKINGS},
    }


def _pitch_labels() -> list[str]:
    from benchmarks.zoo.clips import PITCH_LABELS

    return list(PITCH_LABELS)


def suite_of(name: str, model: dict[str, Any], clips: int) -> dict[str, Any]:
    """The benchmark's suite for one model: every setting at its default but the strategies."""
    return {
        "name": f"zoo-{name}", "seed": 0,
        "targets": [{"name": name, **model["target"]}],
        "data": {**model["data"], "max_clips": clips},
        "strategies": ["causal", "fourier", *BASELINES,
                       {"faithfulness": {"rankings": model.get("rankings", ALL_RANKINGS)}}],
    }


def materialise(clips: Path, names: list[str]) -> None:
    """Write the clip sets the chosen models need (deterministic; skipped when already there)."""
    from benchmarks.zoo.clips import materialise as write

    sets = {"silero-vad": "silero-vad", "basic-pitch": "basic-pitch", "openwakeword-hey_jarvis": "openwakeword"}
    wanted = tuple(sorted({sets[n] for n in names if n in sets and not (clips / sets[n]).is_dir()}))
    if wanted:
        write(clips, ROOT, wanted, ["hey_jarvis"])


def table(name: str, summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's rows: strategies (success at floors, median SNR, queries, seconds) and rankings."""
    figures = summary["targets"][name]
    seconds: dict[str, list[float]] = {}
    for record in records:
        if record["ok"] and record["clip"] is not None:
            seconds.setdefault(record["strategy"], []).append(record["seconds"])
    strategies = {
        strategy: {"success": f["success_rate"], "at_20": f["success_at_snr"]["20"], "at_30": f["success_at_snr"]["30"],
                   "median_snr_db": f["median_snr_db"], "queries": f["mean_queries"],
                   "total_queries": f["mean_total_queries"],
                   "seconds": statistics.mean(seconds.get(strategy, [0.0]))}
        for strategy, f in figures["strategies"].items()
    }
    rankings = {
        ranking: {"deletion_auc": f["deletion_auc"], "insertion_auc": f["insertion_auc"],
                  "sufficient_median": f["sufficient_size_median"], "queries": f["queries_mean"],
                  "seconds": f["seconds_mean"]}
        for ranking, f in figures["faithfulness"].items()
    }
    return {"clips": figures["clips"], "accuracy": figures["accuracy"], "errors": figures["errors"],
            "discovery_queries": figures["causal"]["mean_queries"],
            "discovery_seconds": statistics.mean(seconds.get("causal", [0.0])),
            "strategies": strategies, "rankings": rankings}


def acceptance(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's five checks over the models run."""
    models = list(results)
    at_least = higher = 0
    snr_margin: dict[str, float | None] = {}
    deletion_wins = 0
    sufficient_ok = 0
    for name, rows in results.items():
        ours = rows["strategies"]["fourier"]
        base = [rows["strategies"][b] for b in BASELINES if b in rows["strategies"]]
        floors = ("at_20", "at_30")
        if all(ours[f] >= b[f] for f in floors for b in base):
            at_least += 1
            if any(ours[f] > max(b[f] for b in base) for f in floors):
                higher += 1
        best = max((b["median_snr_db"] for b in base if b["median_snr_db"] is not None), default=None)
        snr_margin[name] = None if ours["median_snr_db"] is None or best is None else ours["median_snr_db"] - best
        ranks = rows["rankings"]
        if ranks["freqrex-ns"]["deletion_auc"] < min(ranks["loudest"]["deletion_auc"], ranks["random"]["deletion_auc"]):
            deletion_wins += 1
        ns, loud, paper = (ranks.get(r, {}).get("sufficient_median") for r in ("freqrex-ns", "loudest", "paper"))
        if ns is not None and loud is not None and ns <= 2 / 3 * loud and (paper is None or ns <= paper):
            sufficient_ok += 1
    return {
        "models": len(models),
        "1_success_at_20_30_at_least_each_baseline": at_least, "1_and_higher": higher,
        "2_median_snr_margin_db": snr_margin,
        "3_deletion_auc_beats_loudest_and_random": deletion_wins,
        "4_sufficient_within_two_thirds_of_loudest_and_paper": sufficient_ok,
        "5_discovery_queries_per_clip": {n: r["discovery_queries"] for n, r in results.items()},
    }


def markdown(results: dict[str, dict[str, Any]], checks: dict[str, Any]) -> str:
    """results.md: one table per model and the acceptance checks."""
    def num(value: Any, digits: int = 1) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    def pct(value: Any) -> str:
        return "–" if value is None else f"{100 * value:.0f}%"

    lines = ["# Model-zoo benchmark", ""]
    for name, rows in results.items():
        lines += [f"## {name}", "",
                  f"{rows['clips']} clips, accuracy {pct(rows['accuracy'])}, errors {rows['errors']}; discovery "
                  f"{num(rows['discovery_queries'], 0)} queries and {num(rows['discovery_seconds'])} s per clip.", "",
                  "| strategy | success | at 20 dB | at 30 dB | median SNR of flips (dB) | queries (own) | seconds |",
                  "|---|---|---|---|---|---|---|"]
        for strategy, s in rows["strategies"].items():
            lines.append(f"| {strategy} | {pct(s['success'])} | {pct(s['at_20'])} | {pct(s['at_30'])} | "
                         f"{num(s['median_snr_db'])} | {num(s['queries'], 0)} | {num(s['seconds'])} |")
        lines += ["", "| ranking | deletion AUC | insertion AUC | median sufficient (bins) | queries | seconds |",
                  "|---|---|---|---|---|---|"]
        for ranking, r in rows["rankings"].items():
            lines.append(f"| {ranking} | {num(r['deletion_auc'], 3)} | {num(r['insertion_auc'], 3)} | "
                         f"{num(r['sufficient_median'], 0)} | {num(r['queries'], 0)} | {num(r['seconds'])} |")
        lines.append("")
    lines += ["## Acceptance", "", "```", json.dumps(checks, indent=2), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=None, help="zoo models to run (default: all)")
    parser.add_argument("--clips", type=int, default=24, help="clips per model (default 24)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "zoo" / "out")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from freqrex_bench import parse_suite, run_suite

    models = zoo(args.out / "clips")
    names = args.models or list(models)
    unknown = sorted(set(names) - set(models))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; expected some of {sorted(models)}")
    materialise(args.out / "clips", names)
    results = {}
    for name in names:
        began = time.perf_counter()
        suite = parse_suite(suite_of(name, models[name], args.clips), ROOT)
        outcome = run_suite(suite, args.out / "runs" / name, progress=False, log=lambda line: print(line, flush=True))
        results[name] = table(name, outcome.summary, outcome.records)
        print(f"{name}: {time.perf_counter() - began:.0f} s", flush=True)
    checks = acceptance(results)
    (args.out / "results.json").write_text(json.dumps({"results": results, "acceptance": checks}, indent=2))
    (args.out / "results.md").write_text(markdown(results, checks))
    print(markdown(results, checks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
