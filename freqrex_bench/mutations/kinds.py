"""Mutations of complex coefficients (Fourier bins or STFT cells) and the strength that orders them.

Each mutation maps `coeffs` at frequencies `hz` to new coefficients, elementwise, so it applies the
same way to a clip's rfft bins and to STFT cells. They are the ordered mutations Δ of paper §5, Alg. 2
("a series of amplitude scalars, or delay durations"). Strengths follow docs/design.md: Amplitude |log scale|
(removal, scale 0, is the strongest), SignedAmplitude as its scale's Amplitude, Phase the angle turned
(wrapped to [0, pi], so Phase(2 pi) is the identity with strength 0), Delay |seconds|, Compose the sum of
its parts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidInputError


@runtime_checkable
class Mutation(Protocol):
    """Something that edits complex coefficients given their frequencies, with a comparable strength."""

    @property
    def strength(self) -> float:
        """The number a Ladder sorts by (larger = stronger; inf for removal)."""
        ...

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """Complex [...] coefficients at frequencies `hz` (float, Hz, broadcastable) -> the edited complex
        coefficients, same shape, elementwise."""
        ...


@dataclass(frozen=True)
class Amplitude:
    """Scale the selected coefficients by `scale` (>= 0): 0 removes them, 0.5 halves them, 2 doubles them
    (the paper's amplitude shift, §6.1). Raises InvalidInputError for a negative or non-finite scale."""

    scale: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.scale) or self.scale < 0:
            raise InvalidInputError(f"amplitude scale must be a finite number >= 0, got {self.scale!r}")

    @property
    def strength(self) -> float:
        """|ln scale|: 0 for the identity (scale 1), inf for removal (scale 0), the strongest."""
        return math.inf if self.scale == 0 else abs(math.log(self.scale))

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """`coeffs` (complex, any shape) times `scale` (as float32), same shape; `hz` is unused."""
        return coeffs * np.float32(self.scale)

    def __str__(self) -> str:
        return "removal" if self.scale == 0 else f"amplitude x{self.scale:g}"


@dataclass(frozen=True)
class SignedAmplitude:
    """Attenuate the selected coefficients by `scale` (0 <= scale < 1), except those at the frequencies
    `amplified_hz` (Hz, exactly as the spectrum gives them), which are amplified by 2 - scale: each
    coefficient changes by the same fraction |1 - scale| of itself, so the change energy is what
    attenuating them all would cost. Ours, not the paper's: the causal Fourier attack weakens the evidence
    for the class and strengthens the counter-evidence (bins whose removal raised the class margin)
    together (docs/design.md, "Attacks"). Raises InvalidInputError for a scale outside [0, 1) or a
    non-finite frequency."""

    scale: float
    amplified_hz: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and 0 <= self.scale < 1):
            raise InvalidInputError(f"a signed amplitude's scale must be in [0, 1), got {self.scale!r}")
        amplified = tuple(float(hz) for hz in self.amplified_hz)
        if not all(math.isfinite(hz) for hz in amplified):
            raise InvalidInputError(f"amplified frequencies must be finite numbers of Hz, got {self.amplified_hz!r}")
        object.__setattr__(self, "amplified_hz", amplified)

    @property
    def strength(self) -> float:
        """As Amplitude(scale): |ln scale|, inf for scale 0."""
        return Amplitude(self.scale).strength

    @cached_property
    def _sorted_hz(self) -> np.ndarray:
        """`amplified_hz` as a sorted float64 array, built once: every candidate of an attack's search applies
        the mutation to the whole spectrum, and a tuple of 10^5 frequencies is slow to convert each time."""
        return np.unique(np.asarray(self.amplified_hz, dtype=np.float64))

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """`coeffs` (complex, any shape) times 2 - scale where `hz` (Hz, broadcast against them) is one of
        `amplified_hz`, else times scale (as float32); same shape."""
        hz, amplified = np.asarray(hz, dtype=np.float64), self._sorted_hz
        if amplified.size == 0:
            return coeffs * np.float32(self.scale)
        at = np.minimum(np.searchsorted(amplified, hz), amplified.size - 1)
        factor = np.where(amplified[at] == hz, 2 - self.scale, self.scale)
        return coeffs * factor.astype(np.float32)

    def __str__(self) -> str:
        weakened = "removal" if self.scale == 0 else f"amplitude x{self.scale:g}"
        return f"{weakened}, x{2 - self.scale:g} at {len(self.amplified_hz)} counter-evidence frequencies"


