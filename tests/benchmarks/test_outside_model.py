"""Time outside the model on a long clip (issue 13): the job ReX's own 1-D mode can also run, and a real model.

The job: 30 s at 16 kHz (480,000 samples, 240,001 rfft bins) holding two tones, 440 Hz and 3 kHz (each on
an exact bin, amplitude 0.1: a quarter of the clip's energy each), plus white noise (std 0.1: the other
half). The classifier (`TwoBands`, numpy) answers "both" only when each of two narrow bands, 430-450 Hz and
2990-3010 Hz, holds at least 10% of the signal's energy; its probability is a logistic of the smaller band
share around 0.1. So the answer is known by hand: the two tone bins alone are sufficient (each band holds
half the energy), any sufficient set worth the name lies inside the bands, and removing either tone bin
flips the decision.

Figures (each benchmark's extra_info; printed with -s):
- queries: signals the model saw (cache hits excluded); model_calls: predict() calls (batches);
- wall_s, cpu_s: the whole explain() call, wall clock and this process's CPU time (all threads);
- inside_s, inside_cpu_s: the time spent inside the model (the Oracle's model_seconds; CPU from
  time.process_time around each predict call); outside_s, outside_cpu_s: the rest;
- sufficient: the sufficient set's size in bins; precision: the share of its bins inside the two bands;
- load: the 1-minute load average before the run (the machine is shared: CPU seconds are the steadier
  figure).

Run with `python -m pytest -o addopts="" tests/benchmarks/test_outside_model.py --benchmark-only -s`
(skipped in the normal run). Nothing here asserts a time; the known answer is asserted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from freqrex_bench import explain
from freqrex_bench.causal import CausalResult
from freqrex_bench.targets import CallableTarget

from .test_explain_speed import thirty_seconds_of_speech_commands

RATE = 16000
SECONDS = 30
TONES_HZ = (440.0, 3000.0)
BANDS_HZ = ((430.0, 450.0), (2990.0, 3010.0))
SHARE = 0.10


def two_tones_and_noise(seed: int = 0) -> np.ndarray:
    """float32 [480000]: the two tones (random phases) plus white noise, 30 s at 16 kHz, peak below 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(RATE * SECONDS) / RATE
    tones = sum(0.1 * np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi)) for hz in TONES_HZ)
    return (tones + 0.1 * rng.standard_normal(t.size)).astype(np.float32)


def in_bands(hz: np.ndarray) -> np.ndarray:
    """bool [n]: which of the frequencies `hz` (Hz) lie in either band."""
    return np.logical_or.reduce([(hz >= lo) & (hz <= hi) for lo, hi in BANDS_HZ])


class TwoBands:
    """The known-answer classifier: P("both") = logistic(200 x (min band share - 0.1)) per signal, where a
    band's share is its rfft energy over the signal's whole rfft energy (0 for silence)."""

    labels = ["not both", "both"]

    def __init__(self, n_samples: int = RATE * SECONDS) -> None:
        hz = np.fft.rfftfreq(n_samples, 1 / RATE)
        self.bands = [(hz >= lo) & (hz <= hi) for lo, hi in BANDS_HZ]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        power = np.square(np.abs(np.fft.rfft(batch, axis=1)))
        total = np.maximum(power.sum(axis=1), 1e-30)
        share = np.min([power[:, band].sum(axis=1) / total for band in self.bands], axis=0)
        both = 1 / (1 + np.exp(-200 * (share - SHARE)))
        return np.stack([1 - both, both], axis=1).astype(np.float32)


class Metered:
    """A target seen through a meter: counts predict() calls and the CPU seconds spent inside them."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.labels = target.labels
        self.sample_rate = target.sample_rate
        self.min_samples = getattr(target, "min_samples", 1)
        self.name = getattr(target, "name", "metered")
        self.calls = 0
        self.cpu_seconds = 0.0

    def predict(self, batch: np.ndarray) -> np.ndarray:
        began = time.process_time()
        try:
            return self.target.predict(batch)
        finally:
            self.cpu_seconds += time.process_time() - began
            self.calls += 1


def two_bands_target() -> Metered:
    return Metered(CallableTarget(TwoBands(), TwoBands.labels, RATE, name="two-bands"))


def measured(run: Callable[[], CausalResult], target: Metered) -> dict[str, Any]:
    """Run `run` once; its figures (module docstring)."""
    load = os.getloadavg()[0]
    began_cpu = time.process_time()
    result = run()
    cpu = time.process_time() - began_cpu
    figures: dict[str, Any] = {
        "queries": result.queries,
        "model_calls": target.calls,
        "wall_s": round(result.seconds, 3),
        "inside_s": round(result.model_seconds, 3),
        "outside_s": round(result.seconds - result.model_seconds, 3),
        "cpu_s": round(cpu, 3),
        "inside_cpu_s": round(target.cpu_seconds, 3),
        "outside_cpu_s": round(cpu - target.cpu_seconds, 3),
        "load": round(load, 2),
    }
    sufficient = result.sufficient
    if sufficient is not None:
        figures["sufficient"] = int(sufficient.size)
        figures["precision"] = round(float(in_bands(result.hz[sufficient]).mean()), 4) if sufficient.size else None
    return figures


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_tones_thirty_seconds(benchmark, seed):
    clip = two_tones_and_noise()
    target = two_bands_target()
    results: list[CausalResult] = []

    def run() -> CausalResult:
        results.append(explain(target, clip, RATE, seed=seed, batch_size=64))
        return results[-1]

    figures = benchmark.pedantic(measured, args=(run, target), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    print(f"\ntwo tones, seed {seed}: {figures}")
    sufficient = results[-1].sufficient
    assert results[-1].hz.size == 240001
    assert sufficient is not None and in_bands(results[-1].hz[sufficient]).all()


@pytest.mark.slow
def test_silero_thirty_seconds_split(benchmark, silero):
    """The same split through a real model: silero-vad streams 938 frames of each 30 s mutant, so the
    ranking gets max_queries=300 (about 400 queries with extraction) to keep the run to minutes."""
    clip = thirty_seconds_of_speech_commands()
    target = Metered(silero)
    figures = benchmark.pedantic(
        measured, args=(lambda: explain(target, clip, RATE, batch_size=64, max_queries=300), target),
        rounds=1, iterations=1)
    figures.pop("precision", None)
    benchmark.extra_info.update(figures)
    print(f"\nsilero-vad, 30 s: {figures}")
