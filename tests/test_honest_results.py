"""No bad input can fake a result: 16-bit storage that alone flips a clip, corrupt samples, odd files."""

import re
import unicodedata

import numpy as np
import pytest
import soundfile

from freqrex_bench import InvalidInputError, Oracle, explain
from freqrex_bench.attacks import (
    AttackSettings,
    Context,
    FourierAttack,
    LargestMagnitude,
    RandomFrequencies,
    STFTAttack,
    WhiteNoise,
)
from freqrex_bench.data import find_clips, prepare_clip, read_clip
from freqrex_bench.errors import ClipWarning
from freqrex_bench.metrics import pcm16
from freqrex_bench.status import Status
from freqrex_bench.suite import DataSpec
from freqrex_bench.targets import CallableTarget

from .support import DATA

RATE = 8000


def tone(peak: float, n: int = RATE, hz: float = 440.0) -> np.ndarray:
    return (peak * np.sin(2 * np.pi * hz * np.arange(n) / RATE)).astype(np.float32)


def peak_model(batch: np.ndarray) -> np.ndarray:
    """Known answer: "hot" when the peak exceeds 1.1, so a clip peaking at 1.5 is hot as a float and not hot
    as a 16-bit wav (clipped to 1.0)."""
    hot = (np.abs(batch).max(axis=1) > 1.1).astype(np.float32)
    return np.stack([1 - hot, hot], axis=1)


def purity_model(batch: np.ndarray) -> np.ndarray:
    """Known answer: "pure" when the 440 Hz bin holds over 60% of the energy. A 440 Hz tone peaking at
    1e-5 (a third of a 16-bit step) is pure as a float; its 16-bit copy is a 0 / -1 step square wave
    (libsndfile rounds down), whose DC and harmonics leave the fundamental about 40%."""
    power = np.square(np.abs(np.fft.rfft(batch, axis=1)))
    pure = (power[:, 440] > 0.6 * power.sum(axis=1)).astype(np.float32)
    return np.stack([1 - pure, pure], axis=1)


LOUD = (CallableTarget(peak_model, ["safe", "hot"], RATE, name="peak"), tone(1.5))
SUB_LSB = (CallableTarget(purity_model, ["impure", "pure"], RATE, name="purity"), tone(1e-5))
STRATEGIES = [
    FourierAttack(AttackSettings(pcm16_robust=True), candidates="ranking"),
    RandomFrequencies(AttackSettings(pcm16_robust=True)),
    LargestMagnitude(AttackSettings(pcm16_robust=True)),
    WhiteNoise(AttackSettings(pcm16_robust=True), snr_db=60.0),
    STFTAttack(AttackSettings(pcm16_robust=True),
               FourierAttack(AttackSettings(pcm16_robust=True), candidates="ranking")),
]


@pytest.mark.parametrize(("target", "clip"), [LOUD, SUB_LSB], ids=["above-full-scale", "below-one-lsb"])
def test_a_clip_whose_16_bit_copy_alone_flips_credits_no_attack(target, clip):
    assert target.labels[int(np.argmax(target.predict(clip[None])))] != target.labels[
        int(np.argmax(target.predict(pcm16(clip, RATE))))], "the input must be one whose 16-bit copy flips"
    ctx = Context.create(clip, Oracle(target))
    assert ctx.pcm16_changes_decision and "storage alone changes the decision" in ctx.warnings[-1]
    for strategy in STRATEGIES:
        result = strategy.run(ctx)
        assert not result.success and result.status is Status.PCM16_ALONE, strategy.name
        assert "16-bit" in result.details["reason"] and result.queries == 0


def test_float_attacks_on_such_a_clip_do_not_claim_16_bit_survival():
    target, clip = LOUD
    result = FourierAttack(candidates="ranking").run(Context.create(clip, Oracle(target)))
    assert result.success and result.status is Status.SUCCESS  # a float edit (removing the tone) did flip it
    assert result.survives_pcm16 is None and "16-bit wav is already classified safe" in result.details["pcm16_alone"]


