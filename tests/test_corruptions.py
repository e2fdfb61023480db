"""Corruption robustness: every corruption at every severity does what the catalogue says, on known clips;
the strategy records it, the summary, checks, compare and the report carry it."""

import hashlib
import json
import random
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal
import soundfile
import soxr
import yaml

from freqrex_bench import InvalidInputError, Oracle, load_suite, run_suite
from freqrex_bench.attacks.corruptions import (
    CATALOGUE,
    IMPULSE_RESPONSES,
    ROOMS,
    SEVERITIES,
    CorruptionNotApplicable,
    Corruptions,
    CorruptionsResult,
    corrupt,
    corruption_seed,
)
from freqrex_bench.checks import compare, evaluate
from freqrex_bench.cli import main
from freqrex_bench.metrics import snr_db
from freqrex_bench.plan import build_strategies
from freqrex_bench.reports.summary import summarize
from freqrex_bench.strategy import Context
from freqrex_bench.suite import CheckSpec, parse_suite
from freqrex_bench.targets import CallableTarget

from .browser import view_page
from .support import DATA, DEMO_MODEL, ROOT, read

NOISE = DATA / "speech_commands" / "noise_1000ms.wav"
LEVELS = [(name, severity) for name in CATALOGUE for severity in SEVERITIES]


@pytest.fixture(scope="module")
def yes() -> np.ndarray:
    return read(DATA / "speech_commands" / "yes_1000ms.wav")[0]  # 16 kHz, 1 s


