import numpy as np
import pytest
import torch

from freqrex_bench import InvalidInputError, TargetError
from freqrex_bench.targets import CallableTarget, Framing, load_callable

from .support import DATA, DEMO_MODEL, package_file, read


def test_framing_splits_with_zero_padded_tail_and_aggregates():
    framing = Framing(4, hop=2)
    frames = framing.split(np.arange(1, 8, dtype=np.float32)[None])
    assert frames.tolist() == [[[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 0]]]
    assert Framing(8).split(np.ones((2, 3), dtype=np.float32)).shape == (2, 1, 8)


@pytest.mark.parametrize(("kwargs", "message"), [({"length": 0}, "frame_length"), ({"length": 4, "hop": 5}, "hop"),
                                                 ({"length": 4, "aggregate": "median"}, "aggregate")])
def test_framing_settings_are_checked(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Framing(**kwargs)


def test_logits_take_a_softmax_and_probabilities_pass_through():
    logits = CallableTarget(lambda b: np.tile([0.0, np.log(3.0)], (len(b), 1)), ["a", "b"], 8000, output="logits")
    assert np.allclose(logits.predict(np.zeros((2, 5))), [[0.25, 0.75]] * 2)
    probs = CallableTarget(lambda b: np.tile([0.1, 0.9], (len(b), 1)), ["a", "b"], 8000)
    assert np.allclose(probs.predict(np.zeros((1, 5))), [[0.1, 0.9]])


def test_binary_output_is_expanded_after_max_over_frames():
    # Frame-level P(positive) = mean of the frame; the clip is positive when any frame is.
    target = CallableTarget(lambda f: f.mean(axis=1), ["off", "on"], 8000, frame_length=2, aggregate="max")
    scores = target.predict(np.array([[0.0, 0.0, 0.9, 0.9, 0.1, 0.1]], dtype=np.float32))
    assert np.allclose(scores, [[0.1, 0.9]])


def test_multilabel_logits_take_a_sigmoid():
    target = CallableTarget(lambda b: np.zeros((len(b), 3)), ["x", "y", "z"], 8000, output="multilabel-logits")
    assert np.allclose(target.predict(np.zeros((1, 4))), 0.5)


def test_logits_passed_as_probabilities_get_a_hint():
    target = CallableTarget(lambda b: np.tile([-3.0, 5.0], (len(b), 1)), ["a", "b"], 8000, name="raw")
    with pytest.raises(TargetError, match="output='logits'"):
        target.predict(np.zeros((1, 4)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"labels": []}, "at least one label"), ({"sample_rate": 0}, "sample_rate"),
     ({"output": "softmax"}, "output must be one of"), ({"sample_rate": 8000.5}, "sample_rate")],
)
def test_target_settings_are_checked(kwargs, message):
    args = {"labels": ["a"], "sample_rate": 8000, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        CallableTarget(lambda b: b, **args)


def test_wrong_batch_shape_names_the_shape():
    target = CallableTarget(lambda b: np.ones((len(b), 1)), ["a"], 8000, name="m")
    with pytest.raises(InvalidInputError, match=r"m takes a \[batch, samples\].*\(2, 100, 2\)"):
        target.predict(np.zeros((2, 100, 2)))


def test_load_callable_by_name():
    assert load_callable("numpy:mean") is np.mean
    with pytest.raises(InvalidInputError, match="module:function"):
        load_callable("numpy.mean")
    with pytest.raises(InvalidInputError, match="no attribute"):
        load_callable("numpy:not_there")


def test_silero_streams_frames_in_order_like_its_reference_loop(silero, yes_clip):
    clip, _ = yes_clip
    model = torch.jit.load(str(package_file("silero_vad", "data", "silero_vad.jit")))
    model.reset_states()
    with torch.inference_mode():
        reference = max(float(model(torch.from_numpy(clip[i : i + 512])[None], 16000))
                        for i in range(0, clip.size - 511, 512))
    noise, _ = read(DATA / "speech_commands" / "noise_1000ms.wav")
    scores = silero.predict(np.stack([clip[:15872], noise[:15872]]))
    assert scores[0, 1] == pytest.approx(reference, abs=1e-5)
    assert silero.labels[int(np.argmax(scores[0]))] == "speech"
    assert silero.labels[int(np.argmax(scores[1]))] == "non-speech"


def test_silero_rejects_an_unsupported_rate():
    from freqrex_bench import Oracle
    from freqrex_bench.targets import TorchScriptTarget

    wrong = TorchScriptTarget(package_file("silero_vad", "data", "silero_vad.jit"), ["non-speech", "speech"], 44100,
                              output="probabilities", frame_length=512, extra_args=(44100,), stateful=True)
    with pytest.raises(TargetError, match="silero_vad.jit raised"):
        Oracle(wrong).classify(np.zeros((1, 1024), dtype=np.float32) + 0.1)


def test_basic_pitch_hears_a4_in_a_440_hz_tone(basic_pitch):
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
    scores = basic_pitch.predict(tone[None].astype(np.float32))
    assert scores.shape == (1, 88)
    assert basic_pitch.labels[int(np.argmax(scores))] == "A4"
    assert basic_pitch.framing.length == 43844


def test_missing_model_files_are_clear_errors(tmp_path):
    from freqrex_bench.targets import HFTarget, ONNXTarget, TorchScriptTarget

    with pytest.raises(InvalidInputError, match="not found"):
        TorchScriptTarget(tmp_path / "none.jit", ["a"], 8000)
    with pytest.raises(InvalidInputError, match="not found"):
        ONNXTarget(tmp_path / "none.onnx", ["a"], 8000)
    with pytest.raises(InvalidInputError, match="no config.json"):
        HFTarget(tmp_path)


def test_hf_target_equals_the_transformers_pipeline(demo):
    from transformers import pipeline

    pipe = pipeline("audio-classification", model=str(DEMO_MODEL))
    clips = [read(DATA / "fsdd" / "recordings" / name)[0] for name in ("0_lucas_1.wav", "7_george_3.wav")]
    n = min(c.size for c in clips)
    batch = np.stack([c[:n] for c in clips])
    ours = demo.predict(batch)
    for clip, row in zip(batch, ours):
        theirs = {d["label"]: d["score"] for d in pipe(clip, top_k=None)}
        assert np.allclose(row, [theirs[label] for label in demo.labels], atol=1e-5)
    assert demo.sample_rate == 8000 and demo.labels[0] == "zero"
    from_pipeline = type(demo)(pipe)
    assert np.allclose(from_pipeline.predict(batch), ours, atol=1e-6)
