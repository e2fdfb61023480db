"""Attacks: what changes a clip. The Fourier attack (paper Algorithm 2), the STFT attack (Algorithm 3),
superposition (Table 2), and the baselines they are compared with, all under one goal, constraint and
budget (AttackSettings, attacks.goal). Causal analysis, which the causal attacks build on, is
`freqrex_bench.causal`.
"""

from ..causal import CausalDiscovery, CausalResult, CausalSettings, Subset
from ..strategy import Context, Strategy
from .base import AttackStrategy
from .baselines import Kenansville, LargestMagnitude, RandomFrequencies
from .boundary import BoundaryAttack
from .corruptions import Corruptions, CorruptionsResult
from .fourier import FourierAttack
from .goal import Goal, MinSNR, Misclassification, TargetedMisclassification
from .gradient import GradientAttack
from .hopskipjump import HopSkipJump
from .noise import WhiteNoise
from .run import Adversarial, AttackRun
from .settings import AttackSettings
from .stft import STFTAttack
from .superposition import Explained, Superposition, SuperpositionResult, SuperpositionRow, TargetContext

__all__ = [
    "Adversarial",
    "AttackRun",
    "AttackSettings",
    "AttackStrategy",
    "BoundaryAttack",
    "CausalDiscovery",
    "CausalResult",
    "CausalSettings",
    "Context",
    "Corruptions",
    "CorruptionsResult",
    "Explained",
    "FourierAttack",
    "Goal",
    "GradientAttack",
    "HopSkipJump",
    "Kenansville",
    "LargestMagnitude",
    "MinSNR",
    "Misclassification",
    "RandomFrequencies",
    "STFTAttack",
    "Strategy",
    "Subset",
    "Superposition",
    "SuperpositionResult",
    "SuperpositionRow",
    "TargetContext",
    "TargetedMisclassification",
    "WhiteNoise",
]
