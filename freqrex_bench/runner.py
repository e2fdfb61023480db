"""Run a suite: targets x clips x strategies, each finished result appended to the run folder at once.

The run is resumable: work whose record is already in `results.jsonl` is skipped, so a re-run after
Ctrl-C, SIGKILL or a crash picks up where it stopped, and (all randomness being seeded per clip and
strategy) ends with the same records an uninterrupted run writes. A clip or strategy that fails is
recorded as an error and the suite goes on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from tqdm import tqdm

from . import __version__
from .attacks import CausalResult, Context, Strategy, Superposition
from .build import build_strategies, build_target, model_path
from .checks import CheckOutcome
from .data import Clip, ClipRef, find_clips, read_clip
from .oracle import Oracle
from .results import AttackResult, safe_stem, save_adversarial
from .spectrum import Spectrum
from .store import RunFolder, latest, record_key
from .suite import Suite, TargetSpec

# Suite keys whose change changes results; a run folder only resumes a run with the same ones.
RESULT_KEYS = ("seed", "targets", "data", "discovery", "attacks", "strategies")
PACKAGES = ("freqrex-bench", "numpy", "scipy", "torch", "transformers", "onnxruntime", "soundfile", "soxr")


@dataclass
class RunOutcome:
    """What a run left: its folder, every record, the summary, and how the checks came out."""

    folder: RunFolder
    records: list[dict[str, Any]]
    summary: dict[str, Any]
    checks: list[CheckOutcome]
    new_records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def run_suite(
    suite: Suite,
    out: str | Path | None = None,
    *,
    fresh: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> RunOutcome:
    """Run (or resume) `suite`, write results.jsonl, summary.json and report.html, and evaluate its checks.

    `out` overrides the suite's run folder; `fresh` clears an earlier run there first; `retry_errors`
    re-runs work that ended in an error. `log(line)` receives the cost estimate, per-clip progress when no
    terminal shows a bar, and clip warnings (default: stderr). `on_record(record)` is called with each
    record right after it is durably written to results.jsonl (a hook for progress, streaming, or
    interrupting a run at a known point). Raises InvalidInputError for an unusable run folder or suite
    data; a failing model or clip becomes an error record instead.
    """
    from .reports import write_report

    say = log or (lambda line: tqdm.write(line, file=sys.stderr))

    def keep(record: dict[str, Any]) -> None:
        folder.append([record])
        records.append(record)
        if on_record is not None:
            on_record(record)

    folder = RunFolder(Path(out) if out is not None else suite.output_folder)
    clips = find_clips(suite.data, suite.base, suite.seed)
    strategies = build_strategies(suite)
    names = [s.name for s in strategies] + (["superposition"] if suite.runs("superposition") else [])
    specs = {spec.name: spec for spec in suite.targets}
    load = functools.cache(lambda name: build_target(specs[name], suite.base))  # each model loads once, if needed
    hashes = {spec.name: model_hash(spec, suite.base) for spec in suite.targets}
    records = folder.start(run_info(suite, clips, hashes), fresh)
    done = {record_key(r): r for r in latest(records) if r["ok"] or not retry_errors}
    todo = [(spec, ref) for spec in suite.targets for ref in clips
            if any((spec.name, ref.id, name) not in done for name in names if name != "superposition")]
    say(cost_estimate(suite, len(clips), names, len(done)))
    new, total = 0, len(suite.targets) * len(clips)
    finished = total - len(todo)
    explained: set[str] = set()  # targets with new clip results in this run
    with tqdm(total=total, initial=finished,
              unit="clip", desc="clips", disable=None if progress else True, dynamic_ncols=True) as bar:
        for spec, ref in todo:
            target = load(spec.name)
            pending = [s for s in strategies if (spec.name, ref.id, s.name) not in done]
            bar.set_postfix_str(f"{spec.name} {ref.id}", refresh=False)
            failed = 0
            warned = False
            for record in run_clip(suite, folder, spec, target, ref, pending):
                if record["warnings"] and not warned:
                    warned = True
                    say(f"warning: {spec.name} {ref.id}: " + "; ".join(record["warnings"]))
                keep(record)
                new += 1
                failed += not record["ok"]
                explained.add(spec.name)
            bar.update(1)
            finished += 1
            if bar.disable and progress:  # no terminal (CI logs): one line per clip instead of a bar
                say(f"[{finished}/{total}] {spec.name} {ref.id}: " + (f"{failed} error(s)" if failed else "done"))
        for spec in suite.targets:
            stale = spec.name in explained or (spec.name, None, "superposition") not in done
            if suite.runs("superposition") and stale:  # new clip results: compose again
                keep(superpose(suite, folder, spec, load(spec.name), clips, records))
                new += 1
    records = list(latest(records))
    summary, checks = write_report(folder, suite, records)
    errors = [f"{r['target']} {r['clip']} {r['strategy']}: {r['error']}" for r in records if not r["ok"]]
    return RunOutcome(folder, records, summary, checks, new, errors)


def run_clip(
    suite: Suite, folder: RunFolder, spec: TargetSpec, target: Any, ref: ClipRef, pending: list[Strategy]
) -> Iterator[dict[str, Any]]:
    """Run the pending strategies on one clip under one target, yielding each record as it finishes
    (so the caller can store it before the next starts); failures become error records."""
    head: dict[str, Any] = {"target": spec.name, "clip": ref.id, "truth": ref.label, "warnings": []}
    try:
        clip = read_clip(ref, target.sample_rate, suite.data.duration)
        ctx = Context.create(clip.signal, Oracle(target, spec.batch_size, spec.budget), suite.seed, clip.warnings)
    except Exception as exc:  # noqa: BLE001 - any failure on one clip is recorded, and the suite goes on
        yield from ({**head, "strategy": s.name, **failure(exc)} for s in pending)
        return
    head["warnings"] = ctx.warnings
    causal_error = None
    for strategy in pending:
        began = time.perf_counter()
        if causal_error is not None:
            yield {**head, "strategy": strategy.name, **causal_error}
            continue
        try:
            result = ctx.result_of(strategy)
            files = save_files(suite, folder, spec.name, ref, clip, result)
            yield {**head, "strategy": strategy.name, "ok": True, "record": result.to_dict(), "files": files,
                   "seconds": time.perf_counter() - began}
        except Exception as exc:  # noqa: BLE001
            error = failure(exc)
            yield {**head, "strategy": strategy.name, **error}
            if strategy.name == "causal":
                causal_error = {**error, "error": f"causal discovery failed: {error['error']}"}


def failure(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def save_files(suite: Suite, folder: RunFolder, target: str, ref: ClipRef, clip: Clip, result: Any) -> dict[str, str]:
    """Write a result's arrays: a causal result's explanation (and listenable signals), an attack's
    adversarial example. Returns their paths relative to the run folder."""
    files: dict[str, str] = {}
    if isinstance(result, CausalResult):
        npz = folder.file("explanations", target, ref.id, ".npz")
        bins = {kind: subset.bins for kind, subset in result.subsets.items()}
        np.savez_compressed(npz, responsibility=result.responsibility.astype(np.float32), **bins)
        files["explanation"] = folder.relative(npz)
        if suite.report.audio:
            signals = {"original": clip.signal, **{kind: result.signal_of(kind) for kind in ("sufficient", "necessary")}}
            for kind, signal in signals.items():
                if signal is not None:
                    wav = folder.file("signals", target, f"{ref.id}-{kind}", ".wav")
                    soundfile.write(wav, np.clip(signal, -1, 1), clip.sample_rate, subtype="PCM_16")
                    files[kind] = folder.relative(wav)
    elif isinstance(result, AttackResult) and result.success and result.adversarial is not None:
        npy, wav = save_adversarial(result.adversarial, clip.sample_rate, folder.root / "adversarial" / safe_stem(target),
                                    f"{ref.id}-{result.strategy}")
        files.update(adversarial=folder.relative(npy), adversarial_wav=folder.relative(wav))
    return files


def superpose(
    suite: Suite, folder: RunFolder, spec: TargetSpec, target: Any, clips: list[ClipRef], records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Superposition for one target, from the recorded sufficient sets of its clips (paper Table 2)."""
    head = {"target": spec.name, "clip": None, "truth": None, "warnings": [], "strategy": "superposition"}
    causal = {r["clip"]: r for r in latest(records) if r["target"] == spec.name and r["strategy"] == "causal"}
    predicted, signals, truths = [], [], []
    try:
        for ref in clips:
            record = causal.get(ref.id)
            if record is None or not record["ok"] or "sufficient" not in record["record"]["subsets"]:
                continue
            clip = read_clip(ref, target.sample_rate, suite.data.duration)
            with np.load(folder.root / record["files"]["explanation"]) as arrays:
                signals.append(Spectrum.from_signal(clip.signal, clip.sample_rate).keep_bins(arrays["sufficient"]))
            predicted.append(target.labels.index(record["record"]["label"]))
            truths.append(target.labels.index(ref.label) if ref.label in target.labels else
                          (None if ref.label is None else -1))
        oracle = Oracle(target, spec.batch_size)
        rows = Superposition(suite.seed).run_signals(oracle, predicted, signals, truths)
    except Exception as exc:  # noqa: BLE001
        return {**head, **failure(exc)}
    return {**head, "ok": True, "record": {"rows": [row.to_dict() for row in rows],
                                            "queries": sum(row.queries for row in rows)}, "files": {}}


