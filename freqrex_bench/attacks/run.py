"""One attack's run on one clip: its goal, its query accounting, the search for the smallest size that
flips (shared by Algorithms 2 and 3), and how an outcome becomes an AttackResult."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import QueryBudgetExceeded
from ..metrics import measure, pcm16
from ..mutations import Mutation, to_spec
from ..results import AttackResult
from ..search import Condition, first_size
from ..status import Status
from ..strategy import Context
from .goal import Goal
from .settings import AttackSettings


@dataclass(frozen=True)
class Adversarial:
    """What an attack found: the float32 [T] signal, how much was changed (`changed`, in the attack's
    unit), with which mutation (None for noise and gradient), and which rfft bins (int [n], or None)."""

    signal: np.ndarray
    changed: int | None
    mutation: Mutation | None = None
    bins: np.ndarray | None = None


@dataclass
class AttackRun:
    """One strategy's run on one clip: its goal, where its query count starts, and its notes (`details`).

    `prior_queries` are the model queries of the strategies it builds on; `unit` is what `changed`
    counts. On creation it judges the unaltered clip's 16-bit copy like any attempt: if that alone
    reaches the goal, no attack may take credit for a 16-bit flip (`pcm16_alone`). Raises
    InvalidInputError on creation for a target_class the model does not have.
    """

    ctx: Context
    name: str
    unit: str
    settings: AttackSettings
    prior_queries: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.goal = Goal.of(self.ctx, self.settings)
        self.before = self.ctx.oracle.queries
        if self.goal.target_class is not None:
            self.details["target_class"] = self.ctx.labels[self.goal.target_class]
        self.pcm16_alone = bool(self.goal.reached(np.array([self.ctx.pcm16_label]))[0])
        if self.pcm16_alone:
            self.details["pcm16_alone"] = (
                f"the unaltered clip stored as a 16-bit wav is already classified "
                f"{self.ctx.labels[self.ctx.pcm16_label]}"
            )

    def failed(self, status: Status, reason: str) -> AttackResult:
        """The record of a run that did not reach the goal, with its status and a human reason."""
        self.details["reason"] = reason
        return self._record(None, status)

    def trivial(self) -> AttackResult | None:
        """The failure record when there is nothing an attack could prove, else None: a targeted attack
        at the clip's own class, or a goal judged as a 16-bit wav that the clip's own copy reaches."""
        if self.goal.trivial:
            return self.failed(Status.ALREADY_TARGET, "the clip already has the target class")
        if self.goal.pcm16 and self.pcm16_alone:
            return self.failed(Status.PCM16_ALONE, self.details["pcm16_alone"] + ": storage alone changes the "
                               "decision, so no flip judged as a 16-bit wav can be credited to an attack")
        return None

    def smallest(
        self, limit: int, signal_of: Callable[[int], np.ndarray | None],
        alias_of: Callable[[int], bytes | None] | None = None,
    ) -> tuple[int, np.ndarray] | None:
        """The smallest size n in [1, limit] whose candidate `signal_of(n)` (float [T], or None when no
        candidate of that size is allowed) reaches the goal, and that signal; None if no size does (paper
        Alg. 2 l. 5-12 and Alg. 3 l. 4-9, with n frequencies or frames). `alias_of(n)` is the candidate's
        edit key, if it has one (Goal.attempt's aliases).

        Sizes are probed in oracle batches by `search.first_size` (geometric grid, batched refinement,
        every size at once below `exact_below`), never one query per size. Raises QueryBudgetExceeded
        when a batch would pass the budget, TargetError when the model fails.
        """
        reached: dict[int, bool] = {}
        signals: dict[int, np.ndarray] = {}

        def evaluate(sizes: list[int]) -> None:
            todo = [n for n in sizes if n not in reached]
            for n in todo:
                signal = signal_of(n)
                if signal is None:
                    reached[n] = False
                else:
                    signals[n] = signal
            batch = [n for n in todo if n not in reached]
            if batch:
                aliases = None if alias_of is None else [alias_of(n) for n in batch]
                reached.update(zip(batch, self.goal.attempt(self.ctx, np.stack([signals[n] for n in batch]), aliases)))

        s = self.settings
        n = first_size(Condition(evaluate, reached.__getitem__), 1, limit, s.grid_ratio, s.refine_points,
                       s.exact_below)
        return None if n is None else (n, signals[n])

    def conclude(self, found: Adversarial) -> AttackResult:
        """The record of a found signal: the model's answer on exactly it (16-bit quantised when the goal
        demands it), the change's metrics (SNR in dB, L2, Linf), and whether the flip survives a 16-bit
        wav; one or two model queries. A signal that no longer reaches the goal gives Status.UNCONFIRMED, a
        budget that runs out first Status.BUDGET. Raises TargetError when the model fails."""
        signal = self.goal.shown(found.signal[None])[0]
        try:
            labels, scores = self.ctx.oracle.classify(signal[None])
        except QueryBudgetExceeded:
            return self.failed(Status.BUDGET, "budget ran out before the result could be checked")
        allowed = self.goal.constraint.allows(self.ctx.spectrum.signal, signal[None])[0]
        if not (self.goal.reached(labels)[0] and allowed):
            return self.failed(Status.UNCONFIRMED, "the found signal did not reach the goal")
        survives: bool | None = True
        if self.pcm16_alone:
            survives = None  # the clip's own 16-bit copy already flips: survival would prove nothing
        elif not self.goal.pcm16:
            try:
                copy = pcm16(signal, self.goal.sample_rate)
                survives = bool(self.goal.reached(self.ctx.oracle.classify(copy).labels)[0])
            except QueryBudgetExceeded:
                survives = None
        return self._record(found, Status.SUCCESS, signal, self.ctx.labels[int(labels[0])],
                            float(scores[0, labels[0]]), survives)

    def _record(
        self, found: Adversarial | None, status: Status, signal: np.ndarray | None = None,
        label_after: str | None = None, score_after: float | None = None, survives: bool | None = None,
    ) -> AttackResult:
        metrics = measure(self.ctx.spectrum.signal, signal) if signal is not None else dict.fromkeys(
            ("snr_db", "l2", "linf"))
        return AttackResult(
            strategy=self.name, success=status is Status.SUCCESS, status=status,
            queries=self.ctx.oracle.queries - self.before, prior_queries=self.prior_queries,
            changed=found.changed if found else None, unit=self.unit,
            mutation=to_spec(found.mutation) if found and found.mutation is not None else None, **metrics,
            label_before=self.ctx.labels[self.ctx.label], score_before=self.ctx.score, label_after=label_after,
            score_after=score_after, survives_pcm16=survives, adversarial=signal,
            bins=[] if found is None or found.bins is None else [int(b) for b in found.bins], details=self.details,
        )
