"""Common checks run over every registered strategy (in the spirit of scikit-learn's check_estimator): a new
strategy registered with @register is held to the same contract without writing these tests again."""

import dataclasses
import json

import numpy as np
import pytest

from freqrex_bench import InvalidInputError, Oracle
from freqrex_bench.attacks import Explained, TargetContext
from freqrex_bench.causal import CausalDiscovery, CausalResult, CausalSettings
from freqrex_bench.results import AttackResult
from freqrex_bench.status import Status
from freqrex_bench.strategy import STRATEGIES, Context, Strategy

from .support import DATA, PlantedBands, read

CHEAP = CausalSettings(max_queries=300)
CLIP_SCOPE = sorted(name for name, cls in STRATEGIES.items() if cls.scope == "clip")
TIMINGS = ("seconds", "model_seconds")


def build(name: str, **parameters) -> Strategy:
    """A strategy with cheap discovery, built as the planner builds it (its requirements by name)."""
    built: dict[str, Strategy] = {}

    def make(strategy: str, given: dict) -> Strategy:
        if strategy not in built:
            cls = STRATEGIES[strategy]
            needs = {keyword: make(required, {}) for keyword, required in cls.requires.items()}
            settings = CHEAP if cls.settings_section == "discovery" else None
            built[strategy] = cls(settings, **needs, **given)
        return built[strategy]

    return make(name, parameters)


def untimed(value):
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


@pytest.fixture(scope="module")
def inputs(demo):
    planted = PlantedBands(fraction=0.9)
    digit, _ = read(DATA / "fsdd" / "3_theo_7.wav")
    return {"demo": (demo, digit), "planted": (planted.target, planted.clip)}


def test_every_strategy_is_registered_with_a_complete_declaration():
    assert {"causal", "fourier", "stft", "random-frequencies", "largest-magnitude", "white-noise", "gradient",
            "superposition"} <= set(STRATEGIES)
    for name, cls in STRATEGIES.items():
        assert cls.name == name and cls.scope in ("clip", "target")
        assert cls.settings_section in ("attacks", "discovery") and isinstance(cls.Record, type)
        assert all(required in STRATEGIES for required in cls.requires.values()), name
        if cls.Record is AttackResult:
            assert isinstance(cls.unit, str) and cls.unit, name
        strategy = build(name)
        assert strategy.query_estimate() > 0 and strategy.key.startswith(name)
        assert strategy.parameters == cls.Parameters()


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_parameter_is_checked_when_constructed(name):
    where = "causal discovery settings" if name == "causal" else f"{name} parameters"  # causal: settings overrides
    with pytest.raises(InvalidInputError, match=f"{where}: no_such_parameter: unknown key"):
        build(name, no_such_parameter=1)
    for field in STRATEGIES[name].Parameters.model_fields:
        with pytest.raises(InvalidInputError, match=f"{name} parameters: {field}"):
            build(name, **{field: object()})


@pytest.mark.parametrize("model", ["demo", "planted"])
@pytest.mark.parametrize("name", CLIP_SCOPE)
def test_every_clip_strategy_keeps_the_record_contract(name, model, inputs):
    target, clip = inputs[model]
    strategy = build(name)
    ctx = Context.create(clip, Oracle(target, batch_size=16), seed=0)
    for keyword in strategy.requires:
        ctx.result_of(getattr(strategy, keyword))  # what it builds on is counted as prior work, not its own
    before = ctx.oracle.queries
    result = strategy.run(ctx)
    assert isinstance(result, STRATEGIES[name].Record)
    record = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    if isinstance(result, AttackResult):
        assert result.queries == ctx.oracle.queries - before, "an attack's queries are exactly what it asked"
        assert result.strategy == name and result.unit == STRATEGIES[name].unit
        assert isinstance(result.status, Status) and result.success == (result.status is Status.SUCCESS)
        assert record["status"] == result.status.value and record["success"] == result.success
        if result.success:
            assert result.label_after != result.label_before and result.adversarial is not None
            assert result.snr_db is not None and record["l2"] > 0 and result.changed is not None
        else:
            assert result.adversarial is None and result.details["reason"]
        built_on = [ctx.result_of(getattr(strategy, keyword)) for keyword in strategy.requires]
        assert result.prior_queries <= sum(r.queries + getattr(r, "prior_queries", 0) for r in built_on)
    else:
        assert result.queries == ctx.oracle.queries - before, "a strategy's queries are exactly what it asked"
        if isinstance(result, CausalResult):
            assert record["label"] == target.labels[ctx.label]


def same(a, b) -> bool:
    """Equal records, floats to 1e-6 relative: the planted model's numpy FFT rounds a batch's rows a few
    ulps differently from single rows, which moves recorded probabilities by ~1e-8 but no decision."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-6, atol=1e-9))
    return a == b


@pytest.mark.parametrize("name", CLIP_SCOPE)
def test_every_clip_strategy_is_deterministic_whatever_the_batch_size(name, inputs):
    target, clip = inputs["planted"]
    runs = []
    for batch_size in (3, 64):
        ctx = Context.create(clip, Oracle(target, batch_size=batch_size), seed=4)
        runs.append(untimed(build(name).run(ctx).to_dict()))
    assert same(runs[0], runs[1])


def test_target_scope_strategies_keep_their_contract(inputs):
    target, clip = inputs["planted"]
    explained = []
    for scale in (1.0, 0.9, 1.1):
        ctx = Context.create((clip * scale).astype(np.float32), Oracle(target), seed=0)
        explained.append(Explained.of(CausalDiscovery(CHEAP).run(ctx)))
    for name, cls in STRATEGIES.items():
        if cls.scope != "target":
            continue
        oracle = Oracle(target)
        result = build(name).run(TargetContext(oracle, explained, seed=0))
        assert isinstance(result, cls.Record)
        record = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert record["queries"] == oracle.queries == sum(row["queries"] for row in record["rows"])
        again = build(name).run(TargetContext(Oracle(target), explained, seed=0))
        assert dataclasses.asdict(again) == dataclasses.asdict(result)
