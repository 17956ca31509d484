"""Input validation shared by every floor: one-line ``ValueError`` messages for bad arguments."""

from __future__ import annotations

import math

import numpy as np


def finite_scalar(name: str, value) -> float:
    """``value`` as a finite float, or ValueError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def finite_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array with no NaN or infinite entry, or ValueError naming ``name``."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be real numbers, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def integer(name: str, value, minimum: int | None = None) -> int:
    """``value`` as an int (bools refused) not below ``minimum``, or ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
