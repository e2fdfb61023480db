"""Causal rankings that beat loudness: known-answer models where loudness misleads (issue: faithfulness
curves, removal responsibility, least-audible attacks). Each test fails when its feature is removed."""

import numpy as np
import pytest

from freqrex_bench import Oracle, explain
from freqrex_bench.attacks import AttackSettings, LargestMagnitude
from freqrex_bench.attacks.fourier import FourierAttack, RankedFrequencyAttack, SignedOrders
from freqrex_bench.attacks.stft import STFTAttack
from freqrex_bench.causal import CausalSettings, Faithfulness
from freqrex_bench.causal.faithfulness import curves, sufficient_size
from freqrex_bench.causal.rankings import (
    RANKERS,
    Problem,
    _Node,
    _occlusion_ranking,
    bin_energy,
    explanation_orders,
)
from freqrex_bench.causal.subsets import PrefixProbe, extract, lead_by_sufficiency, sufficient_prefix
from freqrex_bench.spectrum import Spectrum
from freqrex_bench.strategy import Context
from freqrex_bench.targets import CallableTarget

from .support import PlantedBands

RATE = 8000


def context(target, clip, seed=0):
    return Context.create(clip, Oracle(target, batch_size=64), seed=seed)


def problem(ctx, **settings):
    return Problem(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, ctx.seed, CausalSettings(**settings))


def test_a_the_default_ranking_collapses_a_quiet_band_decision_sooner_than_loudness():
    """(a) The decision rests on two quiet bands; loud tones at 300 and 3300 Hz carry most of the energy."""
    planted = PlantedBands(fraction=0.5)
    ctx = context(planted.target, planted.clip)
    default = RANKERS["freqrex-ns"](problem(ctx), 2000)
    ours, loud = curves(ctx, default.order, 20), curves(ctx, RANKERS["loudest"](problem(ctx), 0).order, 20)
    assert ours.deletion_auc < loud.deletion_auc - 0.2, (ours.deletion_auc, loud.deletion_auc)
    assert default.queries <= 2000
    k = 50
    assert planted.in_band[default.order[:k]].mean() >= 0.8
    assert planted.in_band[default.attack_order[:k]].mean() >= 0.8


class RedundantBands:
    """(b) Known answer: "present" is a soft OR of two quiet bands A (1000-1100 Hz) and B (2500-2600 Hz):
    removing either alone keeps it (p ~ 0.99), removing both flips it. A decoy band C (1500-1600 Hz) is
    "present" only when heard in silence: kept alone it is sufficient, but removing it from the clip
    changes nothing. Loud tones elsewhere are irrelevant. Keeping parts alone (sufficiency) credits C as
    much as A and B; removing parts (necessity) credits only A and B."""

    bands = ((1000.0, 1100.0), (2500.0, 2600.0))
    decoy = (1500.0, 1600.0)

    def __init__(self, seed: int = 1):
        rng = np.random.default_rng(seed)
        t = np.arange(RATE) / RATE
        self.hz = np.fft.rfftfreq(RATE, 1 / RATE)
        self.masks = [(self.hz >= lo) & (self.hz < hi) for lo, hi in self.bands]
        self.decoy_mask = (self.hz >= self.decoy[0]) & (self.hz < self.decoy[1])
        noise = np.fft.rfft(0.02 * rng.standard_normal(RATE))
        for mask in (*self.masks, self.decoy_mask):
            noise[mask] *= 0.5
        tones = 0.5 * np.sin(2 * np.pi * 300 * t) + 0.4 * np.sin(2 * np.pi * 3300 * t)
        self.clip = (np.fft.irfft(noise, RATE) + tones).astype(np.float32)
        self.thresholds = [0.5 * self.energy(self.clip[None], mask)[0] for mask in (*self.masks, self.decoy_mask)]
        self.outside_decoy = self.energy(self.clip[None], ~self.decoy_mask)[0]
        self.target = CallableTarget(self, ["absent", "present"], RATE, name="redundant-bands")

    @staticmethod
    def energy(batch, mask):
        return np.square(np.abs(np.fft.rfft(batch, axis=1))[:, mask]).sum(axis=1)

    def __call__(self, batch):
        masks = (*self.masks, self.decoy_mask)
        pa, pb, pc = (1 / (1 + np.exp(-10 * (self.energy(batch, m) / t - 1))) for m, t in zip(masks, self.thresholds))
        alone = self.energy(batch, ~self.decoy_mask) < 0.01 * self.outside_decoy
        present = 1 - (1 - 0.99 * pa) * (1 - 0.99 * pb) * (1 - 0.99 * pc * alone)
        return np.stack([1 - present, present], axis=1)


@pytest.mark.parametrize("ranker", ["removal"])
def test_b_removal_responsibility_ranks_two_redundant_quiet_bands_first(ranker):
    model = RedundantBands()
    ctx = context(model.target, model.clip)
    both = model.masks[0] | model.masks[1]
    ranking = RANKERS[ranker](problem(ctx), 2000)
    top = ranking.order[: int(both.sum())]
    assert both[top].mean() >= 0.8, both[top].mean()
    assert model.masks[0][top].sum() >= 20 and model.masks[1][top].sum() >= 20  # both bands, not one
    assert not model.decoy_mask[top].any()  # sufficient alone, but not necessary: no removal credit


