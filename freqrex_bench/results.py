"""The attack record: what one attack did to one clip, and the files it writes into a run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .files import safe_stem, save_adversarial
from .serialization import jsonable
from .status import Status

if TYPE_CHECKING:
    from .data import Clip
    from .store import RunFolder


@dataclass
class AttackResult:
    """One attack on one clip. `changed` counts what was altered, in `unit`s (frequencies, frames, noise
    draws, steps); `bins` are the altered rfft bin indices when the unit is frequencies or frames.

    `status` says how the attack ended (freqrex_bench.status.Status); `success` is
    `status is Status.SUCCESS`. `queries` are this strategy's own model queries; `prior_queries` those of
    the strategies it builds on (causal discovery, the Fourier attack), so comparisons with baselines can
    count the whole cost. `snr_db` (dB), `l2` and `linf` measure the change (None without a success).
    `adversarial` is the exact float32 [T] signal (None when the attack failed); it is written as .npy,
    not kept in JSON. `survives_pcm16` says whether the flip survives a 16-bit wav round trip (None when
    unknown, or when the clip's own 16-bit copy already changes the decision).
    """

    strategy: str
    success: bool
    status: Status
    queries: int
    prior_queries: int
    changed: int | None
    unit: str
    mutation: Any
    snr_db: float | None
    l2: float | None
    linf: float | None
    label_before: str
    score_before: float
    label_after: str | None
    score_after: float | None
    survives_pcm16: bool | None
    adversarial: np.ndarray | None = field(default=None, repr=False)
    bins: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the signal, as strict-JSON values (no NaN or inf: those become None)."""
        return jsonable({key: value for key, value in self.__dict__.items() if key != "adversarial"})

    def write_files(self, folder: RunFolder, target: str, clip_id: str, clip: Clip) -> dict[str, str]:
        """Write a successful attack's signal as `adversarial/<target>/<clip>-<strategy>.npy` (exact float32)
        and `.wav` (16-bit, for listening); returns their paths relative to the run folder ({} on failure)."""
        if not self.success or self.adversarial is None:
            return {}
        npy, wav = save_adversarial(self.adversarial, clip.sample_rate, folder.root / "adversarial" / safe_stem(target),
                                    f"{clip_id}-{self.strategy}")
        return {"adversarial": folder.relative(npy), "adversarial_wav": folder.relative(wav)}
