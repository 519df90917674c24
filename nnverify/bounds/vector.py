"""Float64 arithmetic for bounds: nonnegative sums and products rounded up, and interval matrices.

Every function returns an upper bound of the exact result of its nonnegative inputs (or an
enclosure, for the interval matrices), under IEEE binary64 round to nearest with subnormals
(:mod:`nnverify.certified.fpenv`): one correctly rounded operation is off by at most ``u`` of its
result, or by half the smallest subnormal when it underflows; a matrix product of inner
dimension ``n`` computed by BLAS in any order, with or without FMA, is off by at most
``gamma_n`` of the product of the absolute values, plus ``n`` underflows (the classical
algorithm: each entry a sum of ``n`` products; no Strassen-like schemes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nnverify.certified.arrays import up
from nnverify.certified.fpenv import ensure_float_environment

__all__ = ["IntervalMatrix", "TINY64", "U64", "factor_up", "gamma_up", "matmul_up", "sum_up", "plus_tiny",
           "scaled_product", "FactoredRadius", "column_sums_up"]

#: float64 unit roundoff and smallest subnormal.
U64 = Fraction(1, 2**53)
TINY64 = 2.0**-1074


@lru_cache(maxsize=4096)
def factor_up(k: int) -> float:
    """A float ``c >= 1`` with ``fl(v * c) >= v / (1 - u)^k`` for normal ``v >= 0``: ``k`` roundings undone."""
    g = k * U64 / (1 - k * U64) if k * U64 < Fraction(1, 2) else Fraction(10**300)
    q = (1 + g) * (1 + 2 * U64)
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


#: Above this, one step up (``nextafter``) adds more than any underflow term here.
_BIG = 2.0**-900
_SMALLEST_NORMAL = 2.0**-1022


def plus_tiny(r: np.ndarray, amount: float) -> np.ndarray:
    """An upper bound of ``v + amount`` for ``r = fl(v)``, ``v >= 0``, and a tiny ``amount >= 0``.

    Arithmetic with a subnormal operand is slow on most CPUs (microcode assists), so a subnormal
    ``amount`` is never added to the whole array: where ``r >= 2^-900`` one step up already adds
    at least ``ulp(r) / 2 >= 2^-953`` beyond ``v``, more than ``amount``; only the few smaller
    entries get ``up(up(r) + amount)``.

    Args:
        r: the computed (rounded) nonnegative values.
        amount: what to add, e.g. ``k`` times the smallest subnormal.
    """
    with np.errstate(all="ignore"):
        if amount >= _SMALLEST_NORMAL or amount > 2.0**-1000:
            return np.asarray(up(up(r) + amount))
        out = np.asarray(up(r))
        small = out < _BIG
        if small.any():
            out[small] = up(out[small] + amount)
    return out


def _no_subnormals(A: np.ndarray) -> np.ndarray:
    """``A`` (nonnegative) with every subnormal entry raised to the smallest normal float.

    Still an upper bound of what ``A`` bounds, and a matrix product with subnormal operands runs
    ~7x slower (microcode assists); they come from one step up of an exact 0 (``up(0) = 2^-1074``).
    """
    sub = (A > 0) & (A < _SMALLEST_NORMAL)
    if sub.any():
        A = np.where(sub, _SMALLEST_NORMAL, A)
    return A


@lru_cache(maxsize=4096)
def gamma_up(m: int) -> float:
    """``gamma_m = m u / (1 - m u)`` for float64, as a float rounded up."""
    q = m * U64 / (1 - m * U64)
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def matmul_up(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """An upper bound of the exact product ``A @ B`` of nonnegative float64 arrays (broadcasting as ``@``).

    Args:
        A: ``(..., n)`` nonnegative.
        B: ``(n, m)`` or ``(..., n, m)`` nonnegative.
    """
    ensure_float_environment()
    n = A.shape[-1]
    with np.errstate(all="ignore"):
        return plus_tiny(np.matmul(_no_subnormals(A), B) * factor_up(n + 1), (n + 1) * TINY64)


def sum_up(v: np.ndarray, axis: int = -1) -> np.ndarray:
    """An upper bound of the exact sum of nonnegative ``v`` along ``axis``, in any summation order.

    Args:
        v: nonnegative float64 array.
        axis: the axis summed.
    """
    n = v.shape[axis]
    with np.errstate(all="ignore"):
        return np.asarray(up(np.sum(v, axis=axis) * factor_up(n + 1)))


@dataclass(frozen=True, eq=False)
class IntervalMatrix:
    """Matrices known to within a radius: every entry lies in ``[mid - rad, mid + rad]``.

    Args:
        mid: float64 ``(..., K, n)``.
        rad: float64, same shape (or broadcastable), ``>= 0``.
    """

    mid: np.ndarray
    rad: np.ndarray

    def abs_upper(self) -> np.ndarray:
        """An upper bound of ``|entry|``."""
        with np.errstate(all="ignore"):
            return np.asarray(up(np.abs(self.mid) + self.rad))


@dataclass(frozen=True, eq=False)
class FactoredRadius:
    """A radius of a stack of matrices ``(N, K, m)`` kept in factors: ``rad[n, k, j] <= r[n, k] c[j] + t``.

    The backward pass's rounding radii are some 1e-15 of the entries they go with: bounding a
    row's radius by its largest spread times the weights' column sums costs no matrix product
    and loses nothing measurable.

    Args:
        r: ``(N, K)`` nonnegative row factors.
        c: ``(m,)`` nonnegative column factors.
        t: an absolute term (the underflows): below ``2**-1022``, so that ``t + 2 tiny`` is exact and
            the addition in :meth:`full` rounds by at most ``u r c`` plus one tiny.
    """

    r: np.ndarray
    c: np.ndarray
    t: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.t < _SMALLEST_NORMAL:
            raise ValueError(f"a FactoredRadius's absolute term must be in [0, 2**-1022), not {self.t!r}")

    def full(self) -> np.ndarray:
        """An upper bound of every entry, ``(N, K, m)``."""
        with np.errstate(all="ignore"):
            # r c and the addition round by at most u of their results each (covered by the factor
            # on c) or r c by half a subnormal (covered by the extra tiny; t + 2 tiny is exact)
            c = up(self.c * factor_up(2))
            return np.asarray(self.r[:, :, None] * c + (self.t + 2 * TINY64))


def column_sums_up(A: np.ndarray) -> np.ndarray:
    """Upper bounds of the column sums of a nonnegative matrix ``(n, m)``, ``(m,)``."""
    with np.errstate(all="ignore"):
        return np.asarray(up(np.sum(A, axis=0) * factor_up(A.shape[0] + 1)) + A.shape[0] * TINY64)


def scaled_product(mid: np.ndarray, rad: FactoredRadius | None, d: np.ndarray, WT: np.ndarray,
                   absWT_cols: np.ndarray) -> tuple[np.ndarray, FactoredRadius]:
    """``(G diag(d)) @ WT`` for ``G = mid ± rad`` and a point ``d`` per row: the backward step.

    The exact ``G_true diag(d) WT`` lies within the returned radius of the returned midpoint:
    ``fl(G d)`` errs by ``rad |d| + u |fl(G d)|`` plus an underflow, and the product by
    ``gamma_n |fl(G d)| |WT|`` plus ``n`` underflows (any order, FMA or not). Entry ``(k, j)``'s
    error is then at most ``sum_i s_ki |WT_ij| <= (max_i s_ki) sum_i |WT_ij|`` with
    ``s_ki = (u + gamma_n) |fl(G d)|_ki + rad_ki |d_i| + tiny``: a :class:`FactoredRadius`.

    Args:
        mid: ``(K, n)`` shared by every row, or ``(N, K, n)``.
        rad: the radius of ``mid`` (None for an exact ``mid``).
        d: ``(N, n)`` the column factors.
        WT: ``(n, m)``.
        absWT_cols: the column sums of ``|WT|``, rounded up (:func:`column_sums_up`).
    """
    ensure_float_environment()
    n = WT.shape[0]
    with np.errstate(all="ignore"):
        Ga = mid * d[:, None, :]
        # max_i |Ga_ki| without an |Ga| array: the larger of the row's max and -min (exact)
        big = np.maximum(np.max(Ga, axis=2), -np.min(Ga, axis=2))
        spread = big * (U64_F + gamma_up(n + 1)) * factor_up(2)
        if rad is not None:
            # max_i c_i |d_i|: each product rounds by u of it or half a subnormal (the tiny)
            cd = up(up(np.max(rad.c * np.abs(d), axis=1) * factor_up(1)) + TINY64)
            dmax = np.max(np.abs(d), axis=1)  # exact
            spread = spread + (rad.r * cd[:, None]) * factor_up(2) + rad.t * dmax[:, None] * factor_up(1)
        spread = up(up(spread) + 4 * TINY64)  # the roundings of the lines above, and Ga's underflow
        N, K = Ga.shape[0], Ga.shape[1]
        new_mid = (Ga.reshape(-1, n) @ WT).reshape(N, K, -1)
        r = up(spread * factor_up(n + 4))
    return new_mid, FactoredRadius(np.asarray(r), absWT_cols, (n + 2) * TINY64)


#: ``u`` as a float, rounded up.
U64_F = float(U64)