@dataclass(frozen=True)
class Gains:
    """Scale the coefficients at each frequency of `hz` (Hz, exactly as the spectrum gives them) by its own
    gain in `gains` (>= 0); other frequencies are left as they are. `scale` is the uniform attenuation of
    the ladder it stands for (same change energy before the gains are clipped to [0, 2]) and gives its
    strength. Ours, not the paper's: the causal Fourier attack shapes each bin's change by the measured
    effect of its band per unit energy, the allocation of change energy that lowers a linear margin most
    (docs/design.md, "Attacks"). Raises InvalidInputError for a scale outside [0, 1), gains and
    frequencies of different lengths, or a negative or non-finite gain or frequency."""

    scale: float
    hz: tuple[float, ...]
    gains: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and 0 <= self.scale < 1):
            raise InvalidInputError(f"a gains mutation's scale must be in [0, 1), got {self.scale!r}")
        hz, gains = tuple(float(f) for f in self.hz), tuple(float(g) for g in self.gains)
        if len(hz) != len(gains):
            raise InvalidInputError(f"gains needs one gain per frequency, got {len(gains)} gains for {len(hz)} Hz")
        if not all(math.isfinite(f) for f in hz) or not all(math.isfinite(g) and g >= 0 for g in gains):
            raise InvalidInputError("gains and their frequencies must be finite numbers, the gains >= 0")
        object.__setattr__(self, "hz", hz)
        object.__setattr__(self, "gains", gains)

    @property
    def strength(self) -> float:
        """As Amplitude(scale): |ln scale|, inf for scale 0."""
        return Amplitude(self.scale).strength

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        hz = np.asarray(self.hz, dtype=np.float64)
        order = np.argsort(hz, kind="stable")
        return hz[order], np.asarray(self.gains, dtype=np.float64)[order]

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """`coeffs` (complex, any shape) times the gain of their frequency `hz` (Hz, broadcast against them),
        1 where it has none (as float32); same shape."""
        table, gains = self._table
        hz = np.asarray(hz, dtype=np.float64)
        if table.size == 0:
            return coeffs * np.float32(1)
        at = np.minimum(np.searchsorted(table, hz), table.size - 1)
        factor = np.where(table[at] == hz, gains[at], 1.0)
        return coeffs * factor.astype(np.float32)

    def __str__(self) -> str:
        low, high = (min(self.gains), max(self.gains)) if self.gains else (1.0, 1.0)
        return (f"x{low:.2g} to x{high:.2g} at {len(self.hz)} frequencies, shaped by effect (no more change "
                f"than amplitude x{self.scale:g})")


@dataclass(frozen=True)
class Phase:
    """Rotate the selected coefficients' phase by `radians` (the paper's phase alteration, §1). Raises
    InvalidInputError for a non-finite angle."""

    radians: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.radians):
            raise InvalidInputError(f"phase must be a finite number of radians, got {self.radians!r}")

    @property
    def strength(self) -> float:
        """The angle turned, wrapped to [0, pi] radians (Phase(2 pi) has strength 0)."""
        return abs(math.remainder(self.radians, 2 * math.pi))

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """`coeffs` (complex, any shape) times exp(i radians) (as complex64), same shape; `hz` is unused."""
        return coeffs * np.complex64(np.exp(1j * self.radians))

    def __str__(self) -> str:
        return f"phase {self.radians:+g} rad"


@dataclass(frozen=True)
class Delay:
    """Delay the selected components by `seconds` (tau; negative advances): bin k is multiplied by
    exp(-2 pi i f_k tau), f_k in Hz (the shift theorem). Raises InvalidInputError for a non-finite delay."""

    seconds: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.seconds):
            raise InvalidInputError(f"delay must be a finite number of seconds, got {self.seconds!r}")

    @property
    def strength(self) -> float:
        """|seconds|."""
        return abs(self.seconds)

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """`coeffs` (complex) times exp(-2 pi i hz seconds) (complex64), `hz` in Hz broadcast against them."""
        return coeffs * np.exp(-2j * np.pi * np.asarray(hz) * self.seconds).astype(np.complex64)

    def __str__(self) -> str:
        return f"delay {1000 * self.seconds:+g} ms"


@dataclass(frozen=True)
class Compose:
    """Apply several mutations in order, e.g. Compose(Amplitude(0.5), Phase(1.57)). Raises
    InvalidInputError when given none."""

    parts: tuple[Mutation, ...]

    def __init__(self, *parts: Mutation) -> None:
        if not parts:
            raise InvalidInputError("Compose needs at least one mutation")
        object.__setattr__(self, "parts", tuple(parts))

    @property
    def strength(self) -> float:
        """The sum of the parts' strengths."""
        return sum(part.strength for part in self.parts)

    def apply(self, coeffs: np.ndarray, hz: np.ndarray) -> np.ndarray:
        """Each part's apply in turn on complex `coeffs` at `hz` (Hz); same shape."""
        for part in self.parts:
            coeffs = part.apply(coeffs, hz)
        return coeffs

    def __str__(self) -> str:
        return " then ".join(str(part) for part in self.parts)


