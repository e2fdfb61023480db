import numpy as np
import pytest
import scipy.fft

from freqrex_bench import InvalidInputError, Oracle, Spectrum
from freqrex_bench.oracle import sample_key
from freqrex_bench.spectrum import Mutants, Pieces, set_digest
from freqrex_bench.targets import CallableTarget


@pytest.fixture
def clip():
    return np.random.default_rng(0).standard_normal(4001).astype(np.float32) * 0.3


def test_keep_all_reproduces_the_clip(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    rebuilt = spectrum.keep(np.ones(spectrum.n_bins, dtype=bool))[0]
    assert np.abs(rebuilt - clip).max() < 1e-6
    assert np.abs(spectrum.signal - clip).max() < 1e-6


def test_bins_and_hz(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    assert spectrum.n_bins == clip.size // 2 + 1
    assert spectrum.hz[0] == 0 and spectrum.hz[-1] == pytest.approx(8000 / 2 * (clip.size - 1) / clip.size)
    assert np.allclose(np.diff(spectrum.hz), 8000 / clip.size)


def test_keep_a_single_tone_bin_isolates_the_tone():
    sr, n = 8000, 8000
    t = np.arange(n) / sr
    x = (np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    spectrum = Spectrum.from_signal(x, sr)
    tone = spectrum.keep_bins([440])
    assert np.abs(tone - np.sin(2 * np.pi * 440 * t)).max() < 1e-4


def test_batched_keep_and_remove_are_complements(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    masks = np.random.default_rng(1).random((70, spectrum.n_bins)) < 0.3
    kept, removed = spectrum.keep(masks), spectrum.remove(masks)
    assert kept.shape == (70, clip.size) and kept.dtype == np.float32
    assert np.abs(kept + removed - clip).max() < 1e-5
    assert np.allclose(kept[65], spectrum.keep(masks[65])[0], atol=1e-7)


def test_mutate_applies_only_to_selected_bins(clip):
    class Double:
        def apply(self, coeffs, hz):
            return coeffs * 2

    spectrum = Spectrum.from_signal(clip, 8000)
    mask = np.zeros(spectrum.n_bins, dtype=bool)
    mask[100:200] = True
    mutated = spectrum.mutate(mask, Double())[0]
    assert np.allclose(mutated - clip, spectrum.keep(mask)[0], atol=1e-5)


def test_mask_width_is_checked(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    with pytest.raises(InvalidInputError, match=r"shape \[K, 2001\]"):
        spectrum.keep(np.ones((2, 10), dtype=bool))


def test_stft_round_trip_and_nearest_bins(clip):
    view = Spectrum.from_signal(clip, 8000).stft(256)
    assert view.cells.shape[0] == 129
    assert np.abs(view.synthesize(view.cells) - clip).max() < 1e-5
    assert list(view.nearest_bins([0.0, 31.0, 32.0, 4000.0])) == [0, 1, 1, 128]
    batch = np.stack([view.cells, view.cells * 0])
    assert view.synthesize(batch).shape == (2, clip.size)


def test_stft_frame_size_is_checked(clip):
    with pytest.raises(InvalidInputError, match="frame size"):
        Spectrum.from_signal(clip, 8000).stft(10**6)


def bands(n_bins, *spans):
    masks = np.zeros((len(spans), n_bins), dtype=bool)
    for row, (lo, hi) in zip(masks, spans):
        row[lo:hi] = True
    return masks


def test_edits_are_keep_and_remove_known_by_the_edit(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    masks = bands(spectrum.n_bins, (0, 300), (300, 900), (50, 2001))
    edits = spectrum.edits(masks, sets=[0, 1, 0, 2, 1], removed=[False, False, True, True, True])
    signals = edits.synthesize()
    assert signals.dtype == np.float32 and signals.shape == (5, clip.size)
    assert np.array_equal(signals[:2], spectrum.keep(masks[:2]))
    assert np.array_equal(signals[2:], spectrum.remove(masks[[0, 2, 1]]))
    again = spectrum.edits(masks[[1, 0]], removed=[True, False])
    assert again.keys == (edits.keys[4], edits.keys[0])
    assert len(set(edits.keys)) == 5  # keep and remove of one set differ, and so do the sets
    other = Spectrum.from_signal(clip * 0.5, 8000)
    assert other.edits(masks).keys[0] != spectrum.edits(masks).keys[0]  # the clip is part of the key
    assert all(len(key) == 20 for key in edits.keys)  # compact, whatever T is
    assert np.array_equal(edits.synthesize([3, 0]), signals[[3, 0]])


def test_every_bin_removed_is_the_same_silence_as_a_raw_silent_signal(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    silence = spectrum.edits(np.ones(spectrum.n_bins, dtype=bool), removed=[True])
    assert silence.keys[0] == sample_key(np.zeros(clip.size, dtype=np.float32))
    assert not silence.synthesize().any()
    model = lambda batch: np.stack([np.abs(batch).max(axis=1) > 0, np.abs(batch).max(axis=1) == 0], 1)  # noqa: E731
    oracle = Oracle(CallableTarget(model, ["sound", "silence"], 8000))
    oracle.classify(np.zeros((1, clip.size), dtype=np.float32))
    assert oracle.classify(silence).labels[0] == 1 and oracle.cache_hits == 1


def test_whole_is_the_clip_kept_whole(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    whole = spectrum.whole()
    assert whole.keys == spectrum.edits(np.ones((1, spectrum.n_bins), dtype=bool)).keys
    assert np.array_equal(whole.synthesize()[0], spectrum.signal)


def sequential(signals):
    total = signals[0].copy()
    for signal in signals[1:]:
        total = (total + signal).astype(np.float32)
    return total


@pytest.mark.parametrize("context", [[np.arange(10, 40), np.arange(60, 70)], []])
def test_superposed_mutants_add_the_context_sets_then_the_parts_in_order(clip, context):
    spectrum = Spectrum.from_signal(clip, 8000)
    parts = [np.arange(100, 180), np.arange(500, 520), np.arange(1500, 2001)]
    combos = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=bool)
    for remove in (False, True):
        mutants = spectrum.superposed(context, parts, combos, remove=remove)
        signals = mutants.synthesize()
        assert mutants.finite
        for row, combo in zip(signals, combos):
            kept = sequential([spectrum.keep_bins(c) for c in context]
                              + [spectrum.keep_bins(parts[i]) for i in np.flatnonzero(combo)])
            assert np.array_equal(row, spectrum.signal - kept if remove else kept)
            union = np.concatenate([*context, *(parts[i] for i in np.flatnonzero(combo))]).astype(np.int64)
            direct = spectrum.keep_bins(union)
            assert np.abs((spectrum.signal - direct if remove else direct) - row).max() < 1e-6 * np.abs(clip).max()
        # a row built on the row without its last part, or alone, is the same float32 samples
        assert all(np.array_equal(mutants.synthesize([r])[0], signals[r]) for r in range(len(combos)))
    keep_keys = spectrum.superposed(context, parts, combos).keys
    assert len(set(keep_keys) | set(mutants.keys)) == 8
    assert not set(keep_keys) & set(spectrum.superposed([np.arange(10, 30)], parts, combos).keys)  # context counts
    several = combos.sum(axis=1) > 1  # the same parts added in another order round differently
    reordered = spectrum.superposed(context, parts[::-1], combos[:, ::-1]).keys
    assert not {k for k, s in zip(keep_keys, several) if s} & {k for k, s in zip(reordered, several) if s}
    # A superposition is rounded differently from one irfft of the same bins: it never shares that key.
    several_sets = [len(context) + c.sum() > 1 for c in combos]
    unions = spectrum.edits(np.stack([np.isin(np.arange(spectrum.n_bins), np.concatenate(
        [*context, *(parts[i] for i in np.flatnonzero(c))])) for c in combos])).keys
    assert not {k for k, s in zip(keep_keys, several_sets) if s} & set(unions)


def test_a_full_pieces_store_never_drops_a_set_the_same_call_still_needs(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    a, b, c, d = (np.isin(np.arange(spectrum.n_bins), range(lo, lo + 3)) for lo in (0, 5, 10, 15))
    pieces = Pieces(spectrum, max_bytes=3 * 4 * clip.size)
    for mask in (a, c, d):  # full, with a the least recently used
        pieces.get([set_digest(mask)], mask[None])
    got = pieces.get([set_digest(b), set_digest(a)], np.stack([b, a]))  # remembering b drops a
    assert np.array_equal(got[1], spectrum.keep(a)[0]) and np.array_equal(got[0], spectrum.keep(b)[0])


def test_a_context_sum_is_built_on_the_longest_remembered_prefix(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    sets = [np.arange(10, 40), np.arange(60, 70), np.arange(300, 310), np.arange(900, 950)]
    masks = np.stack([np.isin(np.arange(spectrum.n_bins), s) for s in sets])
    digests = [set_digest(mask) for mask in masks]
    pieces = Pieces(spectrum)
    two = pieces.sum(digests[:2], masks[:2])
    assert pieces.hits == 0
    three = pieces.sum(digests[:3], masks[:3])
    assert pieces.hits == 1  # the sum of the first two, not its two sets
    assert np.array_equal(two, sequential([spectrum.keep_bins(s) for s in sets[:2]]))
    assert np.array_equal(three, sequential([spectrum.keep_bins(s) for s in sets[:3]]))
    assert np.array_equal(pieces.sum(digests, masks), Pieces(spectrum).sum(digests, masks))
    assert not three.flags.writeable


def test_a_spectrum_too_loud_for_float32_sums_makes_no_finite_promise():
    assert Spectrum.from_signal(np.ones(64, np.float32), 8000).whole().finite
    loud = Spectrum.from_signal(np.full(64, 3e37, np.float32), 8000)
    assert not loud.bounded and not loud.whole().finite


def test_one_part_on_an_empty_context_is_that_part_kept_alone(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    parts = [np.arange(0, 700), np.arange(700, 2001)]
    combos = np.array([[1, 0], [0, 1]], dtype=bool)
    for remove in (False, True):
        mutants = spectrum.superposed([], parts, combos, remove=remove)
        edits = spectrum.edits(bands(spectrum.n_bins, (0, 700), (700, 2001)), removed=[remove] * 2)
        assert mutants.keys == edits.keys
        assert np.array_equal(mutants.synthesize(), edits.synthesize())


def test_pieces_synthesise_a_recurring_set_once(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    pieces = Pieces(spectrum, max_bytes=3 * 4 * clip.size)
    assert pieces.capacity == 3
    context, parts = [np.arange(5)], [np.arange(100, 200), np.arange(200, 300)]
    combos = np.array([[1, 0], [0, 1]], dtype=bool)
    first = spectrum.superposed(context, parts, combos, pieces=pieces).synthesize()
    assert pieces.hits == 0
    second = spectrum.superposed(context, parts[::-1], combos, pieces=pieces).synthesize()
    assert pieces.hits == 3 and np.array_equal(first, second[::-1])
    spectrum.superposed(context, [np.arange(300, 400)], combos[:1, :1], pieces=pieces).synthesize()
    assert pieces.hits == 4 and len(pieces._signals) == 3  # the least recently used part went


def test_mutants_join_keeps_the_order_and_synthesises_in_place(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    masks = bands(spectrum.n_bins, (0, 50), (60, 70), (100, 2001))
    a, b = spectrum.edits(masks[:2]), spectrum.edits(masks[2:], removed=[True])
    joined = Mutants.join([a, b])
    assert joined.keys == a.keys + b.keys and len(joined) == 3
    expected = np.concatenate([a.synthesize(), b.synthesize()])
    assert np.array_equal(joined.synthesize(), expected)
    assert np.array_equal(joined.synthesize([2, 0]), expected[[2, 0]])
    with pytest.raises(InvalidInputError):
        Mutants.join([a, Spectrum.from_signal(clip[:-10], 8000).edits(masks[:1, :1996])])


def test_float32_synthesis_is_within_a_millionth_of_full_scale_of_float64():
    rng = np.random.default_rng(3)
    rate, n = 16000, 16000 * 5
    t = np.arange(n) / rate
    x = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(n)).astype(np.float32)
    spectrum = Spectrum.from_signal(x, rate)
    masks = rng.random((3, spectrum.n_bins)) < [[0.001], [0.3], [0.9]]
    reference = scipy.fft.irfft(np.where(masks, spectrum.coeffs.astype(np.complex128), 0), n=n)
    full_scale = np.abs(x).max()
    assert spectrum.keep(masks).dtype == np.float32
    assert np.abs(spectrum.keep(masks) - reference).max() < 1e-6 * full_scale
    parts = [np.flatnonzero(m) for m in masks]
    summed = spectrum.superposed([], parts, np.ones((1, 3), dtype=bool)).synthesize()[0]
    assert np.abs(summed - reference.sum(axis=0)).max() < 1e-6 * full_scale


def test_a_row_synthesises_to_the_same_samples_alone_or_in_any_batch(clip):
    spectrum = Spectrum.from_signal(clip, 8000)
    masks = np.random.default_rng(2).random((19, spectrum.n_bins)) < 0.4
    together = spectrum.keep(masks)
    assert all(np.array_equal(spectrum.keep(mask)[0], row) for mask, row in zip(masks, together))


def test_removal_of_a_set_is_aliased_to_the_rest_kept_alone(clip):
    from freqrex_bench.mutations import Amplitude, Phase

    spectrum = Spectrum.from_signal(clip, 8000)
    bins = np.array([3, 40, 41, 700])
    mask = np.isin(np.arange(spectrum.n_bins), bins)
    removed = spectrum.mutate(mask, Amplitude(0.0))[0]
    rest = spectrum.edits(~mask)
    assert spectrum.alias(bins, Amplitude(0.0)) == rest.keys[0]
    assert np.array_equal(removed, rest.synthesize()[0])
    assert spectrum.alias(bins, Amplitude(0.5)) is None and spectrum.alias(bins, Phase(1.0)) is None
