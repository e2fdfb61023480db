"""A YAML suite -> validated settings. Unknown keys and bad values are errors naming the key path.

A suite names the targets (models), the data (clips), the discovery and attack settings, the
strategies to run, the output folder, report options and checks (thresholds for CI). Relative paths in
a suite are relative to the suite file. See examples/*.yaml and docs/suite.md for every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from .attacks.settings import AttackSettings  # importing the attacks package registers every strategy
from .causal.settings import CausalSettings
from .errors import InvalidInputError
from .limits import MAX_BATCH, MAX_CLIPS, MAX_DURATION_S, MAX_FRAME, MAX_QUERIES, MAX_SAMPLE_RATE
from .strategy import STRATEGIES, Parameters, check_parameters
from .suite_file import SuiteSource, read_yaml
from .targets.base import Aggregate, Output
from .validation import validated


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _FramedSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80,
                      description="how the report and results call this model")
    frame_length: int | None = Field(None, ge=1, le=MAX_FRAME, description="samples per frame for frame-level models")
    hop: int | None = Field(None, ge=1, le=MAX_FRAME, description="samples between frames (default: frame_length)")
    aggregate: Aggregate = Field("mean", description="how frame scores become one decision: mean or max")
    batch_size: int = Field(32, ge=1, le=MAX_BATCH, description="model batch size (speed only)")
    budget: int | None = Field(None, ge=1, le=MAX_QUERIES,
                               description="model queries allowed per clip (default unlimited)")


Device = Literal["cpu", "cuda"]
MAX_WORKERS = 4096


class HFSpec(_FramedSpec):
    """A `kind: hf` target (HFTarget): a local transformers audio-classification folder, `path`, relative to
    the suite; labels and sample rate come from the model, `output` overrides its activation, `device`
    says where it runs (cpu, or cuda: a GPU, an error on a machine without one). Every
    target also takes `name`, `frame_length` and `hop` (samples), `aggregate`, `batch_size` and `budget`
    (model queries per clip). Bad values are InvalidInputError naming the key when the suite is read."""

    kind: Literal["hf"]
    path: str = Field(description="a local transformers audio-classification model folder")
    output: Output | None = Field(None, description="override the activation chosen from the config")
    device: Device = Field("cpu", description="where the model runs: cpu, or cuda (a GPU; an error without one)")


class _LabelledSpec(_FramedSpec):
    """A model that does not carry its own labels and rate (everything but a transformers folder)."""

    labels: list[str] = Field(min_length=2)
    sample_rate: int = Field(gt=0, le=MAX_SAMPLE_RATE, description="Hz")
    output: Output = "probabilities"


class TorchScriptSpec(_LabelledSpec):
    """A `kind: torchscript` target (TorchScriptTarget): a torch.jit file `path` with its `labels` and
    `sample_rate` (Hz), `extra_args` passed after the batch, `stateful`/`reset` for streaming models and
    `device` (cpu or cuda, as for HFSpec); plus the keys every target takes (HFSpec). Bad values are
    InvalidInputError when the suite is read."""

    kind: Literal["torchscript"]
    path: str = Field(description="a torch.jit model file, or pkg:<package>/<file> inside an installed package")
    extra_args: list[int | float | str] = Field(default_factory=list, description="passed after the batch")
    stateful: bool = False
    reset: str | None = "reset_states"
    device: Device = Field("cpu", description="where the model runs: cpu, or cuda (a GPU; an error without one)")


class ONNXSpec(_LabelledSpec):
    """A `kind: onnx` target (ONNXTarget): an ONNX file `path` with its `labels` and `sample_rate` (Hz), and
    the `input_name` and `output_name` to use (default: the first); plus the keys every target takes
    (HFSpec). Bad values are InvalidInputError when the suite is read."""

    kind: Literal["onnx"]
    path: str = Field(description="an ONNX model file, or pkg:<package>/<file> inside an installed package")
    input_name: str | None = None
    output_name: str | None = None


class TFLiteSpec(_LabelledSpec):
    """A `kind: tflite` target (TFLiteTarget): a TensorFlow Lite file `path` with its `labels` and
    `sample_rate` (Hz), the `output_name` to use (default: the first) and the interpreter's
    `num_threads`; plus the keys every target takes (HFSpec). Bad values are InvalidInputError when the
    suite is read."""

    kind: Literal["tflite"]
    path: str = Field(description="a .tflite model file, or pkg:<package>/<file> inside an installed package")
    output_name: str | None = None
    num_threads: int | None = Field(None, ge=1, le=256, description="interpreter threads (default: LiteRT's)")


class CallableSpec(_LabelledSpec):
    """A `kind: callable` target (CallableTarget): a Python function named 'package.module:function' with
    its `labels` and `sample_rate` (Hz); plus the keys every target takes (HFSpec). Bad values are
    InvalidInputError when the suite is read."""

    kind: Literal["callable"]
    function: str = Field(pattern=r"^[\w.]+:[\w.]+$", description="'package.module:function'")


TargetSpec = Annotated[HFSpec | TorchScriptSpec | ONNXSpec | TFLiteSpec | CallableSpec, Field(discriminator="kind")]


class DataSpec(_Strict):
    """The suite's `data:` section (data.find_clips): the clips (`paths`: files, globs or folders, relative
    to the suite), their ground truth (`labels`, `labels_csv`, `label_map`), the `duration` in seconds
    every clip is cropped or zero-padded to, and which clips (`max_clips`, `sample`). Bad values are
    InvalidInputError naming the key when the suite is read."""

    paths: list[str] = Field(min_length=1, description="audio files, globs or folders (wav, flac, ogg, mp3)")
    labels: Literal["none", "parent", "prefix"] = Field(
        "none", description="ground truth: none, the parent folder's name, or the file name up to its first '_'"
    )
    labels_csv: str | None = Field(None, description="a CSV with columns 'file' and 'label' (overrides labels)")
    label_map: dict[str, str] = Field(default_factory=dict, description="rename ground-truth labels to model labels")
    duration: float | None = Field(None, gt=0, le=MAX_DURATION_S,
                                   description="crop or zero-pad every clip to this many seconds")
    max_clips: int | None = Field(None, ge=1, le=MAX_CLIPS, description="use at most this many clips")
    sample: Literal["first", "random"] = Field("first", description="which clips when max_clips cuts: sorted or seeded")


class StrategySpec(_Strict):
    """One strategy: a registered name with its parameters (YAML: `- name` or `- name: {...}`), validated
    against the strategy's own Parameters model (the registry in freqrex_bench.strategy); an unknown name
    or a bad parameter is InvalidInputError naming the key when the suite is read."""

    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and len(value) == 1 and "name" not in value:
            (name, parameters), = value.items()
            return {"name": name, "parameters": parameters or {}}
        return value

    @model_validator(mode="after")
    def _known(self) -> StrategySpec:
        try:
            check_parameters(self.name, self.parameters)
        except InvalidInputError as exc:
            raise ValueError(str(exc).removeprefix("invalid ")) from None
        return self

    @property
    def settings(self) -> Parameters:
        """The parameters validated as the strategy's Parameters model (checked when the spec was made)."""
        return check_parameters(self.name, self.parameters)


