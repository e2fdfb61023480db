"""Run a suite: execute its plan (targets x clips x strategies), handing each record to the run folder
the moment it finishes.

Data flows one way: the plan (freqrex_bench.plan) says what to do; the runner executes clip jobs, then
target-scope strategies (superposition, composed from this run's causal results in memory); records
write their own files; the store appends each record durably; the report reads only the folder. The
run is resumable: work whose record is already in `results.jsonl` is skipped, so a re-run after Ctrl-C,
SIGKILL or a crash picks up where it stopped, and (all randomness being drawn from the suite's seed,
with a stream per strategy) ends with the same records an uninterrupted run writes. A clip or strategy
that fails is recorded as an error and the suite goes on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .attacks.superposition import Explained, TargetContext
from .causal import CausalResult
from .checks import CheckOutcome
from .data import ClipRef, read_clip
from .oracle import Oracle
from .plan import ClipJob, Plan, TargetLoader, make_plan
from .provenance import run_info
from .store import RunFolder, latest, record_key
from .strategy import Context, Strategy, clip_seed
from .suite import Suite
from .targets import Target

Record = dict[str, Any]


@dataclass
class RunOutcome:
    """What a run left: its folder, every record, the summary, and how the checks came out."""

    folder: RunFolder
    records: list[Record]
    summary: dict[str, Any]
    checks: list[CheckOutcome]
    new_records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every check held."""
        return all(check.passed for check in self.checks)


@dataclass(frozen=True)
class Finished:
    """One finished piece of clip work: its record, and what superposition needs from a causal result."""

    record: Record
    explained: Explained | None = None


