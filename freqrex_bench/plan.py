"""Suite -> plan: the models to load, the strategies to build (from the registry), and the work to do.

`make_plan(suite)` resolves everything a run needs before any model is called: the clips, each target's
model file and its hash, and the strategies in run order (each built once, sharing what it builds on).
`Plan.jobs(done)` lists the (target, clip) work that is left, so the runner only executes. Targets load lazily,
once each, through `TargetLoader`.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import ClipRef, find_clips
from .errors import InvalidInputError
from .store import Key
from .strategy import STRATEGIES, Strategy
from .suite import CallableSpec, HFSpec, ONNXSpec, Suite, TargetSpec, TFLiteSpec, TorchScriptSpec
from .targets import CallableTarget, Target


def model_path(spec: TargetSpec, base: Path) -> Path | None:
    """The model file or folder a spec names (None for callables): relative to the suite folder, or
    `pkg:package/inner/path` for a file shipped inside an installed package (found without importing it).
    Raises InvalidInputError, naming the target, for a package that is not installed or a path that does
    not exist."""
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


EXTRAS = {"hf": "hf", "torchscript": "torch", "onnx": "onnx", "tflite": "tflite", "callable": "all"}


def build_target(spec: TargetSpec, base: Path) -> Target:
    """Load the model a target spec names. Raises InvalidInputError naming the target for a missing or
    unloadable model, or a missing framework (saying which extra to install)."""
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
    framing: dict[str, Any] = {"frame_length": spec.frame_length, "hop": spec.hop, "aggregate": spec.aggregate,
                               "name": spec.name}
    path = model_path(spec, base)
    if isinstance(spec, HFSpec):
        from .targets import HFTarget

        return HFTarget(path, output=spec.output, device=spec.device, **framing)
    if isinstance(spec, TorchScriptSpec):
        from .targets import TorchScriptTarget

        return TorchScriptTarget(path, spec.labels, spec.sample_rate, spec.output, extra_args=spec.extra_args,
                                 stateful=spec.stateful, reset=spec.reset, device=spec.device, **framing)
    if isinstance(spec, ONNXSpec):
        from .targets import ONNXTarget

        return ONNXTarget(path, spec.labels, spec.sample_rate, spec.output, input_name=spec.input_name,
                          output_name=spec.output_name, **framing)
    if isinstance(spec, TFLiteSpec):
        from .targets import TFLiteTarget

        return TFLiteTarget(path, spec.labels, spec.sample_rate, spec.output, output_name=spec.output_name,
                            num_threads=spec.num_threads, **framing)
    return CallableTarget(spec.function, spec.labels, spec.sample_rate, spec.output, **framing)


def build_strategies(suite: Suite) -> list[Strategy]:
    """The suite's strategies in run order, built from the registry: causal discovery first (the attacks
    and the report need it), then the listed strategies in the order written, each after the strategies
    it builds on; target-scope strategies (superposition) last. A strategy another builds on is built
    once and shared (STFT, white noise and gradient share the suite's Fourier attack); it is run (and
    recorded) only if the suite lists it or it is causal discovery.
    """
    parameters = {spec.name: spec.parameters for spec in suite.strategies}
    built: dict[str, Strategy] = {}

    def build(name: str) -> Strategy:
        if name not in built:
            cls = STRATEGIES[name]
            needs = {keyword: build(required) for keyword, required in cls.requires.items()}
            # a strategy with file parameters (corruptions' noise_paths) reads them relative to the suite's folder
            folder = {"base": suite.base} if getattr(cls, "uses_suite_folder", False) else {}
            built[name] = cls(getattr(suite, cls.settings_section), **needs, **folder, **parameters.get(name, {}))  # type: ignore[call-arg]
        return built[name]

    listed = ["causal", *(name for name in parameters if name != "causal")]
    run = [build(name) for name in listed]
    return [s for s in run if s.scope == "clip"] + [s for s in run if s.scope == "target"]


@dataclass(frozen=True)
class ClipJob:
    """One clip under one target, and the clip-scope strategies still to run on it, in run order."""

    target: str
    clip: ClipRef
    strategies: tuple[Strategy, ...]


@dataclass
class TargetLoader:
    """Loads each target of a suite when first asked for it, once (an explicit cache, no globals); calling
    it raises InvalidInputError, naming the target, when the model cannot be loaded."""

    suite: Suite
    loaded: dict[str, Target] = field(default_factory=dict)

    def __call__(self, name: str) -> Target:
        """The target called `name` (InvalidInputError naming it when it cannot be loaded)."""
        if name not in self.loaded:
            spec = next(spec for spec in self.suite.targets if spec.name == name)
            self.loaded[name] = build_target(spec, self.suite.base)
        return self.loaded[name]


@dataclass
class Plan:
    """Everything a run of `suite` needs, resolved up front: clips, strategies in run order, and each
    target's model hash (SHA-256 hex, None for callables)."""

    suite: Suite
    clips: list[ClipRef]
    strategies: list[Strategy]
    hashes: dict[str, str | None]

    def spec(self, name: str) -> TargetSpec:
        """The suite's spec of the target called `name`."""
        return next(spec for spec in self.suite.targets if spec.name == name)

    @property
    def clip_strategies(self) -> list[Strategy]:
        """The clip-scope strategies, causal discovery first."""
        return [s for s in self.strategies if s.scope == "clip"]

    @property
    def target_strategies(self) -> list[Strategy]:
        """The target-scope strategies (superposition)."""
        return [s for s in self.strategies if s.scope == "target"]

    @property
    def names(self) -> list[str]:
        """Every strategy name in run order."""
        return [s.name for s in self.strategies]

    def jobs(self, done: set[Key]) -> list[ClipJob]:
        """The (target, clip) work not yet in `done` (record keys), in suite order."""
        jobs = []
        for spec in self.suite.targets:
            for ref in self.clips:
                pending = tuple(s for s in self.clip_strategies if (spec.name, ref.id, s.name) not in done)
                if pending:
                    jobs.append(ClipJob(spec.name, ref, pending))
        return jobs

    def query_estimate(self) -> int:
        """About how many model queries the whole suite costs (every target, clip and strategy, from each
        strategy's query_estimate)."""
        per_clip = sum(s.query_estimate() for s in self.clip_strategies)
        per_target = sum(s.query_estimate() * len(self.clips) for s in self.target_strategies)
        return len(self.suite.targets) * (len(self.clips) * per_clip + per_target)


def make_plan(suite: Suite) -> Plan:
    """Resolve a suite: find its clips, hash its models, build its strategies. Raises InvalidInputError for
    clips or model paths that do not exist."""
    clips = find_clips(suite.data, suite.base, suite.seed)
    hashes = {spec.name: model_hash(spec, suite.base) for spec in suite.targets}
    return Plan(suite, clips, build_strategies(suite), hashes)


def model_hash(spec: TargetSpec, base: Path) -> str | None:
    """SHA-256 (hex) of the model file, or of every file in a model folder (names and contents, sorted);
    None for a callable. Raises InvalidInputError as model_path does."""
    path = model_path(spec, base)
    if path is None:
        return None
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
