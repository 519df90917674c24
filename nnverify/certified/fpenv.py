"""The floating-point environment the fast enclosures rely on, and the probe that checks it.

:mod:`nnverify.certified.elementary` (and every vectorized bound built on it) is sound under
IEEE binary64 arithmetic, round to nearest, ties to even, with subnormals: no flush-to-zero,
no denormals-are-zero. :func:`check_float_environment` probes exactly that on NumPy arrays,
NumPy scalars, Python floats and a BLAS product, and raises a clear error otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from nnverify.errors import NNVerifyError

__all__ = ["FloatEnvironmentError", "check_float_environment", "ensure_float_environment", "probe_arithmetic"]

#: One binary operation on Python floats, done the way the code under test does it.
BinOp = Callable[[float, float], float]


class FloatEnvironmentError(NNVerifyError):
    """The floating-point unit does not behave as IEEE binary64 round-to-nearest with subnormals."""


def probe_arithmetic(add: BinOp, mul: BinOp, div: BinOp, dot: BinOp) -> str | None:
    """The first way the arithmetic given breaks IEEE binary64 round-to-nearest with subnormals, or None.

    Each argument is a binary operation on Python floats done the way the code under test does
    it (NumPy scalars, arrays, BLAS), so a test can hand in a broken arithmetic.
    """
    e = 2.0**-53
    cases = (
        ("rounds ties to even", add(1.0, e), 1.0),
        ("rounds ties to even (upward tie)", add(1.0, 3 * e), 1.0 + 4 * e),
        ("rounds to nearest (not toward zero)", add(1.0, e + 2.0**-60), 1.0 + 2 * e),
        ("rounds to nearest (not upward)", add(-1.0, -(e + 2.0**-60)), -1.0 - 2 * e),
        ("rounds to nearest (not upward, small)", add(1.0, 2.0**-60), 1.0),
        ("divides correctly rounded", div(1.0, 3.0), 0.3333333333333333),
        ("keeps subnormal results (no flush-to-zero)", mul(2.0**-1022, 0.5), 2.0**-1023),
        ("keeps subnormal inputs (no denormals-are-zero)", mul(2.0**-1074, 2.0), 2.0**-1073),
        ("adds subnormals exactly", add(2.0**-1074, 2.0**-1073), 3 * 2.0**-1074),
        ("rounds subnormal ties to even", mul(3 * 2.0**-1074, 0.5), 2.0**-1073),
        ("keeps subnormals in matrix products", dot(2.0**-1022, 0.5), 2.0**-1023),
    )
    for what, got, want in cases:
        if got != want:
            return f"{what}: got {got!r}, expected {want!r}"
    return None


def _numpy_probe() -> str | None:
    n = 32  # long enough for NumPy's SIMD loops

    def arr(op: np.ufunc) -> BinOp:
        def f(a: float, b: float) -> float:
            got = op(np.full(n, a), np.full(n, b))
            return float(got[0]) if np.all(got == got[0]) else math.nan
        return f

    def dot(a: float, b: float) -> float:
        A = np.eye(4) * a
        B = np.eye(4) * b
        return float((A @ B)[0, 0])

    bad = probe_arithmetic(arr(np.add), arr(np.multiply), arr(np.divide), dot)
    if bad:
        return "NumPy arrays: " + bad
    bad = probe_arithmetic(lambda a, b: float(np.float64(a) + np.float64(b)),
                 lambda a, b: float(np.float64(a) * np.float64(b)),
                 lambda a, b: float(np.float64(a) / np.float64(b)), dot)
    if bad:
        return "NumPy scalars: " + bad
    bad = probe_arithmetic(lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, dot)
    return ("Python floats: " + bad) if bad else None


_ENV_CHECKED = False


def check_float_environment() -> None:
    """Raise :class:`FloatEnvironmentError` unless float64 arithmetic is IEEE round-to-nearest with subnormals.

    A tiny probe (ties, directed roundings, subnormal results and inputs, a BLAS product) on
    NumPy arrays, NumPy scalars and Python floats. Every enclosure in this module relies on it;
    they call it once, on first use. (A library built with ``-ffast-math`` can switch the whole
    process to flush-to-zero when it is loaded.)
    """
    global _ENV_CHECKED
    with np.errstate(all="ignore"):
        bad = _numpy_probe()
    if bad:
        raise FloatEnvironmentError(
            f"the floating-point unit does not behave as IEEE binary64 round-to-nearest with "
            f"subnormals ({bad}); nnverify's fast enclosures would not be sound. A library built "
            f"with -ffast-math (or a flush-to-zero setting) may have changed the FPU mode: run "
            f"without it"
        )
    _ENV_CHECKED = True


def ensure_float_environment() -> None:
    """:func:`check_float_environment`, once per process (the fast code calls it on first use)."""
    if not _ENV_CHECKED:
        check_float_environment()


