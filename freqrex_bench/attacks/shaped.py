"""Effect-shaped attenuation: a ladder step whose change is spread over the bins by their measured effect.

Ours, not the paper's. Causal discovery's occlusion measures, for each band it removed, the drop in the class
margin per unit of the band's energy (`CausalResult.effect`, float [M]: each bin's finest band's; negative for
counter-evidence, bins whose removal raised the margin). To first order, changing bin k by the fraction t_k of
itself (gain 1 - t_k) lowers the margin by sum_k t_k effect_k E_k at a change energy of sum_k t_k^2 E_k (E_k the
bin's energy, Parseval). For a given margin drop the change energy is least with t_k proportional to effect_k
(Lagrange; DeepFool's minimal L2 step across a linearised boundary, Moosavi-Dezfooli et al. 2016, in the
space of bin gains, with the occlusion's finite differences standing in for the gradient). A ShapedStep puts
the change energy of one of the ladder's attenuations there: on the top n bins of an order, t_k =
clip(lambda_n effect_k, -1, 1), lambda_n chosen so that before clipping sum t_k^2 E_k = (1 - scale)^2 sum E_k,
what attenuating all n by `scale` costs. The more effect a bin carries per unit energy, the more it is weakened
(evidence, gain down to 0) or strengthened (counter-evidence, gain up to 2); bins without a measured effect are
left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..causal.rankings import bin_energy
from ..metrics import snr_of_energy
from ..mutations import Amplitude, Gains, Mutation
from ..spectrum import Spectrum


@dataclass(frozen=True, eq=False)
class ShapedStep:
    """The ladder's attenuation x `scale` (0 < scale < 1) shaped by `effect` (float [M], margin drop per unit
    energy of each bin's band; see the module docstring). A step of the `highest-snr` search: its mutation
    depends on how many of the order's bins it alters (`gains`). Compared by identity (it holds an array)."""

    scale: float
    effect: np.ndarray

    def depths(self, spectrum: Spectrum, bins: np.ndarray) -> np.ndarray:
        """float64 [n, n] for `bins` (int [n], an order's top bins): row i holds the fractions t of bins[:i + 1]
        (zeros after them); a row is nan where those bins carry no measured effect (no step exists)."""
        effect = self.effect[bins]
        energy = bin_energy(spectrum)[bins]
        spread = np.cumsum(effect * effect * energy)
        with np.errstate(divide="ignore", invalid="ignore"):  # rows without effect: made nan below
            lam = (1 - self.scale) * np.sqrt(np.cumsum(energy) / spread)
            t = np.where(np.tri(bins.size, dtype=bool), np.clip(lam[:, None] * effect[None, :], -1.0, 1.0), 0.0)
        t[spread <= 0] = np.nan
        return t

    def snr(self, spectrum: Spectrum, bins: np.ndarray, depths: np.ndarray | None = None) -> np.ndarray:
        """SNR (dB, float64 [n]) of the step on the top 1..n of `bins` (int [n]), from the spectrum alone
        (Parseval, as attacks.fourier.snr_curve); -inf where no step exists. `depths`: `depths(spectrum,
        bins)` if already computed."""
        t = self.depths(spectrum, bins) if depths is None else depths
        change = np.sum(np.nan_to_num(t) ** 2 * bin_energy(spectrum)[bins][None, :], axis=1)
        power = float(np.sum(np.square(spectrum.signal.astype(np.float64))))
        snr = np.asarray(snr_of_energy(power, change), dtype=np.float64).reshape(-1)
        return np.where(np.isnan(t).any(axis=1), -np.inf, snr)

    def gains(self, spectrum: Spectrum, bins: np.ndarray, depths: np.ndarray) -> Gains:
        """The mutation of the step on `bins` (int [n]) with the fractions `depths` (float [n], a row of
        `depths(...)`): Gains(scale, their Hz, 1 - depths)."""
        return Gains(self.scale, tuple(spectrum.hz[bins].tolist()), tuple((1.0 - depths).tolist()))

    def __str__(self) -> str:
        return f"shaped {Amplitude(self.scale)}"


def shaped_steps(ladder: Sequence[Mutation], effect: np.ndarray) -> tuple[ShapedStep, ...]:
    """The ladder's attenuations (Amplitude x s, 0 < s < 1), in ladder order, as ShapedSteps by `effect`
    (float [M]); empty when no bin has a measured effect. Removal stays removal: its change is already
    every bin's whole self."""
    if not np.any(effect != 0):
        return ()
    return tuple(ShapedStep(step.scale, effect) for step in ladder
                 if isinstance(step, Amplitude) and 0 < step.scale < 1)