def tones(rate: int, spacing: float = 25.0, seconds: float = 3.0) -> np.ndarray:
    """A known clip: equal tones at every multiple of `spacing` Hz below Nyquist, seeded phases. In any
    whole second each tone sits exactly on an rfft bin, so a filter's gain is read off bin by bin."""
    t = np.arange(int(rate * seconds)) / rate
    freqs = np.arange(spacing, rate / 2, spacing)
    phases = np.random.default_rng(0).uniform(0, 2 * np.pi, freqs.size)
    x = np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None]).sum(axis=0)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def gain_db(x: np.ndarray, y: np.ndarray, rate: int, hz: float) -> float:
    """The gain at `hz` (a tone of `tones`): |Y| / |X| at its bin over the middle second (clear of the
    filters' start and end transients), in dB."""
    middle = slice(x.size // 2 - rate // 2, x.size // 2 + rate // 2)
    k = int(round(hz))
    return float(20 * np.log10(np.abs(np.fft.rfft(y[middle])[k]) / np.abs(np.fft.rfft(x[middle])[k])))


def test_the_catalogue_has_five_documented_severities_per_corruption():
    docs = (ROOT / "docs" / "suite.md").read_text(encoding="utf-8")
    module = __import__("freqrex_bench.attacks.corruptions", fromlist=["x"]).__doc__
    assert len(CATALOGUE) >= 15
    for name, entry in CATALOGUE.items():
        assert len(entry.levels) == len(SEVERITIES) == 5, name
        assert f"`{name}`" in docs and f"`{name}`" in module, name
        assert all(entry.setting(level) for level in entry.levels)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_added_noise_has_the_stated_snr(yes, severity):
    for name in ("gaussian-noise", "background-noise"):
        stated = CATALOGUE[name].levels[severity - 1]
        y, applied = corrupt(yes, 16000, name, severity, seed=3, noise_files=[NOISE])
        assert applied["snr_db"] == stated
        assert abs(snr_db(yes, y) - stated) <= 0.5, (name, snr_db(yes, y), stated)
    assert applied["noise_file"] == str(NOISE) and len(applied["noise_sha256"]) == 64
    assert applied["offset_s"] == 0.0  # the noise clip is exactly as long as the clip: no room to move


@pytest.mark.parametrize("severity", SEVERITIES)
def test_gain_and_clipping_change_the_level_as_stated(yes, severity):
    db = CATALOGUE["gain-down"].levels[severity - 1]
    down, _ = corrupt(yes, 16000, "gain-down", severity)
    np.testing.assert_allclose(down, yes * 10 ** (db / 20), rtol=1e-5, atol=1e-9)
    db = CATALOGUE["gain-up"].levels[severity - 1]
    up, applied = corrupt(yes, 16000, "gain-up", severity)
    np.testing.assert_allclose(up, np.clip(yes * 10 ** (db / 20), -1, 1), rtol=1e-5, atol=1e-9)
    assert applied["clipped_fraction"] == pytest.approx(np.mean(np.abs(yes * 10 ** (db / 20)) > 1))
    if severity == 5:
        assert applied["clipped_fraction"] > 0.01 and np.max(np.abs(up)) == 1.0
    percent = CATALOGUE["clipping"].levels[severity - 1]
    clipped, applied = corrupt(yes, 16000, "clipping", severity)
    assert abs(np.mean(clipped != yes) - percent / 100) <= 0.01
    assert np.max(clipped) < np.max(yes) and np.min(clipped) > np.min(yes)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_time_shift_moves_the_clip_and_fills_with_zeros(yes, severity):
    y, applied = corrupt(yes, 16000, "time-shift", severity, seed=severity)
    share, shift = CATALOGUE["time-shift"].levels[severity - 1], applied["shift_samples"]
    assert abs(shift) == round(share * yes.size)
    fade = int(16000 * applied["fade_s"])
    if shift > 0:
        assert not y[:shift].any()
        np.testing.assert_array_equal(y[shift + fade:], yes[fade: yes.size - shift])
    else:
        assert not y[yes.size + shift:].any()
        np.testing.assert_array_equal(y[: yes.size + shift - fade], yes[-shift: yes.size - fade])


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("severity", SEVERITIES)
def test_filters_cut_at_their_stated_band_limits(rate, severity):
    x = tones(rate)
    nyquist = rate / 2
    cutoff = CATALOGUE["low-pass"].levels[severity - 1]
    y, applied = corrupt(x, rate, "low-pass", severity)
    assert applied["applied_cutoff_hz"] == pytest.approx(cutoff) and y.size == x.size
    assert gain_db(x, y, rate, cutoff) == pytest.approx(-6.0, abs=0.5)  # -3 dB, forwards and backwards
    assert gain_db(x, y, rate, cutoff / 2) >= -1.0
    if 2 * cutoff < nyquist:
        assert gain_db(x, y, rate, 2 * cutoff) <= -20.0
    cutoff = CATALOGUE["high-pass"].levels[severity - 1]
    y, _ = corrupt(x, rate, "high-pass", severity)
    assert gain_db(x, y, rate, cutoff) == pytest.approx(-6.0, abs=0.5)
    assert gain_db(x, y, rate, cutoff / 2) <= -20.0
    if 2 * cutoff < nyquist:
        assert gain_db(x, y, rate, 2 * cutoff) >= -1.0
    low, high = CATALOGUE["band-pass"].levels[severity - 1]
    y, applied = corrupt(x, rate, "band-pass", severity)
    assert applied["applied_band_hz"] == pytest.approx([low, high])
    assert gain_db(x, y, rate, low) == pytest.approx(-6.0, abs=0.5)
    assert gain_db(x, y, rate, high) == pytest.approx(-6.0, abs=0.5)
    assert gain_db(x, y, rate, 25 * round(np.sqrt(low * high) / 25)) >= -0.5
    assert gain_db(x, y, rate, 25 * round(low / 2 / 25)) <= -15.0
    if 2 * high < nyquist:
        assert gain_db(x, y, rate, 2 * high) <= -15.0


def test_a_cutoff_above_nyquist_is_capped_and_a_band_above_it_cannot_apply():
    x = tones(2000)
    _, applied = corrupt(x, 2000, "low-pass", 1)  # 3500 Hz at a 1000 Hz Nyquist
    assert applied["applied_cutoff_hz"] == pytest.approx(0.9999 * 1000)
    with pytest.raises(CorruptionNotApplicable, match="starts above the Nyquist frequency"):
        corrupt(x, 2000, "band-pass", 5)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_pitch_shift_moves_a_tone_by_the_stated_semitones(severity):
    rate = 16000
    t = np.arange(rate) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    y, applied = corrupt(x, rate, "pitch-shift", severity, seed=severity)
    assert abs(applied["semitones"]) == CATALOGUE["pitch-shift"].levels[severity - 1]
    peak = np.argmax(np.abs(np.fft.rfft(y * np.hanning(y.size)))) * rate / y.size
    assert peak == pytest.approx(440 * 2 ** (applied["semitones"] / 12), rel=0.01)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_time_stretch_changes_a_bursts_length_by_the_stated_rate(severity):
    rate = 16000
    t = np.arange(rate) / rate
    burst = (t >= 0.1) & (t < 0.4)
    x = (0.3 * np.sin(2 * np.pi * 440 * t) * burst).astype(np.float32)
    y, applied = corrupt(x, rate, "time-stretch", severity, seed=severity)
    factor = CATALOGUE["time-stretch"].levels[severity - 1]
    assert applied["rate"] == pytest.approx(factor) or applied["rate"] == pytest.approx(1 / factor)
    envelope = np.abs(scipy.signal.hilbert(y))
    loud = np.flatnonzero(envelope > 0.5 * envelope.max())
    assert y.size == x.size
    assert (loud[-1] - loud[0]) / rate == pytest.approx(0.3 / applied["rate"], abs=0.02)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_resampling_band_limits_to_the_intermediate_rate_and_keeps_the_length(yes, severity):
    y, applied = corrupt(yes, 16000, "resample", severity)
    assert y.size == yes.size
    assert applied["intermediate_rate"] == round(16000 / CATALOGUE["resample"].levels[severity - 1])
    hz = np.fft.rfftfreq(yes.size, 1 / 16000)
    before, after = np.abs(np.fft.rfft(yes)) ** 2, np.abs(np.fft.rfft(y)) ** 2
    nyquist = applied["intermediate_rate"] / 2
    above, below = hz > nyquist, hz < 0.8 * nyquist
    assert 10 * np.log10(after[above].sum() / before[above].sum()) <= -60
    assert 10 * np.log10(after[below].sum() / before[below].sum()) == pytest.approx(0, abs=0.5)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_quantization_rounds_to_the_stated_bit_depth(yes, severity):
    bits = CATALOGUE["quantization"].levels[severity - 1]
    y, applied = corrupt(yes, 16000, "quantization", severity)
    q = 2 ** (bits - 1) + 1
    assert applied["step"] == pytest.approx(1 / q)
    np.testing.assert_allclose(y * q, np.round(y * q), atol=1e-3)  # on the grid (float32 rounding aside)
    assert np.max(np.abs(y - yes)) <= 0.5 / q + 1e-6
    assert np.unique(y).size <= 2 * q + 1


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
@pytest.mark.parametrize("severity", SEVERITIES)
def test_codec_round_trips_decode_to_the_same_length_in_line_with_the_clip(yes, rate, severity):
    x = soxr.resample(yes, 16000, rate).astype(np.float32)
    for name in ("mp3", "ogg-vorbis"):
        y, applied = corrupt(x, rate, name, severity)
        assert y.size == x.size and applied["decoded_samples"] >= x.size
        lag = np.argmax(scipy.signal.correlate(y, x, mode="full", method="fft")) - (x.size - 1)
        assert lag == 0, (name, rate, severity, applied)
        assert snr_db(x, y) > 3, (name, rate, severity)
    lowest = 32 if rate >= 32000 else 8
    _, applied = corrupt(x, rate, "mp3", severity)
    assert applied["encoded_at_kbps"] == max(CATALOGUE["mp3"].levels[severity - 1], lowest)


def test_mp3_says_why_at_a_rate_it_has_no_mode_for():
    with pytest.raises(CorruptionNotApplicable, match="no 10000 Hz mode"):
        corrupt(tones(10000), 10000, "mp3", 1)


def test_the_shipped_impulse_responses_have_the_stated_decay_and_direct_to_reverberant_ratio():
    for room, (rt60, drr) in enumerate(ROOMS, start=1):
        response, rate = soundfile.read(str(IMPULSE_RESPONSES / f"room-{room}.wav"))
        assert rate == 48000 and response.size == round(rt60 * rate) and np.argmax(np.abs(response)) == 0
        assert 10 * np.log10(response[0] ** 2 / np.sum(response[1:] ** 2)) == pytest.approx(drr, abs=0.1)
        decay = np.cumsum(response[1:][::-1] ** 2)[::-1]
        level = 10 * np.log10(np.maximum(decay, 1e-30) / decay[0])  # the last samples may be 0 in 16 bits
        fit = (level <= -5) & (level >= -35)
        slope = np.polyfit(np.arange(1, response.size)[fit] / rate, level[fit], 1)[0]
        assert -60 / slope == pytest.approx(rt60, rel=0.02)
    readme = (IMPULSE_RESPONSES / "README.md").read_text(encoding="utf-8")
    assert "CC0" in readme and "make_impulse_responses.py" in readme


@pytest.mark.parametrize("severity", SEVERITIES)
def test_reverb_keeps_the_clips_level_and_grows_with_severity(yes, severity):
    y, applied = corrupt(yes, 16000, "reverb", severity)
    assert applied["impulse_response"] == f"room-{severity}.wav"
    assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(np.sqrt(np.mean(yes.astype(np.float64) ** 2)),
                                                                      rel=1e-4)
    if severity > 1:
        assert snr_db(yes, y) < snr_db(yes, corrupt(yes, 16000, "reverb", severity - 1)[0])


@pytest.mark.parametrize(("name", "severity"), LEVELS)
def test_every_corruption_is_seeded_reproducible_and_leaves_global_generators_alone(yes, name, severity):
    random.seed(11)
    np.random.seed(11)
    expected = (random.random(), np.random.random())
    random.seed(11)
    np.random.seed(11)
    first, applied = corrupt(yes, 16000, name, severity, seed=5, noise_files=[NOISE])
    assert (random.random(), np.random.random()) == expected
    again, same = corrupt(yes, 16000, name, severity, seed=5, noise_files=[NOISE])
    np.testing.assert_array_equal(first, again)
    assert same == applied and applied["seed"] == corruption_seed(5, name, severity)
    assert first.dtype == np.float32 and first.shape == yes.shape and not np.array_equal(first, yes)
    json.dumps(applied, allow_nan=False)


def test_different_seeds_draw_different_noise(yes):
    a, _ = corrupt(yes, 16000, "gaussian-noise", 3, seed=1)
    b, _ = corrupt(yes, 16000, "gaussian-noise", 3, seed=2)
    assert not np.array_equal(a, b)


def test_bad_names_severities_and_parameters_are_one_line_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown corruption 'fog'"):
        corrupt(tones(8000), 8000, "fog", 1)
    with pytest.raises(InvalidInputError, match="severity must be one of"):
        corrupt(tones(8000), 8000, "mp3", 6)
    with pytest.raises(InvalidInputError, match="background-noise needs noise clips"):
        corrupt(tones(8000), 8000, "background-noise", 1)
    with pytest.raises(InvalidInputError, match=r"corruptions parameters: corruptions: .*unknown corruption\(s\)"):
        Corruptions(corruptions=["fog"])
    with pytest.raises(InvalidInputError, match=r"corruptions parameters: severities: .*severities are 1 to 5"):
        Corruptions(severities=[0, 1])
    with pytest.raises(InvalidInputError, match="background-noise needs noise_paths"):
        Corruptions(corruptions=["background-noise"])
    with pytest.raises(InvalidInputError, match="noise_paths: 'missing' does not exist"):
        Corruptions(noise_paths=["missing"], base=tmp_path)
    (tmp_path / "notes.txt").write_text("no audio")
    with pytest.raises(InvalidInputError, match="noise_paths: '\\*.txt' matched no audio files"):
        Corruptions(noise_paths=["*.txt"], base=tmp_path)


class DeafAbove1kHz:
    """A known-answer model that ignores everything above 1 kHz: "voiced" when the clip's energy below
    1 kHz is at least half that of its own reference clip, else "quiet"."""

    rate = 8000

    def __init__(self, clip: np.ndarray) -> None:
        self.threshold = 0.5 * self.low_energy(clip[None])[0]
        self.target = CallableTarget(self, ["quiet", "voiced"], self.rate, name="deaf-above-1khz")

    def low_energy(self, batch: np.ndarray) -> np.ndarray:
        hz = np.fft.rfftfreq(batch.shape[1], 1 / self.rate)
        return np.sum(np.abs(np.fft.rfft(batch, axis=1))[:, hz < 1000] ** 2, axis=1)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        voiced = 1 / (1 + np.exp(-10 * (self.low_energy(batch) / self.threshold - 1)))
        return np.stack([1 - voiced, voiced], axis=1)


def test_a_model_deaf_above_1_khz_keeps_its_decision_under_low_pass_and_loses_it_under_high_pass():
    strategy = Corruptions(corruptions=["low-pass", "high-pass"])
    flips: dict[tuple[str, int], list[bool]] = {}
    for digit in range(10):
        clip, rate = read(DATA / "fsdd" / f"{digit}_theo_0.wav")
        model = DeafAbove1kHz(clip)
        ctx = Context.create(clip, Oracle(model.target), seed=digit)
        assert ctx.labels[ctx.label] == "voiced"
        for row in strategy.run(ctx).rows:
            flips.setdefault((row.corruption, row.severity), []).append(row.flipped)
    for severity in SEVERITIES:
        assert not any(flips["low-pass", severity]), severity  # cutoffs 3500 down to 1000 Hz: its band kept
        cutoff = CATALOGUE["high-pass"].levels[severity - 1]
        if cutoff >= 1000:
            assert all(flips["high-pass", severity]), severity  # its whole band removed
        assert sum(flips["high-pass", severity]) >= sum(flips["high-pass", max(1, severity - 1)])


def test_the_strategy_records_every_corruption_from_one_oracle_batch(demo, tmp_path):
    (tmp_path / "noise").mkdir()
    (tmp_path / "noise" / "room.wav").write_bytes(NOISE.read_bytes())
    strategy = Corruptions(noise_paths=["noise"], base=tmp_path)
    clip, _ = read(DATA / "fsdd" / "7_theo_0.wav")
    oracle = Oracle(demo, batch_size=16)
    ctx = Context.create(clip, oracle, seed=9)
    calls = []
    classify = oracle.classify
    oracle.classify = lambda signals: calls.append(len(signals)) or classify(signals)
    before = oracle.queries
    result = strategy.run(ctx)
    assert isinstance(result, CorruptionsResult) and calls == [len(CATALOGUE) * 5]
    assert result.queries == oracle.queries - before <= len(CATALOGUE) * 5 == strategy.query_estimate()
    assert [(row.corruption, row.severity) for row in result.rows] == LEVELS
    record = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert record["label_before"] == demo.labels[ctx.label] and record["sample_rate"] == 8000
    for row in record["rows"]:
        assert row["error"] is None and row["flipped"] == (row["label"] != record["label_before"])
        assert row["score_drop"] == pytest.approx(record["score_before"] - row["score"])
        assert row["applied"]["seed"] == corruption_seed(9, row["corruption"], row["severity"])
    noisy = [row for row in record["rows"] if row["corruption"] == "background-noise"]
    assert {row["applied"]["noise_file"] for row in noisy} == {"noise/room.wav"}
    assert result.flip_rate == pytest.approx(np.mean([row["flipped"] for row in record["rows"]]))
    assert Corruptions().parameters.names == tuple(n for n in CATALOGUE if n != "background-noise")


def test_a_suite_resolves_noise_paths_from_its_own_folder_and_gates_on_the_flip_rate(tmp_path):
    (tmp_path / "noise").mkdir()
    (tmp_path / "noise" / "n.wav").write_bytes(NOISE.read_bytes())
    data = {"targets": [{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL)}],
            "data": {"paths": [str(DATA / "fsdd" / "7_theo_0.wav")]},
            "strategies": ["causal", {"corruptions": {"noise_paths": ["noise"]}}],
            "checks": [{"strategy": "corruptions", "metric": "corruption_flip_rate", "max": 0.5}]}
    suite = parse_suite(data, tmp_path)
    strategy = next(s for s in build_strategies(suite) if s.name == "corruptions")
    assert strategy.noise_files == ((tmp_path / "noise" / "n.wav").resolve(),)
    for metric, strategy_name in (("success_rate", "corruptions"), ("corruption_flip_rate", "causal")):
        bad = {**data, "checks": [{"strategy": strategy_name, "metric": metric, "max": 1}]}
        with pytest.raises(InvalidInputError, match=f"checks\\[0\\].metric: '{metric}' has no value"):
            parse_suite(bad, tmp_path)


