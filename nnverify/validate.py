"""Argument checks at the boundary, in Hypothesis' style: one line naming the value, the rule, the fix.

Every public function calls these first, so a bad argument fails where it was given, never deep
inside the arithmetic. Each check returns the value in its checked form (an ``int``, a
``float``, a ``numpy.dtype``) and raises :class:`~nnverify.errors.UsageError` (or the class
passed as ``error``) otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnverify.errors import NNVerifyError, UsageError
from nnverify.model import FLOAT_DTYPES, Network

__all__ = ["is_int", "check_int", "check_float", "check_dtype", "check_network"]


def is_int(value: object) -> bool:
    """True for a Python or NumPy integer (``bool`` is not a number here)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def check_int(
    what: str,
    value: object,
    low: int,
    high: int | None = None,
    *,
    unit: str = "",
    error: type[NNVerifyError] = UsageError,
) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (no upper end when ``high`` is None).

    Example:
        >>> check_int("digits", 20, 1, 1000)
        20
    """
    if is_int(value):
        v: int = int(value)  # type: ignore[call-overload]  # is_int admits only int and np.integer
        if low <= v and (high is None or v <= high):
            return v
    rule = f"from {low} to {high}" if high is not None else f">= {low}"
    raise error(f"{what} {value!r}{unit}: must be a whole number {rule}")


def check_float(
    what: str, value: object, *, low: float | None = None, error: type[NNVerifyError] = UsageError
) -> float:
    """``value`` as a finite ``float`` (``>= low`` when given)."""
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    if ok and math.isfinite(v) and (low is None or v >= low):
        return v
    rule = "a finite number" + (f" >= {low:g}" if low is not None else "")
    raise error(f"{what} {value!r}: must be {rule}")


def check_dtype(dtype: object, *, error: type[NNVerifyError] = UsageError) -> np.dtype[Any]:
    """float32 or float64 as a ``numpy.dtype``."""
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        dt = None
    if dt not in FLOAT_DTYPES:
        raise error(f"dtype {dtype!r} is not supported; expected float32 or float64")
    return dt  # type: ignore[no-any-return]


def check_network(network: object) -> Network:
    """``network`` itself when it is an nnverify :class:`~nnverify.model.Network`."""
    if not isinstance(network, Network):
        raise UsageError(f"network is a {type(network).__name__}; expected an nnverify Network")
    return network