class ToneAndBand:
    """(c) Known answer: "both" needs a loud 300 Hz tone (more than 1% of its energy left, so only removing
    its bin kills it) AND a quiet 2000-2400 Hz band (more than 70% of its energy left, so x0.75 on it is
    enough). Loudest first, the tone is bin 1: removing it flips with one frequency at about 0 dB; the
    quiet flip attenuates the tone and the band by x0.75 together, at about 12 dB."""

    def __init__(self, seed: int = 2):
        rng = np.random.default_rng(seed)
        t = np.arange(RATE) / RATE
        hz = np.fft.rfftfreq(RATE, 1 / RATE)
        self.tone, self.band = (hz == 300), (hz >= 2000) & (hz < 2400)
        spectrum = np.fft.rfft(0.001 * rng.standard_normal(RATE))
        spectrum[self.band] += np.fft.rfft(0.05 * rng.standard_normal(RATE))[self.band]
        self.clip = (np.fft.irfft(spectrum, RATE) + 0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
        self.tone_energy = self.energy(self.clip[None], self.tone)[0]
        self.band_energy = self.energy(self.clip[None], self.band)[0]
        self.target = CallableTarget(self, ["missing", "both"], RATE, name="tone-and-band")

    @staticmethod
    def energy(batch, mask):
        return np.square(np.abs(np.fft.rfft(batch, axis=1))[:, mask]).sum(axis=1)

    def __call__(self, batch):
        tone = self.energy(batch, self.tone) > 0.01 * self.tone_energy
        band = self.energy(batch, self.band) > 0.7 * self.band_energy
        both = (tone & band).astype(np.float32)
        return np.stack([1 - both, both], axis=1)


def test_c_the_highest_snr_objective_finds_the_quiet_flip_that_fewest_frequencies_passes_over():
    model = ToneAndBand()
    ctx = context(model.target, model.clip)
    fewest = LargestMagnitude(AttackSettings(objective="fewest-frequencies")).run(ctx)
    quiet = LargestMagnitude(AttackSettings(objective="highest-snr")).run(ctx)
    assert fewest.success and fewest.changed == 1 and fewest.snr_db < 1
    assert quiet.success and quiet.snr_db > fewest.snr_db + 10 and quiet.changed > fewest.changed
    assert quiet.mutation == {"amplitude": 0.75}


class BandOnly(ToneAndBand):
    """Known answer: "band" iff the quiet 2000-2400 Hz band keeps more than 70% of its energy; the loud
    300 Hz tone is irrelevant. Loudest first, the tone comes before every band bin, so any flip in that
    order alters the tone too (about 12 dB); an order with the band first flips at about 40 dB."""

    def __init__(self) -> None:
        super().__init__()
        self.target = CallableTarget(self, ["missing", "band"], RATE, name="band-only")

    def __call__(self, batch):
        band = (self.energy(batch, self.band) > 0.7 * self.band_energy).astype(np.float32)
        return np.stack([1 - band, band], axis=1)


class LoudestWithAlternative(RankedFrequencyAttack):
    """Algorithm 2 on loudest-first bins, plus (with `alternative`) the same bins with the band's first."""

    name = "loudest-with-alternative"

    def __init__(self, band: np.ndarray | None = None, **settings) -> None:
        self.band = band
        self._configure(AttackSettings(**settings), {})

    def prepare(self, ctx):
        return 0, {}, np.argsort(-ctx.spectrum.magnitude, kind="stable")

    def rank(self, ctx, prepared):
        return prepared

    def alternatives(self, prepared):
        if self.band is None:
            return ()
        return (np.concatenate([prepared[self.band[prepared]], prepared[~self.band[prepared]]]),)


def test_highest_snr_also_searches_the_alternative_attack_orders():
    """The highest-SNR flip over every order wins: the alternative order (band first) flips without the
    tone, 28 dB quieter than the best flip in the main order; `fewest-frequencies` keeps to the main order."""
    model = BandOnly()
    ctx = context(model.target, model.clip)
    main = LoudestWithAlternative().run(ctx)
    both = LoudestWithAlternative(band=model.band).run(ctx)
    assert main.success and both.success and main.details["order"] == 0 and both.details["order"] == 1
    assert both.snr_db > main.snr_db + 20, (both.snr_db, main.snr_db)
    assert len(both.details["tried_alternatives"]) == 1
    plain = LoudestWithAlternative(objective="fewest-frequencies").run(ctx)
    paper = LoudestWithAlternative(band=model.band, objective="fewest-frequencies").run(ctx)
    assert "order" not in paper.details and paper.bins == plain.bins and paper.snr_db < 1


def test_highest_snr_skips_an_alternative_equal_to_the_main_order():
    model = BandOnly()
    main = LoudestWithAlternative().run(context(model.target, model.clip))
    no_band = np.zeros_like(model.band)  # no bins to put first: the alternative is the main order
    same = LoudestWithAlternative(band=no_band).run(context(model.target, model.clip))
    assert same.details["tried_alternatives"] == [{}] and same.queries == main.queries


def test_searching_on_for_a_quieter_flip_never_costs_the_flip_its_check():
    """Under a tight oracle budget, the search after the first flip (the rest of the ladder, the alternative
    order) keeps back the queries the final check needs: the 16-bit survival is always measured."""
    model = BandOnly()
    unchecked = []
    for budget in range(60, 130):
        ctx = Context.create(model.clip, Oracle(model.target, batch_size=64, budget=budget), seed=0)
        result = LoudestWithAlternative(band=model.band).run(ctx)
        if result.success and result.survives_pcm16 is None:
            unchecked.append(budget)
    assert unchecked == []


class EnergyGate:
    """Known answer on 1 s at 8 kHz (bin k is k Hz): "speech" while the clip keeps more than half its
    energy, with margin 10 ((E / E0)^2 - 1/4) (convex in the energy E kept, so removing a quiet band
    lowers the margin more per unit energy than removing a loud one). Three loud tones (440, 1000,
    2000 Hz) carry 99% of the energy over a white-noise floor. The per-unit-energy attack orders put
    every tone last, and the 1,000 noise bins they reach first hold under 1% of the energy: no flip.
    The explanation order (evidence x magnitude) reaches the tones first: weakening them flips."""

    tones = (440, 1000, 2000)

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        coeffs = np.fft.rfft(0.02 * rng.standard_normal(RATE))
        coeffs[list(self.tones)] = 0.2 * RATE / 2
        self.clip = np.fft.irfft(coeffs, RATE).astype(np.float32)
        self.energy = float(np.square(self.clip, dtype=np.float64).sum())
        self.target = CallableTarget(self, ["silence", "speech"], RATE, name="energy-gate")

    def __call__(self, batch):
        kept = np.square(batch, dtype=np.float64).sum(axis=1) / self.energy
        speech = 1 / (1 + np.exp(-10 * (kept**2 - 0.25)))
        return np.stack([1 - speech, speech], axis=1).astype(np.float32)


def test_the_causal_attack_also_searches_the_explanation_order():
    """Where the decision rests on loud content, only the explanation order flips within the frequency
    budget: the causal attack flips by weakening the tones, in that order (the last one it searches)."""
    model = EnergyGate()
    ctx = context(model.target, model.clip)
    attack = FourierAttack()
    causal = ctx.result_of(attack.discovery)
    tone_bins = np.flatnonzero(np.isin(np.round(ctx.spectrum.hz), model.tones))
    for order in (causal.attack_ranking, *causal.attack_alternatives):
        assert not np.isin(tone_bins, order[:1000]).any()
    result = attack.run(ctx)
    assert result.success and result.details["order"] == 1 + len(causal.attack_alternatives)
    assert np.isin(tone_bins, result.bins).all() and result.snr_db > 0


class Rivals:
    """Known answer on 1 s at 8 kHz (bin k is k Hz): class "a" has probability E_A / (E_A + E_B), the energies
    of two bands, A (1000-1099 Hz) and B (2000-2099 Hz), with A 1.2 times B's amplitude over a quiet noise floor
    the model ignores. Removing B raises the class margin: B is counter-evidence. Weakening all of A flips only
    at x0.75 or stronger (1.2 x 0.9 > 1); weakening A by x0.9 while strengthening B by x1.1 flips
    (1.2 x 0.9 < 1.1) at a change of 1% of the bands' energy; A and B have the same effect per unit energy, so
    the shaped step weakens A and strengthens B alike (x0.918 / x1.118 at the change energy of x0.9). Measured:
    without the signed orders the attack flips with 70 of A's bins at x0.75 (15.9 dB), with them 184 bins
    at x0.92 / x1.12 (20.4 dB)."""

    a, b = slice(1000, 1100), slice(2000, 2100)

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        coeffs = np.fft.rfft(0.001 * rng.standard_normal(RATE))
        phases = np.exp(2j * np.pi * rng.random(100))
        coeffs[self.a] = 1.2 * 0.05 * RATE / 2 * phases
        coeffs[self.b] = 0.05 * RATE / 2 * phases[::-1]
        self.clip = np.fft.irfft(coeffs, RATE).astype(np.float32)
        self.target = CallableTarget(self, ["a", "b"], RATE, name="rivals")

    def __call__(self, batch):
        power = np.abs(np.fft.rfft(batch, axis=1)) ** 2
        a, b = power[:, self.a].sum(axis=1), power[:, self.b].sum(axis=1)
        share = a / (a + b + 1e-30)
        return np.stack([share, 1 - share], axis=1).astype(np.float32)


class WithoutSignedOrders(FourierAttack):
    """The causal attack with the feature under test removed."""

    def signed(self, prepared):
        return None


def test_the_causal_attack_strengthens_the_counter_evidence_for_a_quieter_flip():
    """Band B's bins are counter-evidence (`opposing`: a negative effect); the flip weakens A and
    strengthens B."""
    model = Rivals()
    ctx = context(model.target, model.clip)
    causal = ctx.result_of(FourierAttack().discovery)
    hz = np.round(ctx.spectrum.hz)
    in_b = (hz >= 2000) & (hz < 2100)
    assert causal.opposing is not None and causal.opposing[in_b].all() and causal.opposing.sum() == in_b.sum()
    signed = FourierAttack().run(ctx)
    plain = WithoutSignedOrders().run(context(model.target, model.clip))
    assert plain.success and signed.success
    assert signed.details["order"] >= 3 and signed.details["amplified"] > 0
    assert signed.snr_db > plain.snr_db + 3, (signed.snr_db, plain.snr_db)
    if "signed" in signed.mutation:  # the uniform signed steps (order 3 or 4): A x0.9, B x1.1
        assert signed.mutation["signed"]["scale"] == 0.9
        assert all(2000 <= hz < 2100 for hz in signed.mutation["signed"]["amplified_hz"])
    else:  # the shaped steps (order 5 or 6), which on equal effects per unit energy are the same up to rounding
        gains = dict(zip(signed.mutation["gains"]["hz"], signed.mutation["gains"]["gains"]))
        assert all(gain < 1 for hz, gain in gains.items() if 1000 <= hz < 1100)
        assert all(gain > 1 for hz, gain in gains.items() if 2000 <= hz < 2100)


class Weighted:
    """Known answer on 1 s at 8 kHz (bin k is k Hz): class "a" has probability S / (S + R), S = 4 E_A + 2 E_B
    from two bands of equal energy E, A (500-549 Hz) and B (1500-1549 Hz), R = 6 E / 1.8 fixed, over a quiet
    noise floor the model ignores. Per unit energy A carries twice B's effect. Attenuating both alike flips only
    at x0.5 or stronger (x0.75: 6 x 0.5625 E > R), so the uniform attack halves A (4 x 0.25 E + 2 E < R). The
    least change energy moves A twice as far as B (depths 2t and t: 6 - 20 t + 18 t^2 < 6 / 1.8 from
    t = 0.154), 5 t^2 E = 0.12 E against 0.25 E, 2.8 dB quieter. Measured: 45 of A's bins at x0.5 (9.5 dB)
    when the steps know only the sign of each effect, 98 bins at x0.69 (A) to x0.84 (B) (12.1 dB)."""

    a, b = slice(500, 550), slice(1500, 1550)

    def __init__(self) -> None:
        rng = np.random.default_rng(3)
        coeffs = np.fft.rfft(0.001 * rng.standard_normal(RATE))
        for band in (self.a, self.b):
            coeffs[band] = 0.05 * RATE / 2 * np.exp(2j * np.pi * rng.random(50))
        self.clip = np.fft.irfft(coeffs, RATE).astype(np.float32)
        self.rival = 6 / 1.8 * (np.abs(np.fft.rfft(self.clip)) ** 2)[self.a].sum()
        self.target = CallableTarget(self, ["a", "b"], RATE, name="weighted")

    def __call__(self, batch):
        power = np.abs(np.fft.rfft(batch, axis=1)) ** 2
        evidence = 4 * power[:, self.a].sum(axis=1) + 2 * power[:, self.b].sum(axis=1)
        share = evidence / (evidence + self.rival)
        return np.stack([share, 1 - share], axis=1).astype(np.float32)


class SignOfEffectOnly(FourierAttack):
    """The causal attack with the feature under test removed: its shaped steps see only each effect's sign."""

    def signed(self, prepared):
        orders = super().signed(prepared)
        return None if orders is None else SignedOrders(orders.orders, np.sign(orders.effect))


def test_the_causal_attack_spends_its_change_where_the_effect_per_unit_energy_is_largest():
    model = Weighted()
    ctx = context(model.target, model.clip)
    causal = ctx.result_of(FourierAttack().discovery)
    hz = np.round(ctx.spectrum.hz)
    in_a, in_b = (hz >= 500) & (hz < 550), (hz >= 1500) & (hz < 1550)
    assert np.allclose(causal.effect[in_a], 2 * causal.effect[in_b].mean(), rtol=0.05)
    assert not causal.effect[~(in_a | in_b)].any()
    shaped = FourierAttack().run(ctx)
    uniform = SignOfEffectOnly().run(context(model.target, model.clip))
    assert shaped.success and uniform.success
    assert shaped.snr_db > uniform.snr_db + 2, (shaped.snr_db, uniform.snr_db)
    gains = dict(zip(shaped.mutation["gains"]["hz"], shaped.mutation["gains"]["gains"]))
    weakened_a = [1 - gain for hz, gain in gains.items() if 500 <= hz < 550]
    weakened_b = [1 - gain for hz, gain in gains.items() if 1500 <= hz < 1550]
    assert weakened_a and weakened_b and np.allclose(weakened_a, 2 * np.mean(weakened_b), rtol=0.05)


def test_the_stft_attack_carries_a_shaped_flip_onto_the_cells_of_the_counter_evidence():
    """Frames of 256 samples at 8 kHz: cells 31.25 Hz apart; band A (1000-1099 Hz) reaches four of them and is
    weakened there, band B (2000-2099 Hz) four, strengthened."""
    model = Rivals()
    stft = STFTAttack()
    result = stft.run(context(model.target, model.clip))
    assert result.success and result.details["frame_size"] == 256
    mutation = result.mutation["gains"]
    assert mutation["hz"] == [1000.0, 1031.25, 1062.5, 1093.75, 2000.0, 2031.25, 2062.5, 2093.75]
    assert all(gain < 1 for gain in mutation["gains"][:4]) and all(gain > 1 for gain in mutation["gains"][4:])


def test_occlusion_marks_the_bands_whose_removal_raised_the_margin_and_ranks_them_by_size_of_effect():
    """Known answer on 8 bins: band A (bins 0-3) drops the margin by 1; band B (4-7) raises it by 2 at the same
    energy: B is counter-evidence, last in the attack orders and first in the signed ones."""
    spectrum = Spectrum(np.ones(8, dtype=np.complex64), 14, 8000)
    nodes = [_Node(0, 4, 1.0, 0), _Node(4, 8, -2.0, 0)]
    ranking = _occlusion_ranking(spectrum, nodes, bin_energy(spectrum), 5.0, 2, 1.0)
    assert ranking.opposing.tolist() == [False] * 4 + [True] * 4
    assert set(ranking.attack_order[:4]) == {0, 1, 2, 3}
    for order in ranking.signed_alternatives:
        assert set(order[:4]) == {4, 5, 6, 7} and set(order[4:]) == {0, 1, 2, 3}


def test_the_explanation_orders_put_the_sufficient_set_first_then_evidence_or_loudness():
    magnitude = np.array([1.0, 4.0, 2.0, 8.0, 1.0, 3.0, 0.5])
    sufficient = np.array([0, 0, 0, 0, 0, 1, 1], dtype=bool)
    keep = np.array([1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0])  # scaled: 1, 0.5, 0, ...
    remove = np.array([0.0, 0.0, 1.0, -3.0, 0.0, 1.0, 2.0])  # scaled: 0, 0, 0.5, 0 (a rise is no evidence)
    main, by_keep, by_loudness = explanation_orders(magnitude, sufficient, keep, remove)
    # S first, by removal drop (bin 6 before 5); then evidence x magnitude: bin 1 (0.5 x 4 = 2) before
    # bin 0 (1 x 1) and bin 2 (0.5 x 2 = 1), those two tied and the louder first; then no evidence, loudest first
    assert main.tolist() == [6, 5, 1, 2, 0, 3, 4]
    # S as before; then keep responsibility (0, 1), then the removal value: 2 (1.0), 4 (0.0), 3 (-3: its
    # removal raised the class)
    assert by_keep.tolist() == [6, 5, 0, 1, 2, 4, 3]
    # S as before; then loudest first
    assert by_loudness.tolist() == [6, 5, 3, 1, 2, 0, 4]


class SpoiledTone:
    """Known answer on 1 s at 8 kHz (bin k is k Hz): "present" when the 440 Hz tone is heard, unless a
    1200 Hz tone is heard too without the band B (2000-2100 Hz) that excuses it; each counts as heard
    above half its energy in the clip. The clip has all three, so it is "present"; the 440 Hz bin alone
    is sufficient; with the 1200 Hz bin added it is not, until half of B's energy comes back too."""

    tone, spoiler, band = 440, 1200, slice(2000, 2101)

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        coeffs = np.fft.rfft(0.01 * rng.standard_normal(RATE))
        coeffs[self.band] *= 20
        coeffs[[self.tone, self.spoiler]] = 0.3 * RATE / 2
        self.clip = np.fft.irfft(coeffs, RATE).astype(np.float32)
        self.halves = [0.5 * e for e in self.energies(self.clip[None])[:, 0]]
        self.target = CallableTarget(self, ["absent", "present"], RATE, name="spoiled-tone")

    def energies(self, batch):
        power = np.square(np.abs(np.fft.rfft(batch, axis=1)))
        return np.stack([power[:, self.tone], power[:, self.spoiler], power[:, self.band].sum(axis=1)])

    def __call__(self, batch):
        tone, spoiler, band = (1 / (1 + np.exp(-20 * (e / h - 1))) for e, h in zip(self.energies(batch), self.halves))
        present = tone * (1 - spoiler * (1 - band))
        return np.stack([1 - present, present], axis=1)

    def order(self, *heads):
        """Every bin: `heads` (the names "tone", "spoiler", "band") first in that order, then the rest by index."""
        bins = {"tone": [self.tone], "spoiler": [self.spoiler], "band": np.arange(RATE // 2 + 1)[self.band]}
        first = np.concatenate([bins[head] for head in heads])
        return np.concatenate([first, np.setdiff1d(np.arange(RATE // 2 + 1), first)])

    def orders(self):
        """The main order (tone, spoiler, then B, then the rest) and the alternative (B before the spoiler)."""
        return self.order("tone", "spoiler", "band"), self.order("tone", "band", "spoiler")


@pytest.mark.parametrize("grid_ratio", [2.0, 16.0])
def test_discovery_leads_with_the_order_whose_sufficient_prefix_is_smallest(grid_ratio):
    """The main order's 1-bin prefix is sufficient but not stable (the next prefix adds the spoiler), so its
    sufficient prefix holds about half of B; the alternative's is the tone alone. The alternative leads
    for the sizes its search decided on, the main order's other bins follow, and extraction on the
    result finds the tone alone."""
    model = SpoiledTone()
    ctx = context(model.target, model.clip)
    settings = CausalSettings(grid_ratio=grid_ratio)
    main, alternative = model.orders()
    sizes = [sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, settings)
             for order in (main, alternative)]
    assert sizes[0] > 20 and sizes[1] == 1, sizes
    order, lead = lead_by_sufficiency(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, [main, alternative], settings)
    assert lead == 1 and sorted(order.tolist()) == list(range(ctx.spectrum.n_bins))
    span = int(np.ceil(grid_ratio * (1 + 1))) + settings.chain_length + 1
    assert np.array_equal(order[:span], alternative[:span])
    assert np.array_equal(order[span:], main[~np.isin(main, alternative[:span])])
    _, found, _ = extract(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, order, settings)
    assert found["sufficient"] == 1
    assert lead_by_sufficiency(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, [alternative, main], settings)[1] == 0


def test_discovery_keeps_the_smaller_sufficient_prefix_of_freqrex_ns_orders_and_says_which_led():
    """On SpoiledTone freqrex-ns's main order (evidence x magnitude) puts the loud spoiler right after the
    tone; its alternative (keep responsibility) does not, and leads: the tone alone is sufficient."""
    model = SpoiledTone()
    ctx = context(model.target, model.clip)
    ranking = RANKERS["freqrex-ns"](problem(ctx, max_queries=300), 300)
    orders = (ranking.order, *ranking.explanation_alternatives)
    assert len(orders) == 3 and all(sorted(order.tolist()) == list(range(ctx.spectrum.n_bins)) for order in orders)
    sizes = [sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, CausalSettings())
             for order in orders]
    assert min(sizes) == 1 < sizes[0], sizes
    result = explain(model.target, model.clip, RATE, max_queries=300)
    assert result.sufficient.tolist() == [model.tone]
    assert result.ranking_lead == sizes.index(1) == result.to_dict()["ranking_lead"]
    assert RANKERS["paper"](problem(ctx), 100).explanation_alternatives == ()


def test_discovery_probes_the_pruned_sufficient_sets_size_which_the_grid_steps_over():
    """On SpoiledTone: eight bins of noise, the tone, five more of noise, then the spoiler, B and the rest. The
    first nine bins are sufficient, and stay so for the chain's five bins; but the grid sizes around
    nine (8, 16) are not, and the search without the hint finds a prefix holding half of B. With the
    size 9 hinted (freqrex-ns hints its pruned sufficient set's size), both the lead search and
    extraction find the nine bins."""
    model = SpoiledTone()
    ctx = context(model.target, model.clip)
    settings = CausalSettings()
    noise = list(range(100, 113))
    head = [*noise[:8], model.tone, *noise[8:], model.spoiler, *range(2000, 2101)]
    order = np.concatenate([head, np.setdiff1d(np.arange(ctx.spectrum.n_bins), head)])
    assert sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, settings) > 50
    assert sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, settings, [9]) == 9
    lead_order, lead = lead_by_sufficiency(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, [order, order[::-1]],
                                           settings, [9])
    assert lead == 0 and np.array_equal(lead_order, order)
    _, found, _ = extract(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, order, settings, [9])
    assert found["sufficient"] == 9
    assert extract(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, order, settings)[1]["sufficient"] > 50


def test_freqrex_ns_hands_discovery_its_pruned_sufficient_sets_size():
    """freqrex-ns's pruned S leads all three explanation orders, so its size is a prefix size known to be
    sufficient: the ranking says so (`sufficient_hint`), and the S kept alone keeps the class."""
    planted = PlantedBands(fraction=0.5)
    ctx = context(planted.target, planted.clip)
    ranking = RANKERS["freqrex-ns"](problem(ctx, max_queries=600), 600)
    k = ranking.sufficient_hint
    assert k is not None and k == ranking.details["sufficient"]
    heads = [set(order[:k].tolist()) for order in (ranking.order, *ranking.explanation_alternatives)]
    assert heads[0] == heads[1] == heads[2]
    kept = ctx.spectrum.keep(PrefixProbe(ctx.spectrum, ctx.oracle, ranking.order).masks([k]))
    scores = planted.target.predict(kept)
    assert scores[0].argmax() == ctx.label and scores[0, ctx.label] >= 0.5 * ctx.score
    assert RANKERS["paper"](problem(ctx), 100).sufficient_hint is None


def test_discovery_on_a_real_model_finds_the_pruned_sufficient_set_the_grid_alone_misses():
    """fsdd-dscnn (TorchScript, the zoo's) on 0_theo_1 at the seed the zoo gives that clip: freqrex-ns's
    pruned S is sufficient, but no grid size of any of its three explanation orders lands on it (the
    searches without the hint find 2-5x more bins); discovery, which probes S's size, reports no more, and
    the faithfulness comparison reports discovery's size for the ranking it reuses."""
    from pathlib import Path

    from freqrex_bench.data import load_audio, prepare_clip
    from freqrex_bench.strategy import clip_seed
    from freqrex_bench.targets import TorchScriptTarget

    root = Path(__file__).resolve().parents[1]
    digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    target = TorchScriptTarget(root / "examples/models/fsdd-dscnn/model.pt", digits, 8000, output="logits")
    audio, rate = load_audio(root / "tests/data/fsdd/0_theo_1.wav")
    clip, seed = prepare_clip(audio, rate, 8000).signal, clip_seed(0, "tests/data/fsdd/0_theo_1.wav")
    result = explain(target, clip, 8000, seed=seed)
    ctx = context(target, clip, seed)
    ranking = RANKERS["freqrex-ns"](problem(ctx), 2000)
    unhinted = [sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, CausalSettings())
                for order in (ranking.order, *ranking.explanation_alternatives)]
    assert result.subsets["sufficient"].size <= ranking.sufficient_hint < min(unhinted), unhinted
    row = Faithfulness(rankings=("freqrex-ns",)).run(context(target, clip, seed)).rankings["freqrex-ns"]
    assert row["sufficient_size"] == result.subsets["sufficient"].size


def test_orders_tied_on_the_sufficient_prefix_are_told_apart_by_how_soon_removing_them_collapses_the_decision():
    """PlantedBands at fraction 0.1: a tenth of the bands' energy is enough kept alone, but the decision
    survives until nine tenths are removed. Both orders start with the same sufficient head S (the
    loudest band bins); after S, one removes the rest of the bands, the other the loud bins outside
    them. Their sufficient prefixes tie; the first collapses the decision sooner under deletion and
    leads, whole, whichever comes first."""
    planted = PlantedBands(fraction=0.1)
    ctx = context(planted.target, planted.clip)
    magnitude = ctx.spectrum.magnitude.astype(np.float64)
    band = np.flatnonzero(planted.in_band)[np.argsort(-magnitude[planted.in_band], kind="stable")]
    energy = np.cumsum(magnitude[band] ** 2) / np.sum(magnitude[band] ** 2)
    head = band[: int(np.searchsorted(energy, 0.15)) + 1]
    outside = np.flatnonzero(~planted.in_band)
    outside = outside[np.argsort(-magnitude[outside], kind="stable")]
    bands_next = np.concatenate([band, outside])
    loud_next = np.concatenate([head, outside, band[head.size:]])
    settings = CausalSettings()
    hints = [head.size]
    sizes = [sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, order), ctx.label, ctx.score, settings, hints)
             for order in (bands_next, loud_next)]
    assert sizes[0] == sizes[1] <= head.size, sizes
    for orders, expected in (([loud_next, bands_next], 1), ([bands_next, loud_next], 0)):
        order, lead = lead_by_sufficiency(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, orders, settings, hints)
        assert lead == expected and np.array_equal(order, bands_next)
    _, found, _ = extract(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, bands_next, settings, hints)
    assert found["sufficient"] == sizes[0]


