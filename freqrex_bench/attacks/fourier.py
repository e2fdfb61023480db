"""Algorithm 2, the Fourier attack: alter top-ranked frequencies with a mutation of the ladder.

Objective `fewest-frequencies` (the paper): with the strongest mutation the SNR constraint allows, find
the smallest n such that mutating the n top-ranked bins reaches the goal (n probed in batches, never one
query per n); then, n fixed, try every mutation of the ladder in one batch and keep the weakest that
still works (ties in strength: the one with the higher SNR). Objective `highest-snr` (the default): for
each mutation, weakest first, the smallest n that flips with it, searched only where it could beat the
best SNR found so far; the flip with the highest SNR wins, over the main order and any alternative
orders the attack offers (the causal attack: the discovery's further attack orders, then its explanation
order, then its signed orders twice: with each attenuation x s of the ladder weakening the evidence by s and
strengthening the counter-evidence by 2 - s (SignedAmplitude), then with each attenuation shaped by the
measured effect of each bin (attacks.shaped)). The causal attack takes its candidate bins
from the discovery (by default every bin in the method's attack orders); the frequency baselines run the
same engine (`RankedFrequencyAttack`) on another ranking.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..causal import CausalDiscovery, CausalResult
from ..errors import QueryBudgetExceeded
from ..metrics import snr_of_energy, spectral_change_energy
from ..mutations import Amplitude, Gains, Mutation, SignedAmplitude
from ..results import AttackResult
from ..spectrum import Spectrum
from ..status import Status
from ..strategy import Context, Parameters, register
from .base import AttackStrategy
from .run import Adversarial, AttackRun
from .settings import AttackSettings
from .shaped import ShapedStep, shaped_steps

Candidates = Literal["attack", "sufficient", "necessary", "ranking"]


def snr_curve(spectrum: Spectrum, bins: np.ndarray, mutation: Mutation) -> np.ndarray:
    """SNR (dB, float64 [n]) of mutating the first 1..n of `bins` (int [n]) with `mutation`, from the
    spectrum alone (Parseval, metrics.spectral_change_energy): no synthesis, no query."""
    coeffs = spectrum.coeffs[bins]
    mutated = np.asarray(mutation.apply(coeffs.astype(np.complex128), spectrum.hz[bins]), dtype=np.complex128)
    energy = spectral_change_energy(coeffs, mutated, bins, spectrum.n_bins, spectrum.n_samples)
    power = float(np.sum(np.square(spectrum.signal.astype(np.float64))))
    return np.asarray(snr_of_energy(power, energy))


def _mutated(spectrum: Spectrum, bins: np.ndarray, mutation: Mutation) -> np.ndarray:
    mask = np.zeros(spectrum.n_bins, dtype=bool)
    mask[bins] = True
    return spectrum.mutate(mask, mutation)[0]


Step = Mutation | ShapedStep
"""A step of the `highest-snr` search: a mutation of the ladder, or an attenuation shaped by effect."""

Search = tuple[np.ndarray, Sequence[Step]]
"""One order of bins (int [n], most promising first) and the steps (weakest first) tried on it."""


@dataclass(frozen=True)
class SignedOrders:
    """Orders of bins the `highest-snr` search walks with signed and with effect-shaped steps (ours, not the
    paper's): `orders` (each int64 [N], evidence and counter-evidence by the size of their effect per unit
    energy) and `effect` (float [M]), each bin's margin drop per unit energy, negative for counter-evidence
    (SignedAmplitude strengthens those bins; attacks.shaped)."""

    orders: tuple[np.ndarray, ...]
    effect: np.ndarray


def frequency_attack(run: AttackRun, ranked: np.ndarray, alternatives: Sequence[np.ndarray] = (),
                     signed: SignedOrders | None = None) -> AttackResult:
    """Algorithm 2 (paper §5) on the bins in `ranked` (int [N], most promising first), under
    `run.settings`: the smallest n <= max_frequencies with the strongest allowed mutation (l. 5-12, n
    probed in batches by run.smallest), then the weakest mutation that still works at that n (l. 13-19).
    With the `highest-snr` objective, the orders in `alternatives` (each int [N']) are searched too, then
    the `signed` orders with the ladder's attenuations made signed (SignedAmplitude), then shaped by each
    bin's effect (attacks.shaped: evidence weakened and counter-evidence strengthened in proportion to
    it), and the flip with the highest SNR
    over all of them wins (`details["order"]`: 0 for `ranked`, i for the i-th order after it);
    `fewest-frequencies` (the paper) uses `ranked` alone.

    Returns run.conclude(...) or run.failed(...) (Status.NOTHING_TO_ALTER, NO_FLIP). Raises
    QueryBudgetExceeded while searching n (AttackStrategy turns it into a BUDGET record); a budget that
    runs out while minimising the mutation keeps the strongest one, with a note (`highest-snr`: once a
    flip is found, the best so far, with a note; see _highest_snr). TargetError when the
    model fails.
    """
    ctx, settings = run.ctx, run.settings
    run.details["candidates"] = int(ranked.size)
    limit = min(settings.max_frequencies, ranked.size)
    if limit == 0:
        return run.failed(Status.NOTHING_TO_ALTER, "no frequencies to alter")
    bins, ladder = ranked[:limit], settings.mutations
    if settings.objective == "highest-snr":
        top = settings.max_frequencies
        searches: list[Search] = [(order[:top], ladder.steps) for order in (ranked, *alternatives)]
        if signed is not None:
            for signed_ladder in (signed_steps(ctx.spectrum, ladder.steps, signed.effect < 0),
                                  shaped_steps(ladder.steps, signed.effect)):
                searches += [(order[:top], signed_ladder) for order in signed.orders if signed_ladder]
        return _highest_snr(run, searches)
    snr = np.stack([snr_curve(ctx.spectrum, bins, m) for m in ladder])  # [steps, n]
    allowed = run.goal.constraint.allows_snr(snr)
    # The strongest step the SNR floor allows at each n (steps run weakest to strongest), or -1.
    strongest = np.array([np.flatnonzero(column)[-1] if column.any() else -1 for column in allowed.T])
    found = run.smallest(limit, lambda n: None if strongest[n - 1] < 0 else _mutated(
        ctx.spectrum, bins[:n], ladder.steps[strongest[n - 1]]),
        lambda n: ctx.spectrum.alias(bins[:n], ladder.steps[strongest[n - 1]]))
    if found is None:
        return run.failed(Status.NO_FLIP, f"no flip within {limit} frequencies")
    n = found[0]
    steps = sorted((i for i in range(len(ladder)) if allowed[i, n - 1]),
                   key=lambda i: (ladder.steps[i].strength, -snr[i, n - 1]))
    signals = np.stack([_mutated(ctx.spectrum, bins[:n], ladder.steps[i]) for i in steps])
    try:
        aliases = [ctx.spectrum.alias(bins[:n], ladder.steps[i]) for i in steps]
        chosen = steps[int(np.argmax(run.goal.attempt(ctx, signals, aliases)))]
    except QueryBudgetExceeded:
        chosen = strongest[n - 1]
        run.details["note"] = "the query budget ran out before the mutation was minimised"
    return run.conclude(Adversarial(signals[steps.index(chosen)], n, ladder.steps[chosen], bins[:n]))


def signed_steps(spectrum: Spectrum, ladder: Sequence[Mutation], opposing: np.ndarray) -> tuple[Mutation, ...]:
    """The ladder's attenuations (Amplitude x s, 0 <= s < 1), in ladder order, as SignedAmplitude(s) that
    strengthens the `opposing` bins (bool [M]) by 2 - s; empty when no bin opposes or no step attenuates."""
    if not opposing.any():
        return ()
    amplified = tuple(spectrum.hz[opposing].tolist())
    return tuple(SignedAmplitude(step.scale, amplified) for step in ladder
                 if isinstance(step, Amplitude) and step.scale < 1)


Best = tuple[float, int, int, np.ndarray, Mutation]
"""The best flip so far: (SNR in dB, search index, n, float32 [T] signal, the mutation of its n bins)."""

CHECK_QUERIES = 2
"""Queries kept back for AttackRun.conclude (the found signal, its 16-bit copy) while the search goes on
with a flip already in hand, so looking for a quieter one can never cost the flip its check."""


def _highest_snr(run: AttackRun, searches: list[Search]) -> AttackResult:
    """The `highest-snr` objective: of the flips within the frequency budget, the one with the highest SNR.

    For each search (an order of bins, the first the main one, and its steps: mutations of the ladder, or
    attenuations shaped by effect, whose mutation depends on n) and each step, weakest first, the smallest
    n whose mutation of the order's top-n bins reaches the goal (batched search), looking only at the n
    where that step would beat the best SNR found so far in any order (every step's SNR at each n is known
    from the spectrum; for a ladder mutation it falls as n grows, so that is a prefix of sizes). A search
    equal to an earlier one is skipped; once a flip is in hand, CHECK_QUERIES of the oracle's budget are
    held back for the final check.
    `details["tried"]` records each step's n (or None) in the main order, `details["tried_alternatives"]`
    the same for the others (empty when skipped), `details["order"]` the search of the flip kept (0: main),
    `details["amplified"]` how many of its bins a signed or shaped step strengthened. A budget that runs out after a
    flip was found keeps the best flip, with a note; before any flip, it raises QueryBudgetExceeded.
    Searching several orders is ours, not the paper's (docs/design.md).
    """
    best: Best | None = None
    tried: list[dict[str, int | None]] = []
    for o, (bins, steps) in enumerate(searches):
        tried.append({})
        if any(np.array_equal(bins, earlier) and steps is earlier_steps for earlier, earlier_steps in searches[:o]):
            continue
        best, exhausted = _search_order(run, o, bins, steps, best, tried[o])
        if exhausted:
            break
    run.details["tried"] = tried[0]
    if len(searches) > 1:
        run.details["tried_alternatives"] = tried[1:]
    if best is None:
        return run.failed(Status.NO_FLIP, f"no flip within {searches[0][0].size} frequencies")
    _, o, n, signal, mutation = best
    bins = searches[o][0][:n]
    run.details["order"] = o
    if isinstance(mutation, SignedAmplitude):  # the strengthened frequencies among the n altered
        hz = run.ctx.spectrum.hz[bins]
        mutation = SignedAmplitude(mutation.scale, tuple(hz[np.isin(hz, mutation.amplified_hz)].tolist()))
        run.details["amplified"] = len(mutation.amplified_hz)
    if isinstance(mutation, Gains):
        run.details["amplified"] = sum(gain > 1 for gain in mutation.gains)
    return run.conclude(Adversarial(signal, n, mutation, bins))


def _step_name(step: Step) -> str:
    """How `tried` names a step: its words; a signed one as "signed " and its attenuation's (the list of
    strengthened frequencies is the clip's, not the step's)."""
    return f"signed {Amplitude(step.scale)}" if isinstance(step, SignedAmplitude) else str(step)


def _curve(step: Step, spectrum: Spectrum, bins: np.ndarray) -> tuple[np.ndarray, Callable[[int], Mutation]]:
    """The SNR (dB, float64 [N]) of `step` on the top 1..N of `bins` (int [N]), and n -> the mutation it makes
    of the top n: a ladder mutation itself, a shaped step its Gains for those n bins (its fractions computed
    once for both)."""
    if not isinstance(step, ShapedStep):
        return snr_curve(spectrum, bins, step), lambda n: step
    depths = step.depths(spectrum, bins)
    return step.snr(spectrum, bins, depths), lambda n: step.gains(spectrum, bins[:n], depths[n - 1, :n])


def _search_order(run: AttackRun, o: int, bins: np.ndarray, steps: Sequence[Step], best: Best | None,
                  tried: dict[str, int | None]) -> tuple[Best | None, bool]:
    """One search of `_highest_snr`: every step of `steps` (weakest first) on `bins` (int [n], search index
    `o`), filling `tried`. Returns (the best flip so far, whether the budget ran out); raises
    QueryBudgetExceeded when it runs out before any flip was found."""
    ctx = run.ctx
    curves = [_curve(step, ctx.spectrum, bins) for step in steps]
    snr = np.stack([curve for curve, _ in curves])  # [steps, n]
    allowed = run.goal.constraint.allows_snr(snr)
    for i, step in enumerate(steps):
        useful = allowed[i] & (snr[i] > (best[0] if best is not None else -np.inf))
        limit = int(np.flatnonzero(useful)[-1]) + 1 if useful.any() else 0
        if limit == 0:
            tried[_step_name(step)] = None
            continue

        at = curves[i][1]

        def candidate(n: int, at: Callable[[int], Mutation] = at, useful: np.ndarray = useful) -> np.ndarray | None:
            return _mutated(ctx.spectrum, bins[:n], at(n)) if useful[n - 1] else None

        def alias(n: int, at: Callable[[int], Mutation] = at) -> bytes | None:
            return ctx.spectrum.alias(bins[:n], at(n))

        try:
            with ctx.oracle.holding_back(CHECK_QUERIES if best is not None else 0):
                found = run.smallest(limit, candidate, alias)
        except QueryBudgetExceeded:
            if best is None:
                raise
            run.details["note"] = "the query budget ran out before every ladder step was searched"
            return best, True
        tried[_step_name(step)] = None if found is None else found[0]
        if found is not None and (best is None or snr[i, found[0] - 1] > best[0]):
            best = (float(snr[i, found[0] - 1]), o, found[0], found[1], at(found[0]))
    return best, False


class RankedFrequencyAttack(AttackStrategy):
    """Algorithm 2 (paper §5) on a ranking of bins: subclasses say which bins, most promising first (`rank`);
    `changed` counts frequencies (rfft bins)."""

    unit = "frequencies"

    @abstractmethod
    def rank(self, ctx: Context, prepared: Any) -> np.ndarray:
        """The bins the attack may alter (int [N]), most promising first."""

    def search(self, run: AttackRun, prepared: Any) -> AttackResult:
        """frequency_attack on `rank(run.ctx, prepared)` (and `alternatives(prepared)`, `signed(prepared)`);
        raises QueryBudgetExceeded as it does."""
        return frequency_attack(run, self.rank(run.ctx, prepared), self.alternatives(prepared), self.signed(prepared))

    def alternatives(self, prepared: Any) -> tuple[np.ndarray, ...]:
        """Further orders of bins the `highest-snr` objective also searches (each int [N]; ours, not the
        paper's); none here."""
        return ()

    def signed(self, prepared: Any) -> SignedOrders | None:
        """Orders the `highest-snr` objective searches last with signed steps and with steps shaped by each
        bin's measured effect, and those effects (ours, not the paper's); none here: a ranking without causes
        measures no effect."""
        return None

    def query_estimate(self) -> int:
        """About 40 model queries per clip: a dozen grid sizes, a few refinement rounds, the ladder, and the
        final check."""
        return 40


def candidate_bins(causal: CausalResult, candidates: Candidates) -> np.ndarray:
    """The bins Algorithm 2 may alter (int64 [N]), most promising first (paper Alg. 2 l. 1): `attack`, every
    bin in the discovery method's attack order (CausalResult.attack_ranking); the sufficient set (the
    paper); the necessary set (which contains it, and whose removal flips the class by definition); or
    `ranking`, every bin in the explanation order. Empty if the set was not found."""
    if candidates == "attack":
        return causal.attack_ranking
    if candidates == "ranking":
        return causal.ranking
    subset = causal.subsets.get(candidates)
    return np.empty(0, dtype=np.int64) if subset is None else subset.bins


class FourierParameters(Parameters):
    """Parameters of the Fourier attack (Algorithm 2): `candidates`, which causal bins it may alter. Bad
    values raise InvalidInputError through the strategy or the suite."""

    candidates: Candidates = Field(
        "attack", description="bins the attack may alter, most promising first: the discovery method's attack "
        "ranking of every bin (the default; freqrex-ns: drop per unit energy, with highest-snr also its "
        "alternative, finest bands first, the explanation order, and two signed orders whose steps weaken the "
        "evidence and strengthen the counter-evidence, uniformly and then in proportion to each bin's effect), "
        "the sufficient set (the paper), the necessary set, "
        "or the whole explanation ranking",
    )


@register
class FourierAttack(RankedFrequencyAttack):
    """Algorithm 2 (paper §5) on the clip's causal frequencies (`candidates`, default `attack`: every bin in
    the discovery method's attack order; `sufficient` is the paper's choice), after causal discovery on
    the same clip (computed once per clip through the context). With `candidates: attack` and the
    `highest-snr` objective it also searches the discovery's other attack orders (`alternatives`, `signed`).

    Parameters (FourierParameters): `candidates`. Raises InvalidInputError for an unknown parameter or value.
    """

    name = "fourier"
    Parameters = FourierParameters
    requires = {"discovery": "causal"}
    parameters: FourierParameters

    def __init__(
        self, settings: AttackSettings | None = None, discovery: CausalDiscovery | None = None, **parameters: Any
    ) -> None:
        self.discovery = discovery or CausalDiscovery()
        self._configure(settings or AttackSettings(), parameters)

    @property
    def candidates(self) -> Candidates:
        """Which causal bins the attack may alter."""
        return self.parameters.candidates

    def prepare(self, ctx: Context) -> tuple[int, dict[str, Any], CausalResult]:
        """Causal discovery's result on the clip (paper Alg. 1, run once through `ctx`), which gives
        Algorithm 2 its F and R: (its model queries, {"candidate_set"}, the CausalResult). Raises
        TargetError when the model fails."""
        causal = ctx.result_of(self.discovery)
        return causal.queries, {"candidate_set": self.candidates}, causal

    def rank(self, ctx: Context, prepared: CausalResult) -> np.ndarray:
        """int64 [N]: the `candidates` bins of the causal result, most responsible first (candidate_bins)."""
        return candidate_bins(prepared, self.candidates)

    def alternatives(self, prepared: CausalResult) -> tuple[np.ndarray, ...]:
        """With `candidates: attack`, the discovery's further attack orders (CausalResult.attack_alternatives:
        freqrex-ns and occlusion, the finest bands first), then its explanation order (CausalResult.ranking:
        freqrex-ns, the pruned sufficient set, then evidence x magnitude), each int64 [M]; ours, not the
        paper's. None for the other candidates. Why the explanation order: where the decision rests on
        loud content (silero-vad: speech energy), the per-unit-energy attack orders put it last and flip
        little within the frequency budget, while the explanation order, whose deletion curve falls
        soonest, reaches it (docs/design.md, "Attacks")."""
        if self.candidates != "attack":
            return ()
        return (*prepared.attack_alternatives, prepared.ranking)

    def signed(self, prepared: CausalResult) -> SignedOrders | None:
        """With `candidates: attack`, the discovery's signed orders (CausalResult.signed_alternatives:
        freqrex-ns and occlusion, evidence and counter-evidence by |drop| per unit energy) and each bin's
        effect (CausalResult.effect); None for the other candidates or when the method measures no effect.
        Why: a bin whose removal raised the class margin lowers it when strengthened, as evidence does when
        weakened, and to first order a change spread over the bins in proportion to their effect per unit
        energy moves the margin most for its energy; loudness can tell neither the size nor the sign of an
        effect. Neither the uniform signed steps nor the shaped ones win on every model, so both are
        searched (attacks.shaped, docs/design.md, "Attacks")."""
        if self.candidates != "attack" or prepared.effect is None or not prepared.signed_alternatives:
            return None
        return SignedOrders(prepared.signed_alternatives, prepared.effect)

    def query_estimate(self) -> int:
        """Seven times the engine's estimate when the `highest-snr` objective also searches the discovery's
        alternative order, its explanation order and its two signed orders twice (`candidates: attack`),
        else the engine's."""
        estimate = super().query_estimate()
        searches_seven = self.candidates == "attack" and self.settings.objective == "highest-snr"
        return 7 * estimate if searches_seven else estimate
