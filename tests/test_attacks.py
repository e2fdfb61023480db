"""The attacks (Algorithms 2 and 3) and baselines: known answers, real models, records and arrays."""

import json

import numpy as np
import pytest

from freqrex_bench import InvalidInputError, Oracle
from freqrex_bench.attacks import (
    AttackSettings,
    Context,
    Explained,
    FourierAttack,
    GradientAttack,
    LargestMagnitude,
    RandomFrequencies,
    STFTAttack,
    Superposition,
    TargetContext,
    WhiteNoise,
)
from freqrex_bench.files import save_adversarial
from freqrex_bench.metrics import pcm16
from freqrex_bench.targets import CallableTarget

from .support import DATA, PlantedBands, read

# Algorithm 2 exactly as the paper states it: the fewest frequencies first, then the weakest mutation.
FEWEST = AttackSettings(objective="fewest-frequencies")


@pytest.fixture(scope="module")
def strict():
    """Planted bands where losing a tenth of the band energy flips the decision."""
    return PlantedBands(fraction=0.9)


def context(target, clip, seed=0, **oracle):
    return Context.create(clip, Oracle(target, **oracle), seed=seed)


def test_fourier_attack_changes_few_planted_bins_where_random_needs_many(strict):
    ctx = context(strict.target, strict.clip)
    causal = ctx.result_of(FourierAttack(FEWEST))
    assert causal.success and causal.label_after == "absent" and causal.unit == "frequencies"
    assert causal.changed <= 30 and strict.in_band[causal.bins].all()
    assert causal.mutation in ({"amplitude": 0.0}, {"amplitude": 0.25}) and causal.snr_db > 40
    random = ctx.result_of(RandomFrequencies(FEWEST))
    assert not random.success or random.changed > 5 * causal.changed
    assert not ctx.result_of(LargestMagnitude(FEWEST)).success  # loud out-of-band tones are the wrong place


def test_fourier_attack_keeps_to_the_frequency_budget_and_min_snr(strict):
    ctx = context(strict.target, strict.clip)
    # A flip must take a tenth of the 300 band bins' energy; the 3 loudest of them hold about 5%.
    assert not FourierAttack(AttackSettings(max_frequencies=3)).run(ctx).success
    free = ctx.result_of(FourierAttack(FEWEST))
    quieter = FourierAttack(AttackSettings(min_snr_db=free.snr_db + 5, objective="fewest-frequencies")).run(ctx)
    assert quieter.success and quieter.snr_db >= free.snr_db + 5  # weaker edits on more bins
    assert quieter.changed > free.changed and quieter.mutation != {"amplitude": 0.0}
    impossible = FourierAttack(AttackSettings(min_snr_db=100, objective="fewest-frequencies")).run(ctx)
    assert not impossible.success and "no flip" in impossible.details["reason"]


def test_weakest_mutation_that_still_flips_is_chosen(strict):
    ctx = context(strict.target, strict.clip)
    ladder = [{"amplitude": 0}, {"amplitude": 0.001}, {"amplitude": 0.99}]
    result = FourierAttack(AttackSettings(ladder=ladder, objective="fewest-frequencies")).run(ctx)
    assert result.success and result.mutation == {"amplitude": 0.001}
    assert result.changed == ctx.result_of(FourierAttack(FEWEST)).changed


def test_pcm16_robust_mode_escalates_until_the_wav_still_flips(strict):
    quiet = PlantedBands(fraction=0.9)
    quiet.clip = (quiet.clip * 0.01).astype(np.float32)
    quiet.threshold = 0.9 * quiet.band_energy(quiet.clip[None])[0]
    plain = FourierAttack().run(context(quiet.target, quiet.clip))
    assert plain.success and plain.survives_pcm16 is False
    robust = FourierAttack(AttackSettings(pcm16_robust=True)).run(context(quiet.target, quiet.clip))
    assert robust.success and robust.survives_pcm16 and robust.changed > plain.changed
    assert np.array_equal(robust.adversarial, pcm16(robust.adversarial, quiet.sample_rate)[0])


