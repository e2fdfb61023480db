"""Speed of `explain` on real models: wall time, queries, and the share of time outside the model.

Run with `python -m pytest -o addopts="" tests/benchmarks --benchmark-only` (skipped in the normal run).
The extra_info of each benchmark records queries and the model's share of the time.
"""

import numpy as np
import pytest

from freqrex_bench import explain

from ..support import DATA, read


def _record(benchmark, result):
    benchmark.extra_info.update(
        queries=result.queries,
        responsibility_queries=result.responsibility_queries,
        extraction_queries=result.extraction_queries,
        iterations=result.iterations,
        seconds=round(result.seconds, 3),
        model_seconds=round(result.model_seconds, 3),
        outside_model_share=round(1 - result.model_seconds / result.seconds, 4),
        bins=int(result.hz.size),
        sufficient=None if result.sufficient is None else int(result.sufficient.size),
        necessary=None if result.necessary is None else int(result.necessary.size),
        complete=None if result.complete is None else int(result.complete.size),
    )


def test_demo_model_on_a_one_second_fsdd_clip(benchmark, demo, fsdd_clip):
    clip, rate = fsdd_clip
    one_second = np.zeros(rate, dtype=np.float32)
    one_second[: min(clip.size, rate)] = clip[:rate]
    result = benchmark.pedantic(explain, args=(demo, one_second, rate), rounds=3, iterations=1)
    _record(benchmark, result)
    assert result.sufficient is not None


def thirty_seconds_of_speech_commands() -> np.ndarray:
    """30 s at 16 kHz (480,000 samples, 240,001 bins) of real recordings: yes, no, noise and silence."""
    names = ("noise_1000ms.wav", "yes_1000ms.wav", "silence_1000ms.wav", "no_1000ms.wav")
    parts = [read(DATA / "speech_commands" / name)[0] for name in names]
    rng = np.random.default_rng(0)
    return np.concatenate([parts[i] * rng.uniform(0.5, 1.0) for i in rng.integers(0, 4, 30)]).astype(np.float32)


@pytest.mark.slow
def test_silero_on_thirty_seconds(benchmark, silero):
    clip = thirty_seconds_of_speech_commands()
    result = benchmark.pedantic(explain, args=(silero, clip, 16000), kwargs={"batch_size": 64}, rounds=1, iterations=1)
    _record(benchmark, result)
    assert result.hz.size == 240001 and result.extraction_queries <= 150
