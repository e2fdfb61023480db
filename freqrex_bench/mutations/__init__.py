"""Mutations of Fourier bins and STFT cells (Amplitude, SignedAmplitude, Gains, Phase, Delay, Compose) and the Ladder
of them."""

from .kinds import Amplitude, Compose, Delay, Gains, Mutation, Phase, SignedAmplitude, describe, from_spec, to_spec
from .ladder import Ladder, default_ladder

__all__ = [
    "Amplitude", "Compose", "Delay", "Gains", "Ladder", "Mutation", "Phase", "SignedAmplitude", "default_ladder",
    "describe", "from_spec", "to_spec",
]