@pytest.mark.parametrize("budget", [140, 160, 180])
def test_the_lead_search_never_takes_extractions_share_of_a_budget(budget):
    """With a budget, responsibility leaves extraction a reserve; searching the alternative order spends
    only beyond it, so these budgets still find all three subsets (they did before the search existed)."""
    planted = PlantedBands(fraction=0.5)
    result = explain(planted.target, planted.clip, planted.sample_rate, max_queries=300, budget=budget)
    assert result.stopped is None and set(result.subsets) == {"sufficient", "necessary", "complete"}
    assert result.queries <= budget


@pytest.mark.parametrize("grid_ratio", [2.0, 3.0, 16.0])
def test_extraction_finds_the_leading_orders_sufficient_prefix_when_its_search_refined_it(grid_ratio):
    """Both orders start with B: the alternative is sufficient once the tone follows B (k = 102, found by
    refining between grid sizes), the main order only one bin later, after the spoiler. Extraction on the
    spliced order must find 102, whatever the grid ratio."""
    model = SpoiledTone()
    ctx = context(model.target, model.clip)
    settings = CausalSettings(grid_ratio=grid_ratio)
    main, alternative = model.order("spoiler", "band", "tone"), model.order("band", "tone", "spoiler")
    assert sufficient_prefix(PrefixProbe(ctx.spectrum, ctx.oracle, alternative), ctx.label, ctx.score, settings) == 102
    order, lead = lead_by_sufficiency(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, [main, alternative], settings)
    assert lead == 1
    _, found, _ = extract(ctx.spectrum, ctx.oracle, ctx.label, ctx.score, order, settings)
    assert found["sufficient"] == 102


