"""Causal discovery: the responsibility machinery, extraction, and known answers on a planted model."""

import itertools

import numpy as np
import pytest

from freqrex_bench import Oracle, Spectrum, explain
from freqrex_bench.causal import CausalSettings
from freqrex_bench.causal.responsibility import combinations_of, emd, minimal_passing, split
from freqrex_bench.causal.subsets import PrefixProbe, collapse, first_sufficient
from freqrex_bench.search import Condition, first_size, geometric_grid
from freqrex_bench.targets import CallableTarget


def test_emd_of_two_point_masses_is_their_distance():
    p, q = np.zeros(101), np.zeros(101)
    p[10], q[40] = 1.0, 3.0
    assert emd(p, q) == pytest.approx(0.30)
    assert emd(p, p) == 0.0
    assert emd(p, np.zeros(101)) == float("inf")


def test_contiguous_split_makes_bands_and_scatter_mixes():
    rng = np.random.default_rng(0)
    bands = split(np.arange(100), 4, "contiguous", rng)
    assert len(bands) == 4 and np.array_equal(np.concatenate(bands), np.arange(100))
    assert all(np.all(np.diff(b) == 1) for b in bands)
    scattered = split(np.arange(100), 4, "scatter", rng)
    assert sorted(np.concatenate(scattered)) == list(range(100)) and [b.size for b in scattered] == [25] * 4
    assert not all(np.all(np.diff(b) == 1) for b in scattered)
    assert [b.tolist() for b in split(np.array([7, 9]), 4, "contiguous", rng)] == [[7], [9]]


def test_combinations_and_minimal_passing_sets():
    table, inside = combinations_of(3)
    assert table.shape == (7, 3) and table[-1].all() and table.sum(1).tolist() == [1, 1, 1, 2, 2, 2, 3]
    # {0} passes, {1,2} passes, and so do their supersets: only {0} and {1,2} are minimal.
    passing = np.array([table[i][0] or (table[i][1] and table[i][2]) for i in range(7)])
    minimal = minimal_passing(passing, inside)
    assert [tuple(np.flatnonzero(table[i])) for i in np.flatnonzero(minimal)] == [(0,), (1, 2)]


def test_geometric_grid_spans_all_bins():
    grid = geometric_grid(240001, 2.0)
    assert grid[0] == 1 and grid[-1] == 240001 and len(grid) <= 20
    assert all(b / a <= 2.2 for a, b in itertools.pairwise(grid[3:]))


def keeps_class_one(spectrum, oracle, chain):
    """The condition "the top-k prefix (in bin order) is classified as class 1"."""
    probe = PrefixProbe(spectrum, oracle, np.arange(spectrum.n_bins))
    return Condition(lambda ks: probe.ensure(ks, removal=False),
                     lambda k: int(np.argmax(probe.kept[k])) == 1, chain=chain)


class Counting:
    """Known answer: class 1 iff at least `need` of the ranked bins are kept; counts model batches."""

    def __init__(self, spectrum, need):
        self.spectrum, self.need, self.batches = spectrum, need, 0

    def __call__(self, batch):
        self.batches += 1
        kept = (np.abs(np.fft.rfft(batch, axis=1)) > 1e-3).sum(axis=1)
        return np.stack([kept < self.need, kept >= self.need], axis=1).astype(np.float32)


