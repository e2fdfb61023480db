"""Suite specs -> live objects: the target adapters and the per-clip strategies a run executes."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .attacks import (
    CausalDiscovery,
    FourierAttack,
    GradientAttack,
    LargestMagnitude,
    RandomFrequencies,
    STFTAttack,
    Strategy,
)
from .attacks.baselines import WhiteNoise
from .errors import InvalidInputError
from .suite import CallableSpec, HFSpec, ONNXSpec, Suite, TargetSpec, TorchScriptSpec
from .targets import CallableTarget, Target


def model_path(spec: TargetSpec, base: Path) -> Path | None:
    """The model file or folder a spec names (None for callables): relative to the suite folder, or
    `pkg:package/inner/path` for a file shipped inside an installed package (found without importing it)."""
    if isinstance(spec, CallableSpec):
        return None
    if spec.path.startswith("pkg:"):
        package, _, inner = spec.path.removeprefix("pkg:").partition("/")
        found = importlib.util.find_spec(package) if package.isidentifier() else None
        if found is None or not found.submodule_search_locations:
            raise InvalidInputError(f"targets[{spec.name}].path: package {package!r} is not installed "
                                    f"(expected pkg:<installed package>/<file inside it>)")
        path = Path(next(iter(found.submodule_search_locations))) / inner
    else:
        path = (base / spec.path).resolve()
    if not path.exists():
        raise InvalidInputError(f"targets[{spec.name}].path: {spec.path!r} does not exist (looked for {path})")
    return path


EXTRAS = {"hf": "hf", "torchscript": "torch", "onnx": "onnx", "callable": "all"}


def build_target(spec: TargetSpec, base: Path) -> Target:
    """Load the model a target spec names; a missing framework is a one-line error saying what to install."""
    try:
        return _load(spec, base)
    except InvalidInputError as exc:
        if str(exc).startswith(f"targets[{spec.name}]"):
            raise
        raise InvalidInputError(f"targets[{spec.name}]: {exc}") from None
    except ModuleNotFoundError as exc:
        if isinstance(spec, CallableSpec):
            raise
        raise InvalidInputError(
            f"targets[{spec.name}]: a {spec.kind} model needs the Python package {exc.name!r}; "
            f"install it with: pip install 'freqrex-bench[{EXTRAS[spec.kind]}]'"
        ) from None


def _load(spec: TargetSpec, base: Path) -> Target:
    framing = {"frame_length": spec.frame_length, "hop": spec.hop, "aggregate": spec.aggregate, "name": spec.name}
    path = model_path(spec, base)
    if isinstance(spec, HFSpec):
        from .targets import HFTarget

        return HFTarget(path, output=spec.output, **framing)
    if isinstance(spec, TorchScriptSpec):
        from .targets import TorchScriptTarget

        return TorchScriptTarget(path, spec.labels, spec.sample_rate, spec.output, extra_args=spec.extra_args,
                                 stateful=spec.stateful, reset=spec.reset, **framing)
    if isinstance(spec, ONNXSpec):
        from .targets import ONNXTarget

        return ONNXTarget(path, spec.labels, spec.sample_rate, spec.output, input_name=spec.input_name,
                          output_name=spec.output_name, **framing)
    return CallableTarget(spec.function, spec.labels, spec.sample_rate, spec.output, **framing)


def build_strategies(suite: Suite) -> list[Strategy]:
    """The suite's per-clip strategies in run order (superposition, a cross-clip strategy, is not one).

    Causal discovery always comes first: the causal attacks read it, and the report needs it. Strategies
    that build on the Fourier attack (STFT, white noise, gradient) share the suite's configured one.
    """
    chosen = {spec.name: spec.parameters for spec in suite.strategies}
    discovery = CausalDiscovery(suite.discovery)
    settings = suite.attacks
    fourier = FourierAttack(settings, discovery, **chosen.get("fourier", {}))
    make: dict[str, Callable[[dict[str, Any]], Strategy]] = {
        "fourier": lambda _: fourier,
        "stft": lambda p: STFTAttack(settings, fourier, **p),
        "random-frequencies": lambda p: RandomFrequencies(settings, **p),
        "largest-magnitude": lambda p: LargestMagnitude(settings, **p),
        "white-noise": lambda p: WhiteNoise(settings, fourier, **p),
        "gradient": lambda p: GradientAttack(settings, fourier, **p),
    }
    return [discovery] + [make[name](p) for name, p in chosen.items() if name not in ("causal", "superposition")]
