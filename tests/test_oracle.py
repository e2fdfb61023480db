import numpy as np
import pytest

from freqrex_bench import InvalidInputError, Oracle, QueryBudgetExceeded, TargetError
from freqrex_bench.targets import CallableTarget


class Recorder:
    """A known-answer model: class 1 iff the mean sample is positive. Records every batch it sees."""

    def __init__(self):
        self.batches = []

    def __call__(self, batch):
        self.batches.append(len(batch))
        m = batch.mean(axis=1)
        return np.stack([m <= 0, m > 0], axis=1).astype(np.float32)


def signals(n, length=16):
    return np.stack([np.full(length, (-1) ** i * (i + 1), dtype=np.float32) for i in range(n)])


def test_batches_counts_and_labels():
    model = Recorder()
    oracle = Oracle(CallableTarget(model, ["neg", "pos"], 8000), batch_size=4)
    pred = oracle.classify(signals(10))
    assert list(pred.labels) == [1, 0] * 5
    assert model.batches == [4, 4, 2]
    assert oracle.queries == 10 and oracle.cache_hits == 0
    assert pred.scores.shape == (10, 2) and pred.scores.dtype == np.float32
    labels, scores = pred
    assert labels is pred.labels and scores is pred.scores


def test_cache_answers_repeats_without_querying():
    model = Recorder()
    oracle = Oracle(CallableTarget(model, ["neg", "pos"], 8000), batch_size=32)
    batch = signals(3)
    oracle.classify(np.concatenate([batch, batch[:1]]))
    assert oracle.queries == 3 and oracle.cache_hits == 1
    again = oracle.classify(batch)
    assert oracle.queries == 3 and oracle.cache_hits == 4
    assert list(again.labels) == [1, 0, 1]


def test_budget_refuses_before_running_with_a_typed_error():
    model = Recorder()
    oracle = Oracle(CallableTarget(model, ["neg", "pos"], 8000), budget=5)
    oracle.classify(signals(4))
    with pytest.raises(QueryBudgetExceeded) as info:
        oracle.classify(signals(6, length=8))
    assert (info.value.budget, info.value.used, info.value.requested) == (5, 4, 6)
    assert oracle.queries == 4 and sum(model.batches) == 4
    assert oracle.remaining == 1
    oracle.classify(signals(4))  # all cached: costs nothing
    assert oracle.remaining == 1


def test_results_do_not_depend_on_batch_size():
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((37, 64)).astype(np.float32)
    answers = [
        Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000), batch_size=b).classify(batch).scores
        for b in (1, 5, 64)
    ]
    assert all(np.array_equal(answers[0], a) for a in answers[1:])


def test_a_target_that_raises_is_named_in_the_error():
    def broken(batch):
        raise RuntimeError("CUDA is not available")

    oracle = Oracle(CallableTarget(broken, ["a", "b"], 8000, name="my-model"))
    with pytest.raises(TargetError, match="my-model raised RuntimeError.*CUDA is not available"):
        oracle.classify(signals(2))


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda b: np.full((len(b), 2), np.nan), "4 NaN or infinite scores"),
        (lambda b: np.ones((len(b), 3)) / 3, r"shape \(2, 3\); expected \(2, 2\)"),
        (lambda b: np.ones((len(b) + 1, 2)) / 2, r"shape \(3, 2\)"),
    ],
)
def test_bad_model_outputs_are_clear_errors(fn, message):
    oracle = Oracle(CallableTarget(fn, ["a", "b"], 8000, name="bad"))
    with pytest.raises(TargetError, match=message):
        oracle.classify(signals(2)[:, :4] * 0 + np.arange(2)[:, None])


@pytest.mark.parametrize("bad", [np.zeros(16), np.zeros((0, 16)), np.full((2, 4), np.nan), np.zeros((2, 4, 2))])
def test_bad_signals_are_refused(bad):
    oracle = Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000))
    with pytest.raises(InvalidInputError):
        oracle.classify(bad)
    assert oracle.queries == 0


@pytest.mark.parametrize(("kwargs", "message"), [({"batch_size": 0}, "batch_size"), ({"budget": -1}, "budget")])
def test_bad_oracle_settings(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000), **kwargs)


class Described:
    """Signals known by keys: row i is a constant signal of value `values[i]`; counts the rows synthesised."""

    def __init__(self, keys, values, length=16):
        self.keys, self.values, self.n_samples, self.made = list(keys), list(values), length, []

    def __len__(self):
        return len(self.keys)

    def synthesize(self, rows):
        self.made += [int(r) for r in rows]
        return np.stack([np.full(self.n_samples, self.values[r], dtype=np.float32) for r in rows])


