"""The Ray executor: (target, clip) jobs in N worker processes, on this machine or on a Ray cluster.

Each worker is a Ray actor (`Worker`) holding the plan and a TargetLoader, so it loads each model once and
keeps it. The driver (this process) hands one job at a time to each idle worker, takes the records back
in the order they finish, and yields them to the runner, which alone writes the run folder: a worker
writes a job's files (adversarial .npy/.wav, explanations, signals) into a private temporary folder and
ships their bytes back with the records, so the run folder needs no shared filesystem. Models and clips
are read by the workers, at the paths the suite names: every node must see them there (a worker on
another node checks each model's SHA-256 against the driver's before using it).

Faults: a worker process that dies mid-job (SIGKILL, out of memory, a crash in native code) is restarted
by Ray, and Ray runs its job again, up to MAX_RETRIES times (`max_task_retries`; `max_restarts=-1`, so
the pool keeps its size); a job lost more often than that becomes error records, and the suite goes on.
A model that raises inside a worker becomes an error record, as in the serial runner. Closing the
executor's iterator (Ctrl-C in the driver) kills every worker; records already yielded are kept.

Why not ray.util.ActorPool: it cannot say which job a lost result belonged to. Scheduling, placement,
restarts and retries are Ray's; the loop here only hands out jobs and collects results.
"""

from __future__ import annotations

import logging
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError

from ..errors import FreqrexError, InvalidInputError
from ..plan import ClipJob, Plan, TargetLoader, model_hash
from ..store import RunFolder
from ..suite import HFSpec, TorchScriptSpec
from ..targets import Target
from .base import Executor, Finished, TargetJob, Work, failure, run_clip, run_target_job

MAX_RETRIES = 2
"""How many times Ray runs a job again after the worker running it died (so at most 3 attempts)."""

_POLL_S = 0.5  # how long the driver waits for a result before checking for Ctrl-C again


class WorkerLost(FreqrexError):
    """Every attempt at a job ended with its worker process dead (killed, out of memory, crashed)."""


@dataclass(frozen=True)
class Shipped:
    """What a worker sends back for one job: its records (with their files' bytes), the seconds the job
    took inside the worker, the worker's process id and Ray node id; or `fatal`, an error that must stop
    the run (a model that cannot be loaded), raised again in the driver."""

    finished: list[Finished]
    seconds: float
    pid: int
    node: str
    fatal: FreqrexError | None = None


@dataclass(frozen=True)
class JobTiming:
    """One job as the driver saw it: which (`job`: "target clip-id"), on which worker `pid` and `node`, its
    seconds inside the worker and from hand-out to result (`round_trip`); their difference is what Ray
    (scheduling, serialisation, transfer) and the driver's hand-out added."""

    job: str
    pid: int
    node: str
    seconds: float
    round_trip: float

    @property
    def overhead(self) -> float:
        """Seconds the job spent outside the worker's own work."""
        return max(self.round_trip - self.seconds, 0.0)


