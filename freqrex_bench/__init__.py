"""freqrex-bench: causal frequency analysis, attacks and robustness tests for audio classifiers."""

from .attacks.causal import CausalResult, CausalSettings
from .errors import FreqrexError, InvalidInputError, QueryBudgetExceeded, TargetError
from .explain import explain
from .oracle import Oracle, Prediction
from .spectrum import Spectrum

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
    "TargetError",
    "__version__",
    "explain",
]