def test_occlusion_orders_on_hand_built_bands():
    """Known answer on 8 bins: band A (bins 0-3) drops the margin by 1 at energy ~4; band B (4-7) by 0.5 at
    energy ~8, where its quiet half (6-7) carries all of it (0.5 at energy ~0.02) and its loud half none.
    Coarse to fine, A goes first; by the finest band, the quiet half of B does."""
    coeffs = np.array([1, 1, 1, 1, 2, 2, 0.1, 0.1], dtype=np.complex64)
    spectrum = Spectrum(coeffs, 14, 8000)
    nodes = [_Node(0, 4, 1.0, 0), _Node(4, 8, 0.5, 0), _Node(4, 6, 0.0, 1), _Node(6, 8, 0.5, 1)]
    ranking = _occlusion_ranking(spectrum, nodes, bin_energy(spectrum), 5.0, 4, 1.0)
    (finest,) = ranking.attack_alternatives
    assert set(ranking.attack_order[:4]) == {0, 1, 2, 3} and set(ranking.attack_order[4:6]) == {6, 7}
    assert set(finest[:2]) == {6, 7} and set(finest[2:6]) == {0, 1, 2, 3} and set(finest[6:]) == {4, 5}


def test_occlusion_offers_its_finest_bands_first_as_an_alternative_attack_order():
    planted = PlantedBands(fraction=0.5)
    ctx = context(planted.target, planted.clip)
    for name in ("occlusion", "freqrex-ns"):
        ranking = RANKERS[name](problem(ctx), 600)
        (finest,) = ranking.attack_alternatives
        assert sorted(finest.tolist()) == list(range(ctx.spectrum.n_bins))
        assert not np.array_equal(finest, ranking.attack_order)
    assert RANKERS["loudest"](problem(ctx), 0).attack_alternatives == ()
    causal = explain(planted.target, planted.clip, planted.sample_rate, max_queries=300)
    finest, explanation = FourierAttack().alternatives(causal)
    assert np.array_equal(finest, causal.attack_alternatives[0]) and np.array_equal(explanation, causal.ranking)
    assert FourierAttack(candidates="sufficient").alternatives(causal) == ()