class ThreeBands:
    """Known answer: the class is the band (low / mid / high) holding the most energy."""

    edges = ((200, 600), (1000, 1400), (2500, 2900))

    def __init__(self):
        rate = 8000
        t = np.arange(rate) / rate
        self.clip = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((0.5, 400), (0.3, 1200), (0.1, 2700)))
        self.clip = (self.clip + 0.001 * np.random.default_rng(0).standard_normal(rate)).astype(np.float32)
        self.hz = np.fft.rfftfreq(rate, 1 / rate)
        self.target = CallableTarget(self, ["low", "mid", "high"], rate, output="logits")

    def __call__(self, batch):
        power = np.abs(np.fft.rfft(batch, axis=1)) ** 2
        energy = np.stack([power[:, (self.hz >= lo) & (self.hz < hi)].sum(1) for lo, hi in self.edges], 1)
        return np.log(energy + 1e-9) * 20


def test_targeted_mode_reaches_the_chosen_class():
    bands = ThreeBands()
    ctx = context(bands.target, bands.clip)
    untargeted = FourierAttack(candidates="ranking").run(ctx)
    assert untargeted.label_after == "mid"
    targeted = FourierAttack(AttackSettings(target_class="high"), candidates="ranking").run(ctx)
    assert targeted.success and targeted.label_after == "high" and targeted.details["target_class"] == "high"
    assert targeted.changed > untargeted.changed
    already = FourierAttack(AttackSettings(target_class="low"), candidates="ranking").run(ctx)
    assert not already.success and "already" in already.details["reason"]
    with pytest.raises(InvalidInputError, match="target_class 'loud' is not one of the model's labels"):
        FourierAttack(AttackSettings(target_class="loud")).run(ctx)


@pytest.fixture(scope="module")
def demo_context(demo):
    clip, _ = read(DATA / "fsdd" / "0_theo_12.wav")
    return context(demo, clip, seed=0)


def test_demo_model_fourier_attack_flips_and_the_saved_array_still_flips(demo, demo_context, tmp_path):
    result = demo_context.result_of(FourierAttack())
    assert result.success and result.label_before == "zero" and result.label_after != "zero"
    assert result.details["candidate_set"] == "attack" and result.changed <= result.details["candidates"]
    assert result.prior_queries == demo_context.result_of(FourierAttack().discovery).queries > 0
    npy, wav = save_adversarial(result.adversarial, demo.sample_rate, tmp_path, "0_theo_12/fourier")
    assert npy.parent == tmp_path and wav.exists()
    reloaded = np.load(npy)
    assert reloaded.dtype == np.float32
    assert demo.labels[int(np.argmax(demo.predict(reloaded[None])))] == result.label_after
    record = json.loads(json.dumps(result.to_dict()))
    assert {"success", "queries", "changed", "mutation", "snr_db", "l2", "linf", "label_before", "score_before",
            "label_after", "score_after", "survives_pcm16"} <= set(record)
    assert record["l2"] > 0 and 0 < record["linf"] <= 1


def test_demo_model_stft_attack_reports_every_frame_size(demo_context):
    result = STFTAttack(all_frame_sizes=True).run(demo_context)
    assert set(result.details["frame_sizes"]) == {256, 512, 1024}
    for report in result.details["frame_sizes"].values():
        assert {"success", "frames", "of_frames", "stft_bins", "queries"} <= set(report)
    assert result.details["from_fourier"] is True
    assert result.success and result.unit == "frames" and result.details["frame_size"] in (256, 512, 1024)


def test_demo_model_baselines_produce_comparable_records(demo_context):
    noise = WhiteNoise().run(demo_context)
    fourier = demo_context.result_of(FourierAttack())
    assert noise.details["reference_snr_db"] == pytest.approx(fourier.snr_db)
    assert noise.queries == 10 + (1 if noise.success else 0)  # the draws, then the 16-bit check
    gradient = GradientAttack(snr_db=40.0, steps=30).run(demo_context)
    assert gradient.details["reference_snr_db"] == 40.0 and gradient.queries <= 30 + 2
    assert gradient.success or (gradient.snr_db is None and gradient.label_after is None)


def test_basic_pitch_attacks_flip_a4_and_stft_runs_every_frame_size(basic_pitch, tmp_path):
    rate = 22050
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    ctx = context(basic_pitch, tone, batch_size=16)
    fourier = FourierAttack(candidates="necessary")
    result = ctx.result_of(fourier)
    assert result.success and result.changed <= 2 and result.label_after != "A4"
    npy, _ = save_adversarial(result.adversarial, rate, tmp_path, "tone")
    assert basic_pitch.labels[int(np.argmax(basic_pitch.predict(np.load(npy)[None])))] != "A4"
    stft = STFTAttack(fourier=fourier, all_frame_sizes=True).run(ctx)
    assert set(stft.details["frame_sizes"]) == {256, 512, 1024}
    gradient = GradientAttack(fourier=fourier).run(ctx)
    assert not gradient.success and "differentiable" in gradient.details["reason"]  # ONNX: no gradients


