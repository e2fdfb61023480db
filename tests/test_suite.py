"""The suite schema: every key has a valid and an invalid case; bad suites exit 2 with one line naming the key."""

import copy

import pytest
import yaml

from freqrex_bench import InvalidInputError, load_suite
from freqrex_bench.cli import main
from freqrex_bench.suite import parse_suite

from .support import DEMO_MODEL, ROOT

CLIPS = ROOT / "examples" / "clips"
BASE = {
    "name": "schema",
    "targets": [{"kind": "hf", "name": "demo", "path": str(DEMO_MODEL)}],
    "data": {"paths": [str(CLIPS)]},
    "strategies": ["causal", "fourier"],
}
TS = {"kind": "torchscript", "name": "ts", "path": str(DEMO_MODEL / "config.json"), "labels": ["a", "b"],
      "sample_rate": 16000}
ONNX = {**TS, "kind": "onnx", "name": "onnx"}
CALL = {"kind": "callable", "name": "fn", "function": "tests.support:loudness_model", "labels": ["loud", "quiet"],
        "sample_rate": 8000}


def patched(changes):
    """BASE with `changes` ({"a.b": value}, None deletes; "targets": [...] replaces) applied."""
    suite = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = suite
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if value is None:
            del node[last]
        else:
            node[last] = value
    return suite


# (changes, attribute path checked on the parsed suite, expected value)
VALID = [
    ({"name": "nightly-1.2"}, "name", "nightly-1.2"),
    ({"seed": 7}, "seed", 7),
    ({"output": "runs/x"}, "output", "runs/x"),
    ({"targets.0.frame_length": 400, "targets.0.hop": 200}, "targets.0.hop", 200),
    ({"targets.0.aggregate": "max"}, "targets.0.aggregate", "max"),
    ({"targets.0.batch_size": 8}, "targets.0.batch_size", 8),
    ({"targets.0.budget": 5000}, "targets.0.budget", 5000),
    ({"targets.0.output": "multilabel-logits"}, "targets.0.output", "multilabel-logits"),
    ({"targets": [TS]}, "targets.0.sample_rate", 16000),
    ({"targets": [{**TS, "extra_args": [16000], "stateful": True, "reset": None}]}, "targets.0.stateful", True),
    ({"targets": [{**ONNX, "input_name": "x", "output_name": "y"}]}, "targets.0.output_name", "y"),
    ({"targets": [CALL]}, "targets.0.function", "tests.support:loudness_model"),
    ({"data.labels": "parent"}, "data.labels", "parent"),
    ({"data.labels_csv": "labels.csv"}, "data.labels_csv", "labels.csv"),
    ({"data.label_map": {"0": "zero"}}, "data.label_map", {"0": "zero"}),
    ({"data.duration": 1.5}, "data.duration", 1.5),
    ({"data.max_clips": 3, "data.sample": "random"}, "data.sample", "random"),
    ({"discovery.p": 2, "discovery.partition": "scatter"}, "discovery.partition", "scatter"),
    ({"attacks.ladder": [{"amplitude": 0}, {"phase": 1.57}, [{"amplitude": 0.5}, {"delay": 0.001}]]},
     "attacks.ladder.1", {"phase": 1.57}),
    ({"attacks.max_frequencies": 5, "attacks.min_snr_db": 20}, "attacks.min_snr_db", 20),
    ({"attacks.target_class": "seven", "attacks.pcm16_robust": True}, "attacks.target_class", "seven"),
    ({"attacks.grid_ratio": 3, "attacks.refine_points": 5, "attacks.exact_below": 0}, "attacks.refine_points", 5),
    ({"strategies": ["causal", {"fourier": {"candidates": "necessary"}},
                     {"stft": {"frame_sizes": [128, 256], "max_frames": 4, "all_frame_sizes": True}},
                     "random-frequencies", "largest-magnitude", {"white-noise": {"trials": 3, "snr_db": 20}},
                     {"gradient": {"steps": 5, "snr_db": 30}}, "superposition"]}, "strategies.2.name", "stft"),
    ({"report": {"title": "Nightly", "audio": False, "examples": 0}}, "report.examples", 0),
    ({"checks": [{"strategy": "fourier", "metric": "success_rate", "max": 0.5, "target": "demo"},
                 {"strategy": "causal", "metric": "error_rate", "min": 0, "max": 0}]}, "checks.1.max", 0),
    ({"strategies": ["fourier"], "checks": [{"strategy": "causal", "metric": "mean_queries", "max": 9000}]},
     "checks.0.strategy", "causal"),
]

