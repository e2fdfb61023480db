"""Mutations of Fourier bins and STFT cells (Amplitude, SignedAmplitude, Phase, Delay, Compose) and the Ladder
of them."""

from .kinds import Amplitude, Compose, Delay, Mutation, Phase, SignedAmplitude, describe, from_spec, to_spec
from .ladder import Ladder, default_ladder

__all__ = [
    "Amplitude", "Compose", "Delay", "Ladder", "Mutation", "Phase", "SignedAmplitude", "default_ladder", "describe",
    "from_spec", "to_spec",
]
