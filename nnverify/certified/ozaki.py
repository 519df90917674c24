"""Exact matrix products in any BLAS: Ozaki's splitting, and ``Z @ W + b`` as a double-double ball.

Ozaki, Ogita, Oishi and Rump (Numer. Algorithms 59, 2012): split every row of ``X`` (and every
column of ``W``) into slices whose entries are integer multiples of one power of two per row
and have at most ``b`` bits, ``2b + ceil(log2 n) <= 53``. Then every product of two entries and
every partial sum of ``n`` of them is an integer below ``2**53`` in units of
``unit_row * unit_col``: exact in float64, in *any* summation order, blocked or not, with or
without FMA. So ``X_p @ W_q`` from NumPy's BLAS is the exact product of the slices.

The slicing (:func:`split_rows`): with ``mu`` the largest ``|x|`` of a row and ``2**e > mu``,
``sigma = 2**(e + 53 - b)``; then ``s = fl(fl(sigma + x) - sigma)`` is ``x`` rounded to a
multiple of ``2**(e - b)`` (``sigma + x`` lies in ``[sigma/2, 3 sigma/2]``, where floats are
spaced ``2**(e-b)`` or twice that, and the subtraction is exact by Sterbenz), and ``x - s`` is
exact (the rounding error of one addition). Three slices carry the top ``3b`` bits of each row;
what is left (``rest``, exact) is multiplied in plain float64 with the standard error bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from nnverify.certified.ddouble import DD, ETA, U, two_sum, up, upper_sum

__all__ = ["Sliced", "slice_bits", "split_rows", "split_cols", "gamma_up", "upper_dot", "dd_affine",
           "SLICES"]

#: Slices per operand: 3 x ~21 bits cover a float64 entry near its row's largest (53 bits).
SLICES = 3
#: Rows whose largest magnitude reaches this are not sliced (sigma would overflow): rest only.
_HUGE = 2.0**480


def slice_bits(n: int) -> int:
    """Bits per slice entry so that sums of ``n`` slice products stay exact: ``(53 - ceil(log2 n)) // 2``."""
    return (53 - max(0, math.ceil(math.log2(max(n, 1))))) // 2


def gamma_up(m: int) -> float:
    """``gamma_m = m u / (1 - m u)`` for binary64, rounded up to a float (inf when ``m u >= 1``)."""
    q = Fraction(m, 1 << 53)
    if q >= 1:
        return math.inf
    g = q / (1 - q)
    f = float(g)
    return f if Fraction(f) >= g else math.nextafter(f, math.inf)


def upper_dot(P: np.ndarray, n: int) -> np.ndarray:
    """An upper bound of the exact value of a nonnegative product ``P = fl(A @ B)`` (``A, B >= 0``,
    inner dimension ``n``, ``n u <= 1``), whatever the summation order.

    Each of the ``n`` product roundings and ``n - 1`` additions errs by at most ``u`` of its computed
    result (a product also by ``2**-1075`` of underflow), and every computed partial sum is at most
    ``P``: the exact value is at most ``P (1 + n u + (n - 1) u^2) + n 2**-1075``, which is at most
    ``(P + n 2**-1075)(1 + (n + 1) u)``.
    """
    factor = 1.0 + gamma_up(n + 1)  # >= 1 + (n + 1) u: rounding to nearest is monotone
    return up(up(P + n * ETA) * factor)


@dataclass(frozen=True, eq=False)
class Sliced:
    """``X == sum(slices) + rest`` exactly, slicing along rows (``axis=1`` maxima).

    Args:
        slices: the slices, each the shape of ``X``.
        rest: the exact remainder.
        unit_exp: per slice, the base-2 exponent of each row's unit (entries are multiples of it).
        rest_max: per row, an upper bound of ``max |rest|`` (0 exactly when the row's rest is 0).
        bits: bits per slice entry.
    """

    slices: tuple[np.ndarray, ...]
    rest: np.ndarray
    unit_exp: tuple[np.ndarray, ...]
    rest_max: np.ndarray
    bits: int

    @property
    def has_rest(self) -> bool:
        return bool(np.any(self.rest_max))


