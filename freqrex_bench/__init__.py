"""freqrex-bench: causal frequency analysis, attacks and robustness tests for audio classifiers."""

from typing import Any

from .causal import CausalResult, CausalSettings
from .errors import FreqrexError, InvalidInputError, QueryBudgetExceeded, TargetError
from .explain import explain
from .oracle import Oracle, Prediction
from .spectrum import Spectrum
from .suite import Suite, load_suite, parse_suite
from .version import __version__


def run_suite(*args: Any, **kwargs: Any) -> Any:
    """Run (or resume) a suite and write its run folder; returns a `runner.RunOutcome`.

    Forwards every argument to freqrex_bench.runner.run_suite (imported on first use: it loads the
    reports), whose docstring lists them. Raises InvalidInputError for an unusable run folder or suite data.
    """
    from .runner import run_suite as run

    return run(*args, **kwargs)



__all__ = [
    "CausalResult",
    "CausalSettings",
    "FreqrexError",
    "InvalidInputError",
    "Oracle",
    "Prediction",
    "QueryBudgetExceeded",
    "Spectrum",
    "Suite",
    "TargetError",
    "__version__",
    "explain",
    "load_suite",
    "parse_suite",
    "run_suite",
]
