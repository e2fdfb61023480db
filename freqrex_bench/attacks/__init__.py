"""Strategies: causal discovery now; the Fourier and STFT attacks, superposition and baselines build on it."""

from .base import Context, Strategy
from .causal import CausalDiscovery, CausalResult, CausalSettings, Subset

__all__ = ["CausalDiscovery", "CausalResult", "CausalSettings", "Context", "Strategy", "Subset"]