def test_superposition_of_planted_sufficient_signals_keeps_the_class():
    models = [PlantedBands(seed=s) for s in (1, 2, 3)]
    target = models[0].target
    oracle = Oracle(target)
    results = [context(target, m.clip, seed=0).result_of(FourierAttack().discovery) for m in models]
    (row,) = Superposition().run(TargetContext(oracle, [Explained.of(r) for r in results], seed=0)).rows
    assert row.label == "present" and row.clips == 3 and row.compositions == 2
    assert row.kept == 2 and row.success_rate == 1.0 and row.full_composition_kept
    (none,) = Superposition().run(TargetContext(oracle, [Explained.of(r, truth=0) for r in results])).rows
    assert none.clips == 0 and none.success_rate is None


def test_random_baseline_is_reproducible_per_seed(strict):
    a = RandomFrequencies(AttackSettings(max_frequencies=4001)).run(context(strict.target, strict.clip, seed=3))
    b = RandomFrequencies(AttackSettings(max_frequencies=4001)).run(context(strict.target, strict.clip, seed=3))
    assert a.changed == b.changed and a.bins == b.bins


def test_adversarial_names_cannot_escape_the_folder_or_collide(tmp_path):
    folder = tmp_path / "adv"
    npy, wav = save_adversarial(np.zeros(100, dtype=np.float32), 8000, folder, "../../etc/passwd")
    assert npy.parent == wav.parent == folder and npy.name.startswith("etc_passwd-")
    a, _ = save_adversarial(np.zeros(10, dtype=np.float32), 8000, folder, "clip/fourier")
    b, _ = save_adversarial(np.ones(10, dtype=np.float32) / 2, 8000, folder, "clip_fourier")
    assert a != b and np.load(a).sum() == 0
    outside = tmp_path / "outside.npy"
    outside.write_bytes(b"keep")
    a.unlink()
    a.symlink_to(outside)
    save_adversarial(np.zeros(10, dtype=np.float32), 8000, folder, "clip/fourier")
    assert outside.read_bytes() == b"keep" and not a.is_symlink()
    with pytest.raises(InvalidInputError, match="mono"):
        save_adversarial(np.zeros((2, 10)), 8000, folder, "stereo")


def test_differently_configured_strategies_never_share_a_cached_result(strict):
    ctx = context(strict.target, strict.clip)
    narrow = ctx.result_of(FourierAttack(AttackSettings(max_frequencies=3)))
    wide = ctx.result_of(FourierAttack())
    assert not narrow.success and wide.success
    stft = STFTAttack().run(ctx)
    assert stft.details["from_fourier"] is True


def test_an_stft_phase_attack_flips_the_phase_sensitive_model():
    polarity = Polarity()
    ctx = context(polarity.target, polarity.clip)
    settings = AttackSettings(ladder=[{"phase": 3.14159}])
    result = STFTAttack(settings, FourierAttack(settings, candidates="ranking")).run(ctx)
    assert result.success and result.label_after == "negative" and result.mutation == {"phase": 3.14159}
    assert result.details["from_fourier"] is True and result.unit == "frames"


def test_pcm16_robust_results_keep_the_snr_floor():
    quiet = PlantedBands(fraction=0.9)
    quiet.clip = (quiet.clip * 0.1).astype(np.float32)
    quiet.threshold = 0.9 * quiet.band_energy(quiet.clip[None])[0]
    free = FourierAttack(AttackSettings(pcm16_robust=True, objective="fewest-frequencies")).run(
        context(quiet.target, quiet.clip))
    assert free.success
    floor = free.snr_db + 3  # above what the fewest-frequencies attack used: weaker edits on more bins must do
    robust = AttackSettings(pcm16_robust=True, min_snr_db=floor, objective="fewest-frequencies")
    for strategy in (FourierAttack(robust), STFTAttack(robust)):
        result = strategy.run(context(quiet.target, quiet.clip))
        assert result.success, strategy.name
        assert result.snr_db >= floor and np.array_equal(result.adversarial, pcm16(result.adversarial, 8000)[0])


