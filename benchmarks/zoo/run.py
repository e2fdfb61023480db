"""The model-zoo benchmark: does knowing the causes beat sorting frequencies by loudness, on real models?

    python -m benchmarks.zoo.run [--models fsdd-ast fsdd-dscnn ...] [--clips 24] [--seeds 0 1 2]
                                 [--out benchmarks/zoo/out]

(or `tox -e zoo`). For every zoo model it runs one suite through freqrex-bench itself, seed 0, default
settings (causal method freqrex-ns, objective highest-snr, one ladder and frequency budget for all):
causal discovery, the causal Fourier attack, the frequency baselines (loudest first, random, Kenansville)
and the faithfulness comparison of rankings at an equal query budget. It then writes OUT/results.md and
OUT/results.json: one table per model (rankings and strategies as rows; success at 20 and 30 dB, median
SNR of flips, deletion and insertion AUC, sufficient size, queries, seconds) and the acceptance checks:

1. success of the causal attack at SNR floors 20 and 30 dB >= each frequency baseline on >= 5 of 6
   models, and higher on 4;
2. the median SNR of its flips >= 5 dB above the best baseline's (with a 95% bootstrap interval over the
   clips: how much the margin owes to which clips were drawn; and, since each median is over that
   attack's own flips, the same read clip by clip on the clips both flip: the median gain in SNR and on
   how many the baseline's flip is the quieter);
3. its ranking's deletion AUC below loudest-first's and random's on >= 5 of 6 models;
4. its median sufficient set <= 2/3 of the loudest-first prefix, and no larger than the paper method's;
5. discovery queries per clip (about 2,000).

With `--seeds`, every model runs once per seed (the same suite but for its seed, which draws the clips a
model's data keeps (`sample: random`), the causal partitions, the random baselines and, through the clip
seeds, everything else random; seed 0's run folder is OUT/runs/MODEL, seed s's OUT/runs/MODEL-seed<s>):
the tables are the first seed's, and an "Across seeds" table gives each check per model and seed, so a
margin that holds for one seed only shows as such.

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

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FSDD_DATA = {"paths": [str(ROOT / "tests/data/fsdd/*_theo_*.wav")], "labels": "prefix",
             "label_map": {str(i): name for i, name in enumerate(DIGITS)}, "sample": "random"}
BASELINES = ("largest-magnitude", "random-frequencies", "kenansville")
ALL_RANKINGS = ["freqrex-ns", "paper", "removal", "sliding-band", "freqrise", "loudest", "quietest", "random"]
# Slow models (tens of ms per query) compare the rankings that cost nothing or little beside the default.
CHEAP_RANKINGS = ["freqrex-ns", "paper", "sliding-band", "loudest", "quietest", "random"]


def zoo(clips: Path) -> dict[str, dict[str, Any]]:
    """Every zoo model as a suite's target and data, and the folder its suite is parsed in (`base`).

    The clip sets benchmarks/zoo/clips.py writes under `clips` are named relative to `clips` and parsed
    there, so a clip's id (which seeds its causal partitions and random baselines, strategy.clip_seed)
    is the same wherever --out points; the FSDD clips are the repository's, ids relative to it."""
    models = ROOT / "examples" / "models"
    pitch = _basic_pitch_target()
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
                       "data": {"paths": ["silero-vad/speech"], "sample": "random"}, "base": clips},
        "basic-pitch": {"target": pitch,
                        "data": {"paths": ["basic-pitch/tones"], "sample": "random"}, "base": clips,
                        "rankings": CHEAP_RANKINGS},
        "basic-pitch-speech": {"target": pitch,
                               "data": {"paths": ["basic-pitch/speech"], "sample": "random"}, "base": clips,
                               "rankings": CHEAP_RANKINGS},
        "openwakeword-hey_jarvis": {
            "target": {"kind": "callable", "function": "benchmarks.zoo.openwakeword_target:hey_jarvis",
                       "labels": ["not-hey_jarvis", "hey_jarvis"], "sample_rate": 16000},
            "data": {"paths": ["openwakeword/hey_jarvis"], "sample": "random"}, "base": clips,
            "rankings": CHEAP_RANKINGS},
    }


