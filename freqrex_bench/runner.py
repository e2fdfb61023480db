"""Run a suite: execute its plan (targets x clips x strategies), handing each record to the run folder
the moment it finishes.

Data flows one way: the plan (freqrex_bench.plan) says what to do; an executor (freqrex_bench.executors:
serial in this process by default, or Ray worker processes, local or on a cluster) runs the clip jobs,
then the target-scope strategies (superposition, composed from this run's causal results in memory), and
yields each finished record back here; this driver alone writes the run folder (a remote worker's files
come back as bytes); the store appends each record durably; the report reads only the folder. The run is
resumable: work whose record is already in `results.jsonl` is skipped, so a re-run after Ctrl-C, SIGKILL
or a crash picks up where it stopped, and (all randomness being drawn from the suite's seed, with a
stream per clip and strategy) ends with the same records an uninterrupted run writes, whatever the
executor and its number of workers. A clip or strategy that fails is recorded as an error and the suite
goes on.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tqdm import tqdm

from .attacks.superposition import Explained
from .checks import CheckOutcome
from .executors import Executor, Finished, Stored, TargetJob, Work, make_executor
from .executors.base import failure, run_clip
from .files import fresh_path
from .plan import ClipJob, Plan, make_plan
from .provenance import run_info
from .serialization import jsonable
from .store import FOLDERS, Key, RunFolder, latest, record_key
from .suite import Suite

Record = dict[str, Any]

__all__ = ["Finished", "RunOutcome", "cost_estimate", "failure", "run_clip", "run_suite"]


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


def run_suite(
    suite: Suite,
    out: str | Path | None = None,
    *,
    fresh: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    on_record: Callable[[Record], None] | None = None,
    workers: int | None = None,
    address: str | None = None,
    executor: Executor | None = None,
) -> RunOutcome:
    """Run (or resume) `suite`, write results.jsonl, summary.json and report.html, and evaluate its checks.

    `out` overrides the suite's run folder; `fresh` clears an earlier run there first; `retry_errors`
    re-runs work that ended in an error. `log(line)` receives the cost estimate, per-clip progress when no
    terminal shows a bar, clip warnings and, for parallel runs, one line about the workers (default:
    stderr). `on_record(record)` is called with each record right after it is durably written to
    results.jsonl (a hook for progress, streaming, or interrupting a run at a known point).

    Where the jobs run: `workers` (default: the suite's `execution.workers`) Ray worker processes on this
    machine, or on the Ray cluster at `address`; neither (or workers 0): serially in this process.
    `executor` overrides both (an executors.Executor). Records are the same whatever runs them.

    Returns a RunOutcome. Raises InvalidInputError for an unusable run folder, suite data (clips, model
    paths), a model that cannot be loaded, or a parallel run without Ray installed (naming the extra); a
    model that fails on a clip, or an unusable clip, becomes an error record instead.
    """
    from .reports import write_report

    say = log or (lambda line: tqdm.write(line, file=sys.stderr))
    plan = make_plan(suite)
    if executor is None:
        executor = make_executor(suite.execution.workers if workers is None else workers, address)
    folder = RunFolder(Path(out) if out is not None else suite.output_folder)
    records = folder.start(run_info(plan, executor.describe()), fresh)
    done = {record_key(r) for r in latest(records) if r["ok"] or not retry_errors}
    jobs = plan.jobs(done)
    say(cost_estimate(plan, len(done), executor))
    explained: dict[str, dict[str, Explained]] = {spec.name: {} for spec in suite.targets}
    left = {(job.target, job.clip.id): len(job.strategies) for job in jobs}
    failed: Counter[tuple[str, str]] = Counter()
    warned: set[tuple[str, str]] = set()
    new = 0

    def keep(finished: Finished) -> None:
        nonlocal new
        write_files(folder, finished.files)
        folder.append([finished.record])
        records.append(finished.record)
        new += 1
        if on_record is not None:
            on_record(finished.record)

    def target_jobs(name: str) -> list[TargetJob]:
        return [job for strategy in plan.target_strategies
                if (job := target_job(plan, folder, name, strategy.name, records, explained[name], done)) is not None]

    total = len(suite.targets) * len(plan.clips)
    finished = total - len(jobs)
    with tqdm(total=total, initial=finished, unit="clip", desc="clips", disable=None if progress else True,
              dynamic_ncols=True) as bar:

        def started(job: ClipJob) -> None:
            bar.set_postfix_str(f"{job.target} {job.clip.id}", refresh=False)

        work = Work(plan, folder, jobs, target_jobs, started)
        with closing(executor.run(work)) as results:
            for result in results:
                record = result.record
                key = (record["target"], record["clip"])
                if record["clip"] is not None and record["warnings"] and key not in warned:
                    warned.add(key)
                    say(f"warning: {key[0]} {key[1]}: " + "; ".join(record["warnings"]))
                keep(result)
                if result.explained is not None:
                    explained[record["target"]][record["clip"]] = result.explained
                if record["clip"] is None:
                    continue
                failed[key] += not record["ok"]
                left[key] -= 1
                if left[key] == 0:
                    bar.update(1)
                    finished += 1
                    if bar.disable and progress:  # no terminal (CI logs): one line per clip instead of a bar
                        say(f"[{finished}/{total}] {key[0]} {key[1]}: "
                            + (f"{failed[key]} error(s)" if failed[key] else "done"))
    line = executor.summary()
    if line is not None:
        say(line)
        _update_execution(folder, executor.describe())
    records = list(latest(records))
    summary, checks = write_report(folder, suite, records)
    errors = [f"{r['target']} {r['clip']} {r['strategy']}: {r['error']}" for r in records if not r["ok"]]
    return RunOutcome(folder, records, summary, checks, new, errors)


def target_job(plan: Plan, folder: RunFolder, target: str, strategy: str, records: list[Record],
               in_memory: dict[str, Explained], done: set[Key]) -> TargetJob | None:
    """The target-scope job for `strategy` on `target` over its explained clips: those explained in this run
    from memory, those of an earlier run from their explanation files (the exact sufficient signal is
    stored there); None when it has nothing new to do (done, and no clip explained in this run)."""
    if not in_memory and (target, None, strategy) in done:
        return None
    causal = {r["clip"]: r for r in latest(records) if r["target"] == target and r["strategy"] == "causal"}
    clips: list[Explained | Stored] = []
    for ref in plan.clips:
        record = causal.get(ref.id)
        if ref.id in in_memory:
            clips.append(in_memory[ref.id])
        elif record is not None and record["ok"]:
            path = folder.root / record["files"].get("explanation", "")
            clips.append(Stored(ref, record["record"]["label"], path.read_bytes() if path.is_file() else None))
    return TargetJob(target, strategy, tuple(clips))


def write_files(folder: RunFolder, files: dict[str, bytes]) -> None:
    """Write files a worker shipped back ({path relative to the run folder: bytes}) into the run folder.
    Raises ValueError for a path outside the run's sub-folders (FOLDERS)."""
    for name, data in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or relative.parts[0] not in FOLDERS:
            raise ValueError(f"a worker shipped a file outside the run's folders: {name!r}")
        fresh_path(folder.root.joinpath(*relative.parts)).write_bytes(data)


def _update_execution(folder: RunFolder, execution: dict[str, Any]) -> None:
    """Record in run.json how the run executed, once known (a cluster's worker count)."""
    info = json.loads(folder.info.read_text(encoding="utf-8"))
    if info.get("execution") != execution:
        folder.write_text(folder.info, json.dumps(jsonable({**info, "execution": execution}), indent=2))


def cost_estimate(plan: Plan, done: int, executor: Executor | None = None) -> str:
    """One line before the work starts: how much there is, about how many model queries it takes (all
    workers together), and where it runs."""
    suite, names = plan.suite, plan.names
    per_clip = [s for s in plan.strategies if s.scope == "clip"]
    units = len(suite.targets) * (len(plan.clips) * len(per_clip) + len(plan.target_strategies))
    return (f"{suite.name}: {len(suite.targets)} target(s) x {len(plan.clips)} clip(s) x {len(names)} strategies "
            f"({', '.join(names)}) = {units} results, {done} already done; "
            f"at most about {plan.query_estimate():,} model queries{_where(executor)}")


def _where(executor: Executor | None) -> str:
    """Where the work runs, for the cost estimate: nothing for the serial default."""
    if executor is None or executor.name == "serial":
        return ""
    info = executor.describe()
    workers = info.get("workers")
    count = f"{workers} worker(s)" if workers else "one worker per CPU"
    address = info.get("address")
    return f", in {count} on " + ("a local Ray" if address in (None, "local") else f"the Ray cluster at {address}")
