"""Every bad clip, setting or model gives one clear error that names the problem."""

import numpy as np
import pytest

from freqrex_bench import InvalidInputError, TargetError, explain
from freqrex_bench.data import prepare_clip
from freqrex_bench.targets import CallableTarget


def echo_target(rate=8000):
    return CallableTarget(lambda b: np.stack([b.std(1) < 0.1, b.std(1) >= 0.1], 1), ["quiet", "loud"], rate)


def tone(n=8000, rate=8000, hz=440.0):
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(n) / rate)).astype(np.float32)


@pytest.mark.parametrize(
    ("signal", "rate", "message"),
    [
        (np.zeros(0, dtype=np.float32), 8000, r"clip is empty"),
        (np.array([0.1, np.nan, 0.2, np.inf]), 8000, r"2 NaN or infinite samples \(first at flat index 1\)"),
        (np.zeros(8000, dtype=np.float32), 8000, r"clip is silent"),
        (tone(), 0, r"sample_rate must be a positive integer in Hz, got 0"),
        (tone(), -16000, r"got -16000"),
        (tone(), 8000.5, r"got 8000.5"),
        (tone(), None, r"got None"),
        (np.zeros((3, 5)) + 0.1, 8000, r"cannot tell samples from channels"),
        (np.zeros((2, 2, 100)) + 0.1, 8000, r"\[samples\] or \[samples, channels\]"),
        (np.array(["a", "b"]), 8000, r"float samples or 8/16/32-bit PCM integers"),
    ],
)
def test_bad_clips_are_named(signal, rate, message):
    with pytest.raises(InvalidInputError, match=message):
        explain(echo_target(), signal, rate)


def test_stereo_is_an_error_without_downmix_and_averaged_with_it():
    stereo = np.stack([tone(), tone(hz=880)], axis=1)
    with pytest.raises(InvalidInputError, match=r"clip has 2 channels \(shape \(8000, 2\)\)"):
        explain(echo_target(), stereo, 8000, downmix=False)
    clip = prepare_clip(stereo.T, 8000, 8000)
    assert clip.channels == 2 and np.allclose(clip.signal, stereo.mean(axis=1))


def test_int16_pcm_is_scaled_and_resampled_to_the_target_rate():
    pcm = (tone(44100, 44100) * 32767).astype(np.int16)
    clip = prepare_clip(pcm, 44100, 16000)
    assert clip.sample_rate == 16000 and clip.source_rate == 44100 and clip.signal.size == 16000
    assert abs(np.abs(clip.signal).max() - 0.5) < 0.01


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InvalidInputError, match="audio file not found"):
        explain(echo_target(), tmp_path / "nope.wav")
    (tmp_path / "bad.wav").write_text("not audio")
    with pytest.raises(InvalidInputError, match="cannot read .*bad.wav as audio"):
        explain(echo_target(), tmp_path / "bad.wav")


def test_a_target_that_raises_is_a_target_error():
    def crash(batch):
        raise ValueError("expected 16000 samples")

    with pytest.raises(TargetError, match="crash raised ValueError.*expected 16000 samples"):
        explain(CallableTarget(crash, ["a", "b"], 8000), tone(), 8000)


def test_a_target_returning_nan_is_a_target_error():
    target = CallableTarget(lambda b: np.full((len(b), 2), np.nan), ["a", "b"], 8000, name="nan-model")
    with pytest.raises(TargetError, match="nan-model returned 6 NaN"):
        explain(target, tone(), 8000)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"p": 1}, r"p: Input should be greater than or equal to 2 \(got 1\)"),
        ({"chain_lenght": 3}, r"chain_lenght: unknown key \(expected one of: method, p, partition"),
        ({"partition": "bands"}, r"partition: Input should be 'contiguous' or 'scatter'"),
        ({"min_confidence": 1.5}, r"min_confidence: Input should be less than or equal to 1"),
    ],
)
def test_bad_settings_name_the_key(settings, message):
    with pytest.raises(InvalidInputError, match=message):
        explain(echo_target(), tone(), 8000, **settings)