def _basic_pitch_target() -> dict[str, Any]:
    """basic-pitch's note head as a suite target: 88 pitch labels, one model frame (43844 samples) a clip."""
    from benchmarks.zoo.clips import PITCH_LABELS

    return {"kind": "onnx", "path": "pkg:basic_pitch/saved_models/icassp_2022/nmp.onnx", "labels": list(PITCH_LABELS),
            "sample_rate": 22050, "output": "probabilities", "output_name": "StatefulPartitionedCall:1",
            "batch_size": 16}


def suite_of(name: str, model: dict[str, Any], clips: int, seed: int = 0) -> dict[str, Any]:
    """The benchmark's suite for one model: every setting at its default but the strategies (and `seed`)."""
    return {
        "name": f"zoo-{name}", "seed": seed,
        "targets": [{"name": name, **model["target"]}],
        "data": {**model["data"], "max_clips": clips},
        "strategies": ["causal", "fourier", *BASELINES,
                       {"faithfulness": {"rankings": model.get("rankings", ALL_RANKINGS)}}],
    }


def parsed_suite(name: str, model: dict[str, Any], clips: int, seed: int = 0) -> Any:
    """suite_of(...) validated into a freqrex_bench Suite, its paths relative to the model's `base` (zoo)."""
    from freqrex_bench import parse_suite

    return parse_suite(suite_of(name, model, clips, seed), model.get("base", ROOT))


def materialise(clips: Path, names: list[str]) -> None:
    """Write the clip sets the chosen models need (deterministic; skipped when already there, except a
    basic-pitch set written before its speech part grew to 24 clips, which is rewritten: the same bytes
    for every clip it had)."""
    from benchmarks.zoo.clips import PITCH_FSDD
    from benchmarks.zoo.clips import materialise as write

    sets = {"silero-vad": "silero-vad", "basic-pitch": "basic-pitch", "basic-pitch-speech": "basic-pitch",
            "openwakeword-hey_jarvis": "openwakeword"}
    speech = clips / "basic-pitch" / "speech"
    stale = {"basic-pitch"} if speech.is_dir() and any(not (speech / f"fsdd_{name}").is_file()
                                                       for name in PITCH_FSDD) else set()
    wanted = tuple(sorted({sets[n] for n in names if n in sets and (not (clips / sets[n]).is_dir()
                                                                    or sets[n] in stale)}))
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
            "strategies": strategies, "rankings": rankings, "snr_margin_interval": margin_interval(records),
            "paired_snr": {b: figures["paired_snr"][b] for b in BASELINES if b in figures["paired_snr"]}}