def corruption_records(flip: float) -> list[dict]:
    """Records of two clips of a target `m`: every severity of low-pass flips on the first clip, none on
    the second; mp3 flips on a share `flip` of its severities on both."""
    records = []
    for clip, truth in (("a", "yes"), ("b", None)):
        rows = []
        for severity in SEVERITIES:
            flipped = clip == "a"
            rows.append({"corruption": "low-pass", "severity": severity, "setting": f"s{severity}", "applied": {},
                         "label": "no" if flipped else "yes", "score": 0.2 if flipped else 0.9, "flipped": flipped,
                         "score_drop": 0.7 if flipped else 0.0, "change_snr_db": 10.0, "error": None})
            flipped = severity <= round(flip * 5)
            rows.append({"corruption": "mp3", "severity": severity, "setting": f"{severity}", "applied": {},
                         "label": "no" if flipped else "yes", "score": 0.4 if flipped else 0.9, "flipped": flipped,
                         "score_drop": 0.5 if flipped else 0.0, "change_snr_db": 10.0, "error": None})
        rows.append({"corruption": "mp3", "severity": 5, "setting": "5", "applied": {}, "label": None, "score": None,
                     "flipped": None, "score_drop": None, "change_snr_db": None, "error": "no mode"})
        records.append({"target": "m", "clip": clip, "truth": truth, "strategy": "corruptions", "ok": True,
                        "warnings": [], "record": {"label_before": "yes", "score_before": 0.9, "sample_rate": 8000,
                                                   "flip_rate": None, "rows": rows, "queries": 10}})
    return records


