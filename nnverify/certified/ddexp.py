"""``exp`` and ``expm1`` of double-double balls, with an error bound proved here (nothing assumed of libm).

For the midpoint ``m`` of each ball (``-1000 <= m <= 700``):

1. **Reduction.** ``k = rint(m 1024 / ln 2)``, ``k = 1024 q + j`` (``0 <= j < 1024``) and
   ``r = m - k c`` with ``c = ln 2 / 1024 = c1 + c2 + c3 + delta``: ``c1`` and ``c2`` have 32
   significant bits, so ``k c1`` and ``k c2`` are exact (``|k| < 2**21``); ``c3`` is the float64
   nearest the rest; ``|delta|`` is bounded in ``arb`` at start-up. ``r`` is formed with TwoSums,
   the few rounded operations bounded one by one, ``|k| |delta|`` added: ``r`` is a ball
   ``rh + rl ± eps_r``, and ``|rh| <= R = 0.00034`` (checked; ``ln 2 / 2048 = 0.000338``).
2. **Polynomial.** ``expm1(r) = r + r^2/2 + r^3/6 + g(r)`` with ``g(r) = sum_{i>=4} r^i/i!``. The
   first three terms are double-double ball operations (:mod:`.ddouble`); ``g`` is evaluated in
   float64 at ``rh`` as ``rh^4 (1/24 + rh/120 + rh^2/720 + rh^3/5040)``, with
   ``|g(rho) - G| <= 16 u Qmax rh^4 + rh^8/8!/(1-R) + R^3/6/(1-R) |rho - rh|`` for every ``rho`` in
   the ball: rounding of the nine float operations and the coefficients (relative ``16u``; no
   cancellation, all terms share a sign up to ``|rh|/5 < 10^-4``), the truncated terms of degree
   ``>= 8``, and the slope of ``g`` times the distance from ``rh``.
3. **Reconstruction.** ``exp(m) = 2**q * 2**(j/1024) * (1 + expm1(r))``; the table
   ``2**(j/1024)`` is stored as double-double balls computed in ``arb`` (exact radii), the product
   is a ball product, and the scaling by ``2**q`` is exact except for underflow (``+ 2**-1074``).
4. **The ball's radius** ``rho``: ``|exp(m + d) - exp(m)| <= exp(m) (e^rho - 1) <=
   exp(m) rho (1 + rho)`` for ``rho <= 1`` (infinite otherwise).

Midpoints below -1000 give the ball ``[0, 2**-1074]`` (``exp(-999) < 2**-1441``) when ``rho <= 1``, an
infinite radius otherwise.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
from flint import arb, ctx

from nnverify.certified.balls import arf_to_fraction
from nnverify.certified.ddouble import (
    DD,
    ETA,
    U,
    dd_add,
    dd_from_fraction,
    dd_mul,
    two_sum,
    up,
    upper_sum,
)

__all__ = ["dd_exp", "R_MAX", "EXP_MIN", "EXP_MAX"]

_TABLE_BITS = 10
_T = 1 << _TABLE_BITS
#: Largest ``|rh|`` after the reduction (``ln 2 / 2048`` plus rounding slack).
R_MAX = 0.00034
#: Midpoints handled; below EXP_MIN the result is [0, 2**-1074], above EXP_MAX it is not attempted.
EXP_MIN, EXP_MAX = -1000.0, 700.0


def _to_float_up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else float(np.nextafter(f, np.inf))


def _round_bits(q: Fraction, bits: int) -> Fraction:
    """``q`` rounded to ``bits`` significant bits (nearest)."""
    if q == 0:
        return q
    e = abs(q.numerator).bit_length() - q.denominator.bit_length()
    scale = Fraction(2) ** (bits - 1 - e)
    return Fraction(round(q * scale)) / scale


class _Constants:
    """Every constant of the algorithm, with the bounds of section 2, computed once in ``arb``."""

    def __init__(self) -> None:
        with ctx.workprec(320):
            c = arb(2).log() / _T
            c_mid, c_rad = arf_to_fraction(c.mid()), arf_to_fraction(c.rad())
            c1 = _round_bits(c_mid, 32)
            c2 = _round_bits(c_mid - c1, 32)
            c3 = Fraction(float(c_mid - c1 - c2))
            self.c1, self.c2, self.c3 = float(c1), float(c2), float(c3)
            self.delta = _to_float_up(abs(c_mid - c1 - c2 - c3) + c_rad)
            self.inv = float(1 / c_mid)
            hi, lo, rad = [], [], []
            for j in range(_T):
                t = arb(2) ** (arb(j) / _T)
                m, r = arf_to_fraction(t.mid()), arf_to_fraction(t.rad())
                d = dd_from_fraction(m)
                hi.append(float(d.hi))
                lo.append(float(d.lo))
                rad.append(_to_float_up(Fraction(float(d.rad)) + r))
        self.t_hi, self.t_lo, self.t_rad = np.array(hi), np.array(lo), np.array(rad)
        R, u = Fraction(R_MAX), Fraction(1, 1 << 53)
        q_max = Fraction(1, 24) + R / 120 + R**2 / 720 + R**3 / 5040
        fact8 = Fraction(40320)
        # per element: |rh|^4 (16 u Qmax) + |rh|^8 / 8! / (1 - R), with |rh|^4 rounded up below
        self.g_err4 = _to_float_up(16 * u * q_max)
        self.g_err8 = _to_float_up(1 / fact8 / (1 - R))
        self.g_slope = _to_float_up(R**3 / 6 / (1 - R))
        self.coef = [float(Fraction(1, f)) for f in (24, 120, 720, 5040)]
        self.sixth = dd_from_fraction(Fraction(1, 6))


@lru_cache(maxsize=1)
def _constants() -> _Constants:
    return _Constants()


def _dd_const(d: DD, shape: tuple[int, ...]) -> DD:
    return DD(np.broadcast_to(d.hi, shape), np.broadcast_to(d.lo, shape), np.broadcast_to(d.rad, shape))


def _scale2(x: DD, q: np.ndarray) -> DD:
    """``x * 2**q`` (exact but for underflow, which adds at most 2**-1074 in all), renormalized."""
    hi, lo = np.ldexp(x.hi, q), np.ldexp(x.lo, q)
    hi, lo = two_sum(hi, lo)
    return DD(hi, lo, up(up(np.ldexp(x.rad, q)) + ETA))


def _reduce(mh: np.ndarray, ml: np.ndarray, C: _Constants) -> tuple[np.ndarray, DD]:
    """``(k, r)`` with ``m = k c + r`` (the ball ``r`` includes every rounding and ``|k| delta``)."""
    k = np.rint(mh * C.inv)
    t1, e1 = two_sum(mh, -(k * C.c1))  # k c1, k c2 exact: 21 + 32 bits
    t2, e2 = two_sum(t1, -(k * C.c2))
    p3 = k * C.c3  # rounded
    s1 = e1 + e2
    s2 = s1 + ml
    w = s2 - p3
    rh, rl = two_sum(t2, w)
    err = upper_sum(np.abs(s1), np.abs(s2), np.abs(w), np.abs(p3))
    err = upper_sum(up(err * (U * (1 + 4 * U))), up(np.abs(k) * C.delta), np.full_like(mh, 2 * ETA))
    return k, DD(rh, rl, err)


def _expm1_reduced(r: DD, C: _Constants) -> DD:
    """``expm1`` of the reduced ball ``r`` (``|rh| <= R_MAX``), section 2 of the module text."""
    r2 = dd_mul(r, r)
    r3 = dd_mul(r2, r)
    half_r2 = DD(r2.hi * 0.5, r2.lo * 0.5, up(r2.rad * 0.5 + ETA))  # exact but for underflow
    sixth_r3 = dd_mul(r3, _dd_const(C.sixth, r.shape))
    rh = r.hi
    c4, c5, c6, c7 = C.coef
    qv = c4 + rh * (c5 + rh * (c6 + rh * c7))
    sq = rh * rh
    G = (sq * sq) * qv
    a4 = up(up(rh * rh) * up(rh * rh))  # >= rh^4, each rounding covered by up()
    g_rad = upper_sum(up(a4 * C.g_err4), up(up(a4 * a4) * C.g_err8),
                      up(C.g_slope * upper_sum(np.abs(r.lo), r.rad)), 4 * ETA)
    tail = DD(G, np.zeros_like(G), g_rad)
    return dd_add(dd_add(r, half_r2), dd_add(sixth_r3, tail))


def dd_exp(x: DD, *, with_expm1: bool = True) -> tuple[DD, DD | None]:
    """``(exp(x), expm1(x))`` as double-double balls (see the module text for the proof).

    ``expm1`` is accurate relative to itself where the reduction leaves ``k = 0`` (``|x| <=
    ln 2 / 2048``) and is ``exp(x) - 1`` elsewhere (there ``|exp(x) - 1| >= 0.0003``). Midpoints
    outside ``[EXP_MIN, EXP_MAX]`` give ``[0, 2**-1074]`` below and an infinite radius above.

    Args:
        x: the arguments, as balls.
        with_expm1: also compute ``expm1`` (else the second value is None).
    """
    C = _constants()
    mh, ml = x.hi, x.lo
    low, high = mh < EXP_MIN, ~(mh <= EXP_MAX)  # NaN counts as high
    special = low | high
    any_special = bool(special.any())
    if any_special:
        mh, ml = np.where(special, 0.0, mh), np.where(special, 0.0, ml)
    k, r = _reduce(mh, ml, C)
    p = _expm1_reduced(r, C)
    ki = k.astype(np.int64)
    j = ki & (_T - 1)
    q = (ki - j) >> _TABLE_BITS
    T = DD(C.t_hi[j], C.t_lo[j], C.t_rad[j])
    one = DD(np.ones_like(mh), np.zeros_like(mh), np.zeros_like(mh))
    E = _scale2(dd_mul(T, dd_add(one, p)), q)
    em1: DD | None = None
    if with_expm1:
        em1 = dd_add(E, DD(-one.hi, one.lo, one.rad))
        em1 = DD(np.where(k == 0, p.hi, em1.hi), np.where(k == 0, p.lo, em1.lo), np.where(k == 0, p.rad, em1.rad))
    bad = ~(np.abs(r.hi) <= R_MAX)
    if bad.any():
        special, any_special = special | bad, True
    rho = x.rad
    if np.any(rho):  # the ball's own radius: |exp(m + d) - exp(m)| <= exp(m) rho (1 + rho) for rho <= 1
        spread = np.where(rho <= 1.0, up(E.abs_upper() * up(rho * up(1.0 + rho))), np.inf)
        spread = np.where(rho == 0, 0.0, spread)
        E = DD(E.hi, E.lo, up(E.rad + spread))
        if em1 is not None:
            em1 = DD(em1.hi, em1.lo, up(em1.rad + spread))
    if any_special:  # exp in [0, 2**-1074] below EXP_MIN; nothing known above EXP_MAX or if r escaped
        # exp(m + rho) < exp(-999) < 2**-1074 needs rho <= 1; a wider ball tells nothing here
        tiny_rad = np.where(low & (rho <= 1.0), ETA, np.inf)
        E = DD(np.where(special, 0.0, E.hi), np.where(special, 0.0, E.lo), np.where(special, tiny_rad, E.rad))
        if em1 is not None:
            em1 = DD(np.where(special, np.where(low, -1.0, 0.0), em1.hi), np.where(special, 0.0, em1.lo),
                     np.where(special, tiny_rad, em1.rad))
    return E.sanitized(), (None if em1 is None else em1.sanitized())
