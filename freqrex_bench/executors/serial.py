"""The serial executor: every job in this process, one after another, in plan order (the default; needs no
Ray). Records are yielded the moment each strategy finishes, and files are written straight into the run
folder."""

from __future__ import annotations

from collections.abc import Generator

from ..plan import TargetLoader
from .base import Executor, Finished, Work, run_clip, run_target_job


class SerialExecutor(Executor):
    """Runs clip jobs in plan order in this process (each model loaded once), then each target's
    target-scope jobs (superposition) in suite order."""

    name = "serial"

    def run(self, work: Work) -> Generator[Finished, None, None]:
        """Yield every record of `work` as it finishes (executors.base gives the contract). Raises
        InvalidInputError, naming the target, when a model cannot be loaded for a clip job."""
        targets = TargetLoader(work.plan.suite)
        for job in work.jobs:
            work.started(job)
            yield from run_clip(work.plan, work.folder, job, targets(job.target))
        for spec in work.plan.suite.targets:
            for target_job in work.target_jobs(spec.name):
                yield Finished(run_target_job(work.plan, target_job, targets))
