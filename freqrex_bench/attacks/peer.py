"""Peer black-box attacks from ART (the Adversarial Robustness Toolbox, Nicolae et al. 2018,
https://github.com/Trusted-AI/adversarial-robustness-toolbox) run through our oracle, so they sit in the
same table as the causal attacks: every model query is counted, cached and budgeted, and the result is
judged by the same Goal (criterion, SNR floor, 16-bit judgement).

`PeerAttack` is the template the ART attacks share (HopSkipJump, Boundary):

1. the model ART sees is `art.estimators.classification.BlackBoxClassifier` whose predict function
   sends each whole batch ART asks for to `Oracle.classify` (as the goal shows it: the 16-bit wav under
   `pcm16_robust`), inside the strategy's own query cap `max_queries`;
2. ART's initial adversarial comes from us, seeded: uniform noise over the sample range (ART's own draw,
   whose `np.random.RandomState()` is unseeded) in growing batches, blended towards the clip by a binary
   search on the L2 line (what ART's HopSkipJump does to its draw; foolbox's blended-noise start);
3. ART draws its random directions from numpy's global RNG, which is seeded from the clip's seed around
   ART's call and restored afterwards, so a run is reproduced exactly whatever the oracle's batch size;
4. when the cap is reached inside ART's loop, the closest adversarial (in the attack's norm) queried so
   far is the result (every query of these attacks is a point the attacker saw); when the run's query
   budget runs out, QueryBudgetExceeded passes through ART untouched and the template records BUDGET.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..errors import InvalidInputError
from ..limits import MAX_QUERIES, MAX_TRIALS
from ..metrics import snr_db
from ..results import AttackResult
from ..status import Status
from ..strategy import Parameters
from .base import AttackStrategy
from .run import Adversarial, AttackRun

INIT_STREAM = 11
"""Second word of the seed of the initial noise draws (numpy default_rng([ctx.seed, INIT_STREAM]))."""
ART_STREAM = 12
"""Second word of the seed of numpy's global RNG around ART's call."""
BLEND_TOLERANCE = 0.001
"""Binary search on the blend factor of the initial adversarial stops at this width (ART's HopSkipJump)."""
RESERVED = 2
"""Queries of `max_queries` left for run.conclude's checks (the found signal and its 16-bit copy)."""

_GLOBAL_RNG = threading.Lock()


def art_modules(strategy: str) -> Any:
    """The `art` package, imported only when a peer attack runs. Raises InvalidInputError, in one line
    naming the extra to install, when adversarial-robustness-toolbox is missing."""
    try:
        import art.attacks.evasion
        import art.estimators.classification
    except ImportError:
        raise InvalidInputError(
            f"the {strategy} strategy needs adversarial-robustness-toolbox; install it with: "
            f"pip install 'freqrex-bench[art]'"
        ) from None
    return art


@contextmanager
def seeded_global_rng(seed: int, stream: int) -> Iterator[None]:
    """numpy's global RNG seeded from [seed, stream] (SeedSequence) inside the block, its previous state
    restored afterwards, whatever the block raises; one block at a time across threads (ART draws from
    np.random without a generator)."""
    with _GLOBAL_RNG:
        state = np.random.get_state()
        np.random.seed(np.random.SeedSequence([seed, stream]).generate_state(4))
        try:
            yield
        finally:
            np.random.set_state(state)


class CapReached(Exception):  # noqa: N818 (a signal, not an error: the strategy's own cap, not the run's budget)
    """Raised inside ART's loop when its next batch would pass the strategy's `max_queries`."""


class Door:
    """The predict function ART's BlackBoxClassifier calls: float [B, T] (or [B, *input_shape]) signals
    -> float32 [B, C] probabilities from `run.ctx.oracle`, judged as `run.goal` shows them (16-bit under
    pcm16_robust). Every row is a counted, cached, budgeted oracle query.

    `cap` is the most signals it may ask about (`asked`, cached or not, so what an attack does never
    depends on what other strategies left in the cache): a batch that would pass it raises CapReached
    before any of it runs; one that would pass the oracle's budget raises QueryBudgetExceeded. It keeps
    the closest signal (L2 for norm 2, Linf for "inf") that reached the goal within the SNR floor
    (`best`, float32 [T]), and how far the attack had got when it was found (`best_at`: `progress()`).
    """

    def __init__(self, run: AttackRun, cap: int, norm: Literal[2, "inf"]) -> None:
        self.run, self.cap, self.norm = run, cap, norm
        self.asked = 0
        self.original = run.ctx.spectrum.signal.astype(np.float32)
        self.best: np.ndarray | None = None
        self.best_distance = np.inf
        self.best_at: int | None = None
        self.progress: Callable[[], int] = lambda: 0

    def distance(self, rows: np.ndarray) -> np.ndarray:
        """float64 [B]: each float [B, T] row's distance from the clip in the attack's norm."""
        change = rows.astype(np.float64) - self.original
        return np.linalg.norm(change, axis=1) if self.norm == 2 else np.abs(change).max(axis=1)

    def classify(self, rows: np.ndarray) -> np.ndarray:
        """bool [B]: which float32 [B, T] rows' decisions reach the goal's criterion (one oracle call; the
        SNR floor is not applied: a starting point may be loud, the attack then shrinks the change)."""
        self.scores(rows)
        return self._decided

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """float32 [B, C]: the probabilities of float32 [B, T] rows as the goal shows them to the model, in
        one oracle call. Raises CapReached when the rows would pass `cap`, QueryBudgetExceeded when they
        would pass the oracle's budget, TargetError when the model fails."""
        goal = self.run.goal
        if self.asked + len(rows) > self.cap:
            raise CapReached
        self.asked += len(rows)
        shown = goal.shown(rows)
        labels, scores = self.run.ctx.oracle.classify(shown)
        self._decided = goal.reached(labels)
        reached = self._decided & goal.constraint.allows(self.original, shown)
        if reached.any():
            distances = np.where(reached, self.distance(rows), np.inf)
            first = int(np.argmin(distances))
            if distances[first] < self.best_distance:
                self.best, self.best_distance, self.best_at = rows[first].copy(), distances[first], self.progress()
        return scores

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """ART's predict function: float [B, *input_shape] signals -> float32 [B, C] probabilities (`scores`).
        Raises CapReached, QueryBudgetExceeded, TargetError as `scores` does."""
        rows = np.asarray(batch, dtype=np.float32).reshape(len(batch), -1)
        return self.scores(rows)


class PeerParameters(Parameters):
    """What every peer attack declares: `max_queries`, the most signals it asks the model about on one
    clip (cached or not; its search and the final checks), so the most model queries it spends; and
    `init_size`, the most uniform-noise draws for the initial adversarial. Bad values raise
    InvalidInputError through the strategy or the suite."""

    max_queries: int = Field(500, ge=RESERVED + 1, le=MAX_QUERIES,
                             description="most signals asked of the model per clip (cached or not), final checks "
                             "included")
    init_size: int = Field(100, ge=1, le=MAX_TRIALS,
                           description="most uniform-noise draws searched for the initial adversarial")


class PeerAttack(AttackStrategy):
    """Template of the ART black-box attacks (module docstring): subclasses build the ART attack
    (`build`) and say how far it got (`progress`); `changed` counts what `unit` says. Raises
    InvalidInputError (one line naming `pip install 'freqrex-bench[art]'`) when ART is missing."""

    parameters: PeerParameters
    norm: Literal[2, "inf"] = 2

    def query_estimate(self) -> int:
        """Model queries per clip at most: `max_queries` (the search and the final checks)."""
        return self.parameters.max_queries

    @abstractmethod
    def build(self, art: Any, classifier: Any, targeted: bool, batch_size: int) -> Any:
        """The ART attack on `classifier` (a BlackBoxClassifier), targeted or not, asking the classifier
        for at most `batch_size` signals per call."""

    @abstractmethod
    def progress(self, attack: Any | None, door: Door) -> int:
        """How far the ART `attack` has got, in `unit`s (`attack` None: still looking for the starting
        point; `door.asked`: the signals asked about so far). Read when ART returns, and whenever the
        closest adversarial so far is queried."""

    def initial(self, door: Door, x: np.ndarray, low: float, high: float, seed: int) -> np.ndarray | None:
        """A seeded starting adversarial, float32 [T], or None when none of `init_size` draws reaches the
        goal: uniform noise on [low, high] drawn from default_rng([seed, INIT_STREAM]) and classified in
        batches of 1, 2, 4, ... (fixed, so the result never depends on the oracle's batch size), then
        blended towards the clip `x` by a binary search on the blend factor down to BLEND_TOLERANCE.
        Raises CapReached or QueryBudgetExceeded when the queries run out."""
        rng = np.random.default_rng([seed, INIT_STREAM])
        drawn, size, found = 0, 1, None
        while found is None and drawn < self.parameters.init_size:
            size = min(size, self.parameters.init_size - drawn)
            noise = rng.uniform(low, high, (size, x.size)).astype(np.float32)
            hits = door.classify(noise)
            drawn += size
            if hits.any():
                found = noise[int(np.argmax(hits))]
            size *= 2
        door.run.details["init_draws"] = drawn
        if found is None:
            return None
        lo, hi = 0.0, 1.0
        while hi - lo > BLEND_TOLERANCE:
            mid = (lo + hi) / 2
            blend = np.clip((1 - mid) * x + mid * found, low, high).astype(np.float32)
            if door.classify(blend[None])[0]:
                hi = mid
            else:
                lo = mid
        return np.clip((1 - hi) * x + hi * found, low, high).astype(np.float32)

    def search(self, run: AttackRun, prepared: Any) -> AttackResult:
        """Run the ART attack from a seeded initial adversarial (module docstring); conclude on ART's
        answer, or on the closest adversarial queried when `max_queries` stops it. Raises
        QueryBudgetExceeded when the run's budget runs out (the template records Status.BUDGET),
        InvalidInputError when ART is missing."""
        art = art_modules(self.name)
        ctx, goal = run.ctx, run.goal
        x = ctx.spectrum.signal.astype(np.float32)
        low, high = min(-1.0, float(x.min())), max(1.0, float(x.max()))
        door = Door(run, self.parameters.max_queries - RESERVED, self.norm)
        door.progress = lambda: self.progress(None, door)
        run.details["norm"] = "l2" if self.norm == 2 else "linf"
        found: np.ndarray | None = None
        at, stopped = 0, False
        try:
            start = self.initial(door, x, low, high, ctx.seed)
            if start is None:
                run.details["queries_asked"] = door.asked
                return run.failed(Status.NO_FLIP, f"no uniform-noise draw reached the goal in "
                                  f"{run.details['init_draws']} draws")
            classifier = art.estimators.classification.BlackBoxClassifier(
                door, input_shape=(x.size,), nb_classes=len(ctx.labels), clip_values=(low, high))
            targeted = goal.target_class is not None
            attack = self.build(art, classifier, targeted, door.cap)
            door.progress = lambda: self.progress(attack, door)
            y = np.array([goal.target_class]) if targeted else None
            with seeded_global_rng(ctx.seed, ART_STREAM):
                found = np.asarray(attack.generate(x[None], y=y, x_adv_init=start[None]), dtype=np.float32)[0]
            at = self.progress(attack, door)
        except CapReached:
            stopped, found, at = True, door.best, door.best_at or 0
        run.details["queries_asked"] = door.asked
        run.details["stopped_by_max_queries"] = stopped
        if found is None or np.array_equal(found, x):
            floor = "" if goal.constraint.db is None else f" with an SNR of at least {goal.constraint.db:g} dB"
            return run.failed(Status.NO_FLIP, f"none of the {door.asked} signals {self.name} queried reached the "
                              f"goal{floor}")
        shown = goal.shown(found[None])
        if not goal.constraint.allows(x, shown)[0]:
            return run.failed(Status.NO_FLIP, f"the closest adversarial {self.name} found has an SNR of "
                              f"{snr_db(x, shown[0]):.1f} dB, below the floor of {goal.constraint.db:g} dB")
        return run.conclude(Adversarial(found, at))