def cost_estimate(suite: Suite, n_clips: int, names: list[str], done: int) -> str:
    """One line before the work starts: how much there is and about how many model queries it takes."""
    per_clip = {
        "causal": suite.discovery.max_queries + 100, "fourier": 40, "stft": 40 * 3, "random-frequencies": 60,
        "largest-magnitude": 60, "white-noise": 11, "gradient": 60,
    }
    units = len(suite.targets) * (n_clips * len([n for n in names if n != "superposition"]) + ("superposition" in names))
    queries = len(suite.targets) * n_clips * sum(per_clip.get(n, 0) for n in names)
    return (f"{suite.name}: {len(suite.targets)} target(s) x {n_clips} clip(s) x {len(names)} strategies "
            f"({', '.join(names)}) = {units} results, {done} already done; "
            f"at most about {queries:,} model queries")


def model_hash(spec: TargetSpec, base: Path) -> str | None:
    """SHA-256 of the model file, or of every file in a model folder (names and contents, sorted)."""
    path = model_path(spec, base)
    if path is None:
        return None
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def fingerprint_parts(suite: Suite, hashes: dict[str, str | None]) -> dict[str, str]:
    """A hash per suite key whose change changes results (batch size, which changes only speed, is
    left out; each model's contents are in). A run folder resumes only a run with equal parts."""
    dumped = suite.model_dump(mode="json")
    parts = {key: dumped[key] for key in RESULT_KEYS}
    parts["targets"] = [{**{k: v for k, v in t.items() if k != "batch_size"}, "sha256": hashes[t["name"]]}
                        for t in parts["targets"]]
    listed = {spec.name: spec.settings.model_dump(mode="json") for spec in suite.strategies}
    parts["strategies"] = sorted({"causal": {}, **listed}.items())  # order and listing causal change nothing
    return {key: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
            for key, value in parts.items()}


def run_info(suite: Suite, clips: list[ClipRef], hashes: dict[str, str | None]) -> dict[str, Any]:
    """run.json: the suite as validated, its fingerprint, package versions, model hashes, the clips."""
    parts = fingerprint_parts(suite, hashes)
    return {
        "suite": suite.model_dump(mode="json"), "base": str(suite.base), "fingerprint_parts": parts,
        "fingerprint": hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(),
        "models": hashes, "clips": [c.id for c in clips],
        "versions": {name: _version(name) for name in PACKAGES}, "python": sys.version.split()[0],
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "freqrex_bench": __version__,
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None