def test_records_are_strict_json_in_every_outcome(strict):
    ctx = context(strict.target, strict.clip)
    for result in (STFTAttack(all_frame_sizes=True).run(ctx), FourierAttack(AttackSettings(max_frequencies=3)).run(ctx),
                   WhiteNoise(snr_db=80).run(ctx)):
        text = json.dumps(result.to_dict(), allow_nan=False)
        record = json.loads(text)
        assert record["strategy"] == result.strategy and isinstance(record["queries"], int)
    stored = json.loads(json.dumps(STFTAttack(all_frame_sizes=True).run(ctx).to_dict()))
    assert set(stored["details"]["frame_sizes"]) == {"256", "512", "1024"}


def test_a_budget_that_runs_out_mid_attack_gives_a_record_not_an_exception(strict):
    ctx = context(strict.target, strict.clip, budget=1600)
    ctx.result_of(FourierAttack().discovery)
    spare = ctx.oracle.remaining
    ctx.oracle.budget = ctx.oracle.queries + 3
    result = FourierAttack().run(ctx)
    assert not result.success and "budget" in result.details["reason"] and result.queries <= 3
    assert spare > 3


class Polarity:
    """Known answer: "positive" when the clip correlates positively with a 500 Hz reference tone. The tone
    sits exactly on one rfft bin, so turning that one bin's phase by pi flips the class."""

    def __init__(self):
        rate = 8000
        self.reference = np.sin(2 * np.pi * 500 * np.arange(rate) / rate)
        noise = 0.01 * np.random.default_rng(0).standard_normal(rate)
        self.clip = (0.5 * self.reference + noise).astype(np.float32)
        self.target = CallableTarget(self, ["negative", "positive"], rate)

    def __call__(self, batch):
        positive = 1 / (1 + np.exp(-(batch @ self.reference) / 100))
        return np.stack([1 - positive, positive], 1)


class EarlyLate:
    """Known answer: "early" when the first half of the clip holds more energy than the second. The clip
    is a 500 Hz burst in its first half; delaying the burst's bins by half the clip (a circular shift)
    moves it to the second half."""

    def __init__(self):
        rate = 8000
        t = np.arange(rate) / rate
        self.clip = (0.5 * np.sin(2 * np.pi * 500 * t) * (t < 0.5)).astype(np.float32)
        self.target = CallableTarget(self, ["late", "early"], rate)

    def __call__(self, batch):
        half = batch.shape[1] // 2
        early = np.square(batch[:, :half]).sum(1) > np.square(batch[:, half:]).sum(1)
        return np.stack([~early, early], 1).astype(np.float32)


def test_a_phase_ladder_flips_a_phase_sensitive_model_with_one_frequency():
    polarity = Polarity()
    ctx = context(polarity.target, polarity.clip)
    result = LargestMagnitude(AttackSettings(ladder=[{"phase": 3.14159}])).run(ctx)
    assert result.success and result.label_after == "negative" and result.mutation == {"phase": 3.14159}
    assert result.changed == 1 and result.bins == [500]
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_delay_ladder_moves_a_burst_to_the_other_half():
    early = EarlyLate()
    ctx = context(early.target, early.clip)
    result = LargestMagnitude(AttackSettings(ladder=[{"delay": 0.5}])).run(ctx)
    assert result.success and result.label_after == "late" and result.mutation == {"delay": 0.5}
    adversarial = result.adversarial
    assert np.square(adversarial[4000:]).sum() > np.square(adversarial[:4000]).sum()


def test_a_composed_mutation_is_applied_in_order_and_recorded():
    polarity = Polarity()
    ctx = context(polarity.target, polarity.clip)
    result = LargestMagnitude(AttackSettings(ladder=[[{"amplitude": 0.5}, {"phase": 3.14159}]])).run(ctx)
    assert result.success and result.mutation == [{"amplitude": 0.5}, {"phase": 3.14159}]
    assert result.snr_db == pytest.approx(-20 * np.log10(1.5), abs=0.2)  # the tone became -0.5x: a change of 1.5x