def test_described_signals_are_cached_by_key_and_synthesised_only_when_the_model_needs_them():
    model = Recorder()
    oracle = Oracle(CallableTarget(model, ["neg", "pos"], 8000), batch_size=2)
    first = Described([b"a", b"b", b"a", b"c"], [1.0, -2.0, 1.0, 3.0])
    assert list(oracle.classify(first).labels) == [1, 0, 1, 1]
    assert first.made == [0, 1, 3] and model.batches == [2, 1]
    assert oracle.queries == 3 and oracle.cache_hits == 1
    # The same key is the same signal: answered from the cache, never synthesised, whatever it would hold.
    again = Described([b"b", b"d"], [5.0, -1.0])
    assert list(oracle.classify(again).labels) == [0, 0]
    assert again.made == [1] and oracle.queries == 4 and oracle.cache_hits == 2


def test_raw_arrays_are_still_cached_by_their_samples():
    model = Recorder()
    oracle = Oracle(CallableTarget(model, ["neg", "pos"], 8000))
    oracle.classify(signals(3))
    oracle.classify(signals(3).copy())
    assert oracle.queries == 3 and oracle.cache_hits == 3
    changed = signals(3)
    changed[1, 5] += 1e-3
    oracle.classify(changed)
    assert oracle.queries == 4 and oracle.cache_hits == 5


def test_described_results_do_not_depend_on_batch_size_and_cache_off_synthesises_everything():
    values = np.random.default_rng(0).standard_normal(23)
    keys = [bytes([i % 7]) for i in range(23)]
    answers = []
    for batch_size in (1, 5, 64):
        oracle = Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000), batch_size=batch_size)
        answers.append(oracle.classify(Described(keys, [values[i % 7] for i in range(23)])).scores)
        assert oracle.queries == 7
    assert all(np.array_equal(answers[0], a) for a in answers[1:])
    uncached = Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000), cache=False)
    batch = Described(keys, [values[i % 7] for i in range(23)])
    assert np.array_equal(uncached.classify(batch).scores, answers[0])
    assert batch.made == list(range(23)) and uncached.queries == 23


def test_described_signals_are_checked_when_synthesised():
    oracle = Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000))
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        oracle.classify(Described([b"a"], [np.inf]))
    wrong = Described([b"b"], [1.0])
    wrong.synthesize = lambda rows: np.zeros((len(rows), 8), dtype=np.float32)
    with pytest.raises(InvalidInputError, match=r"float32 \[1, 16\]"):
        oracle.classify(wrong)
    with pytest.raises(InvalidInputError, match="non-empty"):
        oracle.classify(Described([], []))


def test_a_describer_that_promises_finite_signals_is_not_scanned():
    oracle = Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000))
    promised = Described([b"c"], [np.inf])
    promised.finite = True  # a broken promise shows: the scan that would refuse it is skipped
    oracle.classify(promised)
    assert oracle.queries == 1


def test_an_alias_lets_a_raw_signal_and_a_described_one_share_their_answer():
    model = Recorder()
    oracle = Oracle(CallableTarget(model, ["neg", "pos"], 8000))
    oracle.classify(Described([b"edit"], [1.0]))
    raw = signals(2)  # rows of 1.0 and -2.0
    assert list(oracle.classify(raw, aliases=[b"edit", None]).labels) == [1, 0]
    assert oracle.queries == 2 and oracle.cache_hits == 1
    oracle.classify(raw[:1])  # the alias's answer is now cached under the samples' key too
    assert oracle.queries == 2 and oracle.cache_hits == 2
    oracle.classify(-raw[1:] * 3, aliases=[b"other"])
    assert oracle.classify(Described([b"other"], [99.0])).labels[0] == 1 and oracle.queries == 3
    with pytest.raises(InvalidInputError, match="aliases"):
        oracle.classify(raw, aliases=[None])
    with pytest.raises(InvalidInputError, match="aliases"):
        oracle.classify(Described([b"x"], [1.0]), aliases=[b"y"])


def test_holding_back_leaves_queries_for_later_and_restores_the_budget():
    oracle = Oracle(CallableTarget(Recorder(), ["neg", "pos"], 8000), budget=5)
    with pytest.raises(QueryBudgetExceeded), oracle.holding_back(2):
        oracle.classify(signals(4))
    assert oracle.budget == 5 and oracle.queries == 0
    with oracle.holding_back(2):
        oracle.classify(signals(3))
    oracle.classify(signals(5)[3:])
    assert oracle.queries == 5 and oracle.budget == 5