# (changes, text the one-line error must contain)
INVALID = [
    ({"name": "bad name!"}, "name: String should match pattern"),
    ({"seed": "abc"}, "seed: Input should be a valid integer"),
    ({"seed": -1}, "seed: Input should be greater than or equal to 0"),
    ({"output": 3}, "output: Input should be a valid string"),
    ({"colour": "red"}, "colour: unknown key (expected one of: name, seed, output"),
    ({"targets": []}, "targets: List should have at least 1 item"),
    ({"targets.0.kind": "keras"}, "targets[0]: Input tag 'keras' found using 'kind' does not match"),
    ({"targets.0.path": None}, "targets[0].path: required key is missing"),
    ({"targets.0.name": "a/b"}, "targets[0].name: String should match pattern"),
    ({"targets.0.frame_length": 0}, "targets[0].frame_length: Input should be greater than or equal to 1"),
    ({"targets.0.hop": -1}, "targets[0].hop: Input should be greater than or equal to 1"),
    ({"targets.0.aggregate": "median"}, "targets[0].aggregate: Input should be 'mean' or 'max'"),
    ({"targets.0.batch_size": 0}, "targets[0].batch_size: Input should be greater than or equal to 1"),
    ({"targets.0.budget": 0}, "targets[0].budget: Input should be greater than or equal to 1"),
    ({"targets.0.output": "softmax"}, "targets[0].output: Input should be"),
    ({"targets.0.weights": "x.bin"}, "targets[0].weights: unknown key (expected one of: name, frame_length"),
    ({"targets": [{**TS, "labels": ["only"]}]}, "targets[0].labels: List should have at least 2 items"),
    ({"targets": [{**TS, "sample_rate": 0}]}, "targets[0].sample_rate: Input should be greater than 0"),
    ({"targets": [{**TS, "extra_args": [[1]]}]}, "targets[0].extra_args[0]"),
    ({"targets": [{**TS, "stateful": "maybe"}]}, "targets[0].stateful: Input should be a valid boolean"),
    ({"targets": [{**ONNX, "input_name": 3}]}, "targets[0].input_name: Input should be a valid string"),
    ({"targets": [{**CALL, "function": "no_colon"}]}, "targets[0].function: String should match pattern"),
    ({"targets": [BASE["targets"][0], BASE["targets"][0]]}, "targets: names must be unique; repeated: ['demo']"),
    ({"data": None}, "data: required key is missing"),
    ({"data.paths": []}, "data.paths: List should have at least 1 item"),
    ({"data.labels": "folder"}, "data.labels: Input should be 'none', 'parent' or 'prefix'"),
    ({"data.labels_csv": 5}, "data.labels_csv: Input should be a valid string"),
    ({"data.label_map": [1, 2]}, "data.label_map: Input should be a valid dictionary"),
    ({"data.duration": -1}, "data.duration: Input should be greater than 0"),
    ({"data.max_clips": 0}, "data.max_clips: Input should be greater than or equal to 1"),
    ({"data.sample": "shuffled"}, "data.sample: Input should be 'first' or 'random'"),
    ({"data.format": "wav"}, "data.format: unknown key (expected one of: paths, labels"),
    ({"discovery.p": 1}, "discovery.p: Input should be greater than or equal to 2"),
    ({"discovery.partition": "bands"}, "discovery.partition: Input should be 'contiguous' or 'scatter'"),
    ({"attacks.ladder": [{"volume": 2}]},
     "attacks.ladder: a mutation is one of ['amplitude', 'delay', 'phase'] with a number, signed with "
     "{scale, amplified_hz} or gains with {scale, hz, gains}, got {'volume': 2}"),
    ({"attacks.max_frequencies": 0}, "attacks.max_frequencies: Input should be greater than or equal to 1"),
    ({"attacks.min_snr_db": "loud"}, "attacks.min_snr_db: Input should be a valid number"),
    ({"attacks.target_class": 1.5}, "attacks.target_class"),
    ({"attacks.pcm16_robust": "sometimes"}, "attacks.pcm16_robust: Input should be a valid boolean"),
    ({"attacks.grid_ratio": 1}, "attacks.grid_ratio: Input should be greater than 1"),
    ({"attacks.refine_points": 0}, "attacks.refine_points: Input should be greater than or equal to 1"),
    ({"attacks.exact_below": -1}, "attacks.exact_below: Input should be greater than or equal to 0"),
    ({"strategies": ["nope"]}, "strategies[0]: unknown strategy 'nope'; expected one of"),
    ({"strategies": [{"fourier": {"candidates": "all"}}]},
     "strategies[0]: fourier parameters: candidates: Input should be"),
    ({"strategies": [{"stft": {"frame_sizes": [1]}}]},
     "strategies[0]: stft parameters: frame_sizes[0]: Input should be greater than or equal to 2"),
    ({"strategies": [{"stft": {"max_frames": 0}}]},
     "strategies[0]: stft parameters: max_frames: Input should be greater"),
    ({"strategies": [{"white-noise": {"trials": 0}}]},
     "strategies[0]: white-noise parameters: trials: Input should be"),
    ({"strategies": [{"gradient": {"steps": 0}}]}, "strategies[0]: gradient parameters: steps: Input should be"),
    ({"strategies": [{"causal": {"p": 3}}]}, "strategies[0]: causal parameters: p: unknown key"),
    ({"strategies": ["causal", "causal"]}, "strategies: each strategy may appear once"),
    ({"report.title": ["x"]}, "report.title: Input should be a valid string"),
    ({"report.audio": "loud"}, "report.audio: Input should be a valid boolean"),
    ({"report.examples": 100}, "report.examples: Input should be less than or equal to 50"),
    ({"checks": [{"strategy": "fourier", "metric": "success_rate"}]}, "checks[0]: a check needs min, max or both"),
    ({"checks": [{"strategy": "fourier", "metric": "speed", "max": 1}]}, "checks[0].metric: Input should be"),
    ({"checks": [{"strategy": "stft", "metric": "success_rate", "max": 1}]},
     "checks[0].strategy: 'stft' is not run by this suite"),
    ({"checks": [{"strategy": "fourier", "metric": "success_rate", "max": 1, "target": "other"}]},
     "checks[0].target: 'other' is not a target of this suite"),
    ({"checks": [{"strategy": "fourier", "metric": "success_rate", "max": "half"}]}, "checks[0].max: Input should be"),
    ({"strategies": ["stft"], "checks": [{"strategy": "stft", "metric": "success_rate_1", "max": 1}]},
     "checks[0].metric: 'success_rate_1' has no value for stft"),
    ({"checks": [{"strategy": "causal", "metric": "success_rate", "max": 1}]},
     "checks[0].metric: 'success_rate' has no value for causal (expected one of ['mean_queries', 'error_rate'])"),
]