_KINDS: dict[str, type[Amplitude] | type[Phase] | type[Delay]] = {
    "amplitude": Amplitude, "phase": Phase, "delay": Delay,
}
_FIELDS = {"amplitude": "scale", "phase": "radians", "delay": "seconds"}


def from_spec(spec: Mutation | Mapping[str, Any] | Sequence[Any]) -> Mutation:
    """Build a mutation from plain data: {amplitude: 0.5}, {phase: 1.57} (radians), {delay: 0.001}
    (seconds), {signed: {scale: 0.5, amplified_hz: [440.0]}} (SignedAmplitude), {gains: {scale: 0.9, hz:
    [440.0, 880.0], gains: [0.8, 1.1]}} (Gains), or a list of those
    (composed in order); a Mutation is returned as it is. A mapping with several keys composes them in the
    order written. Raises InvalidInputError for an unknown kind, a value that is not a number (or is out of
    range), or an empty mapping or list."""
    if isinstance(spec, Mutation):
        return spec
    if isinstance(spec, Mapping) and set(spec) == {"signed"}:
        return _signed(spec["signed"])
    if isinstance(spec, Mapping) and set(spec) == {"gains"}:
        return _gains(spec["gains"])
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(_KINDS)
        if unknown or not spec:
            raise InvalidInputError(
                f"a mutation is one of {sorted(_KINDS)} with a number, signed with {{scale, amplified_hz}} or gains "
                f"with {{scale, hz, gains}}, got {dict(spec)!r}"
            )
        parts: list[Mutation] = [_KINDS[kind](_number(kind, value)) for kind, value in spec.items()]
        return parts[0] if len(parts) == 1 else Compose(*parts)
    if isinstance(spec, Sequence) and not isinstance(spec, str) and spec:
        return Compose(*(from_spec(item) for item in spec))
    raise InvalidInputError(f"a mutation is a mapping such as {{amplitude: 0.5}} or a list of them, got {spec!r}")


def to_spec(mutation: Mutation) -> Any:
    """The plain-data form of a mutation (inverse of from_spec), for results files: {kind: float} or a list
    of them for Compose. Raises InvalidInputError for a Mutation that is not one of this module's kinds."""
    if isinstance(mutation, Compose):
        return [to_spec(part) for part in mutation.parts]
    if isinstance(mutation, SignedAmplitude):
        return {"signed": {"scale": float(mutation.scale), "amplified_hz": list(mutation.amplified_hz)}}
    if isinstance(mutation, Gains):
        return {"gains": {"scale": float(mutation.scale), "hz": list(mutation.hz), "gains": list(mutation.gains)}}
    for kind, cls in _KINDS.items():
        if isinstance(mutation, cls):
            return {kind: float(getattr(mutation, _FIELDS[kind]))}
    raise InvalidInputError(f"no plain-data form for {mutation!r}")


def _signed(value: Any) -> SignedAmplitude:
    """SignedAmplitude from {scale: number, amplified_hz: [numbers]}; InvalidInputError otherwise."""
    if not isinstance(value, Mapping) or set(value) != {"scale", "amplified_hz"}:
        raise InvalidInputError(f"a signed mutation is {{scale: number, amplified_hz: [Hz, ...]}}, got {value!r}")
    amplified = value["amplified_hz"]
    if isinstance(amplified, str) or not isinstance(amplified, Sequence):
        raise InvalidInputError(f"amplified_hz must be a list of numbers of Hz, got {amplified!r}")
    return SignedAmplitude(_number("signed scale", value["scale"]),
                           tuple(_number("amplified_hz", hz) for hz in amplified))


def _gains(value: Any) -> Gains:
    """Gains from {scale: number, hz: [numbers], gains: [numbers]}; InvalidInputError otherwise."""
    if not isinstance(value, Mapping) or set(value) != {"scale", "hz", "gains"}:
        raise InvalidInputError(f"a gains mutation is {{scale: number, hz: [Hz, ...], gains: [...]}}, got {value!r}")
    lists = [value[key] for key in ("hz", "gains")]
    if any(isinstance(item, str) or not isinstance(item, Sequence) for item in lists):
        raise InvalidInputError(f"hz and gains must be lists of numbers, got {lists!r}")
    return Gains(_number("gains scale", value["scale"]), tuple(_number("hz", f) for f in lists[0]),
                 tuple(_number("gain", g) for g in lists[1]))


def _number(kind: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{kind} needs a number, got {value!r}")
    return float(value)


def describe(spec: Mutation | Mapping[str, Any] | Sequence[Any] | None) -> str:
    """A mutation (object or recorded plain data) in words, the one rendering reports and logs use:
    "removal", "amplitude x0.5", "phase +1.57 rad", "delay +1 ms", parts joined by "then"; an en dash for
    None. Raises InvalidInputError for plain data from_spec refuses."""
    return "\u2013" if spec is None else str(from_spec(spec))
