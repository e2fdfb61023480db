"""Speed of parallel runs: a real suite serially and with 2 Ray workers, and what Ray adds per job.

The suite is examples/fsdd-heldout.yaml (the demo model, examples/models/fsdd-ast, every strategy, paper
defaults) on the held-out clips tests/data/fsdd/*_theo_*.wav: its own 24, and all 44. Run with
`python -m pytest -o addopts="" tests/benchmarks/test_parallel_speed.py --benchmark-only -s` (skipped in
the normal run) on an otherwise idle machine; it prints the figures and stores them in the benchmark's
extra_info. Nothing here asserts a time: only that both runs wrote the same records.

Figures, per suite size:
- serial_s, parallel_s, speedup: wall time of each whole run_suite (plan, model loads, jobs, report;
  for Ray also starting a local Ray and its workers, and stopping them);
- ray_start_s, ray_stop_s: starting the local Ray until the first worker is up; stopping it;
- report_s: writing summary.json and report.html after the last record (the same work in both runs);
- jobs_speedup: the job phase alone (first hand-out to last record, model loads included), serial
  against parallel;
- job_inflation: a clip's strategies take this much longer in a worker (1 math thread, 2 processes on
  2 cores) than in the serial run (2 math threads, one process), from the records' own `seconds`;
- overhead_*: per job, the seconds between the driver handing it out and seeing its result, minus the
  seconds it ran inside the worker (scheduling, (de)serialisation, records and files sent back).
"""

import json
import os
import statistics
import time

import pytest
import yaml

from freqrex_bench import parse_suite, run_suite
from freqrex_bench.executors.ray import RayExecutor

from ..support import ROOT
from ..test_runner import records

SUITE = ROOT / "examples" / "fsdd-heldout.yaml"


def timed_run(suite, out, executor=None):
    """Run `suite`; (wall seconds, seconds from the start to the last record, the records' own seconds)."""
    last = []
    began = time.perf_counter()
    run_suite(suite, out, progress=False, log=lambda line: None, executor=executor,
              on_record=lambda record: last.append(time.perf_counter()))
    wall = time.perf_counter() - began
    own = sum(json.loads(line).get("seconds", 0) for line in (out / "results.jsonl").read_text().splitlines())
    return wall, last[-1] - began, own


@pytest.mark.parametrize("clips", [24, 44])
def test_two_workers_against_serial(benchmark, tmp_path, clips):
    data = yaml.safe_load(SUITE.read_text())
    data["data"]["max_clips"] = clips
    suite = parse_suite(data, SUITE.parent)
    load_before = os.getloadavg()[0]
    serial_s, serial_last_s, serial_own = timed_run(suite, tmp_path / "serial")

    executor = RayExecutor(workers=2)
    parallel_s, parallel_last_s, parallel_own = benchmark.pedantic(
        timed_run, args=(suite, tmp_path / "parallel", executor), rounds=1, iterations=1)

    assert records(tmp_path / "parallel") == records(tmp_path / "serial")
    assert len({r["clip"] for r in records(tmp_path / "serial") if r["clip"]}) == clips

    clip_jobs = [t for t in executor.timings if "superposition" not in t.job]
    job_s = statistics.median(t.seconds for t in clip_jobs)
    overhead_s = statistics.median(t.overhead for t in clip_jobs)
    start_s = executor.started_seconds or 0.0
    figures = {
        "clips": clips,
        "serial_s": round(serial_s, 1),
        "parallel_s": round(parallel_s, 1),
        "speedup": round(serial_s / parallel_s, 2),
        "ray_start_s": round(start_s, 1),
        "ray_stop_s": round(executor.stop_seconds or 0.0, 1),
        "report_s": round(serial_s - serial_last_s, 1),
        "jobs_speedup": round(serial_last_s / (parallel_last_s - start_s), 2),
        "job_inflation": round(parallel_own / serial_own, 2),
        "job_median_s": round(job_s, 3),
        "overhead_median_ms": round(1000 * overhead_s, 1),
        "overhead_share": round(overhead_s / job_s, 4),
        "overhead_max_ms": round(1000 * max(t.overhead for t in clip_jobs), 1),
        "load_average_before": round(load_before, 2),
    }
    benchmark.extra_info.update(figures)
    print("\n" + ", ".join(f"{key}: {value}" for key, value in figures.items()))