def value_at(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part) if not isinstance(obj, dict) else obj[part]
    return obj


@pytest.mark.parametrize(("changes", "path", "expected"), VALID, ids=[c[1] for c in VALID])
def test_each_key_accepts_a_valid_value(changes, path, expected):
    suite = parse_suite(patched(changes))
    assert value_at(suite, path) == expected


@pytest.mark.parametrize(("changes", "message"), INVALID, ids=[m.split(":")[0] for _, m in INVALID])
def test_a_malformed_suite_exits_2_with_one_line_naming_the_key(changes, message, tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(patched(changes)))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("freqrex-bench: error: invalid suite suite.yaml: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets: [\n", "is not valid YAML at line"),
        ("- just\n- a list\n", "must hold a mapping of suite keys, got list"),
        ("", "must hold a mapping of suite keys, got NoneType"),
        ("name: !!python/object/apply:os.system ['echo hi']\n", "is not valid YAML"),
    ],
)
def test_files_that_are_not_suites_exit_2(text, message, tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_validate_checks_that_models_and_clips_exist(tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(patched({"targets.0.path": "missing-model"})))
    assert main(["validate", str(path)]) == 2
    assert "targets[demo].path: 'missing-model' does not exist" in capsys.readouterr().err
    path.write_text(yaml.safe_dump(patched({"data.paths": ["nothing/*.wav"]})))
    assert main(["validate", str(path)]) == 2
    assert "data.paths[0]: 'nothing/*.wav' matched no audio files" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "absent.yaml")]) == 2
    assert "suite file not found" in capsys.readouterr().err