def test_prefix_search_finds_the_exact_threshold_in_few_batched_rounds():
    n = 2**15
    spectrum = Spectrum.from_signal(np.fft.irfft(np.ones(n // 2 + 1), n).astype(np.float32), 16000)
    model = Counting(spectrum, need=12345)
    oracle = Oracle(CallableTarget(model, ["few", "many"], 16000), batch_size=1000)
    assert first_size(keeps_class_one(spectrum, oracle, chain=5), 1, spectrum.n_bins, 2.0, 3) == 12345
    assert oracle.queries <= 60 and model.batches <= 12


def test_planted_bands_are_found_by_responsibility_not_magnitude(planted):
    result = explain(planted.target, planted.clip, planted.sample_rate, seed=0)
    assert result.label_name == "present"
    by_magnitude = np.argsort(-np.abs(np.fft.rfft(planted.clip)))[:50]
    assert planted.in_band[by_magnitude].mean() < 0.1  # the test can fail: magnitude alone is wrong
    top = np.argsort(-result.responsibility)[:50]
    assert planted.in_band[top].mean() >= 0.9
    sufficient = result.sufficient
    precision = planted.in_band[sufficient].mean()
    recall = planted.in_band[sufficient].sum() / planted.in_band.sum()
    assert precision >= 0.75 and recall >= 0.3
    # It really is sufficient, and minimal along the ranking: one bin fewer is not.
    assert planted.target.predict(result.signal_of("sufficient")[None])[0, 1] >= 0.5 * result.score
    shorter = Spectrum.from_signal(planted.clip, planted.sample_rate).keep_bins(sufficient[:-1])
    assert planted.target.predict(shorter[None])[0, 1] < 0.5 * result.score


def test_necessary_and_complete_meet_their_definitions(planted):
    result = explain(planted.target, planted.clip, planted.sample_rate, seed=3)
    assert result.sufficient.size <= result.necessary.size <= result.complete.size
    without = planted.clip - result.signal_of("necessary")
    assert planted.target.predict(without[None]).argmax() != result.label
    assert result.inverse_label_name == "absent"
    assert round(result.subsets["complete"].score, 2) == round(result.score, 2)
    assert result.fraction("sufficient") == pytest.approx(result.sufficient.size / result.hz.size)
    assert result.score_shift("sufficient") == pytest.approx(result.subsets["sufficient"].score - result.score)


def test_same_seed_same_result_whatever_the_batch_size(planted):
    runs = [explain(planted.target, planted.clip, planted.sample_rate, seed=7, batch_size=b) for b in (1, 32)]
    a, b = runs
    assert np.array_equal(a.responsibility, b.responsibility)
    for kind in ("sufficient", "necessary", "complete"):
        assert np.array_equal(a.subsets[kind].bins, b.subsets[kind].bins)
    assert a.queries == b.queries and a.emd == b.emd
    other = explain(planted.target, planted.clip, planted.sample_rate, seed=8)
    assert not np.array_equal(a.responsibility, other.responsibility)


@pytest.mark.parametrize("method", ["paper", "removal"])
def test_the_cache_answers_only_what_the_model_would(planted, method):
    """Keys come from the edits: a key that merged two different mutants would change the result. (Not
    freqrex-ns: its occlusion gets the queries the cache saved, so its attack ranking may differ.)"""
    from freqrex_bench.causal import CausalDiscovery
    from freqrex_bench.strategy import Context

    results, oracles = [], []
    for cache in (True, False):
        oracle = Oracle(planted.target, cache=cache)
        results.append(CausalDiscovery(method=method, max_queries=300).run(Context.create(planted.clip, oracle, 3)))
        oracles.append(oracle)
    cached, uncached = results
    assert np.array_equal(cached.responsibility, uncached.responsibility)
    assert np.array_equal(cached.attack_ranking, uncached.attack_ranking)
    for kind in ("sufficient", "necessary", "complete"):
        assert np.array_equal(cached.subsets[kind].bins, uncached.subsets[kind].bins)
        assert cached.subsets[kind].score == uncached.subsets[kind].score
    assert oracles[0].cache_hits > 0 and oracles[0].queries + oracles[0].cache_hits == oracles[1].queries


def test_a_small_budget_stops_cleanly_and_keeps_what_was_found(planted):
    result = explain(planted.target, planted.clip, planted.sample_rate, budget=300)
    assert result.queries <= 300 and result.responsibility_queries <= 299
    assert result.stopped == "budget" or result.complete is not None
    tiny = explain(planted.target, planted.clip, planted.sample_rate, budget=40)
    assert tiny.queries <= 40 and tiny.stopped == "budget"


def test_a_modest_budget_still_extracts_the_subsets(planted):
    result = explain(planted.target, planted.clip, planted.sample_rate, budget=400)
    assert result.queries <= 400 and result.stopped is None
    assert result.sufficient is not None and result.necessary is not None and result.complete is not None
    assert result.extraction_queries > 0


def test_a_zero_budget_is_refused_at_the_first_query(planted):
    from freqrex_bench import QueryBudgetExceeded

    with pytest.raises(QueryBudgetExceeded, match="query budget of 0 exhausted"):
        explain(planted.target, planted.clip, planted.sample_rate, budget=0)


def test_silence_classified_as_the_clip_class_is_reported_not_explained():
    quiet = CallableTarget(lambda b: np.stack([b.std(1) < 0.3, b.std(1) >= 0.3], 1).astype(np.float32),
                           ["quiet", "loud"], 8000)
    clip = (0.1 * np.sin(np.arange(4000) / 3)).astype(np.float32)
    result = explain(quiet, clip, 8000)
    assert result.label_name == "quiet" and result.stopped == "silence_is_class"
    assert result.sufficient.size == 0 and result.necessary is None
    assert result.queries == 3  # the clip, silence and the clip's 16-bit copy


def test_silence_that_gets_the_class_below_the_required_confidence_is_explained():
    """"tone" wins in silence too, but only at 0.4 against the clip's 0.95: below min_confidence (0.5) x
    0.95, so the empty set is not sufficient and discovery explains the clip. The 440 Hz tone is the one
    thing that gives "tone" at 0.95, and loud noise without it is "noise": the tone is sufficient and
    necessary, and removing it gives "noise"."""

    def model(batch: np.ndarray) -> np.ndarray:
        spectra = np.abs(np.fft.rfft(batch, axis=1))  # 1 Hz bins: a 1 s clip at 8 kHz
        tone = spectra[:, 435:446].sum(1) > 200
        loud = batch.std(1) > 0.02
        return np.where(tone[:, None], [0.95, 0.03, 0.02],
                        np.where(loud[:, None], [0.1, 0.9, 0.0], [0.4, 0.3, 0.3])).astype(np.float32)

    target = CallableTarget(model, ["tone", "noise", "other"], 8000)
    t = np.arange(8000) / 8000
    noise = 0.05 * np.random.default_rng(0).standard_normal(8000)
    clip = (0.3 * np.sin(2 * np.pi * 440 * t) + noise).astype(np.float32)
    result = explain(target, clip, 8000, max_queries=400)
    assert result.label_name == "tone" and result.stopped is None
    assert 0 < result.sufficient.size <= 5
    assert np.all(np.abs(result.hz[result.sufficient] - 440) <= 5)
    assert np.all(np.abs(result.hz[result.necessary] - 440) <= 5)
    assert result.labels[result.inverse_label] == "noise"


def test_removal_responsibility_gives_nothing_where_no_removal_changes_the_decision():
    """Loud is "c" at 0.9, quiet and silence "c" at 0.4: removing any part, or all of them (silence), keeps
    "c", so no removal earns responsibility (the top split's full removal is silence, which does not pass)."""

    def model(batch: np.ndarray) -> np.ndarray:
        loud = batch.std(1) > 0.02
        return np.where(loud[:, None], [0.9, 0.05, 0.05], [0.4, 0.3, 0.3]).astype(np.float32)

    clip = (0.05 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    result = explain(CallableTarget(model, ["c", "d", "e"], 8000), clip, 8000, max_queries=300, method="removal")
    assert result.stopped is None and result.label_name == "c"
    assert not result.responsibility.any()


def test_scatter_partition_runs_end_to_end(planted):
    result = explain(planted.target, planted.clip, planted.sample_rate, partition="scatter", max_queries=300)
    assert result.sufficient is not None and result.responsibility_queries <= 300
    assert result.responsibility.sum() == pytest.approx(1.0)


def test_a_broken_chain_moves_the_search_past_the_break():
    n = 2**12
    spectrum = Spectrum.from_signal(np.fft.irfft(np.ones(n // 2 + 1), n).astype(np.float32), 16000)

    class Island:
        """Class 1 for 100 <= kept bins, except at exactly 103 (a flicker inside the chain)."""

        def __call__(self, batch):
            kept = (np.abs(np.fft.rfft(batch, axis=1)) > 1e-3).sum(axis=1)
            on = (kept >= 100) & (kept != 103)
            return np.stack([~on, on], axis=1).astype(np.float32)

    oracle = Oracle(CallableTarget(Island(), ["off", "on"], 16000))
    assert first_size(keeps_class_one(spectrum, oracle, chain=5), 1, spectrum.n_bins, 2.0, 3) == 104
    assert first_size(keeps_class_one(spectrum, oracle, chain=2), 1, spectrum.n_bins, 2.0, 3) == 100
    assert first_size(keeps_class_one(spectrum, oracle, chain=2), 2000, 1999, 2.0, 3) is None


def flat_spectrum():
    """The spectrum of a 4096-sample impulse at 16 kHz: 2049 bins, every magnitude 1."""
    n = 2**12
    return Spectrum.from_signal(np.fft.irfft(np.ones(n // 2 + 1), n).astype(np.float32), 16000)


def on_kept_counts(on, chain=5):
    """A flat 2049-bin spectrum and the condition "its top-k prefix (in bin order) is class 1" for a model
    that says class 1 exactly where on(number of bins kept) is true (on: int array -> bool array)."""
    spectrum = flat_spectrum()

    def model(batch):
        yes = on((np.abs(np.fft.rfft(batch, axis=1)) > 1e-3).sum(axis=1))
        return np.stack([~yes, yes], axis=1).astype(np.float32)

    return spectrum, keeps_class_one(spectrum, Oracle(CallableTarget(model, ["off", "on"], 16000)), chain)


def test_a_hinted_size_finds_a_holding_island_the_grid_steps_over():
    """Class 1 for 25 <= kept bins < 45 and from 600 on: the grid (..., 24, 45, 85, ...) never sees the
    island, so the search finds 600; probing a size inside it (30, as discovery probes its pruned
    sufficient set's size) finds 25. Hints that fail, or lie outside [start, limit], change nothing."""
    spectrum, condition = on_kept_counts(lambda kept: ((kept >= 25) & (kept < 45)) | (kept >= 600))
    assert first_size(condition, 1, spectrum.n_bins, 2.0, 3) == 600
    assert first_size(condition, 1, spectrum.n_bins, 2.0, 3, hints=[30]) == 25
    assert first_size(condition, 1, spectrum.n_bins, 2.0, 3, hints=[50, 0, 10**6]) == 600
    assert first_size(condition, 46, spectrum.n_bins, 2.0, 3, hints=[30]) == 600


def test_a_hint_never_makes_the_sufficient_prefix_larger():
    """Class 1 for 1291 <= kept bins < 1343 and from 1485 on. Without a hint the search refines between the
    grid's 1085 and 2049 and finds 1291; with 1494 hinted it refines between 1085 and 1494, steps over
    the first island and finds 1485. The sufficient search runs both and keeps the smaller."""
    spectrum, condition = on_kept_counts(lambda kept: ((kept >= 1291) & (kept < 1343)) | (kept >= 1485))
    settings = CausalSettings()
    assert first_size(condition, 1, spectrum.n_bins, 2.0, 3) == 1291
    assert first_size(condition, 1, spectrum.n_bins, 2.0, 3, hints=[1494]) == 1485
    assert first_sufficient(condition, spectrum.n_bins, settings, [1494]) == 1291
    assert first_sufficient(condition, spectrum.n_bins, settings) == 1291


def test_a_budget_that_runs_out_in_the_hinted_search_keeps_the_plain_searchs_size():
    """Class 1 from 100 kept bins on. The plain search finds 100; a budget that runs out at the first batch
    of the second (hinted) search keeps it; with nothing found first, the error propagates."""
    from freqrex_bench.errors import QueryBudgetExceeded

    def budgeted(condition, batches):
        asked = []

        def evaluate(ks):
            if len(asked) >= batches:
                raise QueryBudgetExceeded(batches, len(asked), len(ks))
            asked.append(ks)
            condition.evaluate(ks)

        return Condition(evaluate, condition.holds, condition.stable, condition.chain), asked

    spectrum, condition = on_kept_counts(lambda kept: kept >= 100)
    counted, asked = budgeted(condition, 10**6)
    assert first_size(counted, 1, spectrum.n_bins, 2.0, 3) == 100
    limited, _ = budgeted(condition, len(asked))
    assert first_sufficient(limited, spectrum.n_bins, CausalSettings(), [50]) == 100
    spectrum, never = on_kept_counts(lambda kept: kept < 0)
    counted, asked = budgeted(never, 10**6)
    assert first_size(counted, 1, spectrum.n_bins, 2.0, 3) is None
    limited, _ = budgeted(never, len(asked))
    with pytest.raises(QueryBudgetExceeded):
        first_sufficient(limited, spectrum.n_bins, CausalSettings(), [50])


def test_tied_orders_are_compared_past_the_head_they_share():
    """A flat 2049-bin spectrum; P(class 1) is the share of the critical bins 1200-1399 kept. Two orders
    share their first 1200 bins (as freqrex-ns's orders share the pruned S); past them one removes the
    critical bins next, the other last. Every deletion size within the shared head scores alike, so the
    sizes are spent past it (between 1200 and 2049): the first order's sum is below 1 (the critical bins
    are gone by the second size), the second's is 4 (they are all kept at every size). Sizes from 1 to M
    (5, 21, 97, 446) would score both 4 and leave the tie."""
    spectrum = flat_spectrum()

    def model(batch):
        kept = np.abs(np.fft.rfft(batch, axis=1))[:, 1200:1400] > 1e-3
        share = kept.mean(axis=1)
        return np.stack([1 - share, share], axis=1).astype(np.float32)

    oracle = Oracle(CallableTarget(model, ["off", "on"], 16000))
    head, critical, rest = np.arange(1200), np.arange(1200, 1400), np.arange(1400, spectrum.n_bins)
    soon, late = np.concatenate([head, critical, rest]), np.concatenate([head, rest, critical])
    sums = collapse(spectrum, oracle, 1, [late, soon])
    assert sums[0] == pytest.approx(4.0) and sums[1] < 1.0
    assert collapse(spectrum, oracle, 1, [soon, late])[0] == pytest.approx(sums[1])
