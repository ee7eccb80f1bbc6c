"""Small argument checks shared by the helpers: each raises ValueError naming the argument and its range."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np


def require_finite(name: str, value: Any) -> float | np.ndarray:
    """``value`` as a float (scalar) or float array, after checking it is real and has no NaN/inf."""
    # bool is a subclass of int; True as an SUV or a weight is always a slip, never a number.
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a number, got the boolean {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a finite number, got {value!r}") from err
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {value!r}")
    return float(arr) if arr.ndim == 0 else arr


def require_positive(name: str, value: Any) -> float | np.ndarray:
    """``value`` after checking it is finite and > 0 (every element, for arrays)."""
    checked = require_finite(name, value)
    if np.any(np.asarray(checked) <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return checked


def require_non_negative(name: str, value: Any) -> float | np.ndarray:
    """``value`` after checking it is finite and >= 0 (every element, for arrays)."""
    checked = require_finite(name, value)
    if np.any(np.asarray(checked) < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return checked


def require_in_range(name: str, value: Any, low: float, high: float) -> float | np.ndarray:
    """``value`` after checking low <= value <= high (closed interval; every element, for arrays)."""
    checked = require_finite(name, value)
    arr = np.asarray(checked)
    if np.any(arr < low) or np.any(arr > high):
        raise ValueError(f"{name} must be between {low:g} and {high:g} (inclusive), got {value!r}")
    return checked


def require_count(name: str, value: Any, minimum: int = 0) -> int:
    """``value`` as an int after checking it is a whole number >= ``minimum`` (cell counts, cycles)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Integral | Real):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if not np.isfinite(value) or float(value) != int(value) or int(value) < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def require_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` after checking it is one of ``choices`` (exact, case-sensitive strings)."""
    options = tuple(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value