def test_relative_paths_start_at_the_suite_file_and_the_examples_are_valid(capsys):
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        suite = load_suite(example)
        assert suite.base == example.parent.resolve()
    for example in ("quickstart", "silero-vad"):  # the ones that run on a fresh clone
        assert main(["validate", str(ROOT / "examples" / f"{example}.yaml")]) == 0
        assert "valid; 1 target(s), " in capsys.readouterr().out


def test_parse_suite_names_what_is_wrong_for_library_users():
    with pytest.raises(InvalidInputError, match=r"data.duration: Input should be greater than 0"):
        parse_suite(patched({"data.duration": 0}))


SUITE_TEXT = f"""\
name: lines
targets:
  - kind: hf
    name: demo
    path: {DEMO_MODEL}
data:
  paths: [{CLIPS}]
attacks:
  min_snr_db: 20
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("attacks:\n  min_snr_db: 30\n", "line 10: attacks: key given twice in one mapping (first on line 8); expected "
                                           "each key once"),
        ("report:\n  title: a\n  title: b\n",
         "line 12: report.title: key given twice in one mapping (first on line 11)"),
        ("seed: 1\nseed: 2\n", "line 11: seed: key given twice in one mapping (first on line 10)"),
        ("discovery:\n  epsilon: .nan\n", "line 11: discovery.epsilon: .nan is not a finite number; expected a finite "
                                          "number"),
        ("discovery:\n  min_confidence: .inf\n", "line 11: discovery.min_confidence: .inf is not a finite number"),
        ("checks:\n  - {strategy: causal, metric: error_rate, max: -.inf}\n",
         "line 11: checks[0].max: -.inf is not a finite number"),
        ("report:\n  title: .NaN\n", "line 11: report.title: .NaN is not a finite number"),
    ],
    ids=["duplicate-section", "duplicate-nested", "duplicate-top", "nan", "inf", "minus-inf", "nan-anywhere"],
)
def test_yaml_that_silently_means_something_else_exits_2_naming_key_and_line(extra, message, tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE_TEXT + extra)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("  duration: 1e9\n", "line 8: data.duration: Input should be less than or equal to 600"),
        ("  max_clips: 10000000000\n", "line 8: data.max_clips: Input should be less than or equal to 1000000"),
    ],
    ids=["duration", "max-clips"],
)
def test_sizes_beyond_the_machine_exit_2_before_anything_runs(extra, message, tmp_path, capsys):
    text = SUITE_TEXT.replace("attacks:\n  min_snr_db: 20\n", "")
    path = tmp_path / "suite.yaml"
    path.write_text(text + extra)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"targets": [{**TS, "sample_rate": 10**9}]},
         "targets[0].sample_rate: Input should be less than or equal to 768000"),
        ({"targets.0.budget": 10**12}, "targets[0].budget: Input should be less than or equal to 10000000"),
        ({"targets.0.frame_length": 10**9}, "targets[0].frame_length: Input should be less than or equal to 1048576"),
        ({"targets.0.batch_size": 10**6}, "targets[0].batch_size: Input should be less than or equal to 4096"),
        ({"discovery.max_queries": 10**12}, "discovery.max_queries: Input should be less than or equal to 10000000"),
        ({"attacks.max_frequencies": 10**12}, "attacks.max_frequencies: Input should be less than or equal to"),
        ({"strategies": [{"stft": {"frame_sizes": [256, 10**9]}}]},
         "stft parameters: frame_sizes[1]: Input should be less than or equal to 1048576"),
        ({"strategies": [{"white-noise": {"trials": 10**9}}]}, "trials: Input should be less than or equal to 10000"),
    ],
    ids=["rate", "budget", "frame-length", "batch", "max-queries", "max-frequencies", "stft-frame", "trials"],
)
def test_each_size_has_a_ceiling_with_the_line(changes, message, tmp_path, capsys):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(patched(changes)))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "line " in err and len(err.strip().splitlines()) == 1