def test_the_attack_ranking_prefers_evidence_per_unit_energy():
    """Occlusion ranks bands by the margin drop their removal causes per unit of energy removed, so the
    quiet band that decides (a) comes before the loud tones an attacker could also remove."""
    planted = PlantedBands(fraction=0.9)
    ctx = context(planted.target, planted.clip)
    ranking = RANKERS["occlusion"](problem(ctx), 600)
    energy = bin_energy(ctx.spectrum)
    first = ranking.attack_order[:100]
    assert planted.in_band[first].mean() >= 0.8
    assert energy[first].sum() < 0.05 * energy.sum()
    assert ranking.queries <= 600


def test_occlusion_does_not_split_bands_the_model_ignores():
    """PlantedBands reads only the energy of its two bands: removing any band outside them moves the margin
    by float noise alone, so occlusion refines only the 300 planted bins' bands and stops far below its
    budget (splitting everything would spend all 2,000 queries on a 4,001-bin clip)."""
    planted = PlantedBands(fraction=0.5)
    ctx = context(planted.target, planted.clip)
    ranking = RANKERS["occlusion"](problem(ctx), 2000)
    assert ranking.queries < 700, ranking.queries
    assert planted.in_band[ranking.attack_order[:200]].all()


def test_on_a_clip_whose_class_silence_gets_the_empty_prefix_is_sufficient_for_every_ranking():
    """PlantedBands hears "absent" in loud tones without its bands, and in silence: the empty prefix keeps
    the class, as discovery says (the empty sufficient set), so the faithfulness measure says 0 bins for
    every ranking, and asking it costs no query (keeping no bin is silence, already classified)."""
    planted = PlantedBands(fraction=0.5)
    t = np.arange(planted.sample_rate) / planted.sample_rate
    tones = (0.5 * np.sin(2 * np.pi * 300 * t) + 0.4 * np.sin(2 * np.pi * 3300 * t)).astype(np.float32)
    ctx = context(planted.target, tones)
    assert ctx.silence_label == ctx.label == 0
    before = ctx.oracle.queries
    ctx.oracle.classify(ctx.spectrum.edits(np.zeros(ctx.spectrum.n_bins, dtype=bool)))
    assert ctx.oracle.queries == before
    for name in ("loudest", "random"):
        assert sufficient_size(ctx, RANKERS[name](problem(ctx), 0).order, CausalSettings()) == 0


