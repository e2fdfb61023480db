"""Mutation algebra: each mutation against what it must mean, on real spectra."""

import math

import numpy as np
import pytest

from freqrex_bench import InvalidInputError, Spectrum
from freqrex_bench.attacks.shaped import ShapedStep, shaped_steps
from freqrex_bench.attacks.stft import on_cells
from freqrex_bench.causal.rankings import bin_energy
from freqrex_bench.metrics import snr_db
from freqrex_bench.mutations import (
    Amplitude,
    Compose,
    Delay,
    Gains,
    Ladder,
    Phase,
    SignedAmplitude,
    default_ladder,
    from_spec,
    to_spec,
)


@pytest.fixture
def spectrum():
    rng = np.random.default_rng(0)
    return Spectrum.from_signal((0.1 * rng.standard_normal(1600)).astype(np.float32), 16000)


def everywhere(spectrum, mutation):
    return spectrum.mutate(np.ones(spectrum.n_bins, dtype=bool), mutation)[0]


@pytest.mark.parametrize("shift", [1, 5, 37, 800])
def test_delay_on_all_bins_is_a_circular_shift(spectrum, shift):
    delayed = everywhere(spectrum, Delay(shift / spectrum.sample_rate))
    assert np.abs(delayed - np.roll(spectrum.signal, shift)).max() < 1e-5


@pytest.mark.parametrize("mutation", [Phase(2 * math.pi), Phase(-4 * math.pi), Amplitude(1.0), Delay(0.0)])
def test_identities(spectrum, mutation):
    assert np.abs(everywhere(spectrum, mutation) - spectrum.signal).max() < 1e-5
    assert mutation.strength == pytest.approx(0.0, abs=1e-12)


def test_amplitude_zero_removes_and_phase_pi_negates(spectrum):
    assert np.abs(everywhere(spectrum, Amplitude(0.0))).max() == 0
    assert np.abs(everywhere(spectrum, Phase(math.pi)) + spectrum.signal).max() < 1e-5


class AddOne:
    """A non-commuting mutation (adds 1 to every coefficient), to see the order Compose applies in."""

    strength = 1.0

    def apply(self, coeffs, hz):
        return coeffs + 1


def test_compose_applies_in_order():
    coeffs, hz = np.array([1.0 + 0j, 2.0 + 0j]), np.array([0.0, 100.0])
    assert np.allclose(Compose(Amplitude(2.0), AddOne()).apply(coeffs, hz), [3, 5])
    assert np.allclose(Compose(AddOne(), Amplitude(2.0)).apply(coeffs, hz), [4, 6])
    assert Compose(Amplitude(2.0), Phase(1.0)).strength == pytest.approx(math.log(2) + 1)


def test_ladder_is_sorted_by_strength_and_removal_is_strongest():
    ladder = Ladder([Amplitude(0.0), Phase(1.0), Amplitude(0.5), Delay(0.001), Amplitude(4.0)])
    strengths = [m.strength for m in ladder]
    assert strengths == sorted(strengths)
    assert ladder.strongest == Amplitude(0.0) and ladder.steps[0] == Delay(0.001)
    assert [str(m) for m in default_ladder()][-1] == "removal"


def test_plain_data_round_trip():
    spec = [{"amplitude": 0.5}, {"phase": 1.57}, {"delay": 0.001}]
    mutation = from_spec(spec)
    assert mutation == Compose(Amplitude(0.5), Phase(1.57), Delay(0.001))
    assert to_spec(mutation) == spec and from_spec({"amplitude": 0}) == Amplitude(0.0)
    assert Ladder.from_specs([{"phase": 3.0}, {"amplitude": 0}]).steps == (Phase(3.0), Amplitude(0.0))


def test_a_signed_amplitude_strengthens_its_frequencies_by_what_it_takes_from_the_others(spectrum):
    """x0.75 everywhere except 100 and 200 Hz, which go x1.25: every coefficient moves by a quarter of itself, so
    the change energy is what x0.75 everywhere costs; it rounds trip through plain data and orders as x0.75."""
    signed = SignedAmplitude(0.75, (100.0, 200.0))
    edited = signed.apply(spectrum.coeffs, spectrum.hz)
    up = np.isin(spectrum.hz, (100.0, 200.0))
    assert up.sum() == 2
    assert np.allclose(edited[up], 1.25 * spectrum.coeffs[up]) and np.allclose(edited[~up], 0.75 * spectrum.coeffs[~up])
    change = np.abs(edited - spectrum.coeffs)
    assert np.allclose(change, np.abs(Amplitude(0.75).apply(spectrum.coeffs, spectrum.hz) - spectrum.coeffs))
    assert signed.strength == Amplitude(0.75).strength
    assert from_spec(to_spec(signed)) == signed
    assert to_spec(signed) == {"signed": {"scale": 0.75, "amplified_hz": [100.0, 200.0]}}
    assert str(SignedAmplitude(0.0, (1.0,))) == "removal, x2 at 1 counter-evidence frequencies"


def test_a_signed_amplitude_on_stft_cells_strengthens_the_cells_only_its_amplified_bins_reach(spectrum):
    """1600 samples at 16 kHz: Fourier bins 10 Hz apart; 256-sample frames: cells 62.5 Hz apart. 500 Hz (cell 8)
    is amplified, 1000 Hz (cell 16) weakened; 2000 Hz is amplified but 2010 Hz, weakened, reaches the same cell
    (32), so that cell is weakened."""
    view = spectrum.stft(256, hop=128)
    hz = np.array([500.0, 1000.0, 2000.0, 2010.0])
    mapped = on_cells(SignedAmplitude(0.5, (500.0, 2000.0)), view, hz)
    assert mapped == SignedAmplitude(0.5, (float(view.hz[8]),))
    assert on_cells(Amplitude(0.5), view, hz) == Amplitude(0.5)