def test_a_loud_clip_is_accepted_with_a_warning_naming_its_peak():
    target, clip = LOUD
    assert prepare_clip(clip, RATE, RATE).warnings == ("clip peak 1.5 exceeds full scale (1.0): a 16-bit copy of it "
                                                        "is clipped",)
    with pytest.warns(ClipWarning) as caught:
        explain(target, clip, RATE, max_queries=50)
    messages = [str(w.message) for w in caught]
    assert any("clip peak 1.5 exceeds full scale" in m for m in messages)
    assert any("16-bit wav is classified safe, not hot" in m for m in messages)


def test_an_ordinary_16_bit_clip_costs_no_extra_query_and_flips_honestly(demo):
    clip, rate = soundfile.read(DATA / "fsdd" / "3_theo_7.wav", dtype="float32")
    ctx = Context.create(clip, Oracle(demo))
    assert not ctx.pcm16_changes_decision and ctx.oracle.queries == 2 and ctx.warnings == []


@pytest.mark.parametrize(("value", "where"), [(1e29, "sample 100"), (-17.0, "sample 100")])
def test_an_absurd_sample_in_a_float_wav_is_an_error_naming_it(tmp_path, value, where):
    signal = tone(0.5)
    signal[100] = value
    path = tmp_path / "corrupt.wav"
    soundfile.write(path, signal, RATE, subtype="FLOAT")
    message = f"clip {where} is {value:.4g}, far above full scale (1.0); samples beyond +-16 are taken as corrupt data"
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        explain(LOUD[0], path)


def test_a_corrupt_sample_in_a_stereo_array_names_its_channel():
    stereo = np.stack([tone(0.5), tone(0.5)], axis=1)
    stereo[7, 1] = 1e29
    with pytest.raises(InvalidInputError, match=r"clip sample 7 of channel 1 is 1e\+29"):
        prepare_clip(stereo, RATE, RATE)


def test_the_channel_count_comes_from_the_file_header(tmp_path):
    one_frame = tmp_path / "one-frame.wav"
    soundfile.write(one_frame, np.array([[0.25, 0.75]], dtype=np.float32), RATE, subtype="FLOAT")
    with pytest.raises(InvalidInputError, match="clip has 1 sample at 8000 Hz; need at least 2"):
        prepare_clip(one_frame, None, RATE)
    frames = np.stack([np.linspace(-0.5, 0.5, 12), np.linspace(0.5, -0.3, 12)], axis=1).astype(np.float32)
    twelve = tmp_path / "twelve-frames.wav"
    soundfile.write(twelve, frames, RATE, subtype="FLOAT")
    clip = prepare_clip(twelve, None, RATE)
    assert clip.channels == 2 and clip.signal.shape == (12,) and np.allclose(clip.signal, frames.mean(axis=1))


def test_labels_match_a_file_name_however_the_file_system_spells_it(tmp_path):
    composed = unicodedata.normalize("NFC", "café_1.wav")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    soundfile.write(tmp_path / decomposed, tone(0.5), RATE)  # as macOS stores it
    (tmp_path / "labels.csv").write_text(f"file,label\n{composed},crème\n", encoding="utf-8")
    (ref,) = find_clips(DataSpec(paths=["."], labels_csv="labels.csv",
                                 label_map={unicodedata.normalize("NFD", "crème"): "cream"}), tmp_path, 0)
    assert ref.label == "cream"
    (prefixed,) = find_clips(DataSpec(paths=["."], labels="prefix", label_map={"café": "coffee"}), tmp_path, 0)
    assert prefixed.label == "coffee"


def test_a_clip_shorter_than_the_models_window_names_the_minimum(demo, tmp_path):
    clip, _ = soundfile.read(DATA / "fsdd" / "3_theo_7.wav", dtype="float32")
    with pytest.raises(InvalidInputError, match=r"fsdd-ast needs clips of at least 400 samples \(0.050 s at 8000 "
                                                r"Hz\), got 100 samples"):
        explain(demo, clip[1000:1100], RATE)
    soundfile.write(tmp_path / "short.wav", clip[1000:1100], RATE)
    (ref,) = find_clips(DataSpec(paths=["short.wav"]), tmp_path, 0)
    short = read_clip(ref, RATE, None)
    with pytest.raises(InvalidInputError, match="at least 400 samples"):
        Context.create(short.signal, Oracle(demo))