def test_the_summary_tabulates_flip_rate_accuracy_and_score_drop_and_checks_and_compare_read_it():
    summary = summarize(corruption_records(0.4), ["m"])
    block = summary["targets"]["m"]["corruptions"]
    low = block["table"]["low-pass"]
    assert list(low) == ["1", "2", "3", "4", "5"] and list(block["table"]) == ["low-pass", "mp3"]
    assert low["3"] == {"setting": "s3", "clips": 2, "flip_rate": 0.5, "accuracy": 0.0, "mean_score_drop": 0.35,
                        "not_applied": 0}
    assert block["table"]["mp3"]["1"]["flip_rate"] == 1.0 and block["table"]["mp3"]["3"]["flip_rate"] == 0.0
    assert block["table"]["mp3"]["5"]["not_applied"] == 2 and block["table"]["mp3"]["5"]["clips"] == 2
    assert block["flip_rate_mean"] == block["corruption_flip_rate"] == pytest.approx((0.5 * 5 + 2) / 10)
    assert block["flip_rate_by_corruption"] == {"low-pass": 0.5, "mp3": pytest.approx(0.4)}
    assert block["clean_accuracy"] == 1.0 and block["runs"] == 2 and block["error_rate"] == 0.0
    assert summary["targets"]["m"]["strategies"] == {}  # not an attack: its own block
    gate = CheckSpec(strategy="corruptions", metric="corruption_flip_rate", max=0.4)
    (outcome,) = evaluate(summary, [gate])
    assert not outcome.passed and outcome.value == pytest.approx(0.45)
    worse = summarize(corruption_records(0.8), ["m"])
    regressions = {o.metric: o for o in compare(summary, worse, tolerance=0.05, snr_tolerance_db=1)}
    assert not regressions["corruption_flip_rate"].passed
    assert all(o.passed for o in compare(summary, summary, tolerance=0.05, snr_tolerance_db=1))
    missing = {**worse, "targets": {"m": {**worse["targets"]["m"], "corruptions": None}}}
    assert [o.message for o in compare(summary, missing, 0.05, 1) if not o.passed] == [
        "m/corruptions: in BASE but not in NEW FAILED"]


