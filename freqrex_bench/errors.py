"""The exceptions freqrex-bench raises, so callers can catch one family and read one clear message."""

from __future__ import annotations


class FreqrexError(Exception):
    """Base of every error this package raises on purpose; catch it to catch them all (the CLI maps it to
    exit code 2 for InvalidInputError, else 1)."""


class InvalidInputError(FreqrexError, ValueError):
    """A clip, setting, suite key, file or argument is unusable; the message names the value (and, for
    suites, the key path and line) and what was expected. Also a ValueError."""


class TargetError(FreqrexError, RuntimeError):
    """A model raised, or returned something other than a [batch, labels] array of finite probabilities in
    [0, 1]; also a gradient asked of a target without a differentiable torch forward pass. Also a RuntimeError."""


class QueryBudgetExceeded(FreqrexError):
    """The oracle refused a batch because it would spend more model queries than the budget allows.

    Raised before any of the batch runs. `budget`, `used` and `requested` are counts of model queries
    (signals sent to the model; cache hits are free).
    """

    def __init__(self, budget: int, used: int, requested: int) -> None:
        self.budget, self.used, self.requested = budget, used, requested
        super().__init__(
            f"query budget of {budget} exhausted: {used} queries spent, "
            f"{requested} more requested"
        )



class ClipWarning(UserWarning):
    """A usable clip with a caveat a result depends on: a peak above full scale, or a decision that the
    clip's own 16-bit copy already changes."""
