"""Mutations of Fourier bins and STFT cells (Amplitude, Phase, Delay, Compose) and the Ladder of them."""

from .kinds import Amplitude, Compose, Delay, Mutation, Phase, describe, from_spec, to_spec
from .ladder import Ladder, default_ladder

__all__ = [
    "Amplitude", "Compose", "Delay", "Ladder", "Mutation", "Phase", "default_ladder", "describe", "from_spec",
    "to_spec",
]
