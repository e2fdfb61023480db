"""The TFLite target: the project's own raw-waveform CNN converted to TFLite (examples/convert_to_tflite.py)
must score clips as its source ONNX model does, batched or framed, and bad models are clear errors."""

import numpy as np
import pytest
import yaml

from freqrex_bench import InvalidInputError, Oracle, load_suite
from freqrex_bench.cli import main
from freqrex_bench.targets import ONNXTarget, TFLiteTarget
from freqrex_bench.targets.tflite import _layout

from .support import DATA, ROOT, read

MODEL = ROOT / "examples" / "models" / "fsdd-wavcnn"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def pair():
    return (TFLiteTarget(MODEL / "model.tflite", DIGITS, 8000, output="logits"),
            ONNXTarget(MODEL / "model.onnx", DIGITS, 8000, output="logits"))


def clips(n=6, length=6000):
    names = sorted(p.name for p in (DATA / "fsdd").glob("*_theo_*.wav"))[:n]
    batch = np.zeros((n, length), dtype=np.float32)
    for row, name in enumerate(names):
        signal = read(DATA / "fsdd" / name)[0][:length]
        batch[row, : signal.size] = signal
    return batch


def test_the_tflite_model_equals_its_source_model(pair):
    tflite, onnx = pair
    assert tflite.layout == "N L" and tflite.dynamic_batch and tflite.framing is None
    batch = clips()
    ours, source = tflite.predict(batch), onnx.predict(batch)
    assert np.abs(ours - source).max() < 1e-5
    assert (ours.argmax(1) == source.argmax(1)).all()
    # batch size and length changes resize the interpreter; each row scores as it does alone
    assert np.abs(tflite.predict(batch[:1, :3000]) - onnx.predict(batch[:1, :3000])).max() < 1e-5
    assert np.abs(tflite.predict(batch[2:5]) - ours[2:5]).max() < 1e-6


def test_framing_and_aggregation_work_on_a_tflite_model(pair):
    framed = TFLiteTarget(MODEL / "model.tflite", DIGITS, 8000, output="logits", frame_length=2000, hop=1000,
                          aggregate="max")
    source = ONNXTarget(MODEL / "model.onnx", DIGITS, 8000, output="logits", frame_length=2000, hop=1000,
                        aggregate="max")
    batch = clips(3)
    assert np.abs(framed.predict(batch) - source.predict(batch)).max() < 1e-5
    assert Oracle(framed).classify(batch).scores.shape == (3, 10)


@pytest.mark.parametrize(
    ("signature", "expected"),
    [([-1, -1], ("N L", None, True)), ([1, 16000], ("N L", 16000, False)), ([-1, 8000, 1], ("N L 1", 8000, True)),
     ([-1, 1, -1], ("N 1 L", None, True))],
)
def test_audio_layouts_are_read_from_the_model(signature, expected, tmp_path):
    assert _layout(signature, tmp_path / "m.tflite") == expected


def test_bad_models_are_named(tmp_path):
    with pytest.raises(InvalidInputError, match="TFLite model file not found"):
        TFLiteTarget(tmp_path / "missing.tflite", DIGITS, 8000)
    (tmp_path / "junk.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(InvalidInputError, match="is not a loadable TFLite model"):
        TFLiteTarget(tmp_path / "junk.tflite", DIGITS, 8000)
    with pytest.raises(InvalidInputError, match=r"m.tflite: audio input has shape \[1, 49, 40, 1\]; expected"):
        _layout([1, 49, 40, 1], tmp_path / "m.tflite")
    with pytest.raises(InvalidInputError, match="has no output 'probs'; it has"):
        TFLiteTarget(MODEL / "model.tflite", DIGITS, 8000, output_name="probs")


def test_a_suite_runs_a_tflite_target(tmp_path, capsys):
    suite = {"name": "tflite", "targets": [{"kind": "tflite", "name": "wavcnn", "path": str(MODEL / "model.tflite"),
                                           "labels": DIGITS, "sample_rate": 8000, "output": "logits"}],
             "data": {"paths": [str(DATA / "fsdd" / "3_theo_7.wav")]}, "discovery": {"max_queries": 200},
             "strategies": ["causal", "fourier"]}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert load_suite(path).targets[0].kind == "tflite"
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert "0 failed" in capsys.readouterr().out