def flip_snr(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The SNR (dB) of each clip's flip per attack (the causal one and the frequency baselines): float64
    [clips] arrays over the same sorted clips, NaN where the attack did not flip (reports.summary.flip_snrs)."""
    from freqrex_bench.reports.summary import flip_snrs

    strategies = ("fourier", *BASELINES)
    clips = sorted({r["clip"] for r in records if r["clip"] is not None and r["strategy"] in strategies})
    flips = {s: flip_snrs(r for r in records if r["strategy"] == s) for s in strategies}
    return {s: np.array([flips[s].get(clip, np.nan) for clip in clips], dtype=np.float64) for s in strategies}


def margin_interval(records: list[dict[str, Any]], resamples: int = 2000, seed: int = 0) -> list[float] | None:
    """The 95% bootstrap interval (dB) of check 2's margin (the causal attack's median flip SNR minus the best
    frequency baseline's), over resamples of the clips with replacement, every strategy judged on the same
    resampled clips (a paired bootstrap, Efron and Tibshirani 1993). It measures how much the margin owes
    to which clips were drawn; None when fewer than 20 resamples have flips on both sides."""
    snr = flip_snr(records)
    clips = len(snr["fourier"])
    if not clips:
        return None
    draws = np.random.default_rng(seed).integers(0, clips, size=(resamples, clips))
    margins = []
    for draw in draws:
        medians = {s: np.nanmedian(v[draw]) if np.isfinite(v[draw]).any() else None for s, v in snr.items()}
        best = max((m for s, m in medians.items() if s != "fourier" and m is not None), default=None)
        if medians["fourier"] is not None and best is not None:
            margins.append(medians["fourier"] - best)
    if len(margins) < 20:
        return None
    return [float(np.percentile(margins, 2.5)), float(np.percentile(margins, 97.5))]


def acceptance(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's five checks over the models run (each model's figures: per_model_checks)."""
    at_least = higher = deletion_wins = sufficient_ok = 0
    snr_margin: dict[str, float | None] = {}
    for name, rows in results.items():
        checks = per_model_checks(rows)
        ours, best = checks["causal_at_20_30"], checks["best_baseline_at_20_30"]
        if all(o >= b for o, b in zip(ours, best)):
            at_least += 1
            higher += any(o > b for o, b in zip(ours, best))
        snr_margin[name] = checks["median_snr_margin_db"]
        ns, loudest, random = checks["deletion_auc"]
        if ns is not None and ns < min(loudest, random):
            deletion_wins += 1
        ns, loudest, paper = checks["sufficient_median"]
        if ns is not None and loudest is not None and ns <= 2 / 3 * loudest and (paper is None or ns <= paper):
            sufficient_ok += 1
    return {
        "models": len(results),
        "1_success_at_20_30_at_least_each_baseline": at_least, "1_and_higher": higher,
        "2_median_snr_margin_db": snr_margin,
        "2_margin_95_interval_db": {name: rows.get("snr_margin_interval") for name, rows in results.items()},
        "2_paired_on_clips_both_flip": {name: rows.get("paired_snr") for name, rows in results.items()},
        "3_deletion_auc_beats_loudest_and_random": deletion_wins,
        "4_sufficient_within_two_thirds_of_loudest_and_paper": sufficient_ok,
        "5_discovery_queries_per_clip": {n: r["discovery_queries"] for n, r in results.items()},
    }


def per_model_checks(rows: dict[str, Any]) -> dict[str, Any]:
    """One model's figures behind the five checks: the causal attack's and the best frequency baseline's
    success at 20 and 30 dB, the median-SNR margin (dB), the deletion AUC of freqrex-ns / loudest / random,
    the median sufficient size of freqrex-ns / loudest / paper, and discovery's queries per clip."""
    ours = rows["strategies"]["fourier"]
    base = [rows["strategies"][b] for b in BASELINES if b in rows["strategies"]]
    best = max((b["median_snr_db"] for b in base if b["median_snr_db"] is not None), default=None)
    ranks = rows["rankings"]

    def figures(key: str, names: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(ranks.get(name, {}).get(key) for name in names)

    return {
        "causal_at_20_30": (ours["at_20"], ours["at_30"]),
        "best_baseline_at_20_30": tuple(max((b[f] for b in base), default=0.0) for f in ("at_20", "at_30")),
        "median_snr_margin_db": None if ours["median_snr_db"] is None or best is None else ours["median_snr_db"] - best,
        "median_snr_margin_interval_db": rows.get("snr_margin_interval"),
        "deletion_auc": figures("deletion_auc", ("freqrex-ns", "loudest", "random")),
        "sufficient_median": figures("sufficient_median", ("freqrex-ns", "loudest", "paper")),
        "discovery_queries": rows["discovery_queries"],
    }


def across_seeds(by_seed: dict[int, dict[str, dict[str, Any]]]) -> list[str]:
    """results.md's "Across seeds" table: the five checks' figures per model and seed."""
    def num(value: Any, digits: int) -> str:
        return "–" if value is None else f"{value:,.{digits}f}"

    def interval(bounds: list[float] | None) -> str:
        return "" if bounds is None else f"[{bounds[0]:.1f}, {bounds[1]:.1f}]"

    lines = ["## Across seeds", "",
             "| model | seed | causal at 20 / 30 dB | best baseline at 20 / 30 dB | median SNR margin (dB) "
             "[95% bootstrap over clips] | "
             "deletion AUC: freqrex-ns / loudest / random | median sufficient: freqrex-ns / loudest / paper | "
             "discovery queries |", "|---|---|---|---|---|---|---|---|"]
    models = list(next(iter(by_seed.values())))
    for name in models:
        for seed, results in by_seed.items():
            c = per_model_checks(results[name])
            lines.append(
                f"| {name} | {seed} | {' / '.join(f'{100 * v:.0f}%' for v in c['causal_at_20_30'])} | "
                f"{' / '.join(f'{100 * v:.0f}%' for v in c['best_baseline_at_20_30'])} | "
                f"{num(c['median_snr_margin_db'], 1)} {interval(c['median_snr_margin_interval_db'])} | "
                f"{' / '.join(num(v, 3) for v in c['deletion_auc'])} | "
                f"{' / '.join(num(v, 1) for v in c['sufficient_median'])} | {num(c['discovery_queries'], 0)} |")
    return [*lines, ""]


def markdown(results: dict[str, dict[str, Any]], checks: dict[str, Any],
             by_seed: dict[int, dict[str, dict[str, Any]]] | None = None) -> str:
    """results.md: one table per model and the acceptance checks (and, for several seeds, each check's
    figures per model and seed)."""
    def num(value: Any, digits: int = 1) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    def pct(value: Any) -> str:
        return "–" if value is None else f"{100 * value:.0f}%"

    lines = ["# Model-zoo benchmark", ""]
    if by_seed:
        lines += [f"Tables and acceptance: seed {next(iter(by_seed))}"
                  + (f" (of seeds {', '.join(map(str, by_seed))}: see Across seeds)." if len(by_seed) > 1 else "."),
                  ""]
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
        if rows.get("paired_snr"):
            lines += ["", "| on clips both flip: fourier vs | clips | median SNR gain (dB) | baseline quieter on |",
                      "|---|---|---|---|"]
            lines += [f"| {baseline} | {p['clips']} | {num(p['median_gain_db'])} | {p['other_quieter']} |"
                      for baseline, p in rows["paired_snr"].items()]
        lines.append("")
    lines += ["## Acceptance", "", "```", json.dumps(checks, indent=2), "```", ""]
    if by_seed is not None and len(by_seed) > 1:
        lines += across_seeds(by_seed)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=None, help="zoo models to run (default: all)")
    parser.add_argument("--clips", type=int, default=24, help="clips per model (default 24)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="suite seeds, each a full run per model (default: 0); the tables are the first's")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "zoo" / "out")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from freqrex_bench import run_suite

    models = zoo(args.out / "clips")
    names = args.models or list(models)
    unknown = sorted(set(names) - set(models))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; expected some of {sorted(models)}")
    bad_seeds = [seed for seed in args.seeds if seed < 0]
    if bad_seeds or len(set(args.seeds)) < len(args.seeds):
        parser.error(f"--seeds must be distinct whole numbers >= 0, got {args.seeds}")
    materialise(args.out / "clips", names)
    by_seed: dict[int, dict[str, dict[str, Any]]] = {}
    for seed in args.seeds:
        results = by_seed[seed] = {}
        for name in names:
            began = time.perf_counter()
            suite = parsed_suite(name, models[name], args.clips, seed)
            folder = args.out / "runs" / (name if seed == 0 else f"{name}-seed{seed}")
            outcome = run_suite(suite, folder, progress=False, log=lambda line: print(line, flush=True))
            results[name] = table(name, outcome.summary, outcome.records)
            print(f"{name}, seed {seed}: {time.perf_counter() - began:.0f} s", flush=True)
    first = by_seed[args.seeds[0]]
    checks = acceptance(first)
    report = {"seeds": args.seeds, "results": first, "acceptance": checks,
              "by_seed": {str(seed): {"results": results, "acceptance": acceptance(results)}
                          for seed, results in by_seed.items()}}
    (args.out / "results.json").write_text(json.dumps(report, indent=2))
    (args.out / "results.md").write_text(markdown(first, checks, by_seed))
    print(markdown(first, checks, by_seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
