"""The exceptions freqrex-bench raises, so callers can catch one family and read one clear message."""

from __future__ import annotations


class FreqrexError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidInputError(FreqrexError, ValueError):
    """A clip, setting or argument is unusable; the message names the value and what was expected."""


class TargetError(FreqrexError, RuntimeError):
    """A model raised, or returned something that is not a [batch, labels] array of finite scores."""


class QueryBudgetExceeded(FreqrexError):
    """The oracle refused a batch because it would spend more model queries than the budget allows."""

    def __init__(self, budget: int, used: int, requested: int) -> None:
        self.budget, self.used, self.requested = budget, used, requested
        super().__init__(
            f"query budget of {budget} exhausted: {used} queries spent, "
            f"{requested} more requested"
        )



class ClipWarning(UserWarning):
    """A usable clip with a caveat a result depends on: a peak above full scale, or a decision that the
    clip's own 16-bit copy already changes."""
