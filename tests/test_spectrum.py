import numpy as np
import pytest

from freqrex_bench import InvalidInputError, Spectrum


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
