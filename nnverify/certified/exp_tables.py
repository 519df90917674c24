"""The constants behind :mod:`nnverify.certified.elementary`: tables from ``arb`` and the derived error bounds.

Everything here is computed once, at import, from ``arb`` balls at 256 bits and exact
rationals, following the error analysis written in :mod:`nnverify.certified.elementary`
step by step (``R``, ``delta_r``, the Horner and truncation terms, the table's ``tau_j``, the
final roundings). A change of a parameter (table size, degree) re-derives every bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx

from nnverify.certified.balls import arf_to_fraction

__all__ = ["ExpConstants", "EXP", "exp_constants", "XMAX", "XM1", "M", "N", "KBITS", "DEG"]

U = Fraction(1, 2**53)
TINY = 2.0**-1074
#: Arguments are clipped here: exp(1100) > DBL_MAX and exp(-1100) < 2^-1074.
XMAX = 1100.0
#: Table size ``N = 2^M``: ``|r| <= ln2 / 2^(M+1)``.
M = 8
N = 1 << M
#: ``|k| < 2^KBITS`` for ``|x| <= XMAX``, so ``k * L_HI`` is exact with a ``(53 - KBITS)``-bit ``L_HI``.
KBITS = math.ceil(math.log2(XMAX * N / math.log(2) + 2))
KMAX = 2**KBITS
#: expm1 uses its double-double table for ``|x| <= XM1``.
XM1 = 1.0
#: Horner coefficients ``1/i!`` for ``i = 2..DEG``.
DEG = 5
#: Roundings on any term of the tail: two per Horner step, ``r*r``, the last product, the coefficient.
G = 2 * (DEG - 2) + 3


@dataclass(frozen=True, eq=False)
class ExpConstants:
    """The reduction constants, the tables and the error bounds of exp and expm1.

    Args:
        L_HI: ``ln2/N`` to ``53 - KBITS`` bits (``k * L_HI`` exact).
        L_LO: ``ln2/N - L_HI`` rounded.
        INV_L: ``N/ln2`` rounded.
        TH: ``2^{j/N}`` rounded, ``j = 0..N-1``.
        TL: ``2^{j/N} - TH_j`` rounded.
        DH: ``2^{k/N} - 1`` rounded, ``k = -K1..K1``.
        DL: ``2^{k/N} - 1 - DH_k`` rounded.
        K1: the expm1 table's half width.
        COEF: ``1/i!`` for ``i = DEG..2`` (Horner order).
        eps: float upper bound of the relative error of exp's ``y``.
        eps1: float upper bound of expm1's relative error (``|x| <= XM1``).
        abs1: float upper bound of expm1's absolute underflow term.
        c_lo: ``fl(y * c_lo) <= y (1 - eps)`` for normal ``y > 0``.
        c_hi: ``fl(y * c_hi) >= y (1 + eps)`` for normal ``y > 0``.
        eps_exact: ``eps`` as derived, exactly.
        eps1_exact: ``eps1`` as derived, exactly.
    """

    L_HI: float
    L_LO: float
    INV_L: float
    TH: np.ndarray
    TL: np.ndarray
    DH: np.ndarray
    DL: np.ndarray
    K1: int
    COEF: tuple[float, ...]
    eps: float
    eps1: float
    abs1: float
    c_lo: float
    c_hi: float
    eps_exact: Fraction
    eps1_exact: Fraction


def _frozen(values: list[float]) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


def _float_up_q(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def _float_down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def _upper_q(x: arb) -> Fraction:
    return arf_to_fraction(x.upper())


def _split(x: arb) -> tuple[float, float, Fraction]:
    """``x = hi + lo + tau``: two floats and an exact bound on ``|tau|``."""
    hi = float(arf_to_fraction(x.mid()))
    lo = float(arf_to_fraction((x - hi).mid()))
    return hi, lo, _upper_q((x - hi - lo).abs_upper())


def _gamma(m: int) -> Fraction:
    return m * U / (1 - m * U)


def _ball(q: Fraction) -> arb:
    """A ball containing the rational ``q`` (at the current precision)."""
    return arb(q.numerator) / q.denominator


def exp_constants() -> ExpConstants:
    """The reduction constants, the tables and the derived error bounds (see the module text)."""
    u = U
    with ctx.workprec(256):
        L = arb(2).log() / N
        L_q = arf_to_fraction(L.mid())
        ulp_hi = Fraction(1, 2 ** (M + 53 - KBITS))  # L in [2^-(M+1), 2^-M): 53 - KBITS bits
        L_HI = float(math.floor(L_q / ulp_hi) * ulp_hi)
        L_LO = float(arf_to_fraction((L - L_HI).mid()))
        delta_L = _upper_q((L - L_HI - L_LO).abs_upper())
        INV_L = float(arf_to_fraction((1 / L).mid()))
        tables = [_split(arb(2) ** (arb(j) / N)) for j in range(N)]
        K1 = math.ceil(XM1 / float(L_q)) + 1
        dtab = [_split(arb(2) ** (arb(k) / N) - 1) for k in range(-K1, K1 + 1)]
        L_up = _upper_q(L)
        R = L_up / 2 + Fraction(2002, 1000) * int(XMAX) * u  # |r*| <= R
        # computed |r| <= R + delta_r, with delta_r <= u|r| + u|k L_LO| + |k| delta_L
        t2_max = KMAX * Fraction(abs(L_LO)) * (1 + u)
        delta_r = (u * 2 * R + u * t2_max + KMAX * delta_L) * (1 + 4 * u)
        R1 = R + delta_r
        e_R1 = _upper_q((arb(R1.numerator) / R1.denominator).exp())
        tail = sum(R1**i / math.factorial(i) for i in range(2, DEG + 1))  # sum_{i>=2} R1^i / i!
        trunc = R1 ** (DEG + 1) / math.factorial(DEG + 1) * e_R1  # Lagrange remainder
        A_uf = 4 * Fraction(TINY)  # underflows inside the tail when r is tiny: absolute
        S = (R1 + tail * (1 + _gamma(G))) * (1 + u)  # |s|
        # |s - (e^{r*} - 1)|: s's rounding, the tail's evaluation, truncation, delta_r through exp
        E_s = u * S + _gamma(G) * tail + A_uf + trunc + e_R1 * delta_r
        # exp: y = fl(TH + fl(TL + fl(TH s))) against 2^{j/256} e^{r*}
        TLmax = max(Fraction(abs(t[1])) for t in tables)
        taumax = max(t[2] for t in tables)
        THmax = Fraction(2)
        w_max = THmax * S * (1 + u)
        v_max = (TLmax + w_max) * (1 + u)
        # (+ 3 underflows: TH * s is subnormal when s is)
        A = u * v_max + u * w_max + taumax + THmax * E_s + (TLmax + taumax) * (S + E_s) + 3 * Fraction(TINY)
        y_min = (1 / e_R1 - A) / (1 + u)  # 2^{j/256} >= 1 and e^{r*} >= 1/e^{R1}
        eps = u + A / y_min
        eps1, abs1 = _expm1_eps(dtab, K1, L_q, R, R1, S, E_s, tail, trunc, A_uf)
    return ExpConstants(
        L_HI=L_HI, L_LO=L_LO, INV_L=INV_L,
        TH=_frozen([t[0] for t in tables]), TL=_frozen([t[1] for t in tables]),
        DH=_frozen([t[0] for t in dtab]), DL=_frozen([t[1] for t in dtab]), K1=K1,
        COEF=tuple(1.0 / math.factorial(i) for i in range(DEG, 1, -1)),
        eps=_float_up_q(eps * (1 + Fraction(1, 2**40))),
        eps1=_float_up_q(eps1 * (1 + Fraction(1, 2**40))),
        abs1=_float_up_q(2 * abs1),
        c_lo=_float_down((1 - eps) * (1 - 2 * u)), c_hi=_float_up_q((1 + eps) * (1 + 2 * u)),
        eps_exact=eps, eps1_exact=eps1,
    )


def _expm1_eps(dtab: list[tuple[float, float, Fraction]], K1: int, L: Fraction, R: Fraction,
               R1: Fraction, S: Fraction, E_s: Fraction, tail: Fraction, trunc: Fraction,
               A_uf: Fraction) -> tuple[Fraction, Fraction]:
    """Relative and absolute error bounds of expm1 for ``|x| <= 1``, over every cell ``k``.

    ``y = fl(DH + fl(DL + fl(s + fl(DH s))))``. For ``k = 0`` the table entry is 0, ``r = x``
    exactly and ``y = s``: every error term but the underflows is proportional to ``|x|``
    (``tail(|x|) / |x|`` and ``trunc(|x|) / |x|`` grow with ``|x|``), and ``|x| <= |e^x - 1| / 0.99``
    there. For ``k != 0`` the absolute errors are divided by the least ``|e^x - 1|`` on the cell,
    where ``|x| >= |k| L - R``.
    """
    u = U
    c = (_gamma(G) * tail + trunc) / R1 / Fraction(99, 100)
    worst = (u + c) / (1 - c)  # k = 0
    # The cells in arb (rigorous, and ~100x faster than rationals): the worst upper end
    with ctx.workprec(128):
        ub, Sb, Eb, Lb, Rb = (_ball(q) for q in (u, S, E_s, L, R))
        tiny4 = _ball(4 * Fraction(TINY))
        worst_b = _ball(worst)
        for idx, (dh, dl, tau) in enumerate(dtab):
            k = idx - K1
            if k == 0:
                continue
            DH, DL, tb = abs(arb(dh)), abs(arb(dl)), _ball(tau)
            w = DH * Sb * (1 + ub)
            v = (Sb + w) * (1 + ub)
            v2 = (DL + v) * (1 + ub)
            A = ub * (w + v + v2) + tb + (1 + DH) * Eb + (DL + tb) * (Sb + Eb) + tiny4
            x_min = abs(k) * Lb - Rb
            m_min = x_min - x_min * x_min / 2  # |e^x - 1| >= |x| - x^2/2 for |x| <= 1
            worst_b = arb.max(worst_b, ub + A * (1 + ub) / (m_min - A))
        worst = _upper_q(worst_b)
    return worst, 2 * A_uf / (1 - c)


#: The constants, derived once.
EXP = exp_constants()
