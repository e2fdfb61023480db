"""Frequency baselines for the causal attack: Algorithm 2's engine on a ranking that needs no causal
analysis, so the only difference from the causal attack is where the frequencies come from.

- RandomFrequencies: a seeded random ranking of all bins;
- LargestMagnitude: the bins ranked loudest first;
- Kenansville: the bins ranked quietest first (a published frequency-removal attack).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..strategy import Context, register
from .fourier import RankedFrequencyAttack
from .settings import AttackSettings


class _WholeSpectrumBaseline(RankedFrequencyAttack):
    """A ranking of every bin computed from the clip alone (no parameters of its own)."""

    def __init__(self, settings: AttackSettings | None = None, **parameters: Any) -> None:
        self._configure(settings or AttackSettings(), parameters)


@register
class RandomFrequencies(_WholeSpectrumBaseline):
    """Algorithm 2 on a seeded random ranking of all bins (a baseline, docs/design.md "Attacks"), drawn
    from `ctx.seed` (in a suite, the clip's own seed: strategy.clip_seed)."""

    name = "random-frequencies"

    def rank(self, ctx: Context, prepared: Any) -> np.ndarray:
        """int64 [M]: a permutation of every bin from numpy's default_rng([ctx.seed, 1]); `prepared` unused."""
        return np.random.default_rng([ctx.seed, 1]).permutation(ctx.spectrum.n_bins)


@register
class LargestMagnitude(_WholeSpectrumBaseline):
    """Algorithm 2 on the bins ranked loudest first (largest |X[k]|; ties by bin index): a baseline,
    docs/design.md "Attacks"."""

    name = "largest-magnitude"

    def rank(self, ctx: Context, prepared: Any) -> np.ndarray:
        """int64 [M]: every bin by decreasing magnitude |X[k]|, ties by bin index; `prepared` unused."""
        return np.argsort(-ctx.spectrum.magnitude, kind="stable")


@register
class Kenansville(_WholeSpectrumBaseline):
    """Kenansville (Abdullah et al., "Hear 'No Evil', See 'Kenansville'", IEEE S&P 2021; in armory): zero the
    quietest frequency components up to an SNR budget. Here it is Algorithm 2's engine on the bins ranked
    quietest first, under the same ladder, frequency budget, SNR floor and objective as every attack."""

    name = "kenansville"

    def rank(self, ctx: Context, prepared: Any) -> np.ndarray:
        """int64 [M]: every bin, quietest first (smallest |X[k]|; ties by bin index)."""
        return np.argsort(ctx.spectrum.magnitude, kind="stable")