class LateBurst:
    """Known answer: "mid" when the 1200 Hz band holds over a fifth of the energy; the clip has a
    400 Hz tone throughout and a 1200 Hz burst only in its last quarter."""

    def __init__(self):
        rate, n = 8000, 8000
        t = np.arange(n) / rate
        burst = np.where(t >= 0.75, 1.0, 0.0)
        self.clip = (0.3 * np.sin(2 * np.pi * 400 * t) + 0.4 * burst * np.sin(2 * np.pi * 1200 * t)).astype(np.float32)
        self.hz = np.fft.rfftfreq(n, 1 / rate)
        self.target = CallableTarget(self, ["low", "mid"], rate)

    def __call__(self, batch):
        power = np.abs(np.fft.rfft(batch, axis=1)) ** 2
        share = power[:, (self.hz > 1100) & (self.hz < 1300)].sum(1) / (power.sum(1) + 1e-12)
        mid = 1 / (1 + np.exp(-50 * (share - 0.2)))
        return np.stack([1 - mid, mid], 1)


def test_stft_attack_edits_only_the_loud_frames_of_the_matched_bins():
    burst = LateBurst()
    ctx = context(burst.target, burst.clip)
    result = STFTAttack(FEWEST, all_frame_sizes=True).run(ctx)
    assert result.success and result.label_after == "low"
    change = np.abs(result.adversarial - burst.clip)
    assert change[: int(0.7 * burst.clip.size)].max() < 0.05 * change.max()  # nothing before the burst
    for report in result.details["frame_sizes"].values():
        assert report["success"] and report["frames"] < report["of_frames"]


def test_stft_skips_frames_longer_than_the_clip():
    def loud(batch):
        level = np.sqrt(np.mean(np.square(batch), axis=1))
        return np.stack([level, 0.05 * np.ones_like(level)], axis=1)

    short = (0.5 * np.sin(2 * np.pi * 440 * np.arange(300) / 8000)).astype(np.float32)
    target = CallableTarget(loud, ["loud", "quiet"], 8000, output="probabilities")
    result = STFTAttack(frame_sizes=(256, 512, 1024), all_frame_sizes=True).run(context(target, short))
    assert result.details["frame_sizes"][512]["reason"] == "frame longer than the clip"
    assert result.details["frame_sizes"][1024]["reason"] == "frame longer than the clip"


def test_targeted_baselines_at_the_own_class_do_not_succeed(demo, demo_context):
    own = AttackSettings(target_class="zero")
    for strategy in (WhiteNoise(own), GradientAttack(own), FourierAttack(own, candidates="ranking"),
                     LargestMagnitude(own)):
        result = strategy.run(demo_context)
        assert not result.success and "already has the target class" in result.details["reason"]


def test_gradient_attack_respects_its_snr_ball(demo_context):
    result = GradientAttack(snr_db=20.0, steps=40).run(demo_context)
    assert result.success and result.snr_db >= 20.0 - 1e-6 and result.details["steps"] <= 40
    assert result.prior_queries == 0 and result.queries <= 42


def test_torch_mirror_of_the_pipeline_equals_predict(demo, silero, yes_clip, fsdd_clip):
    import torch

    clip = fsdd_clip[0][None, :2000]
    with torch.no_grad():
        assert np.abs(demo.torch_predict(torch.from_numpy(clip)).numpy() - demo.predict(clip)).max() < 1e-5
        speech = yes_clip[0][None]
        assert np.abs(silero.torch_predict(torch.from_numpy(speech)).numpy() - silero.predict(speech)).max() < 1e-6


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FourierAttack(candidates="sufficeint"),
         r"fourier parameters: candidates: Input should be 'attack', 'sufficient', 'necessary' or 'ranking' "
         r"\(got 'sufficeint'\)"),
        (lambda: FourierAttack(candidate="ranking"), r"fourier parameters: candidate: unknown key \(expected one of: "
                                                     r"candidates\)"),
        (lambda: WhiteNoise(trials=-1), r"white-noise parameters: trials: Input should be greater than or equal to 1"),
        (lambda: WhiteNoise(snr_db=float("nan")), r"white-noise parameters: snr_db: Input should be a finite number"),
        (lambda: GradientAttack(steps=0), r"gradient parameters: steps: Input should be greater than or equal to 1"),
        (lambda: STFTAttack(frame_sizes=(1, 256)), r"stft parameters: frame_sizes\[0\]: Input should be greater"),
        (lambda: STFTAttack(frame_sizes=()), r"stft parameters: frame_sizes: Tuple should have at least 1 item"),
        (lambda: STFTAttack(max_frames=0), r"stft parameters: max_frames: Input should be greater than or equal to 1"),
        (lambda: RandomFrequencies(seed=3), r"random-frequencies parameters: seed: unknown key"),
        (lambda: LargestMagnitude(AttackSettings(), top=5), r"largest-magnitude parameters: top: unknown key"),
        (lambda: Superposition(seed=1), r"superposition parameters: seed: unknown key"),
        (lambda: TargetContext(Oracle(PlantedBands().target), [], seed=-1),
         r"seed must be a whole number >= 0, got -1"),
    ],
    ids=["candidates", "unknown", "trials", "snr-nan", "steps", "frame-size", "no-frame-sizes", "max-frames",
         "random", "magnitude", "superposition-parameter", "context-seed"],
)
def test_strategies_check_their_parameters_when_constructed(make, message):
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_the_suite_and_the_constructor_share_one_declaration():
    from freqrex_bench.strategy import STRATEGIES
    from freqrex_bench.suite import StrategySpec

    for name, cls in STRATEGIES.items():
        assert StrategySpec(name=name).settings == cls.Parameters()
    with pytest.raises(ValueError, match="white-noise parameters: trials: Input should be greater than or equal to 1"):
        StrategySpec(name="white-noise", parameters={"trials": -1})


