import numpy as np
import pytest
import torch

from freqrex_bench import InvalidInputError, TargetError
from freqrex_bench.targets import CallableTarget, Framing, load_callable

from .support import DATA, DEMO_MODEL, ROOT, package_file, read


def test_framing_splits_with_zero_padded_tail_and_aggregates():
    framing = Framing(4, hop=2)
    frames = framing.split(np.arange(1, 8, dtype=np.float32)[None])
    assert frames.tolist() == [[[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 0]]]
    assert Framing(8).split(np.ones((2, 3), dtype=np.float32)).shape == (2, 1, 8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"frame_length": 0}, "frame_length must be a whole number >= 1, got 0"),
     ({"frame_length": 4, "hop": 5}, "hop must be at most frame_length=4, got 5"),
     ({"frame_length": 4, "aggregate": "median"}, r"aggregate must be one of \['mean', 'max'\]"),
     ({"hop": 256}, "hop=256 needs frame_length")],
)
def test_framing_settings_are_checked(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        CallableTarget(lambda b: b, ["a", "b"], 8000, **kwargs)


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
    [({"labels": ["only"]}, "at least two labels"), ({"labels": "ab"}, "list of class names, got 'ab'"),
     ({"labels": ["a", "b", "a"]}, r"repeated: \['a'\]"), ({"sample_rate": 0}, "sample_rate"),
     ({"output": "softmax"}, "output must be one of"), ({"sample_rate": 8000.5}, "got 8000.5")],
)
def test_target_settings_are_checked(kwargs, message):
    args = {"labels": ["a", "b"], "sample_rate": 8000, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        CallableTarget(lambda b: b, **args)


def test_numpy_numbers_are_fine_as_settings():
    target = CallableTarget(lambda b: b[:, :2], ["a", "b"], np.int64(8000), frame_length=np.int64(4), hop=2.0)
    assert target.sample_rate == 8000 and target.framing.length == 4 and target.framing.hop == 2


def test_wrong_batch_shape_names_the_shape():
    target = CallableTarget(lambda b: np.ones((len(b), 2)) / 2, ["a", "b"], 8000, name="m")
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
    clips = [read(DATA / "fsdd" / name)[0] for name in ("0_lucas_1.wav", "7_george_3.wav")]
    n = min(c.size for c in clips)
    batch = np.stack([c[:n] for c in clips])
    ours = demo.predict(batch)
    for clip, row in zip(batch, ours):
        theirs = {d["label"]: d["score"] for d in pipe(clip, top_k=None)}
        assert np.allclose(row, [theirs[label] for label in demo.labels], atol=1e-5)
    assert demo.sample_rate == 8000 and demo.labels[0] == "zero"
    from_pipeline = type(demo)(pipe)
    assert np.allclose(from_pipeline.predict(batch), ours, atol=1e-6)


class Loudness(torch.nn.Module):
    """Known answer: P(loud) of a chunk is 1 when its RMS exceeds 0.1, else 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.square().mean(dim=1, keepdim=True).sqrt() > 0.1).float()


@pytest.fixture(scope="module")
def loudness_jit(tmp_path_factory):
    path = tmp_path_factory.mktemp("jit") / "loudness.pt"
    torch.jit.script(Loudness()).save(str(path))
    return path


def test_torchscript_frames_chunks_and_aggregates(loudness_jit):
    from freqrex_bench.targets import TorchScriptTarget

    clip = np.zeros((1, 400), dtype=np.float32)
    clip[0, 300:] = 0.5  # only the last of four 100-sample chunks is loud
    mean = TorchScriptTarget(loudness_jit, ["quiet", "loud"], 8000, frame_length=100)
    peak = TorchScriptTarget(loudness_jit, ["quiet", "loud"], 8000, frame_length=100, aggregate="max")
    assert np.allclose(mean.predict(clip), [[0.75, 0.25]]) and np.allclose(peak.predict(clip), [[0.0, 1.0]])


def test_a_stateful_model_must_be_resettable(loudness_jit):
    from freqrex_bench.targets import TorchScriptTarget

    with pytest.raises(InvalidInputError, match="has no method 'reset_states'.*reset=None"):
        TorchScriptTarget(loudness_jit, ["quiet", "loud"], 8000, frame_length=100, stateful=True)
    streaming = TorchScriptTarget(loudness_jit, ["quiet", "loud"], 8000, frame_length=100, stateful=True, reset=None)
    assert streaming.predict(np.full((2, 250), 0.5, dtype=np.float32)).shape == (2, 2)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [(["N", 16000], ("N L", 16000, False)), (["N", "L"], ("N L", None, False)), ([1, 16000], ("N L", 16000, True)),
     (["N", 43844, 1], ("N L 1", 43844, False)), (["N", 1, "L"], ("N 1 L", None, False))],
)
def test_onnx_audio_layouts(shape, expected):
    from pathlib import Path

    from freqrex_bench.targets.onnx import _audio_layout

    assert _audio_layout(shape, Path("m.onnx")) == expected


def test_onnx_layout_that_is_not_audio_is_named():
    from pathlib import Path

    from freqrex_bench.targets.onnx import _audio_layout

    with pytest.raises(InvalidInputError, match=r"m.onnx: audio input has shape \[2, 3, 4\]"):
        _audio_layout([2, 3, 4], Path("m.onnx"))


def test_onnx_inputs_must_all_be_fed(basic_pitch):
    from freqrex_bench.targets import ONNXTarget

    with pytest.raises(InvalidInputError, match=r"unknown \['sr'\]"):
        ONNXTarget(basic_pitch.path, basic_pitch.labels, 22050, extra_inputs={"sr": np.array(16000)})
    with pytest.raises(InvalidInputError, match="has no output 'logits'"):
        ONNXTarget(basic_pitch.path, basic_pitch.labels, 22050, output_name="logits")


@pytest.fixture(scope="module")
def tiny_wav2vec2(tmp_path_factory):
    """A randomly initialised multi-label Wav2Vec2 classifier, built offline from a config."""
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("w2v")
    config = Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8), num_feat_extract_layers=2,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, num_labels=3,
        id2label={0: "rain", 1: "wind", 2: "birds"}, label2id={"rain": 0, "wind": 1, "birds": 2},
        problem_type="multi_label_classification",
    )
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=True).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("function_to_apply", [None, "softmax"])
def test_hf_multilabel_model_equals_its_pipeline(tiny_wav2vec2, function_to_apply):
    from transformers import pipeline

    from freqrex_bench.targets import HFTarget

    kwargs = {} if function_to_apply is None else {"function_to_apply": function_to_apply}
    pipe = pipeline("audio-classification", model=str(tiny_wav2vec2), **kwargs)
    target = HFTarget(pipe)
    assert target.output == ("multilabel-logits" if function_to_apply is None else "logits")
    batch = np.random.default_rng(0).standard_normal((3, 4000)).astype(np.float32) * 0.1
    for clip, row in zip(batch, target.predict(batch)):
        theirs = {d["label"]: d["score"] for d in pipe(clip, top_k=None)}
        assert np.allclose(row, [theirs[label] for label in target.labels], atol=1e-5)
    assert HFTarget(tiny_wav2vec2).output == "multilabel-logits"


class BinaryLogit(torch.nn.Module):
    """One logit per chunk (a binary model): loudness above 0.1 RMS, smooth so gradients exist."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 20 * (x.square().mean(dim=1).sqrt() - 0.1)


@pytest.fixture(scope="module")
def binary_jit(tmp_path_factory):
    path = tmp_path_factory.mktemp("jit") / "binary.pt"
    torch.jit.script(BinaryLogit()).save(str(path))
    return path


DSCNN = ROOT / "examples" / "models" / "fsdd-dscnn" / "model.pt"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.mark.parametrize(
    "kind",
    ["hf-ast-softmax", "hf-wav2vec2-sigmoid", "hf-ast-framed-max", "torchscript-dscnn", "torchscript-framed-mean",
     "torchscript-binary-max", "torchscript-stateful-silero"],
)
def test_the_torch_pipeline_equals_predict_on_every_target_kind(kind, demo, silero, tiny_wav2vec2, binary_jit,
                                                                 fsdd_clip, yes_clip):
    """One definition (targets.pipeline) serves numpy queries and torch gradients: they must agree on
    every kind of target with a torch forward pass, framed or not, softmax or sigmoid, mean or max."""
    from freqrex_bench.targets import HFTarget, TorchScriptTarget

    digit = fsdd_clip[0][None, :3000].copy()
    targets = {
        "hf-ast-softmax": (lambda: demo, digit),
        "hf-wav2vec2-sigmoid": (lambda: HFTarget(tiny_wav2vec2), yes_clip[0][None, :4000].copy()),
        "hf-ast-framed-max": (lambda: HFTarget(ROOT / "examples" / "models" / "fsdd-ast", frame_length=1200, hop=600,
                                               aggregate="max"), digit),
        "torchscript-dscnn": (lambda: TorchScriptTarget(DSCNN, DIGITS, 8000, output="logits"), digit),
        "torchscript-framed-mean": (lambda: TorchScriptTarget(DSCNN, DIGITS, 8000, output="logits",
                                                              frame_length=1000, hop=500), digit),
        "torchscript-binary-max": (lambda: TorchScriptTarget(binary_jit, ["quiet", "loud"], 8000, output="logits",
                                                             frame_length=500, aggregate="max"), digit),
        "torchscript-stateful-silero": (lambda: silero, yes_clip[0][None].copy()),
    }
    make, clip = targets[kind]
    target = make()
    assert target.differentiable
    batch = np.concatenate([clip, 0.5 * clip])
    with torch.no_grad():
        mirrored = target.torch_predict(torch.from_numpy(batch)).numpy()
    assert mirrored.shape == (2, len(target.labels))
    assert np.abs(mirrored - target.predict(batch)).max() < 1e-5
