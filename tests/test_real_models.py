"""explain() end to end on real pretrained models: silero-vad (TorchScript), basic-pitch (ONNX), the demo (HF)."""

import numpy as np
import pytest

from freqrex_bench import explain

from .support import DATA, read


def test_silero_vad_speech_needs_few_frequencies(silero, yes_clip):
    clip, rate = yes_clip
    result = explain(silero, clip, rate, seed=0, batch_size=64)
    assert result.label_name == "speech"
    sufficient = result.signal_of("sufficient")
    assert silero.labels[int(np.argmax(silero.predict(sufficient[None])))] == "speech"
    without_necessary = clip[: sufficient.size] - result.signal_of("necessary")
    assert silero.labels[int(np.argmax(silero.predict(without_necessary[None])))] == "non-speech"
    assert result.inverse_label_name == "non-speech"
    assert result.fraction("sufficient") < 0.2
    # Speech energy, not hum or hiss: the sufficient bins sit in the voice band.
    assert np.median(result.hz[result.sufficient]) < 4000


def test_basic_pitch_a4_rests_on_440_hz_or_its_harmonics(basic_pitch):
    rate = 22050
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    result = explain(basic_pitch, tone, rate, seed=0, batch_size=16)
    assert result.label_name == "A4"
    hz = result.hz[result.sufficient]
    harmonic = np.round(hz / 440)
    assert np.all(harmonic >= 1) and np.all(np.abs(hz - 440 * harmonic) <= 3)
    assert result.inverse_label is not None and result.inverse_label_name != "A4"


@pytest.mark.parametrize("name", ["3_theo_7.wav", "8_george_12.wav"])
def test_demo_model_explains_a_spoken_digit(demo, name):
    clip, rate = read(DATA / "fsdd" / name)
    result = explain(demo, clip, rate, seed=0)
    assert result.sufficient is not None and result.necessary is not None
    kept = demo.predict(result.signal_of("sufficient")[None])
    assert int(np.argmax(kept)) == result.label
    assert kept[0, result.label] >= 0.5 * result.score
    assert result.responsibility.shape == result.hz.shape == (clip.size // 2 + 1,)


def test_demo_model_is_deterministic_across_batch_sizes(demo, fsdd_clip):
    clip, rate = fsdd_clip
    one, many = (explain(demo, clip, rate, seed=11, batch_size=b) for b in (1, 32))
    assert np.array_equal(one.responsibility, many.responsibility)
    for kind in ("sufficient", "necessary", "complete"):
        a, b = one.subsets.get(kind), many.subsets.get(kind)
        assert (a is None) == (b is None) and (a is None or np.array_equal(a.bins, b.bins))
    assert one.queries == many.queries
