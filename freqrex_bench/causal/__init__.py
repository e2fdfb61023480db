"""Causal analysis, the explainer (paper §3-4, Algorithm 1): which Fourier bins a decision depends on.

- `settings`: CausalSettings, every knob of Algorithm 1;
- `responsibility`: responsibility of every bin by p-way partition refinement;
- `subsets`: the sufficient, necessary and complete prefixes of the responsibility ranking;
- `result`: CausalResult, what discovery learns about one clip;
- `discovery`: CausalDiscovery, the strategy that ties them together;
- `rankings`: every ranking of bins (the causal methods and the baselines), one signature;
- `faithfulness`: deletion and insertion curves of rankings at an equal budget (a strategy).
"""

from .discovery import CausalDiscovery
from .faithfulness import Faithfulness, FaithfulnessResult
from .result import CausalResult, Subset
from .settings import CausalSettings

__all__ = ["CausalDiscovery", "CausalResult", "CausalSettings", "Faithfulness", "FaithfulnessResult", "Subset"]