def metrics_of(strategy: str) -> tuple[str, ...]:
    """The metrics a check may bound for a registered clip-scope strategy: `corruptions` has its mean flip
    rate; another one without a unit (causal discovery) has no success, and only frequency attacks count
    success within 1 and 5 changes."""
    if strategy == "corruptions":
        return ("corruption_flip_rate", "mean_queries", "error_rate")
    unit = STRATEGIES[strategy].unit
    if unit is None:
        return ("mean_queries", "error_rate")
    attack = tuple(m for m in METRICS if m != "corruption_flip_rate")
    if unit == "frequencies":
        return attack
    return tuple(m for m in attack if m not in ("success_rate_1", "success_rate_5"))


METRICS = ("success_rate", "success_rate_1", "success_rate_5", "median_snr_db", "best_snr_db", "mean_queries",
           "pcm16_survival_rate", "error_rate", "corruption_flip_rate")


class CheckSpec(_Strict):
    """A threshold on a metric of one strategy (for one target, or every target): `min`, `max` or both
    (a check with neither is InvalidInputError when the suite is read)."""

    strategy: str
    metric: Literal[METRICS]  # type: ignore[valid-type]
    target: str | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> CheckSpec:
        if self.min is None and self.max is None:
            raise ValueError("a check needs min, max or both")
        return self


