"""Rankings of a clip's Fourier bins, most important to the decision first: the causal ones and the
baselines they are measured against, all behind one signature so faithfulness curves and attacks can
compare them at an equal query budget.

Every ranker is `rank(problem, budget) -> Ranking`: `problem` is one clip's spectrum, oracle, decision
and seed; `budget` the model queries it may spend (it never spends more). The causal rankers:

- `paper`: the paper's responsibility (Alg. 1 l. 1-9; causal.responsibility): parts kept alone;
- `removal`: removal responsibility, the necessary side of Def. 3: the same partition refinement from
  the whole clip, removing combinations of parts; a part earns 1/k from the smallest minimal removal
  that changes the decision;
- `occlusion`: score-aware hierarchical occlusion: bands removed from the whole clip, each credited
  with the drop in the class margin it causes (the score every query returns, the paper's N_R), the
  bands with the largest drop per unit energy refined best-first;
- `freqrex-ns` (the default): the keep side (paper responsibility, its sufficient prefix pruned toward a
  minimal sufficient set) leads the explanation, the rest ordered by both sides' evidence times magnitude
  (or by keep responsibility, or loudness, when that gives a smaller sufficient prefix); the remove side
  (occlusion, drop per energy) orders what an attack alters: what is needed and sufficient, and what
  removing costs least for most effect.

Baselines: `loudest`, `quietest`, `random` (no queries), `sliding-band` (fixed bands removed one at a
time, ranked by the drop in the class score: Zeiler and Fergus 2014's occlusion over frequency) and
`freqrise` (score-weighted random keep masks over bands: RISE, Petsiuk et al. 2018, over frequency as
in FreqRISE, Brüsch et al. 2024).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..oracle import Oracle
from ..spectrum import Spectrum
from .responsibility import Mode, responsibility
from .settings import CausalSettings


@dataclass(frozen=True)
class Problem:
    """One clip's decision to rank bins for: its spectrum (M bins), the oracle, the decision (label index,
    its probability) and a seed for the random choices."""

    spectrum: Spectrum
    oracle: Oracle
    label: int
    score: float
    seed: int = 0
    settings: CausalSettings = field(default_factory=CausalSettings)


@dataclass(frozen=True)
class Ranking:
    """A ranking: `order` (int64 [M], every bin, most important first, what explanations and faithfulness
    curves use), per-bin `values` (float64 [M], for plots), the `attack_order` an attack alters bins in
    (int64 [M]; the same as `order` unless the method says otherwise), the `queries` it spent,
    method-specific `details`, `attack_alternatives`, further orders (each int64 [M]) an attack with
    the `highest-snr` objective also searches (occlusion: its finest bands first; ours, not the paper's),
    `explanation_alternatives`, further explanation orders (each int64 [M]) discovery also searches
    for a sufficient prefix, the smallest leading (subsets.lead_by_sufficiency; freqrex-ns: its second
    and third orders; ours, not the paper's), `signed_alternatives`, orders (each int64 [M]) of evidence
    and counter-evidence together by the size of their effect, and `effect` (float64 [M] or None), each
    bin's measured margin drop per unit energy, negative for counter-evidence (bins whose removal raised
    the class margin), 0 where none above float noise was measured; a `highest-snr` attack searches the
    signed orders with steps shaped by it (occlusion; ours, not the paper's: attacks.shaped), and
    `sufficient_hint`, the size of a prefix the ranker already found sufficient as a set, the same in
    `order` and every explanation alternative (freqrex-ns: its pruned S, which leads them all), which
    discovery's search for the sufficient prefix also probes beside its grid, in a second search whose
    smaller result is kept (subsets.first_sufficient; None: no such size; ours, not the paper's)."""

    order: np.ndarray
    values: np.ndarray
    queries: int
    attack_order: np.ndarray
    details: dict[str, object] = field(default_factory=dict)
    attack_alternatives: tuple[np.ndarray, ...] = ()
    explanation_alternatives: tuple[np.ndarray, ...] = ()
    signed_alternatives: tuple[np.ndarray, ...] = ()
    effect: np.ndarray | None = None
    sufficient_hint: int | None = None

    @property
    def hints(self) -> tuple[int, ...]:
        """The prefix sizes the sufficient search also probes: `sufficient_hint`, if any (subsets.first_sufficient)."""
        return () if self.sufficient_hint is None else (self.sufficient_hint,)

    @property
    def opposing(self) -> np.ndarray | None:
        """bool [M] (or None): the counter-evidence, bins whose removal raised the class margin (effect < 0)."""
        return None if self.effect is None else self.effect < 0


def margin(scores: np.ndarray, label: int) -> np.ndarray:
    """log P(label) - log max_{j != label} P(j) per row of [K, C] probabilities: a class score that does not
    saturate (positive exactly when `label` is the top-1 class). float64 [K]."""
    p = np.clip(np.asarray(scores, dtype=np.float64), 1e-30, 1.0)
    return np.log(p[:, label]) - np.log(np.delete(p, label, axis=1).max(axis=1))


def bin_energy(spectrum: Spectrum) -> np.ndarray:
    """The time-domain energy (sum of squared samples) each bin contributes, by Parseval: DC and an
    even-length Nyquist once, the others twice. float64 [M]."""
    weights = np.full(spectrum.n_bins, 2.0)
    weights[0] = 1.0
    if spectrum.n_samples % 2 == 0:
        weights[-1] = 1.0
    return weights * spectrum.magnitude.astype(np.float64) ** 2 / spectrum.n_samples


def by_value(spectrum: Spectrum, values: np.ndarray, quiet_first: bool = False) -> np.ndarray:
    """Bins by descending value; ties louder first (quieter first with `quiet_first`). int64 [M]."""
    loudness = spectrum.magnitude if not quiet_first else -spectrum.magnitude
    return np.lexsort((-loudness, -values))


def _fixed(order: np.ndarray, spectrum: Spectrum) -> Ranking:
    values = np.empty(spectrum.n_bins)
    values[order] = np.linspace(1, 0, spectrum.n_bins)
    return Ranking(order, values, 0, order)


def loudest(problem: Problem, budget: int) -> Ranking:
    """Loudest bins first (largest |X[k]|; ties by index): the baseline every causal ranking must beat."""
    return _fixed(np.argsort(-problem.spectrum.magnitude, kind="stable"), problem.spectrum)


def quietest(problem: Problem, budget: int) -> Ranking:
    """Quietest bins first (Kenansville's order: Abdullah et al. 2021 remove the weakest components)."""
    return _fixed(np.argsort(problem.spectrum.magnitude, kind="stable"), problem.spectrum)


def random(problem: Problem, budget: int) -> Ranking:
    """A seeded random order (the seed of the clip; the stream differs from the random attack's)."""
    return _fixed(np.random.default_rng([problem.seed, 3]).permutation(problem.spectrum.n_bins), problem.spectrum)


def _equal_bands(n_bins: int, bands: int) -> list[slice]:
    edges = np.linspace(0, n_bins, min(bands, n_bins) + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def sliding_band(problem: Problem, budget: int) -> Ranking:
    """Occlusion over frequency: min(128, budget - 1) equal bands, each removed from the clip alone (one
    batch); a bin's value is its band's drop in P(class). Spends one query per band (the clip is cached)."""
    spectrum = problem.spectrum
    bands = _equal_bands(spectrum.n_bins, max(1, min(128, budget - 1)))
    masks = np.zeros((len(bands), spectrum.n_bins), dtype=bool)
    for i, band in enumerate(bands):
        masks[i, band] = True
    before = problem.oracle.queries
    scores = problem.oracle.classify(spectrum.edits(masks, removed=[True] * len(masks))).scores[:, problem.label]
    values = np.zeros(spectrum.n_bins)
    for band, score in zip(bands, scores):
        values[band] = problem.score - score
    order = by_value(spectrum, values)
    return Ranking(order, values, problem.oracle.queries - before, order)


def freqrise(problem: Problem, budget: int, bands: int = 64, keep: float = 0.5, batch: int = 256) -> Ranking:
    """Random-mask saliency over frequency (RISE / FreqRISE): `budget` random keep masks over `bands`
    coarse cells (each kept with probability `keep`, upsampled with a random shift), each masked clip
    scored; a bin's value is the mean P(class) of the masks that kept it. Seeded; batches of `batch`."""
    spectrum, oracle = problem.spectrum, problem.oracle
    rng = np.random.default_rng([problem.seed, 4])
    n, cell = spectrum.n_bins, int(np.ceil(spectrum.n_bins / bands))
    weighted, covered = np.zeros(n), np.zeros(n)
    before = oracle.queries
    for start in range(0, budget, batch):
        count = min(batch, budget - start)
        grid = np.repeat(rng.random((count, bands + 1)) < keep, cell, axis=1)
        shifts = rng.integers(0, cell, size=count)
        masks = np.stack([grid[i, s:s + n] for i, s in enumerate(shifts)])
        scores = oracle.classify(spectrum.edits(masks)).scores[:, problem.label]
        weighted += scores @ masks
        covered += masks.sum(axis=0)
    values = weighted / np.maximum(covered, 1)
    order = by_value(spectrum, values)
    return Ranking(order, values, oracle.queries - before, order)


def _responsibility_ranking(problem: Problem, budget: int, mode: Mode) -> Ranking:
    settings = problem.settings.model_copy(update={"max_queries": max(budget, 1)})
    rng = np.random.default_rng(problem.seed)
    before = problem.oracle.queries
    resp = responsibility(problem.spectrum, problem.oracle, problem.label, settings, rng, mode=mode)
    order = by_value(problem.spectrum, resp.values)
    details = {"iterations": resp.iterations, "converged": resp.converged, "emd": resp.emd}
    return Ranking(order, resp.values, problem.oracle.queries - before, order, details)


def paper(problem: Problem, budget: int) -> Ranking:
    """The paper's responsibility (parts kept alone; causal.responsibility), ties louder first."""
    return _responsibility_ranking(problem, budget, "keep")


def removal(problem: Problem, budget: int) -> Ranking:
    """Removal responsibility (parts removed from the whole clip), ties louder first."""
    return _responsibility_ranking(problem, budget, "remove")


@dataclass
class _Node:
    lo: int
    hi: int
    drop: float
    depth: int


def _evidence_floor(clip_margin: float) -> float:
    """The smallest margin drop that counts as evidence: below it, a drop is the model's float noise."""
    return 1e-6 * max(1.0, abs(clip_margin))


def occlusion(problem: Problem, budget: int) -> Ranking:
    """Score-aware hierarchical occlusion (best-first over a tree of contiguous bands).

    Level 0: `occlusion_bands` equal bands, each removed from the clip (one batch); a band's drop is
    margin(clip) - margin(clip without the band). Then, until `budget` queries are spent, the
    `occlusion_batch` splittable bands with the largest drop / energy^`alpha` are split into
    `occlusion_branch` contiguous children, each removed alone (one batch per round). Bands whose removal
    does not lower the margin carry no evidence and rank after all bands that do. A band whose removal
    moves the margin by no more than the model's float noise (a saturated score, or content the model
    ignores) is not split either: its children could not show more, so the search may end before
    `budget`. The attack order sorts bins by the keys of their bands coarse to fine, then quietest first
    (so an attack's prefix stays cheap where evidence runs out); its alternative (`attack_alternatives`)
    sorts them by the key of their finest band first, coarser keys breaking ties: the first keeps to the
    best wide band, the second follows the best narrow ones wherever they lie, and neither wins on every
    model, so the `highest-snr` attack searches both. `values` are each bin's even share of its finest
    band's drop; `effect` each bin's finest band's drop per unit energy (alpha 1 whatever `alpha` is: the
    slope a shaped attack step needs), negative where the removal raised the margin (counter-evidence,
    `opposing`); `signed_alternatives` are the two orders again by |drop| per unit energy^alpha, for an
    attack that weakens the evidence and strengthens the counter-evidence (attacks.shaped).
    """
    spectrum, oracle, settings = problem.spectrum, problem.oracle, problem.settings
    before = oracle.queries
    energy = bin_energy(spectrum)
    cumulative = np.concatenate([[0.0], np.cumsum(energy)])
    clip_margin = float(margin(oracle.classify(spectrum.whole()).scores, problem.label)[0])
    floor = _evidence_floor(clip_margin)

    def key(node: _Node) -> float:
        return node.drop / max(cumulative[node.hi] - cumulative[node.lo], 1e-30) ** settings.alpha

    def measure(spans: list[tuple[int, int, int]]) -> list[_Node]:
        """Remove each (lo, hi, depth) band from the clip, in one batch."""
        masks = np.zeros((len(spans), spectrum.n_bins), dtype=bool)
        for i, (lo, hi, _) in enumerate(spans):
            masks[i, lo:hi] = True
        drops = clip_margin - margin(oracle.classify(spectrum.edits(masks, removed=[True] * len(masks))).scores,
                                     problem.label)
        return [_Node(lo, hi, float(d), depth) for (lo, hi, depth), d in zip(spans, drops)]

    level0 = [(band.start, band.stop, 0) for band in _equal_bands(spectrum.n_bins, settings.occlusion_bands)]
    nodes = measure(level0[: budget - 1]) if budget > 1 else []
    queue = [(-key(node), i) for i, node in enumerate(nodes) if node.hi - node.lo > 1 and abs(node.drop) > floor]
    heapq.heapify(queue)
    while queue and oracle.queries - before < budget:
        children = []
        for _ in range(min(settings.occlusion_batch, len(queue))):
            parent = nodes[heapq.heappop(queue)[1]]
            cuts = np.linspace(parent.lo, parent.hi, min(settings.occlusion_branch, parent.hi - parent.lo) + 1)
            cuts = cuts.round().astype(int)
            children += [(int(a), int(b), parent.depth + 1) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
        children = children[: budget - (oracle.queries - before)]
        if not children:
            break
        for node in measure(children):
            nodes.append(node)
            if node.hi - node.lo > 1 and abs(node.drop) > floor:
                heapq.heappush(queue, (-key(node), len(nodes) - 1))
    return _occlusion_ranking(spectrum, nodes, energy, clip_margin, oracle.queries - before, settings.alpha)


def _occlusion_ranking(spectrum: Spectrum, nodes: list[_Node], energy: np.ndarray, clip_margin: float,
                       queries: int, alpha: float) -> Ranking:
    """Attack orders, values and counter-evidence from the measured nodes (see `occlusion`). The signed
    orders sort bins as the attack orders do, by |drop| / energy^alpha, so the bands whose removal raised
    the margin (`opposing`) come in where their effect puts them rather than last."""
    keys, signed, values, effect = _band_keys(nodes, energy, _evidence_floor(clip_margin), alpha)

    def coarse_to_fine(keys: np.ndarray) -> np.ndarray:
        return np.lexsort((spectrum.magnitude, *(-keys[::-1])))

    def finest_first(keys: np.ndarray) -> np.ndarray:
        return np.lexsort((spectrum.magnitude, *(-keys)))

    order = coarse_to_fine(keys)
    return Ranking(order, values, queries, order, {"nodes": len(nodes)}, (finest_first(keys),),
                   signed_alternatives=(coarse_to_fine(signed), finest_first(signed)), effect=effect)


def _band_keys(nodes: list[_Node], energy: np.ndarray, floor: float,
               alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each bin's band keys at every depth, two float64 [depth + 1, M]: drop / energy^alpha of its band at
    that depth, and |drop| / energy^alpha, each -inf where that drop is not above float noise `floor`; bins
    not refined that deep keep their deepest keys. Also each bin's even share of its finest band's positive
    drop (float64 [M]) and that band's drop / energy (float64 [M], the effect; 0 within float noise `floor`)."""
    n = energy.size
    depth = max((node.depth for node in nodes), default=0)
    keys = np.full((2, depth + 1, n), -np.inf)
    finest = np.full(n, -1)
    values = np.zeros(n)
    effect = np.zeros(n)
    for node in sorted(nodes, key=lambda node: node.depth):
        band = slice(node.lo, node.hi)
        span_energy = max(float(energy[band].sum()), 1e-30)
        for k, size in enumerate((node.drop, abs(node.drop))):
            keys[k, node.depth, band] = size / span_energy ** alpha if size > floor else -np.inf
        finest[band] = node.depth
        values[band] = max(node.drop, 0.0) / (node.hi - node.lo)
        effect[band] = node.drop / span_energy if abs(node.drop) > floor else 0.0
    for level in range(1, depth + 1):
        shallow = finest < level
        keys[:, level, shallow] = keys[:, level - 1, shallow]
    return keys[0], keys[1], values, effect


def pruned_sufficient(problem: Problem, order: np.ndarray, budget: int) -> tuple[np.ndarray | None, int]:
    """The smallest sufficient prefix S of `order` (causal.subsets: class kept with score >= min_confidence x
    the clip's, stable for chain_length more prefixes), then made closer to a minimal sufficient set
    (Def. 1) within `budget` queries: in rounds of chunk size |S|/8 halving to 1, every chunk's removal
    from S is tested in one batch, and the chunks that may go are dropped together (or the longest run
    of them that still keeps S sufficient, tested in one more batch). Returns (S, queries spent, never more
    than `budget`); S is None when no prefix is sufficient or the prefix search would pass `budget`."""
    from ..errors import QueryBudgetExceeded
    from ..search import Condition, first_size
    from .subsets import PrefixProbe, conditions

    spectrum, oracle, settings, label = problem.spectrum, problem.oracle, problem.settings, problem.label
    before = oracle.queries
    probe = PrefixProbe(spectrum, oracle, order)
    condition = conditions(probe, label, problem.score, settings)["sufficient"]

    def ensure(ks: list[int]) -> None:  # the prefix search stays within `budget` too
        asked = len(set(ks) - set(probe.kept))
        if oracle.queries - before + asked > budget:
            raise QueryBudgetExceeded(budget, oracle.queries - before, asked)
        condition.evaluate(ks)

    try:
        k = first_size(Condition(ensure, condition.holds, condition.stable, condition.chain), 1, spectrum.n_bins,
                       settings.grid_ratio, settings.refine_points)
    except QueryBudgetExceeded:
        k = None
    if k is None:
        return None, oracle.queries - before
    kept = np.asarray(order[:k], dtype=np.int64)

    def still_sufficient(candidates: list[np.ndarray]) -> np.ndarray:
        masks = np.zeros((len(candidates), spectrum.n_bins), dtype=bool)
        for i, bins in enumerate(candidates):
            masks[i, bins] = True
        scores = oracle.classify(spectrum.edits(masks)).scores
        return (np.argmax(scores, axis=1) == label) & (scores[:, label] >= settings.min_confidence * problem.score)

    size = max(1, kept.size // 8)
    while kept.size > 1:
        chunks = [np.arange(max(0, end - size), end) for end in range(kept.size, 0, -size)]  # least ranked first
        if oracle.queries - before + 2 * len(chunks) > budget:
            break
        alone = still_sufficient([np.delete(kept, chunk) for chunk in chunks])
        droppable = [chunk for chunk, ok in zip(chunks, alone) if ok]
        if droppable:
            runs = [np.delete(kept, np.concatenate(droppable[: j + 1])) for j in range(len(droppable))]
            passing = np.flatnonzero(still_sufficient(runs))
            if passing.size:
                kept = runs[int(passing[-1])]
        if size == 1:
            break
        size = max(1, size // 2)
    return kept, oracle.queries - before


def _scaled(values: np.ndarray) -> np.ndarray:
    """float64 [M]: the positive part of `values` (float [M]) divided by its maximum (all zeros stay zeros)."""
    positive = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
    top = positive.max(initial=0.0)
    return positive / top if top > 0 else positive


def explanation_orders(
    magnitude: np.ndarray, sufficient: np.ndarray, keep: np.ndarray, remove: np.ndarray
) -> list[np.ndarray]:
    """freqrex-ns's explanation orders, each int64 [M]: the bins of the bool `sufficient` set [M] first, by
    their `remove` value (the removal drop, float [M]); then the others, in the first (the main order) by
    evidence x magnitude, (keep + remove, each made non-negative and scaled to a maximum of 1) x |X[k]|;
    in the second by keep responsibility `keep` (float [M]), then the remove value (bins of parts that
    were enough on their own follow S); in the third by loudness alone (the loud rest of the clip
    follows S). Loudness `magnitude` (|X[k]|, float [M]) breaks every tie."""
    weight = (_scaled(keep) + _scaled(remove)) * magnitude
    inside, outside = np.flatnonzero(sufficient), np.flatnonzero(~sufficient)
    head = inside[np.lexsort((-magnitude[inside], -remove[inside]))]
    tails = [outside[np.lexsort((-magnitude[outside], *(-key[outside] for key in reversed(keys))))]
             for keys in ((weight,), (keep, remove))]
    tails.append(outside[np.argsort(-magnitude[outside], kind="stable")])
    return [np.concatenate([head, tail]) for tail in tails]


def freqrex_ns(problem: Problem, budget: int) -> Ranking:
    """The default causal ranking (FreqReX-NS, "necessary and sufficient"), within `budget` queries.

    1. Keep side (`keep_share` of the budget): the paper's responsibility; its sufficient prefix S is
       pruned toward a minimal sufficient set (`pruned_sufficient`, at most `prune_share`).
    2. Remove side (the rest): score-aware hierarchical occlusion (`occlusion`).
    The explanation order is S first (by each bin's share of the removal drop, then loudness), then the
    other bins by their evidence times their magnitude: (keep responsibility + removal drop, each scaled
    to a maximum of 1) x |X[k]|, loudness breaking ties. Both sides measure parts (bands) and credit
    every bin of a part alike; weighting by magnitude spreads a part's evidence over its bins by how
    much of the part's signal each carries, as attribution x input does (Shrikumar et al. 2017,
    captum's InputXGradient). Measured on the model zoo (docs/design.md, departure 13): the decision
    collapses sooner under deletion than with the evidence alone on all six models, but the sufficient
    prefix grew on four of them (with the alternatives below it is smaller than before on the five
    models re-measured: departure 14).
    Its alternatives (`explanation_alternatives`, searched by discovery: subsets.lead_by_sufficiency) put
    after S the other bins by keep responsibility (the order before that one), or by loudness
    (`explanation_orders`): whichever has the smallest sufficient prefix on the clip leads the explanation
    (among equal ones, whichever's removal collapses the decision soonest). Its `sufficient_hint` is |S|,
    which discovery's sufficient search probes beside its grid in a second search (subsets.first_sufficient).
    The attack orders are the occlusion's (drop per unit energy, coarse to fine, then quietest first;
    and finest bands first).
    """
    settings = problem.settings
    keep_budget = int(round(settings.keep_share * budget))
    keep = paper(problem, keep_budget)
    sufficient, pruned_queries = pruned_sufficient(problem, keep.order, int(round(settings.prune_share * budget)))
    remove = occlusion(problem, max(budget - keep.queries - pruned_queries, 0))
    first = np.zeros(problem.spectrum.n_bins, dtype=bool)
    if sufficient is not None:
        first[sufficient] = True
    orders = explanation_orders(problem.spectrum.magnitude, first, keep.values, remove.values)
    details = {"keep": keep.details, "sufficient": None if sufficient is None else int(sufficient.size),
               "keep_queries": keep.queries, "prune_queries": pruned_queries, "remove_queries": remove.queries,
               **remove.details}
    return Ranking(orders[0], keep.values, keep.queries + pruned_queries + remove.queries, remove.attack_order,
                   details, remove.attack_alternatives, tuple(orders[1:]), remove.signed_alternatives, remove.effect,
                   None if sufficient is None else int(sufficient.size))


RANKERS: dict[str, Callable[[Problem, int], Ranking]] = {
    "freqrex-ns": freqrex_ns, "paper": paper, "removal": removal, "occlusion": occlusion,
    "sliding-band": sliding_band, "freqrise": freqrise, "loudest": loudest, "quietest": quietest,
    "random": random,
}
"""Every ranking by name; the causal methods a discovery may use are CAUSAL_METHODS."""

CAUSAL_METHODS = ("freqrex-ns", "paper", "removal", "occlusion")
