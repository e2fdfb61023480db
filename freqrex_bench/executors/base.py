"""What one job does, wherever it runs, and the contract every executor keeps.

A job is either a clip job (plan.ClipJob: one clip under one target, its pending clip-scope strategies)
or a target job (TargetJob: one target-scope strategy, such as superposition, over the target's
explained clips). `run_clip` and `run_target_job` execute one job against a loaded target and return
records; they never raise for a failure of the model or the clip (those become error records).

An executor takes a `Work` (the plan, the run folder, the clip jobs) and yields `Finished` records back
to the driver, which alone appends them to the run folder. Its contract:

- every clip job yields exactly one record per pending strategy (error records included), so the
  driver knows when a job is complete;
- `work.target_jobs(name)` is called once per target, only after every clip job of that target has
  been yielded (and so stored by the driver), and the target jobs it returns are run and yielded too;
- records are yielded as they finish; nothing is written to the run folder except through the driver
  (a remote worker ships its files back in `Finished.files`).
"""

from __future__ import annotations

import io
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..attacks.superposition import Explained, TargetContext
from ..causal import CausalResult
from ..data import ClipRef, read_clip
from ..oracle import Oracle
from ..plan import ClipJob, Plan
from ..store import RunFolder
from ..strategy import Context, clip_seed
from ..targets import Target

Record = dict[str, Any]


@dataclass(frozen=True)
class Finished:
    """One finished record; with the in-memory `explained` of a causal result (what superposition needs),
    and `files`: the files the record names, {path relative to the run folder: bytes}, when a remote
    worker made them (empty when they were written into the run folder directly)."""

    record: Record
    explained: Explained | None = None
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Stored:
    """A clip explained by an earlier run, as superposition needs it: its id and ground truth (`clip`), the
    predicted label's name, and the bytes of its explanation .npz (None: no file), parsed where the
    target is loaded (`resolve`)."""

    clip: ClipRef
    label: str
    explanation: bytes | None

    def resolve(self, target: Target) -> Explained:
        """The Explained for `target`: label names become indices, the exact float32 [T] sufficient signal
        comes from the .npz. Raises ValueError for a label the target lacks or an unreadable file."""
        sufficient = None
        if self.explanation is not None:
            with np.load(io.BytesIO(self.explanation)) as arrays:
                sufficient = arrays["sufficient_signal"] if "sufficient_signal" in arrays else None
        return Explained(target.labels.index(self.label), sufficient, truth_index(self.clip, target))


@dataclass(frozen=True)
class TargetJob:
    """A target-scope strategy (by name) to run over the target's explained clips, in plan order: those
    explained in this run (Explained, from memory) and those of an earlier run (Stored)."""

    target: str
    strategy: str
    clips: tuple[Explained | Stored, ...]


@dataclass(frozen=True)
class Work:
    """What the driver hands an executor: the plan, the run folder, the clip jobs in plan order,
    `target_jobs(target name)` (called once per target after all its clip jobs are yielded; see the
    module docstring) and `started(job)` (told when a clip job starts, for the progress bar)."""

    plan: Plan
    folder: RunFolder
    jobs: Sequence[ClipJob]
    target_jobs: Callable[[str], list[TargetJob]]
    started: Callable[[ClipJob], None] = lambda job: None


class Executor(ABC):
    """Runs a Work's jobs somewhere and yields their records to the driver (the module docstring gives the
    contract). Subclasses: executors.serial.SerialExecutor (this process, in order) and
    executors.ray.RayExecutor (Ray worker processes, local or on a cluster)."""

    name: str = "executor"

    @abstractmethod
    def run(self, work: Work) -> Generator[Finished, None, None]:
        """Execute every job of `work`, yielding each record as it finishes. Closing the iterator early
        (Ctrl-C, an error in the driver) stops all work it started. Raises InvalidInputError when a target
        cannot be loaded."""

    def describe(self) -> dict[str, Any]:
        """How the run executes, as run.json records it: {"executor": name, "workers": count}."""
        return {"executor": self.name, "workers": 1}

    def summary(self) -> str | None:
        """One line about the execution once it is over (None: nothing to say)."""
        return None


def run_clip(plan: Plan, folder: RunFolder, job: ClipJob, target: Target) -> Iterator[Finished]:
    """Run a job's pending strategies on its clip, yielding each record as it finishes (so the caller can
    store it before the next starts); failures become error records, never exceptions (a failed causal
    discovery fails the strategies after it). Files are written into `folder` as each record finishes."""
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


def run_target_job(plan: Plan, job: TargetJob, load: Callable[[str], Target]) -> Record:
    """Run a target-scope strategy over the job's clips with the target `load(name)` gives; returns its
    record. Any failure (loading the target included) becomes an error record."""
    head: Record = {"target": job.target, "clip": None, "truth": None, "warnings": [], "strategy": job.strategy}
    try:
        strategy = next(s for s in plan.target_strategies if s.name == job.strategy)
        target = load(job.target)
        clips = [clip.resolve(target) if isinstance(clip, Stored) else clip for clip in job.clips]
        ctx = TargetContext(Oracle(target, plan.spec(job.target).batch_size), clips, plan.suite.seed)
        result = strategy.run(ctx)
    except Exception as exc:  # noqa: BLE001
        return {**head, **failure(exc)}
    return {**head, "ok": True, "record": result.to_dict(), "files": {}}


def truth_index(ref: ClipRef, target: Target) -> int | None:
    """A clip's ground truth as a label index of `target`: None when unknown, -1 for a label it lacks."""
    if ref.label is None:
        return None
    return target.labels.index(ref.label) if ref.label in target.labels else -1


def _explained(result: Any, ref: ClipRef, target: Target) -> Explained | None:
    return Explained.of(result, truth_index(ref, target)) if isinstance(result, CausalResult) else None


def failure(exc: BaseException) -> Record:
    """The fields of an error record: {"ok": False, "error": "<exception type>: <message>"}."""
    return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