def test_a_run_with_corruptions_renders_the_table_in_the_report_and_gates_ci(tmp_path, capsys):
    (tmp_path / "noise").mkdir()
    (tmp_path / "noise" / "n.wav").write_bytes(NOISE.read_bytes())
    suite = {
        "name": "corrupted",
        "targets": [{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL)}],
        "data": {"paths": [str(DATA / "fsdd" / f"{d}_theo_0.wav") for d in (4, 7)], "labels": "prefix",
                 "label_map": {"4": "four", "7": "seven"}},
        "discovery": {"max_queries": 40},
        "strategies": ["causal", {"corruptions": {"corruptions": ["background-noise", "low-pass", "mp3"],
                                                  "severities": [1, 3, 5], "noise_paths": ["noise"]}}],
        "checks": [{"strategy": "corruptions", "metric": "corruption_flip_rate", "max": 1.0},
                   {"strategy": "corruptions", "metric": "error_rate", "max": 0}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    outcome = run_suite(load_suite(tmp_path / "suite.yaml"), tmp_path / "run", progress=False, log=lambda line: None)
    assert outcome.passed and not outcome.errors
    block = outcome.summary["targets"]["fsdd-ast"]["corruptions"]
    assert block["runs"] == 2 and list(block["table"]) == ["background-noise", "low-pass", "mp3"]
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert html.index("Strategies vs baselines") < html.index('<details class="corruptions">')
    opened = tmp_path / "opened.html"  # as a reader sees it after clicking the summary (closed, it shows no cells)
    opened.write_text(html.replace('<details class="corruptions">', '<details class="corruptions" open>'))
    page = view_page(opened)
    assert page.console_errors == [] and page.script_count == 0
    flips = next(table for table in page.tables if table[0][0] == "flip rate")
    assert flips[0] == ["flip rate", "1", "3", "5", "mean"] and [row[0] for row in flips[1:]] == list(block["table"])
    rate = block["table"]["low-pass"]["5"]["flip_rate"]
    assert flips[2][3] == f"{100 * rate:.1f}%"
    assert "Mean flip rate" in page.text and "Corruption robustness" in page.text

    base = tmp_path / "run" / "summary.json"
    worse = json.loads(base.read_text())
    worse["targets"]["fsdd-ast"]["corruptions"]["corruption_flip_rate"] = block["corruption_flip_rate"] + 0.3
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    assert main(["compare", str(base), str(base)]) == 0
    assert main(["compare", str(base), str(tmp_path / "worse.json")]) == 1
    assert "fsdd-ast/corruptions/corruption_flip_rate" in capsys.readouterr().out


def test_a_run_whose_corruptions_all_failed_still_reports_and_its_error_gate_fails(tmp_path):
    suite = {
        "name": "starved",
        "targets": [{"kind": "hf", "name": "fsdd-ast", "path": str(DEMO_MODEL), "budget": 20}],
        "data": {"paths": [str(DATA / "fsdd" / "4_theo_0.wav")]},
        "discovery": {"max_queries": 10},
        "strategies": ["causal", {"corruptions": {"corruptions": ["low-pass", "mp3"]}}],
        "checks": [{"strategy": "corruptions", "metric": "error_rate", "max": 0}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    outcome = run_suite(load_suite(tmp_path / "suite.yaml"), tmp_path / "run", progress=False, log=lambda line: None)
    block = outcome.summary["targets"]["fsdd-ast"]["corruptions"]
    assert block["runs"] == 0 and block["error_rate"] == 1.0 and block["table"] == {}
    assert block["corruption_flip_rate"] is None and not outcome.passed
    assert any("QueryBudgetExceeded" in error for error in outcome.errors)
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "No clip finished the corruptions." in html and "100.0% of runs failed" in html


DIGESTS = """
import hashlib, sys
import numpy as np
from freqrex_bench.attacks.corruptions import CATALOGUE, SEVERITIES, corrupt
clip = np.load(sys.argv[1])
for name in CATALOGUE:
    for severity in SEVERITIES:
        y, applied = corrupt(clip, 16000, name, severity, seed=7, noise_files=[sys.argv[2]])
        print(name, severity, hashlib.sha256(y.tobytes()).hexdigest(), sorted(applied.items()))
"""


def test_a_fresh_process_corrupts_exactly_alike(yes, tmp_path):
    np.save(tmp_path / "clip.npy", yes)
    runs = [subprocess.run([sys.executable, "-c", DIGESTS, str(tmp_path / "clip.npy"), str(NOISE)], cwd=ROOT,
                           capture_output=True, text=True, timeout=300, check=True).stdout for _ in range(2)]
    lines = runs[0].splitlines()
    assert runs[0] == runs[1] and len(lines) == len(LEVELS)
    name, severity, digest, _ = lines[LEVELS.index(("mp3", 5))].split(" ", 3)
    y, _ = corrupt(yes, 16000, "mp3", 5, seed=7, noise_files=[NOISE])
    assert digest == hashlib.sha256(y.tobytes()).hexdigest()