class Worker:
    """A Ray actor holding one copy of the plan and each model it has been asked for (loaded once).

    `threads` caps the math threads of its models (torch), so N workers on N cores do not oversubscribe
    them. `driver_node` is the Ray node id of the driver: a worker on another node checks each model's
    SHA-256 against the plan's before using it. SIGINT is ignored: Ctrl-C in a terminal reaches the whole
    process group, and only the driver decides what stops."""

    def __init__(self, plan: Plan, threads: int, driver_node: str) -> None:
        if hasattr(signal, "SIGINT"):
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            except ValueError:  # not the main thread: nothing to do
                pass
        os.environ["OMP_NUM_THREADS"] = str(threads)
        self.plan, self.threads = plan, threads
        self.node = ray.get_runtime_context().get_node_id()
        self.remote = self.node != driver_node
        self.targets = TargetLoader(plan.suite)

    def ready(self) -> tuple[int, str]:
        """(process id, Ray node id): answered once the worker is up."""
        return os.getpid(), self.node

    def target(self, name: str) -> Target:
        """The target called `name`, loaded on first use. Raises InvalidInputError when it cannot be loaded,
        or (on another node than the driver's) when its model files differ from the driver's."""
        if name not in self.targets.loaded:
            spec = self.plan.spec(name)
            if self.remote and model_hash(spec, self.plan.suite.base) != self.plan.hashes[name]:
                raise InvalidInputError(
                    f"targets[{name}].path: the model a Ray worker on node {self.node[:12]} finds at "
                    f"{getattr(spec, 'path', '')!r} differs from the driver's; every node must see the same "
                    "model files")
            self.targets(name)
            if "torch" in sys.modules:
                import torch

                torch.set_num_threads(self.threads)
        return self.targets(name)

    def clip(self, job: ClipJob) -> Shipped:
        """Run one clip job; its records come back with the bytes of the files they name."""
        began = time.perf_counter()
        try:
            target = self.target(job.target)
        except FreqrexError as exc:
            return self._shipped([], began, exc)
        finished = []
        with tempfile.TemporaryDirectory(prefix="freqrex-job-") as staging:
            folder = RunFolder(Path(staging))
            for result in run_clip(self.plan, folder, job, target):
                finished.append(replace(result, files=_collect(folder.root)))
        return self._shipped(finished, began)

    def target_job(self, job: TargetJob) -> Shipped:
        """Run one target-scope job (superposition); a failure is an error record."""
        began = time.perf_counter()
        return self._shipped([Finished(run_target_job(self.plan, job, self.target))], began)

    def _shipped(self, finished: list[Finished], began: float, fatal: FreqrexError | None = None) -> Shipped:
        return Shipped(finished, time.perf_counter() - began, os.getpid(), self.node, fatal)


def _collect(root: Path) -> dict[str, bytes]:
    """Every file under `root`, {posix path relative to root: bytes}, removed as it is read."""
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        files[path.relative_to(root).as_posix()] = path.read_bytes()
        path.unlink()
    return files


@dataclass
class _Pool:
    """The driver's view of the workers: who is idle, and which job each busy one holds."""

    idle: deque[Any] = field(default_factory=deque)
    busy: dict[Any, tuple[Any, ClipJob | TargetJob, float]] = field(default_factory=dict)  # ref -> (actor, job, sent)
    starting: dict[Any, Any] = field(default_factory=dict)  # ready() ref -> actor