def run_suite(
    suite: Suite,
    out: str | Path | None = None,
    *,
    fresh: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> RunOutcome:
    """Run (or resume) `suite`, write results.jsonl, summary.json and report.html, and evaluate its checks.

    `out` overrides the suite's run folder; `fresh` clears an earlier run there first; `retry_errors`
    re-runs work that ended in an error. `log(line)` receives the cost estimate, per-clip progress when no
    terminal shows a bar, and clip warnings (default: stderr). `on_record(record)` is called with each
    record right after it is durably written to results.jsonl (a hook for progress, streaming, or
    interrupting a run at a known point). Returns a RunOutcome. Raises InvalidInputError for an unusable
    run folder, suite data (clips, model paths) or a model that cannot be loaded; a model that fails on a
    clip, or an unusable clip, becomes an error record instead.
    """
    from .reports import write_report

    say = log or (lambda line: tqdm.write(line, file=sys.stderr))
    plan = make_plan(suite)
    folder = RunFolder(Path(out) if out is not None else suite.output_folder)
    records = folder.start(run_info(plan), fresh)
    done = {record_key(r) for r in latest(records) if r["ok"] or not retry_errors}
    jobs = plan.jobs(done)
    say(cost_estimate(plan, len(done)))
    targets = TargetLoader(suite)
    explained: dict[str, dict[str, Explained]] = {spec.name: {} for spec in suite.targets}
    new = 0

    def keep(record: Record) -> None:
        nonlocal new
        folder.append([record])
        records.append(record)
        new += 1
        if on_record is not None:
            on_record(record)

    total = len(suite.targets) * len(plan.clips)
    finished = total - len(jobs)
    with tqdm(total=total, initial=finished, unit="clip", desc="clips", disable=None if progress else True,
              dynamic_ncols=True) as bar:
        for job in jobs:
            bar.set_postfix_str(f"{job.target} {job.clip.id}", refresh=False)
            failed, warned = 0, False
            for result in run_clip(plan, folder, job, targets(job.target)):
                if result.record["warnings"] and not warned:
                    warned = True
                    say(f"warning: {job.target} {job.clip.id}: " + "; ".join(result.record["warnings"]))
                keep(result.record)
                failed += not result.record["ok"]
                if result.explained is not None:
                    explained[job.target][job.clip.id] = result.explained
            bar.update(1)
            finished += 1
            if bar.disable and progress:  # no terminal (CI logs): one line per clip instead of a bar
                say(f"[{finished}/{total}] {job.target} {job.clip.id}: " + (f"{failed} error(s)" if failed else "done"))
        for spec in suite.targets:
            for strategy in plan.target_strategies:
                if explained[spec.name] or (spec.name, None, strategy.name) not in done:  # new clip results
                    keep(run_target(plan, folder, spec.name, strategy, targets, records, explained[spec.name]))
    records = list(latest(records))
    summary, checks = write_report(folder, suite, records)
    errors = [f"{r['target']} {r['clip']} {r['strategy']}: {r['error']}" for r in records if not r["ok"]]
    return RunOutcome(folder, records, summary, checks, new, errors)


def run_clip(plan: Plan, folder: RunFolder, job: ClipJob, target: Target) -> Iterator[Finished]:
    """Run a job's pending strategies on its clip, yielding each record as it finishes (so the caller can
    store it before the next starts); failures become error records, never exceptions (a failed causal
    discovery fails the strategies after it)."""
    suite, ref = plan.suite, job.clip
    head: Record = {"target": job.target, "clip": ref.id, "truth": ref.label, "warnings": []}
    try:
        clip = read_clip(ref, target.sample_rate, suite.data.duration)
        spec = plan.spec(job.target)
        ctx = Context.create(clip.signal, Oracle(target, spec.batch_size, spec.budget), clip_seed(suite.seed, ref.id),
                             clip.warnings)
    except Exception as exc:  # noqa: BLE001 - any failure on one clip is recorded, and the suite goes on
        yield from (Finished({**head, "strategy": s.name, **failure(exc)}) for s in job.strategies)
        return
    head["warnings"] = ctx.warnings
    causal_error = None
    for strategy in job.strategies:
        began = time.perf_counter()
        if causal_error is not None:
            yield Finished({**head, "strategy": strategy.name, **causal_error})
            continue
        try:
            result = ctx.result_of(strategy)
            files = result.write_files(folder, job.target, ref.id, clip)
            yield Finished({**head, "strategy": strategy.name, "ok": True, "record": result.to_dict(),
                            "files": files, "seconds": time.perf_counter() - began},
                           _explained(result, ref, target))
        except Exception as exc:  # noqa: BLE001
            error = failure(exc)
            yield Finished({**head, "strategy": strategy.name, **error})
            if strategy.name == "causal":
                causal_error = {**error, "error": f"causal discovery failed: {error['error']}"}


def _truth(ref: ClipRef, target: Target) -> int | None:
    """A clip's ground truth as a label index: None when unknown, -1 for a label the model lacks."""
    if ref.label is None:
        return None
    return target.labels.index(ref.label) if ref.label in target.labels else -1


def _explained(result: Any, ref: ClipRef, target: Target) -> Explained | None:
    return Explained.of(result, _truth(ref, target)) if isinstance(result, CausalResult) else None


def run_target(plan: Plan, folder: RunFolder, target_name: str, strategy: Strategy, targets: TargetLoader,
               records: list[Record], in_memory: dict[str, Explained]) -> Record:
    """A target-scope strategy over the target's explained clips: those explained in this run from memory,
    those of an earlier run from their explanation files (the exact sufficient signal is stored there).
    Returns its record; a failure becomes an error record."""
    head: Record = {"target": target_name, "clip": None, "truth": None, "warnings": [], "strategy": strategy.name}
    causal = {r["clip"]: r for r in latest(records) if r["target"] == target_name and r["strategy"] == "causal"}
    try:
        target = targets(target_name)
        clips = []
        for ref in plan.clips:
            record = causal.get(ref.id)
            if ref.id in in_memory:
                clips.append(in_memory[ref.id])
            elif record is not None and record["ok"]:
                clips.append(_explained_from_files(folder, record, ref, target))
        ctx = TargetContext(Oracle(target, plan.spec(target_name).batch_size), clips, plan.suite.seed)
        result = strategy.run(ctx)
    except Exception as exc:  # noqa: BLE001
        return {**head, **failure(exc)}
    return {**head, "ok": True, "record": result.to_dict(), "files": {}}


def _explained_from_files(folder: RunFolder, record: Record, ref: ClipRef, target: Target) -> Explained:
    sufficient = None
    path = folder.root / record["files"].get("explanation", "")
    if path.is_file():
        with np.load(path) as arrays:
            sufficient = arrays["sufficient_signal"] if "sufficient_signal" in arrays else None
    return Explained(target.labels.index(record["record"]["label"]), sufficient, _truth(ref, target))


def failure(exc: BaseException) -> Record:
    """The fields of an error record: {"ok": False, "error": "<exception type>: <message>"}."""
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def cost_estimate(plan: Plan, done: int) -> str:
    """One line before the work starts: how much there is and about how many model queries it takes."""
    suite, names = plan.suite, plan.names
    per_clip = [s for s in plan.strategies if s.scope == "clip"]
    units = len(suite.targets) * (len(plan.clips) * len(per_clip) + len(plan.target_strategies))
    return (f"{suite.name}: {len(suite.targets)} target(s) x {len(plan.clips)} clip(s) x {len(names)} strategies "
            f"({', '.join(names)}) = {units} results, {done} already done; "
            f"at most about {plan.query_estimate():,} model queries")