def test_where_discovery_stops_at_silence_every_sufficient_size_is_0_whatever_the_order():
    """Noise is "c" at 0.9 and so is silence (discovery stops: the empty set is sufficient), but one
    strong bin kept alone is "tone": the loudest order's first prefixes break any chain from the empty
    one. The sufficient size follows discovery's rule, 0 for every order, not the order's chain."""

    def model(batch: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(batch, axis=1)) ** 2
        total = power.sum(1) + 1e-12
        peaky = (power.max(1) / total > 0.3) & (total > 1e-6)
        return np.where(peaky[:, None], [0.1, 0.9], [0.9, 0.1]).astype(np.float32)

    clip = (0.05 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    ctx = context(CallableTarget(model, ["c", "tone"], 8000), clip)
    assert ctx.silence_is_sufficient(CausalSettings().min_confidence)
    for name in ("loudest", "quietest", "random"):
        assert sufficient_size(ctx, RANKERS[name](problem(ctx), 0).order, CausalSettings()) == 0


def test_faithfulness_compares_every_ranking_at_one_budget():
    planted = PlantedBands(fraction=0.5)
    ctx = context(planted.target, planted.clip)
    strategy = Faithfulness(CausalSettings(max_queries=400), rankings=("freqrex-ns", "paper", "loudest", "random"))
    result = strategy.run(ctx)
    rows = result.rankings
    assert set(rows) == {"freqrex-ns", "paper", "loudest", "random"} and result.reused == ["freqrex-ns"]
    assert rows["loudest"]["ranking_queries"] == 0 and rows["paper"]["ranking_queries"] <= 400
    assert rows["freqrex-ns"]["deletion_auc"] < rows["loudest"]["deletion_auc"]
    assert rows["freqrex-ns"]["deletion_auc"] < rows["random"]["deletion_auc"]
    for row in rows.values():
        assert 0 <= row["deletion_auc"] <= 1 and 0 <= row["insertion_auc"] <= 1
        assert len(row["deletion"]) == len(row["sizes"]) == len(row["insertion"])


@pytest.mark.parametrize("budget", [40, 150, 600])
@pytest.mark.parametrize("name", sorted(RANKERS))
def test_every_ranking_spends_at_most_its_budget(name, budget):
    """Faithfulness compares rankings at an equal query budget: none may spend more, however small."""
    planted = PlantedBands(fraction=0.5)
    ctx = context(planted.target, planted.clip)
    before = ctx.oracle.queries
    ranking = RANKERS[name](problem(ctx), budget)
    assert ranking.queries == ctx.oracle.queries - before <= budget, (name, budget, ranking.queries)
    assert sorted(ranking.order.tolist()) == list(range(ctx.spectrum.n_bins))
