"""AttackStrategy: the template every attack follows, so each attack writes only its own search.

`run(ctx)` prepares what the attack builds on (`prepare`), opens an AttackRun (goal, query accounting),
returns the failure record when there is nothing to prove (a target class the clip already has, or a
16-bit judgement its own copy already meets), then runs the attack's `search`. A query budget that runs
out is signalled one way: the oracle raises QueryBudgetExceeded, and this template turns it into a
record with Status.BUDGET.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ..errors import QueryBudgetExceeded
from ..results import AttackResult
from ..status import Status
from ..strategy import Context, Strategy
from .run import AttackRun
from .settings import AttackSettings


class AttackStrategy(Strategy):
    """Base of the attacks and baselines: `unit` says what `changed` counts; `settings` are the shared
    AttackSettings. Subclasses implement `search` (and `prepare` when they build on another strategy's
    result, `inapplicable` when some targets cannot be attacked)."""

    Record = AttackResult
    unit: ClassVar[str]
    settings: AttackSettings

    def prepare(self, ctx: Context) -> tuple[int, dict[str, Any], Any]:
        """What the search needs before it starts: (model queries spent by the strategies it builds on,
        the record's first details, anything passed on to `search`). The default needs nothing."""
        return 0, {}, None

    def inapplicable(self, ctx: Context) -> str | None:
        """Why the attack cannot run on this target at all (a record with Status.NOT_APPLICABLE), or None."""
        return None

    @abstractmethod
    def search(self, run: AttackRun, prepared: Any) -> AttackResult:
        """Look for an adversarial signal under `run.goal`; return `run.conclude(...)` or `run.failed(...)`.
        May raise QueryBudgetExceeded: `run` turns it into a Status.BUDGET record."""

    def run(self, ctx: Context) -> AttackResult:
        """Attack the clip of `ctx` (paper Algorithms 2 and 3, and the baselines): an AttackResult. Raises
        InvalidInputError for a target_class the model does not have, TargetError when the model fails; a
        budget that runs out gives a Status.BUDGET record."""
        if (why := self.inapplicable(ctx)) is not None:
            return AttackRun(ctx, self.name, self.unit, self.settings, details={"applicable": False}).failed(
                Status.NOT_APPLICABLE, why)
        prior, details, prepared = self.prepare(ctx)
        run = AttackRun(ctx, self.name, self.unit, self.settings, prior, details)
        if (trivial := run.trivial()) is not None:
            return trivial
        try:
            return self.search(run, prepared)
        except QueryBudgetExceeded:
            return run.failed(Status.BUDGET, "the query budget ran out")
