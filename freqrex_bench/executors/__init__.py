"""Where a plan's jobs run: in this process (serial, the default) or in Ray worker processes (parallel,
local or on a cluster). Either way the driver alone writes the run folder, and the records are the same.

`make_executor(workers, address)` picks one; base.py holds the contract and what one job does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from .base import Executor, Finished, Stored, TargetJob, Work, failure, run_clip, run_target_job, truth_index
from .serial import SerialExecutor

if TYPE_CHECKING:
    from .ray import RayExecutor

MISSING_RAY = ("parallel and distributed runs (--workers, --address, RAY_ADDRESS, execution.workers) need the "
               "Python package 'ray'; install it with: pip install 'freqrex-bench[ray]'")


def make_executor(workers: int | None = None, address: str | None = None) -> Executor:
    """The serial executor when `workers` is None or 0 and there is no `address`; else a RayExecutor with
    `workers` worker processes (None on a cluster: one per CPU), on a local Ray started for the run or on
    the cluster at `address`. Raises InvalidInputError when Ray is not installed (naming the extra to
    install), for workers < 0, or for workers 0 with an address."""
    if workers is not None and workers < 0:
        raise InvalidInputError(f"--workers must be >= 0 (0: run serially in this process), got {workers}")
    if address is not None and workers == 0:
        raise InvalidInputError(f"--workers 0 runs serially in this process and cannot use the Ray cluster at "
                                f"{address!r}; expected --workers >= 1, or no address")
    if not workers and address is None:
        return SerialExecutor()
    return ray_executor(workers, address)


def ray_executor(workers: int | None, address: str | None) -> RayExecutor:
    """A RayExecutor (see make_executor); InvalidInputError naming the `ray` extra when Ray is missing."""
    try:
        from .ray import RayExecutor
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "ray":
            raise
        raise InvalidInputError(MISSING_RAY) from None
    return RayExecutor(workers, address)


__all__ = ["Executor", "Finished", "SerialExecutor", "Stored", "TargetJob", "Work", "failure", "make_executor",
           "ray_executor", "run_clip", "run_target_job", "truth_index"]