def split_rows(X: np.ndarray, bits: int, count: int = SLICES) -> Sliced:
    """Slice every row of the float64 matrix ``X`` (see the module text); rows with huge entries keep
    everything in ``rest``.

    Only the first slice needs the row maxima: what is left after a slice on the grid ``2**(e-b)``
    is at most half a grid step, below ``2**(e-b)``, so the next slice's ``e`` is ``e - b`` (a bound,
    not the exact exponent: a slice may carry a bit less, never a wrong one).
    """
    X = np.asarray(X, dtype=np.float64)
    slices, units = [], []
    # max |x| per row without an |X| array: the larger of the row's max and -min (exact)
    mu = np.maximum(np.max(X, axis=1), -np.min(X, axis=1)) if X.shape[1] else np.zeros(X.shape[0])
    _, e = np.frexp(mu)  # mu < 2**e (e = 0 for mu = 0)
    usable = mu < _HUGE
    all_usable = bool(usable.all())
    rest = X
    for i in range(count):
        k = np.clip(e + 53 - bits, -1021, 1000)
        sigma = np.ldexp(1.0, k)[:, None]
        s = rest + sigma  # (in place from here on: one new array per slice)
        s -= sigma
        if not all_usable:
            s[~usable] = 0.0
        # exact: the rounding error of sigma + x (the first slice makes rest a new array)
        rest = rest - s if i == 0 else np.subtract(rest, s, out=rest)
        slices.append(s)
        units.append(k - 53)
        e = e - bits
    # |rest| <= half the last slice's coarser spacing, ulp(sigma) / 2 = 2**(k - 53) per row (where
    # sigma + x fell below sigma the spacing is finer, the error smaller); rows not sliced keep mu
    rest_max = np.where(usable, np.ldexp(1.0, k - 53), mu)
    rest_max = np.where(rest.any(axis=1) if rest.shape[1] else False, rest_max, 0.0)
    return Sliced(tuple(slices), rest, tuple(units), rest_max, bits)


def split_cols(W: np.ndarray, bits: int, count: int = SLICES) -> Sliced:
    """Slice every column of ``W``: :func:`split_rows` of ``W.T``, with the slices transposed back."""
    s = split_rows(np.ascontiguousarray(W.T), bits, count)
    return Sliced(tuple(np.ascontiguousarray(p.T) for p in s.slices), np.ascontiguousarray(s.rest.T),
                  s.unit_exp, s.rest_max, bits)


@dataclass(frozen=True, eq=False)
class WeightSlices:
    """A layer's weights prepared once for :func:`dd_affine` (cached per network).

    Args:
        W: ``(n, m)`` float64 weights.
        b: ``(m,)`` float64 biases.
        absW: ``|W|``.
        colsum: per column, an upper bound of ``sum_i |w_ij|``.
        sliced: ``W`` split by columns.
        used: per slice, whether it has a nonzero entry (products with zero slices are skipped).
    """

    W: np.ndarray
    b: np.ndarray
    absW: np.ndarray
    colsum: np.ndarray
    sliced: Sliced
    used: tuple[bool, ...]

    @classmethod
    def of(cls, W: np.ndarray, b: np.ndarray) -> WeightSlices:
        W = np.ascontiguousarray(W, dtype=np.float64)
        n = W.shape[0]
        absW = np.abs(W)
        colsum = upper_dot(np.sum(absW, axis=0), n)
        sliced = split_cols(W, slice_bits(n))
        used = tuple(bool(np.any(p)) for p in sliced.slices)
        return cls(W, np.asarray(b, dtype=np.float64), absW, colsum, sliced, used)