class RayExecutor(Executor):
    """Run jobs in `workers` Ray actors: a local Ray started for this run (`address` None), or the cluster
    at `address` ("auto", "host:6379"). `workers` None on a cluster: one per CPU of the
    cluster (per GPU when a target runs on cuda). A Ray session already initialised in this process is
    used as it is (and left running). Raises InvalidInputError for workers < 1."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        if workers is not None and workers < 1:
            raise InvalidInputError(f"the Ray executor needs at least 1 worker, got {workers}")
        if workers is None and address is None:
            raise InvalidInputError("the Ray executor needs a worker count or a cluster address")
        self.workers, self.address = workers, address
        self.timings: list[JobTiming] = []
        self.pids: list[int] = []
        self.started_seconds: float | None = None
        self.stop_seconds: float | None = None
        self._pool: _Pool | None = None
        self._actor_pids: dict[Any, int] = {}

    def describe(self) -> dict[str, Any]:
        """{"executor": "ray", "workers": count (None until known on a cluster), "address": the cluster's or
        "local", "ray": Ray's version}."""
        return {"executor": self.name, "workers": self.workers, "address": self.address or "local",
                "ray": ray.__version__}

    def running(self) -> dict[int, ClipJob | TargetJob]:
        """The jobs handed out whose results are not ready yet, by the process id of the worker holding them
        (as last seen: a worker Ray restarted has a new one). Empty outside `run`."""
        if self._pool is None or not self._pool.busy:
            return {}
        ready, _ = ray.wait(list(self._pool.busy), num_returns=len(self._pool.busy), timeout=0)
        return {self._actor_pids[actor]: job for ref, (actor, job, _sent) in self._pool.busy.items()
                if ref not in ready and actor in self._actor_pids}

    def run(self, work: Work) -> Generator[Finished, None, None]:
        """Yield every record of `work` as jobs finish, in whatever order they finish (executors.base gives
        the contract). Ray is started (or connected to) only when there is work. Raises InvalidInputError
        for an unreachable cluster, a cuda target on a cluster without GPUs, a worker that cannot start, or
        a model a worker cannot load."""
        queue: deque[ClipJob | TargetJob] = deque(work.jobs)
        left = {spec.name: 0 for spec in work.plan.suite.targets}
        for clip_job in work.jobs:
            left[clip_job.target] += 1
        for name, count in left.items():
            if count == 0:
                queue.extend(work.target_jobs(name))
        if not queue:
            return
        began = time.perf_counter()
        cuda = [spec.name for spec in work.plan.suite.targets
                if isinstance(spec, (HFSpec, TorchScriptSpec)) and spec.device == "cuda"]
        started_ray = self._connect(gpus=bool(cuda))
        actors: list[Any] = []
        try:
            actors = self._start(work.plan, cuda)
            pool = self._pool = _Pool(starting={actor.ready.remote(): actor for actor in actors})
            while queue or pool.busy:
                self._hand_out(queue, pool, work)
                if not pool.busy and not pool.starting:
                    raise InvalidInputError("no Ray worker is left to run the remaining jobs")
                results = self._collect(pool, began)
                self._hand_out(queue, pool, work)  # idle workers get their next job before the driver writes
                for shipped, job, sent, seen in results:
                    if shipped.fatal is not None:  # a model a clip job needs cannot be loaded: as in the serial run
                        raise shipped.fatal
                    if shipped.pid:  # not a job Ray gave up on
                        self.timings.append(JobTiming(_name(job), shipped.pid, shipped.node, shipped.seconds,
                                                      seen - sent))
                    yield from shipped.finished
                    if isinstance(job, ClipJob):
                        left[job.target] -= 1
                        if left[job.target] == 0:
                            queue.extendleft(reversed(work.target_jobs(job.target)))
                    self._hand_out(queue, pool, work)
        finally:
            stopping, self._pool = time.perf_counter(), None
            for actor in actors:
                try:
                    ray.kill(actor, no_restart=True)
                except RayError:  # already gone with its node
                    pass
            if started_ray:
                ray.shutdown()
            self.stop_seconds = time.perf_counter() - stopping

    def _connect(self, gpus: bool) -> bool:
        """Start a local Ray (looking for GPUs only when `gpus`: it takes a second), or connect to the
        cluster; False when this process already had a session."""
        if ray.is_initialized():
            return False
        try:
            if self.address is None:
                ray.init(num_cpus=self.workers, num_gpus=None if gpus else 0, include_dashboard=False,
                         logging_level=logging.WARNING)
            else:
                ray.init(address=self.address, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address!r}" if self.address else "a local Ray"
            raise InvalidInputError(f"cannot start or reach {where}: {_last_line(exc)}") from None
        return True

    def _start(self, plan: Plan, cuda: list[str]) -> list[Any]:
        """Create the worker actors (each reserving a GPU when targets named in `cuda` run on one); checks
        that the cluster has what one worker needs."""
        resources = ray.cluster_resources()
        if cuda and resources.get("GPU", 0) < 1:
            raise InvalidInputError(
                f"targets[{cuda[0]}].device: 'cuda' needs a GPU, but the Ray cluster has none "
                f"(resources: {int(resources.get('CPU', 0))} CPU, 0 GPU); expected device: cpu, or a cluster with GPUs")
        kind = "GPU" if cuda else "CPU"
        count = self.workers or max(int(resources.get(kind, 1)), 1)
        self.workers = count
        remote = ray.remote(num_cpus=1, num_gpus=1 if cuda else 0, max_restarts=-1,
                            max_task_retries=MAX_RETRIES)(Worker)
        driver_node = ray.get_runtime_context().get_node_id()
        return [remote.remote(plan, 1, driver_node) for _ in range(count)]  # a small plan travels inline

    def _hand_out(self, queue: deque[ClipJob | TargetJob], pool: _Pool, work: Work) -> None:
        while queue and pool.idle:
            actor, job = pool.idle.popleft(), queue.popleft()
            if isinstance(job, ClipJob):
                ref = actor.clip.remote(job)
                work.started(job)
            else:
                ref = actor.target_job.remote(job)
            pool.busy[ref] = (actor, job, time.perf_counter())

    def _collect(self, pool: _Pool, began: float) -> list[tuple[Shipped, ClipJob | TargetJob, float, float]]:
        """Wait for results (polling, so Ctrl-C is seen): every result ready now, with its job, when it was
        handed out and when it was seen; their workers are idle again (and new workers joined)."""
        refs = [*pool.busy, *pool.starting]
        done, rest = ray.wait(refs, num_returns=1, timeout=_POLL_S)
        if done and rest:
            more, _ = ray.wait(rest, num_returns=len(rest), timeout=0)
            done += more
        seen = time.perf_counter()
        results = []
        for ref in done:
            if ref in pool.starting:
                actor = pool.starting.pop(ref)
                try:
                    pid, _node = ray.get(ref)
                except RayError as exc:
                    raise InvalidInputError(f"a Ray worker could not start: {_last_line(exc)}") from None
                self._actor_pids[actor] = pid
                self.pids.append(pid)
                if self.started_seconds is None:
                    self.started_seconds = seen - began
                pool.idle.append(actor)
                continue
            actor, job, sent = pool.busy.pop(ref)
            try:
                shipped = ray.get(ref)
                self._actor_pids[actor] = shipped.pid
            except RayError as exc:
                shipped = _lost(job, exc)
            pool.idle.append(actor)
            results.append((shipped, job, sent, seen))
        return results

    def summary(self) -> str | None:
        """Jobs, workers, nodes, start-up time and Ray's overhead per job (median), once the run is over."""
        if not self.timings:
            return None
        nodes = len({t.node for t in self.timings if t.node})
        overhead = statistics.median(t.overhead for t in self.timings)
        job = statistics.median(t.seconds for t in self.timings)
        started = len(self._actor_pids)
        workers = f"{started} of {self.workers}" if started != self.workers else f"{self.workers}"
        return (f"ray: {len(self.timings)} job(s) on {workers} worker(s), {nodes} node(s); start-up "
                f"{self.started_seconds or 0:.1f} s; overhead per job: median {1000 * overhead:.0f} ms "
                f"({100 * overhead / job if job else 0:.1f}% of a job's {job:.2f} s)")


def _name(job: ClipJob | TargetJob) -> str:
    return f"{job.target} {job.clip.id}" if isinstance(job, ClipJob) else f"{job.target} {job.strategy}"


def _lost(job: ClipJob | TargetJob, exc: RayError) -> Shipped:
    """Error records for a job whose result never came: its worker died on every attempt (WorkerLost), or
    the worker itself raised (the exception), one record per strategy of the job."""
    cause = getattr(exc, "cause", None)
    if isinstance(exc, RayTaskError) and isinstance(cause, BaseException):
        error = failure(cause)
    else:
        error = failure(WorkerLost(f"the Ray worker running this job died on each of {MAX_RETRIES + 1} attempts "
                                   f"({_last_line(exc)})"))
    if isinstance(job, ClipJob):
        head: dict[str, Any] = {"target": job.target, "clip": job.clip.id, "truth": job.clip.label, "warnings": []}
        records = [Finished({**head, "strategy": s.name, **error}) for s in job.strategies]
    else:
        records = [Finished({"target": job.target, "clip": None, "truth": None, "warnings": [],
                             "strategy": job.strategy, **error})]
    return Shipped(records, 0.0, 0, "")


def _last_line(exc: BaseException) -> str:
    """The last non-empty line of an error's text (Ray's messages carry whole tracebacks)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