def test_the_complete_subset_must_also_be_necessary():
    from freqrex_bench.causal import CausalSettings
    from freqrex_bench.causal.subsets import conditions

    class Probe:  # B_k keeps the score exactly, but the clip without B_k keeps the class: not necessary
        kept = {7: np.array([0.1, 0.9], dtype=np.float32)}
        removed = {7: np.array([0.2, 0.8], dtype=np.float32)}

    found = conditions(Probe(), label=1, score=0.9, settings=CausalSettings())
    assert found["sufficient"].holds(7)
    assert not found["complete"].holds(7)
    Probe.removed[7] = np.array([0.6, 0.4], dtype=np.float32)  # now removing B_k flips: necessary and complete
    assert found["necessary"].holds(7) and found["complete"].holds(7)


def test_the_stft_attack_uses_a_hop_of_half_the_frame():
    from freqrex_bench.spectrum import STFTView

    burst = LateBurst()
    result = STFTAttack(all_frame_sizes=True).run(context(burst.target, burst.clip))
    for size, report in result.details["frame_sizes"].items():
        half = STFTView.of(burst.clip, 8000, size, size // 2).cells.shape[1]
        quarter = STFTView.of(burst.clip, 8000, size, size // 4).cells.shape[1]
        assert report["of_frames"] == half != quarter


def test_responsibility_credit_is_scaled_by_depth():
    from freqrex_bench.causal import CausalSettings
    from freqrex_bench.causal.responsibility import _credit, _Job, combinations_of

    parts = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5]), np.array([6, 7])]
    combos, _ = combinations_of(4)
    passing = np.array([bool(c[0]) and c.sum() == 1 for c in combos[:-1]])  # part 0 alone passes
    for depth in (1, 3):
        values = np.zeros(8)
        _credit(_Job(np.arange(8), (), depth), parts, passing, values, np.ones(8),
                CausalSettings())
        assert values[:2].tolist() == [depth * 1.0, depth * 1.0] and not values[2:].any()


@pytest.mark.parametrize("objective", ["fewest-frequencies", "highest-snr"])
def test_an_attack_removing_bins_reuses_the_answer_on_the_rest_kept_alone(strict, objective):
    """Removing the n loudest bins (Amplitude 0) synthesises the same samples as keeping the others: the
    attack's raw signals carry that edit's key, so what a ranking probed before costs no query."""
    settings = AttackSettings(ladder=[{"amplitude": 0.0}], objective=objective, max_frequencies=64)
    fresh = LargestMagnitude(settings).run(context(strict.target, strict.clip))
    ctx = context(strict.target, strict.clip)
    spectrum = ctx.spectrum
    loudest = np.argsort(-spectrum.magnitude, kind="stable")
    rest = np.ones((64, spectrum.n_bins), dtype=bool)
    for n in range(1, 65):
        rest[n - 1, loudest[:n]] = False
    ctx.oracle.classify(spectrum.edits(rest))
    again = LargestMagnitude(settings).run(ctx)
    assert again.changed == fresh.changed and again.label_after == fresh.label_after
    assert fresh.queries > 2 and again.queries <= 2  # only the 16-bit survival check may be new
