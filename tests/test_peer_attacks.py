"""Peer black-box attacks from ART (HopSkipJump, Boundary) through our oracle: real flips of the demo model
within their query caps, every query counted, budgets that stop them, reproducible runs."""

import json
import sys

import numpy as np
import pytest

from freqrex_bench import InvalidInputError, Oracle, QueryBudgetExceeded
from freqrex_bench.attacks import AttackRun, AttackSettings, BoundaryAttack, Context, HopSkipJump
from freqrex_bench.metrics import pcm16
from freqrex_bench.status import Status

from .support import DATA, read

CHEAP = 150  # queries: enough for HopSkipJump's first iterations on the demo model


class Counting:
    """The demo model behind a counter of every signal it is really shown (whatever the oracle says)."""

    def __init__(self, target):
        self.target, self.labels, self.sample_rate = target, target.labels, target.sample_rate
        self.seen = 0

    def predict(self, batch):
        self.seen += len(batch)
        return self.target.predict(batch)


@pytest.fixture(scope="module")
def clip():
    return read(DATA / "fsdd" / "3_theo_7.wav")[0]


def same(a, b) -> bool:
    """Equal records, floats to 1e-6 relative: the demo model scores a batch's rows a few ulps differently
    from single rows (the recorded probabilities move, no decision does)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-6, atol=1e-9))
    return a == b


def context(target, clip, **oracle):
    return Context.create(clip, Oracle(target, **oracle), seed=0)


def test_hopskipjump_flips_the_demo_model_within_its_budget_and_the_oracle_counts_every_query(demo, clip):
    model = Counting(demo)
    ctx = context(model, clip)
    before = ctx.oracle.queries
    result = HopSkipJump(max_queries=300).run(ctx)
    assert result.success and result.status is Status.SUCCESS and result.unit == "iterations"
    assert result.label_before == "three" and result.label_after != "three"
    assert result.queries == ctx.oracle.queries - before <= 300, "its own queries, within max_queries"
    assert model.seen == ctx.oracle.queries, "every signal the model saw was counted by the oracle"
    assert result.details["queries_asked"] > 100 and result.changed >= 1, "ART's loop ran through the oracle"
    # HopSkipJump walks along the boundary towards the clip: far closer than the blended-noise start
    assert result.snr_db > 10 and result.l2 > 0 and result.linf <= 1
    again = demo.predict(result.adversarial[None])
    assert demo.labels[int(np.argmax(again))] == result.label_after, "the saved signal itself flips the model"
    assert result.survives_pcm16 == (demo.labels[int(np.argmax(demo.predict(pcm16(result.adversarial, 8000))))]
                                     != "three")
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_run_is_reproduced_exactly_whatever_the_batch_size_and_leaves_numpy_alone(demo, clip):
    np.random.seed(123)
    state = np.random.get_state()
    records = []
    for batch_size in (1, 32, 32):
        result = HopSkipJump(max_queries=100).run(context(demo, clip, batch_size=batch_size))
        records.append(result.to_dict() | {"adversarial": result.adversarial.tobytes()})
    assert same(records[0], records[1]) and records[1] == records[2]
    assert records[0]["success"] and records[0]["details"]["stopped_by_max_queries"]
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    other = HopSkipJump(max_queries=100).run(Context.create(clip, Oracle(demo), seed=1))
    assert other.adversarial.tobytes() != records[0]["adversarial"], "the clip's seed decides the random draws"


def test_a_budget_that_runs_out_inside_arts_loop_is_not_swallowed(demo, clip):
    ctx = context(demo, clip, budget=40)
    run = AttackRun(ctx, "hopskipjump", "iterations", AttackSettings())
    state = np.random.get_state()
    with pytest.raises(QueryBudgetExceeded) as raised:
        HopSkipJump(max_queries=1000).search(run, None)
    assert any("hop_skip_jump" in str(entry.path) for entry in raised.traceback), "raised from inside ART"
    assert np.array_equal(np.random.get_state()[1], state[1]) and ctx.oracle.queries <= 40
    record = HopSkipJump(max_queries=1000).run(context(demo, clip, budget=40))
    assert record.status is Status.BUDGET and not record.success and record.queries <= 37
    assert record.adversarial is None and record.details["reason"] == "the query budget ran out"


def test_targeted_runs_reach_the_target_class(demo, clip):
    settings = AttackSettings(target_class="zero")
    result = HopSkipJump(settings, max_queries=CHEAP).run(context(demo, clip))
    assert result.success and result.label_after == "zero" and result.details["target_class"] == "zero"
    assert result.queries <= CHEAP


def test_the_snr_floor_and_16_bit_judgement_apply_as_to_every_attack(demo, clip):
    floor = HopSkipJump(AttackSettings(min_snr_db=60), max_queries=60).run(context(demo, clip))
    assert floor.status is Status.NO_FLIP and "SNR of at least 60 dB" in floor.details["reason"]
    finished = HopSkipJump(AttackSettings(min_snr_db=60), max_iter=1, max_queries=300).run(context(demo, clip))
    assert not finished.details["stopped_by_max_queries"] and finished.status is Status.NO_FLIP
    assert "below the floor of 60" in finished.details["reason"] and finished.adversarial is None
    robust = HopSkipJump(AttackSettings(pcm16_robust=True), max_queries=CHEAP).run(context(demo, clip))
    assert robust.success and robust.survives_pcm16 is True
    assert np.array_equal(robust.adversarial, pcm16(robust.adversarial, 8000)[0]), "the saved signal is the 16-bit one"


def test_boundary_attack_runs_on_one_dimensional_audio(demo, clip):
    model = Counting(demo)
    ctx = context(model, clip)
    result = BoundaryAttack(max_queries=CHEAP).run(ctx)
    assert result.success and result.unit == "queries" and result.label_after != "three"
    assert 0 < result.changed <= result.details["queries_asked"] <= CHEAP - 2 and result.queries <= CHEAP
    assert model.seen == ctx.oracle.queries


def test_parameters_are_checked_and_a_missing_art_names_the_extra(monkeypatch, demo, clip):
    with pytest.raises(InvalidInputError, match=r"init_eval \(50\) may not exceed max_eval \(10\)"):
        HopSkipJump(init_eval=50, max_eval=10)
    with pytest.raises(InvalidInputError, match="hopskipjump parameters: norm"):
        HopSkipJump(norm=1)
    assert HopSkipJump(norm="inf").query_estimate() == 500
    for name in [name for name in sys.modules if name == "art" or name.startswith("art.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(InvalidInputError, match=r"^the hopskipjump strategy needs adversarial-robustness-toolbox; "
                                                r"install it with: pip install 'freqrex-bench\[art\]'$"):
        HopSkipJump().run(context(demo, clip))
