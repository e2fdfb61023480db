"""The zoo's targets, built exactly as a benchmark should use them.

| model | labels | rate | adapter |
|---|---|---|---|
| silero-vad 6.2.3 | [non-speech, speech] | 16000 | TorchScriptTarget(pkg silero_vad/data/silero_vad.jit,
    frame_length=512, extra_args=(16000,), stateful, aggregate max) |
| basic-pitch 0.4.0 | 88 notes A0..C8 | 22050 | ONNXTarget(pkg basic_pitch/saved_models/icassp_2022/nmp.onnx,
    output_name StatefulPartitionedCall:1, frame 43844, aggregate mean) |
| openWakeWord 0.4.0 | [not-<head>, <head>] | 16000 | CallableTarget(openwakeword_target.OpenWakeWordPipeline(head)) |

The same in a suite (paths relative to the suite file; run with PYTHONPATH=<repository root> for the
callable):

    targets:
      - {kind: torchscript, name: silero-vad, path: pkg:silero_vad/data/silero_vad.jit,
         labels: [non-speech, speech], sample_rate: 16000, output: probabilities, frame_length: 512,
         extra_args: [16000], stateful: true, aggregate: max}
      - {kind: onnx, name: basic-pitch, path: pkg:basic_pitch/saved_models/icassp_2022/nmp.onnx,
         labels: [A0, A#0, B0, C1, ..., C8], sample_rate: 22050, output: probabilities,
         output_name: "StatefulPartitionedCall:1"}
      - {kind: callable, name: openwakeword-hey_jarvis,
         function: "benchmarks.zoo.openwakeword_target:hey_jarvis",
         labels: [not-hey_jarvis, hey_jarvis], sample_rate: 16000, output: probabilities}
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .clips import PITCH_LABELS


def package_file(package: str, *parts: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{package} is not installed (see benchmarks/zoo/README.md)")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found in the installed {package}")
    return path


def silero_vad_target():
    from freqrex_bench.targets import TorchScriptTarget

    return TorchScriptTarget(
        package_file("silero_vad", "data", "silero_vad.jit"),
        ["non-speech", "speech"],
        16000,
        output="probabilities",
        frame_length=512,
        extra_args=(16000,),
        stateful=True,
        aggregate="max",
        name="silero-vad",
    )


def basic_pitch_target():
    from freqrex_bench.targets import ONNXTarget

    return ONNXTarget(
        package_file("basic_pitch", "saved_models", "icassp_2022", "nmp.onnx"),
        PITCH_LABELS,
        22050,
        output="probabilities",
        output_name="StatefulPartitionedCall:1",
        name="basic-pitch",
    )


def openwakeword_target(head: str):
    from .openwakeword_target import openwakeword_target as build

    return build(head)
