"""What causal discovery learns about one clip's decision: the responsibility map, the three subsets,
and the inverse classification (paper Defs. 1-4), with the files it writes into a run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..files import write_wav
from ..serialization import jsonable
from ..status import Status

if TYPE_CHECKING:
    from ..data import Clip
    from ..store import RunFolder

# Equal Hz bands of the compact responsibility profile kept in every record.
PROFILE_BANDS = 128
SUBSETS = ("sufficient", "necessary", "complete")


@dataclass(frozen=True)
class Subset:
    """One extracted subset: `bins`, int64 [k] bin indices (most responsible first); `signal`, float32 [T],
    those bins kept alone; `label`, the model's top-1 index on that signal; and `score`, its probability
    for the clip's original class."""

    bins: np.ndarray
    signal: np.ndarray
    label: int
    score: float

    @property
    def size(self) -> int:
        """k, the number of bins in the subset."""
        return int(self.bins.size)


@dataclass
class CausalResult:
    """Everything causal discovery learnt about one clip's decision (paper Defs. 1-4); its fields are public API
    (README's quickstart reads them).

    `label` is the original top-1 index and `score` its probability; `hz` float64 [M] the bin frequencies in Hz;
    `responsibility` float64 [M] the per-bin values of the method's explanation (for `paper` and `freqrex-ns`: the
    mean of the iterations' normalised keep-side maps, summing to 1); `ranking` int64 [M] every bin, most
    responsible first, the order subsets are prefixes of; `attack_ranking` int64 [M] the order the attacks alter
    bins in (for `freqrex-ns`: the score-aware occlusion's drop per unit energy; otherwise the same as `ranking`),
    and `attack_alternatives` further orders (each int64 [M]) the `highest-snr` Fourier attack also searches
    (freqrex-ns, occlusion: the finest bands first; empty otherwise), before `ranking` itself. `ranking_lead` says
    which explanation order leads `ranking`: 0 the method's own, i > 0 its i-th alternative, whose sufficient prefix
    was smaller, or as small with a removal that collapses the decision sooner (subsets.lead_by_sufficiency;
    freqrex-ns only). `effect` float64 [M] (or None) is each bin's
    measured margin drop per unit energy (its finest occlusion band's; negative for counter-evidence, bins whose
    removal raised the class margin: `opposing`; 0 where none above float noise was measured), and
    `signed_alternatives` (each int64 [M]) are orders of evidence and counter-evidence together by the size of
    their effect, which the Fourier attack searches last with steps shaped by `effect` (freqrex-ns, occlusion;
    empty otherwise). `subsets` maps "sufficient", "necessary",
    "complete" to the Subset found. `inverse_label` and `inverse_score` are the decision on the clip without its
    necessary bins (paper §6, "Inversion"), else None. `queries` (model queries) and `seconds` cover the whole
    explain() call (including classifying the clip and silence); `responsibility_queries` and `extraction_queries`
    are the two phases; `emd` per iteration as in ResponsibilityMap. `stopped` is None, Status.BUDGET or
    Status.SILENCE_IS_CLASS; `settings` the CausalSettings used, as a dict.
    """

    label: int
    label_name: str
    score: float
    labels: list[str]
    sample_rate: int
    hz: np.ndarray
    responsibility: np.ndarray
    ranking: np.ndarray
    attack_ranking: np.ndarray
    subsets: dict[str, Subset]
    inverse_label: int | None
    inverse_score: float | None
    queries: int
    responsibility_queries: int
    extraction_queries: int
    iterations: int
    emd: list[float]
    converged: bool
    seconds: float
    model_seconds: float
    stopped: Status | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    attack_alternatives: tuple[np.ndarray, ...] = ()
    ranking_lead: int = 0
    signed_alternatives: tuple[np.ndarray, ...] = ()
    effect: np.ndarray | None = None

    @property
    def opposing(self) -> np.ndarray | None:
        """bool [M] (or None): the counter-evidence, bins whose removal raised the class margin (effect < 0)."""
        return None if self.effect is None else self.effect < 0

    def _bins(self, kind: str) -> np.ndarray | None:
        subset = self.subsets.get(kind)
        return None if subset is None else subset.bins

    @property
    def sufficient(self) -> np.ndarray | None:
        """int64 [k] bin indices of the sufficient subset (paper Def. 1), most responsible first, or None if
        not found."""
        return self._bins("sufficient")

    @property
    def necessary(self) -> np.ndarray | None:
        """int64 [k] bin indices of the necessary subset (paper Def. 3), or None if not found."""
        return self._bins("necessary")

    @property
    def complete(self) -> np.ndarray | None:
        """int64 [k] bin indices of the complete subset (paper Def. 4), or None if not found."""
        return self._bins("complete")

    @property
    def inverse_label_name(self) -> str | None:
        """The label name of the decision on the clip without its necessary bins (paper §6, "Inversion"),
        or None when there is no necessary set."""
        return None if self.inverse_label is None else self.labels[self.inverse_label]

    def score_shift(self, kind: str) -> float | None:
        """The subset's probability for the original class minus the original score (paper §6,
        "Completeness"), for `kind` "sufficient", "necessary" or "complete"; None if it was not found."""
        subset = self.subsets.get(kind)
        return None if subset is None else subset.score - self.score

    def fraction(self, kind: str) -> float | None:
        """Share of all M bins the subset needs, in [0, 1] (paper Table 1 shows it in %), for `kind`
        "sufficient", "necessary" or "complete"; None if it was not found."""
        subset = self.subsets.get(kind)
        return None if subset is None else subset.size / self.hz.size

    def signal_of(self, kind: str) -> np.ndarray | None:
        """The float32 [T] signal of subset `kind`'s bins kept alone (what the model hears), or None if it
        was not found."""
        subset = self.subsets.get(kind)
        return None if subset is None else subset.signal

    def to_dict(self, bands: int = PROFILE_BANDS) -> dict[str, Any]:
        """A strict-JSON record: the decision, each subset's size (bins), share, Hz span, label and score,
        the cost (queries, seconds), and `profile`: summed responsibility and subset bin counts over
        `bands` equal Hz bands up to Nyquist (lists of `bands` numbers), so class averages (paper Figs.
        2-3) can be drawn from records of clips of any length."""
        edges = np.linspace(0, self.sample_rate / 2, bands + 1)
        band = np.clip(np.searchsorted(edges, self.hz, side="right") - 1, 0, bands - 1)
        profile: dict[str, np.ndarray] = {
            "responsibility": np.bincount(band, self.responsibility, bands).astype(np.float32)}
        subsets = {}
        for kind, subset in self.subsets.items():
            hz = self.hz[subset.bins]
            profile[kind] = np.bincount(band[subset.bins], minlength=bands)
            subsets[kind] = {
                "size": subset.size, "fraction": self.fraction(kind), "label": self.labels[subset.label],
                "score": subset.score, "score_shift": self.score_shift(kind),
                "hz_min": float(hz.min()) if hz.size else None, "hz_max": float(hz.max()) if hz.size else None,
            }
        return jsonable({
            "label": self.label_name, "score": self.score, "n_bins": int(self.hz.size),
            "n_samples": round(float(self.sample_rate / self.hz[1])) if self.hz.size > 1 else 1,
            "sample_rate": self.sample_rate, "subsets": subsets, "inverse_label": self.inverse_label_name,
            "inverse_score": self.inverse_score, "queries": self.queries,
            "responsibility_queries": self.responsibility_queries, "extraction_queries": self.extraction_queries,
            "iterations": self.iterations, "converged": self.converged, "stopped": self.stopped,
            "ranking_lead": self.ranking_lead,
            "seconds": self.seconds, "model_seconds": self.model_seconds, "profile": profile,
        })

    def write_files(self, folder: RunFolder, target: str, clip_id: str, clip: Clip) -> dict[str, str]:
        """Write `explanations/<target>/<clip>.npz` (float32 [M] responsibility, each subset's int64 bin
        indices, and the exact float32 [T] sufficient signal for superposition) and 16-bit wavs of the
        original and of the sufficient and necessary signals under `signals/`; returns their paths
        relative to the run folder, keyed "explanation", "original", "sufficient", "necessary"."""
        npz = folder.file("explanations", target, clip_id, ".npz")
        arrays = {kind: subset.bins for kind, subset in self.subsets.items()}
        sufficient = self.signal_of("sufficient")
        if sufficient is not None:
            arrays["sufficient_signal"] = sufficient.astype(np.float32)
        arrays["responsibility"] = self.responsibility.astype(np.float32)
        np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
        files = {"explanation": folder.relative(npz)}
        for kind, signal in {"original": clip.signal, "sufficient": sufficient,
                             "necessary": self.signal_of("necessary")}.items():
            if signal is not None:
                wav = write_wav(folder.file("signals", target, f"{clip_id}-{kind}", ".wav"), signal, clip.sample_rate)
                files[kind] = folder.relative(wav)
        return files
