"""Shared fixtures: real models from PyPI packages, the bundled demo model, real recordings."""

from __future__ import annotations

import numpy as np
import pytest

from .support import DATA, DEMO_MODEL, NOTE_NAMES, PlantedBands, package_file, read


@pytest.fixture(scope="session")
def silero():
    from freqrex_bench.targets import TorchScriptTarget

    return TorchScriptTarget(
        package_file("silero_vad", "data", "silero_vad.jit"), ["non-speech", "speech"], 16000,
        output="probabilities", frame_length=512, extra_args=(16000,), stateful=True, aggregate="max",
        name="silero-vad",
    )


@pytest.fixture(scope="session")
def basic_pitch():
    from freqrex_bench.targets import ONNXTarget

    labels = [f"{NOTE_NAMES[m % 12]}{m // 12 - 1}" for m in range(21, 109)]
    return ONNXTarget(
        package_file("basic_pitch", "saved_models", "icassp_2022", "nmp.onnx"), labels, 22050,
        output="probabilities", output_name="StatefulPartitionedCall:1", name="basic-pitch",
    )


@pytest.fixture(scope="session")
def demo():
    from freqrex_bench.targets import HFTarget

    return HFTarget(DEMO_MODEL)


@pytest.fixture(scope="session")
def yes_clip() -> tuple[np.ndarray, int]:
    return read(DATA / "speech_commands" / "yes_1000ms.wav")


@pytest.fixture(scope="session")
def fsdd_clip() -> tuple[np.ndarray, int]:
    return read(DATA / "fsdd" / "3_theo_7.wav")


@pytest.fixture(scope="session")
def planted() -> PlantedBands:
    return PlantedBands()
