"""The model-zoo benchmark's own arithmetic and suites (benchmarks/zoo/run.py), on hand-made records with known
answers and the repository's clips."""

import shutil
from pathlib import Path

import pytest

from benchmarks.zoo.run import BASELINES, margin_interval, parsed_suite, zoo
from freqrex_bench.data import find_clips
from freqrex_bench.strategy import clip_seed

FSDD = Path(__file__).parent / "data" / "fsdd"


def _record(clip: str, strategy: str, snr_db: float | None) -> dict:
    return {"clip": clip, "strategy": strategy, "ok": True,
            "record": {"success": snr_db is not None, "snr_db": snr_db}}


def test_the_margin_interval_is_a_point_when_every_clip_gives_the_same_margin():
    """The causal attack flips every clip at 20 dB, the best baseline at 12 dB (the others do worse or not at
    all): every resample has margin 8 dB."""
    records = [_record(f"c{i}", "fourier", 20.0) for i in range(10)]
    records += [_record(f"c{i}", BASELINES[0], 12.0) for i in range(10)]
    records += [_record(f"c{i}", BASELINES[1], 3.0 if i % 2 else None) for i in range(10)]
    assert margin_interval(records) == [8.0, 8.0]


def test_the_margin_interval_spans_what_the_clips_drawn_can_give():
    """Half the clips give margin 0 (both at 10 dB), half margin 10 (causal 20, baseline 10): the medians of
    resamples lie between, and the interval covers both ends but nothing outside [0, 10]."""
    records = [_record(f"c{i}", "fourier", 10.0 if i < 10 else 20.0) for i in range(20)]
    records += [_record(f"c{i}", BASELINES[2], 10.0) for i in range(20)]
    low, high = margin_interval(records)
    assert 0.0 <= low < 5.0 < high <= 10.0


def test_no_interval_without_flips_on_both_sides():
    records = [_record(f"c{i}", "fourier", 20.0) for i in range(10)]
    records += [_record(f"c{i}", name, None) for i in range(10) for name in BASELINES]
    assert margin_interval(records) is None



@pytest.mark.parametrize("name", ["silero-vad", "openwakeword-hey_jarvis", "basic-pitch-speech"])
def test_a_zoo_clip_has_the_same_id_and_seed_wherever_the_output_goes(tmp_path, name):
    """The clip sets the zoo writes under --out are named relative to that folder: the same clips under two
    output folders get the same ids, so the same clip seeds (which draw the causal partitions)."""
    seeds = []
    for out in ("out-a", "elsewhere/out-b"):
        clips = tmp_path / out / "clips"
        models = zoo(clips)
        folder = clips / models[name]["data"]["paths"][0]
        folder.mkdir(parents=True)
        for wav in sorted(FSDD.glob("*_theo_*.wav"))[:3]:
            shutil.copy(wav, folder / wav.name)
        suite = parsed_suite(name, models[name], 3)
        seeds.append({ref.id: clip_seed(0, ref.id) for ref in find_clips(suite.data, suite.base, suite.seed)})
    assert len(seeds[0]) == 3 and seeds[0] == seeds[1]
