"""Strategies: causal discovery, the Fourier (Alg. 2) and STFT (Alg. 3) attacks, superposition and baselines.

Every per-clip strategy has `name` and `run(ctx) -> record`; a strategy that needs another's result
(STFT needs Fourier, Fourier needs causal) gets it through `ctx.result_of`, computed once per clip.
"""

from .base import Context, Strategy
from .baselines import GradientAttack, LargestMagnitude, RandomFrequencies, WhiteNoise
from .causal import CausalDiscovery, CausalResult, Subset
from .fourier import FourierAttack
from .goal import AttackSettings
from .settings import CausalSettings
from .stft import STFTAttack
from .superposition import Superposition, SuperpositionRow

__all__ = [
    "AttackSettings",
    "CausalDiscovery",
    "CausalResult",
    "CausalSettings",
    "Context",
    "FourierAttack",
    "GradientAttack",
    "LargestMagnitude",
    "RandomFrequencies",
    "STFTAttack",
    "Strategy",
    "Subset",
    "Superposition",
    "SuperpositionRow",
    "WhiteNoise",
]
