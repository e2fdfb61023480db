"""freqrex-bench: causal frequency analysis, attacks and robustness tests for audio classifiers."""

from .attacks.causal import CausalResult, CausalSettings
from .errors import FreqrexError, InvalidInputError, QueryBudgetExceeded, TargetError
from .explain import explain
from .oracle import Oracle, Prediction
from .spectrum import Spectrum
from .suite import Suite, load_suite, parse_suite


def run_suite(*args, **kwargs):
    """Run a suite; see freqrex_bench.runner.run_suite."""
    from .runner import run_suite as run

    return run(*args, **kwargs)


__version__ = "0.1.0"

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