class ExecutionSpec(_Strict):
    """The suite's `execution:` section: how many Ray worker processes run its (target, clip) jobs
    (`workers`; 0 or null: serially in this process, at most MAX_WORKERS). Speed only: it is not part of
    the fingerprint, and `freqrex-bench run --workers N` overrides it. Bad values are InvalidInputError
    naming the key when the suite is read."""

    workers: int | None = Field(None, ge=0, le=MAX_WORKERS,
                                description="Ray worker processes (0 or null: serial, in this process)")


class ReportSpec(_Strict):
    """The suite's `report:` section: the page `title` (default "freqrex-bench: <suite name>"), whether to
    embed `audio`, and how many `examples` clips per target are shown in detail (0-50; InvalidInputError
    otherwise when the suite is read)."""

    title: str | None = None
    audio: bool = Field(True, description="embed listenable audio for the examples")
    examples: int = Field(3, ge=0, le=50, description="clips per target shown in detail with audio and figures")


class Suite(_Strict):
    """A validated suite (docs/suite.md): `targets`, `data`, the shared `discovery` (CausalSettings) and
    `attacks` (AttackSettings) settings, the `strategies` to run, `seed`, `output` folder, `report` options,
    `checks` and `execution` (parallel workers). Frozen; build it with load_suite or parse_suite, which
    raise InvalidInputError naming the key path (and line) of every bad value, a repeated target or
    strategy name, or a check on a strategy, metric or target the suite does not have."""

    name: str = Field("suite", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80)
    seed: int = Field(0, ge=0, description="one seed reproduces the run exactly")
    output: str | None = Field(None, description="run folder (default runs/<name> beside the suite)")
    targets: list[TargetSpec] = Field(min_length=1)
    data: DataSpec
    discovery: CausalSettings = Field(default_factory=CausalSettings)
    attacks: AttackSettings = Field(default_factory=AttackSettings)
    strategies: list[StrategySpec] = Field(default_factory=lambda: [StrategySpec(name="causal")], min_length=1)
    report: ReportSpec = Field(default_factory=ReportSpec)
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)
    checks: list[CheckSpec] = Field(default_factory=list)

    _base: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def base(self) -> Path:
        """The folder relative paths in the suite start from (the suite file's folder)."""
        return self._base

    @property
    def output_folder(self) -> Path:
        """The run folder: `output`, else runs/<name>, relative to `base`."""
        return self.base / (self.output if self.output is not None else Path("runs") / self.name)

    def runs(self, strategy: str) -> bool:
        """Whether the suite lists the strategy named `strategy`."""
        return any(spec.name == strategy for spec in self.strategies)

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        names = [t.name for t in self.targets]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"targets: names must be unique; repeated: {repeated}")
        strategies = [s.name for s in self.strategies]
        if len(set(strategies)) != len(strategies):
            raise ValueError(f"strategies: each strategy may appear once, got {strategies}")
        runs = ["causal", *(name for name in strategies if name != "causal" and STRATEGIES[name].scope == "clip")]
        for i, check in enumerate(self.checks):
            if check.strategy not in runs:
                raise ValueError(f"checks[{i}].strategy: {check.strategy!r} is not run by this suite "
                                 f"(expected one of {runs})")
            allowed = metrics_of(check.strategy)
            if check.metric not in allowed:
                raise ValueError(f"checks[{i}].metric: {check.metric!r} has no value for {check.strategy} "
                                 f"(expected one of {list(allowed)})")
            if check.target is not None and check.target not in names:
                raise ValueError(f"checks[{i}].target: {check.target!r} is not a target of this suite "
                                 f"(expected one of {names})")
        return self


def parse_suite(data: Any, base: str | Path = ".", where: str = "suite", source: SuiteSource | None = None) -> Suite:
    """Validate suite keys already read (a dict, e.g. from YAML) into a Suite; relative paths start at
    `base`. `source` (from suite_file.read_yaml) lets errors name each key's line. Raises
    InvalidInputError, prefixed by `where`, for data that is not a mapping or any bad key or value."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where} must hold a mapping of suite keys, got {type(data).__name__}")
    suite = validated(Suite, data, where, source)
    suite._base = Path(base).resolve()
    return suite


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file; its relative paths start from the file's folder.

    Raises InvalidInputError (one line naming the key path and its line in the file) for a missing or
    non-UTF-8 file, invalid YAML, a key given twice, a non-finite number, an unknown key or a bad value.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"suite file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text: {exc}") from None
    source = read_yaml(text, str(path))
    return parse_suite(source.data, path.resolve().parent, f"suite {path.name}", source)
