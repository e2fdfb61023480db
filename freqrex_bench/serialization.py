"""Plain JSON values from what results hold (numpy scalars and arrays, non-finite floats, enums)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Strict-JSON values: numpy scalars and arrays unwrapped, non-finite floats None, dict keys strings,
    enums their values. Raises nothing; unknown objects are returned as they are (json then decides)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(item) for item in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value