def test_gains_scale_each_listed_frequency_by_its_own_gain_and_leave_the_rest(spectrum):
    """x0.5 at 100 Hz and x1.5 at 200 Hz, nothing else touched; plain data round trip; it orders as its scale's
    attenuation."""
    gains = Gains(0.9, (200.0, 100.0), (1.5, 0.5))
    edited = gains.apply(spectrum.coeffs, spectrum.hz)
    at_100, at_200 = spectrum.hz == 100.0, spectrum.hz == 200.0
    rest = ~(at_100 | at_200)
    assert np.allclose(edited[at_100], 0.5 * spectrum.coeffs[at_100])
    assert np.allclose(edited[at_200], 1.5 * spectrum.coeffs[at_200])
    assert np.array_equal(edited[rest], spectrum.coeffs[rest])
    assert gains.strength == Amplitude(0.9).strength
    assert from_spec(to_spec(gains)) == gains
    assert to_spec(gains) == {"gains": {"scale": 0.9, "hz": [200.0, 100.0], "gains": [1.5, 0.5]}}
    assert str(gains) == "x0.5 to x1.5 at 2 frequencies, shaped by effect (no more change than amplitude x0.9)"


def test_gains_on_stft_cells_take_the_mean_gain_of_the_bins_nearest_each_cell(spectrum):
    """Fourier bins 10 Hz apart, cells 62.5 Hz apart: 2000 and 2010 Hz share cell 32, 500 Hz is cell 8."""
    view = spectrum.stft(256, hop=128)
    hz = np.array([500.0, 2000.0, 2010.0])
    mapped = on_cells(Gains(0.75, tuple(hz), (1.25, 0.5, 0.75)), view, hz)
    assert mapped == Gains(0.75, (float(view.hz[8]), float(view.hz[32])), (1.25, 0.625))


@pytest.mark.parametrize(
    ("spec", "message"),
    [({"gain": 2}, "one of"), ({"amplitude": "loud"}, "needs a number"), ({"amplitude": -1}, ">= 0"),
     ("remove", "a mapping"), ({"phase": float("nan")}, "finite"), ([], "a mapping"),
     ({"signed": {"scale": 1.0, "amplified_hz": []}}, r"\[0, 1\)"), ({"signed": 0.5}, "scale: number"),
     ({"signed": {"scale": 0.5, "amplified_hz": "440"}}, "list of numbers"),
     ({"signed": {"scale": 0.5, "amplified_hz": [float("inf")]}}, "finite"),
     ({"gains": {"scale": 0.5, "hz": [1.0]}}, "scale: number, hz"), ({"gains": {"scale": 1, "hz": [], "gains": []}},
                                                                     r"\[0, 1\)"),
     ({"gains": {"scale": 0.5, "hz": [1.0], "gains": [0.5, 0.5]}}, "one gain per frequency"),
     ({"gains": {"scale": 0.5, "hz": [1.0], "gains": [-1.0]}}, ">= 0"),
     ({"gains": {"scale": 0.5, "hz": "1", "gains": [1.0]}}, "lists of numbers")],
)
def test_bad_specs_say_what_is_expected(spec, message):
    with pytest.raises(InvalidInputError, match=message):
        from_spec(spec)


def test_mutations_apply_to_stft_cells(spectrum):
    view = spectrum.stft(256, hop=128)
    doubled = Amplitude(2.0).apply(view.cells, view.hz[:, None])
    assert np.abs(view.synthesize(doubled) - 2 * spectrum.signal).max() < 1e-4
    rotated = Delay(0.001).apply(view.cells, view.hz[:, None])
    assert rotated.shape == view.cells.shape


def test_a_shaped_step_spends_the_attenuations_change_energy_in_proportion_to_each_bins_effect(spectrum):
    """Effects 2, 1, -1 and 0 on four bins (the rest none): the fractions follow the effects (the counter-evidence
    strengthened, the bin without effect untouched), their change energy is that of x0.75 on the same bins, and
    the SNR the step predicts from the spectrum is the one the synthesised signal has; no step exists while the
    top bins carry no effect."""
    effect = np.zeros(spectrum.n_bins)
    bins = np.array([40, 10, 30, 20])
    effect[[10, 30, 20]] = [2.0, 1.0, -1.0]
    step = ShapedStep(0.75, effect)
    depths = step.depths(spectrum, bins)
    assert np.isnan(depths[0]).all()
    t = depths[3]
    assert t[0] == 0 and np.allclose(t[1:] / t[1], [1.0, 0.5, -0.5])
    energy = bin_energy(spectrum)[bins]
    assert np.isclose(np.sum(t**2 * energy), 0.25**2 * energy.sum())
    gains = step.gains(spectrum, bins, t)
    mask = np.zeros(spectrum.n_bins, dtype=bool)
    mask[bins] = True
    signal = spectrum.mutate(mask, gains)[0]
    assert np.isclose(step.snr(spectrum, bins)[3], snr_db(spectrum.signal, signal), atol=1e-3)
    assert step.snr(spectrum, bins)[0] == -np.inf
    assert str(step) == "shaped amplitude x0.75"
    assert [(shaped.scale, shaped.effect is effect) for shaped in shaped_steps(default_ladder(), effect)] == [
        (0.9, True), (0.75, True), (0.5, True), (0.25, True)]
    assert shaped_steps(default_ladder(), np.zeros(spectrum.n_bins)) == ()