class _Accumulator:
    """A double-double sum of float64 matrices: ``hi + lo`` plus a bound on the rounding of ``lo``."""

    def __init__(self, first: np.ndarray) -> None:
        self.hi = np.array(first, dtype=np.float64, copy=True)
        self.lo = np.zeros_like(self.hi)
        self.abs_lo = np.zeros_like(self.hi)  # upper bound of sum |lo_k| over the running values

    def add(self, t: np.ndarray) -> None:
        self.hi, e = two_sum(self.hi, t)  # exact
        self.lo = self.lo + e  # rounded: |err| <= u |new lo|
        self.abs_lo = up(self.abs_lo + np.abs(self.lo))

    def result(self, err: np.ndarray) -> DD:
        hi, lo = two_sum(self.hi, self.lo)
        rounding = up(self.abs_lo * (U * (1 + 4 * U)))
        return DD(hi, lo, upper_sum(err, rounding))


def _underflow_pairs(xs: Sliced, ws: Sliced, p: int, q: int) -> np.ndarray | None:
    """Rows x columns where slice products ``p``, ``q`` may round below the subnormal range (or None)."""
    risky = (xs.unit_exp[p][:, None] + ws.unit_exp[q][None, :]) < -1074
    return risky if risky.any() else None


def dd_affine(Z: DD, w: WeightSlices) -> tuple[DD, np.ndarray]:
    """``Z @ W + b`` enclosed as a double-double ball, and ``fl(|Z.hi| @ |W|)`` for the bounds.

    The leading parts ``Z.hi`` times ``W`` are exact slice products summed in double-double; the
    remainders and ``Z.lo @ W`` are float64 products with the standard bound ``gamma_n`` times
    their absolute products (bounded by row maxima times column sums); ``Z.rad @ |W|`` widens the
    ball. Every bound is rounded up.

    Args:
        Z: ``(N, n)`` the inputs of the layer, as balls.
        w: the layer's prepared weights.
    """
    X, n = Z.hi, w.W.shape[0]
    N, m = X.shape[0], w.W.shape[1]
    xs = split_rows(X, w.sliced.bits)
    ws = w.sliced
    terms: list[tuple[int, int]] = sorted(((p, q) for p in range(SLICES) for q in range(SLICES)),
                                          key=lambda pq: pq[0] + pq[1])
    acc = _Accumulator(np.broadcast_to(w.b, (N, m)))
    err = np.zeros((N, m))
    g = gamma_up(n)
    x_used = [bool(np.any(s)) for s in xs.slices]  # float32 data has 24 bits: its third slice is 0
    for p, q in terms:
        if not (x_used[p] and w.used[q]):
            continue
        acc.add(xs.slices[p] @ ws.slices[q])
        risky = _underflow_pairs(xs, ws, p, q)
        if risky is not None:
            err = np.where(risky, up(err + n * ETA), err)
    absX = np.abs(X)
    Q = absX @ w.absW
    if xs.has_rest:  # rest @ W, |err| <= gamma_n max|rest| colsum|W| + n underflows
        rows = np.flatnonzero(xs.rest_max)
        part = np.zeros((N, m))
        part[rows] = xs.rest[rows] @ w.W
        acc.add(part)
        err = upper_sum(err, up(up(np.outer(xs.rest_max, w.colsum)) * g), n * ETA)
    if ws.has_rest:  # (X - rest) @ W_rest, |err| <= gamma_n sum|X - rest| max|W_rest|
        # a slice rounds to nearest, away from 0 too: sum|X - rest| <= sum|X| + n max|rest|
        rowsum = upper_sum(upper_dot(np.sum(absX, axis=1), n), up(n * xs.rest_max))
        acc.add((X - xs.rest) @ ws.rest)
        err = upper_sum(err, up(up(np.outer(rowsum, ws.rest_max)) * g), n * ETA)
    if np.any(Z.lo):  # |lo| <= u |hi|: |Z.lo| @ |W| <= u |X| @ |W|
        acc.add(Z.lo @ w.W)
        err = upper_sum(err, up(up(upper_dot(Q, n) * (U * (1 + 4 * U))) * g), n * ETA)
    if np.any(Z.rad):
        err = upper_sum(err, upper_dot(Z.rad @ w.absW, n))
    return acc.result(err).sanitized(), Q
