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

import numpy as np

from nnverify.certified.arrays import up
from nnverify.certified.fpenv import ensure_float_environment

__all__ = ["IntervalMatrix", "TINY64", "U64", "factor_up", "matmul_up", "sum_up", "scale_columns", "interval_matmul"]

#: float64 unit roundoff and smallest subnormal.
U64 = Fraction(1, 2**53)
TINY64 = 2.0**-1074


def factor_up(k: int) -> float:
    """A float ``c >= 1`` with ``fl(v * c) >= v / (1 - u)^k`` for normal ``v >= 0``: ``k`` roundings undone."""
    g = k * U64 / (1 - k * U64) if k * U64 < Fraction(1, 2) else Fraction(10**300)
    q = (1 + g) * (1 + 2 * U64)
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
        return np.asarray(up(np.matmul(A, B) * factor_up(n + 1) + (n + 1) * TINY64))


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


def scale_columns(G: IntervalMatrix, d_mid: np.ndarray, d_rad: np.ndarray) -> IntervalMatrix:
    """``G @ diag(d)`` for an interval ``d = d_mid ± d_rad`` per column (and per row of the batch).

    Args:
        G: ``(N, K, n)`` (or ``(K, n)``, shared by every row).
        d_mid: ``(N, n)`` midpoints of the column factors.
        d_rad: ``(N, n)`` their radii.
    """
    dm, dr = d_mid[..., None, :], d_rad[..., None, :]
    with np.errstate(all="ignore"):
        mid = G.mid * dm
        # (m1 ± r1)(m2 ± r2) ⊆ m1 m2 ± (|m1| r2 + r1 (|m2| + r2)), plus the rounding of m1 m2
        rad = np.abs(G.mid) * dr + G.rad * (np.abs(dm) + dr)
        rad = up(up(rad * factor_up(4) + U64_F * np.abs(mid)) + 4 * TINY64)
    return IntervalMatrix(mid, np.asarray(rad))


def interval_matmul(G: IntervalMatrix, WT: np.ndarray, absWT: np.ndarray) -> IntervalMatrix:
    """``G @ WT`` for a point matrix ``WT`` (its absolute value ``absWT`` given, shared across calls).

    The midpoint product's own rounding (``gamma_n |G.mid| |WT|``, any order) joins the radius.

    Args:
        G: ``(N, K, n)`` or ``(K, n)``.
        WT: ``(n, m)`` float64.
        absWT: ``|WT|``.
    """
    ensure_float_environment()
    n = WT.shape[0]
    g = float((n + 1) * U64 / (1 - (n + 1) * U64)) * (1 + 2**-40)
    shape = G.mid.shape
    flat_mid = G.mid.reshape(-1, n)
    flat_rad = np.broadcast_to(G.rad, shape).reshape(-1, n)
    with np.errstate(all="ignore"):
        mid = flat_mid @ WT
        both = np.concatenate([flat_rad, np.abs(flat_mid)], axis=0) @ absWT  # one BLAS call
        r_part, m_part = both[: flat_rad.shape[0]], both[flat_rad.shape[0]:]
        rad = up((r_part + g * m_part) * factor_up(n + 3) + 2 * (n + 1) * TINY64)
    out = shape[:-1] + (WT.shape[1],)
    return IntervalMatrix(mid.reshape(out), np.asarray(rad).reshape(out))


#: ``u`` as a float, rounded up.
U64_F = float(U64)
