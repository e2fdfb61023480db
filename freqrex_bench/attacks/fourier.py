"""Algorithm 2, the Fourier attack: alter the fewest top-ranked frequencies, then the weakest mutation.

With the strongest mutation the SNR constraint allows, find the smallest n such that mutating the n
top-ranked bins reaches the goal (n probed in batches by `search.first_size`, never one query per n);
then, n fixed, try every mutation of the ladder in one batch and keep the weakest that still works
(ties in strength: the one with the higher SNR). The causal attack ranks its candidate bins by
responsibility; the frequency baselines run the same engine on a random or loudest-first ranking.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..errors import QueryBudgetExceeded
from ..mutations import Mutation
from ..results import AttackResult
from ..spectrum import Spectrum
from ..status import Status
from .base import Context, strategy_key
from .causal import CausalDiscovery, CausalResult
from .goal import Attack, AttackSettings, Found
from .registry import Parameters, check_parameters, register
from .search import Condition, first_size

Candidates = Literal["sufficient", "necessary", "ranking"]


def snr_curve(spectrum: Spectrum, bins: np.ndarray, mutation: Mutation) -> np.ndarray:
    """SNR (dB) of mutating the first n of `bins`, for every n, from the spectrum alone (Parseval).

    The DC and (even-length) Nyquist bins are real in any real signal: irfft keeps only the real part
    of whatever a mutation makes of them, and they count once, the other bins twice.
    """
    coeffs = spectrum.coeffs[bins].astype(np.complex128)
    mutated = np.asarray(mutation.apply(coeffs, spectrum.hz[bins]), dtype=np.complex128)
    edge = (bins == 0) | ((bins == spectrum.n_bins - 1) & (spectrum.n_samples % 2 == 0))
    mutated[edge] = mutated[edge].real
    weights = np.where(edge, 1.0, 2.0) / spectrum.n_samples
    energy = np.cumsum(np.abs(mutated - coeffs) ** 2 * weights)
    power = float(np.sum(np.square(spectrum.signal.astype(np.float64))))
    with np.errstate(divide="ignore"):
        return 10 * np.log10(power / energy)


def _mutated(spectrum: Spectrum, bins: np.ndarray, mutation: Mutation) -> np.ndarray:
    mask = np.zeros(spectrum.n_bins, dtype=bool)
    mask[bins] = True
    return spectrum.mutate(mask, mutation)[0]


def frequency_attack(attack: Attack, ranked: np.ndarray) -> AttackResult:
    """Algorithm 2 on the bins in `ranked` (most promising first), under `attack.settings`."""
    ctx, settings = attack.ctx, attack.settings
    attack.details["candidates"] = int(ranked.size)
    limit = min(settings.max_frequencies, ranked.size)
    if (trivial := attack.trivial()) is not None:
        return trivial
    if limit == 0:
        return attack.failed(Status.NOTHING_TO_ALTER, "no frequencies to alter")
    bins, ladder = ranked[:limit], settings.mutations
    snr = np.stack([snr_curve(ctx.spectrum, bins, m) for m in ladder])  # [steps, n]
    allowed = np.ones_like(snr, dtype=bool) if settings.min_snr_db is None else snr >= settings.min_snr_db
    # The strongest step the SNR floor allows at each n (steps run weakest to strongest), or -1.
    strongest = np.array([np.flatnonzero(column)[-1] if column.any() else -1 for column in allowed.T])
    reached: dict[int, bool] = {}

    def evaluate(sizes: list[int]) -> None:
        todo = [n for n in sizes if n not in reached and strongest[n - 1] >= 0]
        reached.update((n, False) for n in sizes if strongest[n - 1] < 0)
        if todo:
            signals = np.stack([_mutated(ctx.spectrum, bins[:n], ladder.steps[strongest[n - 1]]) for n in todo])
            reached.update(zip(todo, attack.goal.attempt(ctx, signals)))

    try:
        n = first_size(Condition(evaluate, reached.__getitem__), 1, limit, settings.grid_ratio,
                       settings.refine_points, settings.exact_below)
    except QueryBudgetExceeded:
        return attack.failed(Status.BUDGET, "the query budget ran out while searching n")
    if n is None:
        return attack.failed(Status.NO_FLIP, f"no flip within {limit} frequencies")
    steps = sorted((i for i in range(len(ladder)) if allowed[i, n - 1]),
                   key=lambda i: (ladder.steps[i].strength, -snr[i, n - 1]))
    signals = np.stack([_mutated(ctx.spectrum, bins[:n], ladder.steps[i]) for i in steps])
    try:
        chosen = steps[int(np.argmax(attack.goal.attempt(ctx, signals)))]
    except QueryBudgetExceeded:
        chosen = strongest[n - 1]
        attack.details["note"] = "the query budget ran out before the mutation was minimised"
    return attack.conclude(Found(signals[steps.index(chosen)], n, ladder.steps[chosen], bins[:n]))


def candidate_bins(causal: CausalResult, candidates: Candidates) -> np.ndarray:
    """The bins Algorithm 2 may alter, most responsible first: the sufficient set (the paper), the
    necessary set (which contains it, and whose removal flips the class by definition), or the whole
    responsibility ranking (ties by magnitude)."""
    if candidates == "ranking":
        return causal.ranking
    subset = causal.subsets.get(candidates)
    return np.empty(0, dtype=np.int64) if subset is None else subset.bins


class FourierParameters(Parameters):
    """Parameters of the Fourier attack (Algorithm 2)."""

    candidates: Candidates = Field(
        "sufficient", description="bins the attack may alter, most responsible first: the sufficient set (the paper), "
        "the necessary set, or the whole responsibility ranking",
    )


@register
class FourierAttack:
    """Algorithm 2 on the clip's causal frequencies (`candidates`, default the paper's sufficient set).

    Parameters (FourierParameters): `candidates`. Raises InvalidInputError for an unknown parameter or value.
    """

    name = "fourier"
    Parameters = FourierParameters

    def __init__(
        self, settings: AttackSettings | None = None, discovery: CausalDiscovery | None = None, **parameters: Any
    ) -> None:
        self.settings = settings or AttackSettings()
        self.discovery = discovery or CausalDiscovery()
        self.parameters = check_parameters(self.name, parameters)
        self.candidates: Candidates = self.parameters.candidates

    @property
    def key(self) -> str:
        return strategy_key(self.name, self.settings, self.candidates, self.discovery)

    def run(self, ctx: Context) -> AttackResult:
        causal = ctx.result_of(self.discovery)
        details: dict[str, Any] = {"candidate_set": self.candidates}
        attack = Attack(ctx, self.name, "frequencies", self.settings, causal.queries, details)
        return frequency_attack(attack, candidate_bins(causal, self.candidates))
