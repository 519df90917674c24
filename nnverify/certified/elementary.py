"""Rigorous vectorized elementary functions: enclosures of exp, expm1, sigmoid, tanh and softmax.

Each function takes float64 arrays (or :class:`~nnverify.certified.arrays.BallArray`\\ s) and
returns float64 bounds that provably contain the exact real result — nothing here trusts libm.

**Assumption (checked by** :func:`check_float_environment` **on first use):** NumPy's float64
arithmetic is IEEE binary64, round to nearest, ties to even, with subnormals (no flush-to-zero,
no denormals-are-zero). FMA is neither needed nor harmful. Under it every ``+ - * /`` returns
the exact result rounded to nearest, so the exact result of one operation lies within one ulp
of the computed one: :func:`~nnverify.certified.arrays.up` / ``down`` of it are bounds.

**exp** (:func:`exp_bounds`). With ``L = ln2/256`` and ``k = rint(x / L)`` (``x`` clipped to
``±1100``, where exp is already beyond the float64 range):

1. ``x = k L + r*``, ``|r*| <= R = L/2 + 2.002 * 1100 u`` (``u = 2^-53``; the rounding of
   ``x * fl(1/L)`` moves ``x/L`` by at most ``2e-10``). ``L`` is split as ``L_HI + L_LO``
   with ``L_HI`` of ``53 - 19`` bits, so ``k * L_HI`` is exact (``|k| < 2^19``) and
   ``x - k L_HI`` is exact too (Sterbenz: for ``k != 0``, ``k L_HI`` lies within a factor 2 of
   ``x``). Then ``r = fl(t1 - fl(k L_LO))`` is off from ``r*`` by
   ``delta_r <= u|r| + u|k L_LO| + |k| |L - L_HI - L_LO|``.
2. ``exp(r) - 1 = r + sum_{i=2}^{5} r^i/i! + trunc``, ``|trunc| <= R^6/6! e^R`` (Lagrange);
   the tail is evaluated by Horner with rounded coefficients, error ``<= gamma_9 * tail(|r|)``
   (two roundings per Horner step, ``r*r``, the last product and the coefficient's own) plus
   a few underflows; ``s = fl(r + tail)``.
3. ``2^{j/256} = TH_j + TL_j + tau_j`` (a double-double table from ``arb``, ``|tau_j|`` bounded
   by ``arb``), ``k = 256 q + j``; ``y = fl(TH + fl(TL + fl(TH * s)))``. Summing every rounding
   (each at most ``u`` times its result), ``|y - 2^{j/256} e^{r*}| <= eps |y|`` with
   ``eps = 1.02 u`` (:data:`EXP_EPS`, derived in :func:`_exp_constants` from the bounds above).
4. ``exp(x) in 2^q [y(1 - eps), y(1 + eps)]``, each end rounded outward; ``ldexp`` is exact
   unless the result is subnormal, where one more outward step covers its rounding. A result
   beyond the float64 range gets the upper bound ``inf`` (and lower bound ``DBL_MAX``), a
   result below the smallest subnormal gets ``[0, 2^-1074]``; ``exp(±0) = 1`` exactly; NaN in
   gives ``[0, inf]``.

**expm1** (:func:`expm1_bounds`, relative accuracy near 0): for ``|x| <= 1``,
``e^x - 1 = D_k + (1 + D_k)(e^{r*} - 1)`` with ``D_k = 2^{k/256} - 1`` a double-double table;
the roundings give ``|y - (e^x - 1)| <= eps1 |y| + 8 * 2^-1074`` (:data:`EXPM1_EPS`, worst over
the cells ``k``, about ``6u``). Beyond, ``exp(x) - 1`` rounded outward.

**sigmoid**, **tanh**, **softmax** are monotone compositions of these, every step rounded
outward: sigmoid ``1/(1+e^{-x})`` for ``x >= 0`` and ``e^x/(1+e^x)`` below (relative accuracy
in both tails), clamped to ``[0, 1]``; tanh ``expm1(2x)/(expm1(2x)+2)`` for ``|x| <= 1/2`` and
``1 - 2/(e^{2x}+1)`` beyond, odd, clamped to ``[-1, 1]``; softmax of a box of logits
``[lo, hi]`` is ``[1/(1 + sum_{i != k} e^{hi_i - lo_k}), 1/(1 + sum_{i != k} e^{lo_i - hi_k})]``
(the exact range of each output over the box's corners in its own logit), clamped to ``[0, 1]``.

The tables and every error constant are derived at import in :mod:`.exp_tables`; the float
environment is probed by :mod:`.fpenv`. Cost on this machine: exp about 20-40 ns per element
(NumPy's own exp: about 1 ns), sigmoid 40-70, tanh 80-100.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nnverify.certified.arrays import BallArray, down, up
from nnverify.certified.exp_tables import EXP, XM1, XMAX, M, N
from nnverify.certified.fpenv import FloatEnvironmentError, check_float_environment, ensure_float_environment

__all__ = [
    "sigmoid_and_slope_bounds",
    "EXP_EPS",
    "EXPM1_EPS",
    "FloatEnvironmentError",
    "ball_from_bounds",
    "check_float_environment",
    "exp_ball",
    "exp_bounds",
    "expm1_bounds",
    "sigmoid_ball",
    "sigmoid_bounds",
    "softmax_ball",
    "softmax_bounds",
    "tanh_ball",
    "tanh_bounds",
]

#: A function from float64 arguments to (lower, upper) bounds.
Bounds = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

_DBL_MAX = float(np.finfo(np.float64).max)
_SMALLEST_NORMAL = 2.0**-1022
#: Relative error bound of the computed ``2^{j/256} e^r`` behind :func:`exp_bounds` (about 1.02 u).
EXP_EPS: float = EXP.eps
#: Relative error bound of :func:`expm1_bounds` for ``|x| <= 1`` (about 6 u), plus ``EXP.abs1``.
EXPM1_EPS: float = EXP.eps1


# ----------------------------------------------------------------------------------------------
# exp and expm1


def _reduce(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``k`` (as floats) and ``r`` with ``x = k ln2/256 + r*``, ``|r - r*| <= delta_r`` (see the module text)."""
    kf = np.rint(x * EXP.INV_L)
    t1 = x - kf * EXP.L_HI  # both exact
    return kf, t1 - kf * EXP.L_LO


def _expm1_small(r: np.ndarray) -> np.ndarray:
    """``s = r + r^2 (1/2 + r (1/6 + ...))``, Horner, up to ``r^_DEG / _DEG!``."""
    q = np.full_like(r, EXP.COEF[0])
    for c in EXP.COEF[1:]:
        q = q * r + c
    return np.asarray(r + (r * r) * q)


def _exp_core(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(y, q)`` with ``|y - 2^{j/256} e^{r*}| <= eps |y|``, ``exp(x) = 2^q 2^{j/256} e^{r*}`` (``|x| <= 1100``)."""
    kf, r = _reduce(x)
    s = _expm1_small(r)
    ki = kf.astype(np.int32)  # |k| < 2^_KBITS (NaN gives a junk k, fixed by the caller)
    TH = EXP.TH[ki & (N - 1)]
    y = TH + (EXP.TL[ki & (N - 1)] + TH * s)
    return y, ki >> M


def _fix_ends(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """In place: outward steps for subnormal results, DBL_MAX for overflow, exp(0) = 1, NaN -> [0, inf]."""
    sub = lo <= _SMALLEST_NORMAL  # ldexp rounded a subnormal result (or it is 0)
    if sub.any():
        lo[sub] = np.maximum(down(lo[sub]), 0.0)
    sub = hi < _SMALLEST_NORMAL
    if sub.any():
        hi[sub] = up(hi[sub])
    big = lo == np.inf  # the exact value is beyond DBL_MAX
    if big.any():
        lo[big] = _DBL_MAX
    odd = ~(np.abs(x) > 0)  # 0, -0.0 and NaN
    if odd.any():
        zero = x == 0
        lo[zero], hi[zero] = 1.0, 1.0
        nan = np.isnan(x)
        lo[nan], hi[nan] = 0.0, np.inf


def exp_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` with ``lo <= exp(x) <= hi`` elementwise, for the exact float64 values ``x``.

    Args:
        x: float64 array (any shape; converted).

    Example:
        >>> lo, hi = exp_bounds(np.array([1.0]))
        >>> bool(lo[0] <= 2.718281828459045 <= hi[0]), bool(hi[0] - lo[0] < 2e-15)
        (True, True)
    """
    ensure_float_environment()
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        y, q = _exp_core(np.clip(x, -XMAX, XMAX))
        lo = np.ldexp(y * EXP.c_lo, q)
        hi = np.ldexp(y * EXP.c_hi, q)
        _fix_ends(x, lo, hi)
    return lo, hi


def _split_apply(mask: np.ndarray, x: np.ndarray, inside: Bounds, outside: Bounds) -> tuple[np.ndarray, np.ndarray]:
    """``inside(x)`` where ``mask``, ``outside(x)`` elsewhere, each computed only where it is used."""
    if mask.all():
        return inside(x)
    if not mask.any():
        return outside(x)
    lo, hi = np.empty_like(x), np.empty_like(x)
    lo[mask], hi[mask] = inside(x[mask])
    rest = ~mask
    lo[rest], hi[rest] = outside(x[rest])
    return lo, hi


def _expm1_table(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """expm1 for ``|x| <= 1`` from the double-double table ``D_k = 2^{k/256} - 1``."""
    kf, r = _reduce(x)
    s = _expm1_small(r)
    idx = kf.astype(np.int32) + EXP.K1
    DH = EXP.DH[idx]
    y = DH + (EXP.DL[idx] + (s + DH * s))
    rad = up(up(np.abs(y) * EXPM1_EPS) + EXP.abs1)
    return down(y - rad), up(y + rad)


def _expm1_wide(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """expm1 for ``|x| > 1`` as ``exp(x) - 1`` rounded outward (no harmful cancellation there)."""
    elo, ehi = exp_bounds(x)
    return np.maximum(down(elo - 1.0), -1.0), up(ehi - 1.0)


def expm1_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` with ``lo <= exp(x) - 1 <= hi``, relatively accurate near 0 (about 6 u for ``|x| <= 1``).

    Args:
        x: float64 array (any shape; converted).
    """
    ensure_float_environment()
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        lo, hi = _split_apply(np.abs(x) <= XM1, x, _expm1_table, _expm1_wide)
        odd = ~(np.abs(x) > 0)
        if odd.any():
            zero = x == 0
            lo[zero], hi[zero] = 0.0, 0.0
            nan = np.isnan(x)
            lo[nan], hi[nan] = -1.0, np.inf
    return lo, hi


# ----------------------------------------------------------------------------------------------
# sigmoid, tanh, softmax


def _sigmoid_main(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``1/(1 + e^{-x})``: relatively accurate wherever ``e^{-x}`` is finite."""
    E_lo, E_hi = exp_bounds(-x)
    return down(1.0 / up(1.0 + E_hi)), up(1.0 / down(1.0 + E_lo))


def _sigmoid_tail(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``e^x/(1 + e^x)`` (increasing in ``e^x``): relatively accurate far below 0."""
    E_lo, E_hi = exp_bounds(x)
    return down(E_lo / up(1.0 + E_lo)), up(E_hi / down(1.0 + E_hi))


def sigmoid_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` enclosing ``1/(1 + exp(-x))``, within ``[0, 1]``, relatively accurate in both tails.

    Args:
        x: float64 array (any shape; converted).
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        lo, hi = _split_apply(~(x < -700.0), x, _sigmoid_main, _sigmoid_tail)  # NaN: main
        np.clip(lo, 0.0, 1.0, out=lo)
        np.clip(hi, 0.0, 1.0, out=hi)
        odd = ~(np.abs(x) > 0)
        if odd.any():
            zero = x == 0
            lo[zero], hi[zero] = 0.5, 0.5
            nan = np.isnan(x)
            lo[nan], hi[nan] = 0.0, 1.0
    return lo, hi


def sigmoid_and_slope_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(s_lo, s_hi, d_lo, d_hi)`` enclosing ``sigma(x)`` and ``sigma'(x) = sigma(x) sigma(-x)``, from
    one exp: with ``E = e^{-|x|}`` the two factors are ``1/(1 + E)`` and ``E/(1 + E)``, both
    relatively accurate (``1 - sigma(x)`` in floats is never below 2^-53, where ``sigma'(40)`` is
    4e-18). NaN gives ``[0, 1]`` and ``[0, 1/4]``.

    Args:
        x: float64 array (any shape; converted).
    """
    x = np.asarray(x, dtype=np.float64)
    E_lo, E_hi = exp_bounds(-np.abs(x))
    with np.errstate(all="ignore"):
        big_lo, big_hi = down(1.0 / up(1.0 + E_hi)), up(1.0 / down(1.0 + E_lo))  # 1/(1+E): falls in E
        small_lo, small_hi = down(E_lo / up(1.0 + E_lo)), up(E_hi / down(1.0 + E_hi))  # E/(1+E): rises
        d_lo = np.maximum(down(big_lo * small_lo), 0.0)
        d_hi = np.minimum(up(big_hi * small_hi), 0.25)
        neg = x < 0
        s_lo = np.clip(np.where(neg, small_lo, big_lo), 0.0, 1.0)
        s_hi = np.clip(np.where(neg, small_hi, big_hi), 0.0, 1.0)
        nan = np.isnan(x)
        if nan.any():
            s_lo[nan], s_hi[nan], d_lo[nan], d_hi[nan] = 0.0, 1.0, 0.0, 0.25
    return s_lo, s_hi, d_lo, d_hi


def _tanh_small(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``e/(e + 2)`` with ``e = expm1(2t)`` (increasing in e): relatively accurate near 0."""
    m_lo, m_hi = expm1_bounds(2 * t)  # 2t is exact
    return down(m_lo / up(m_lo + 2.0)), up(m_hi / down(m_hi + 2.0))


def _tanh_big(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``1 - 2/(E + 1)`` with ``E = e^{2t}`` (increasing in E)."""
    E_lo, E_hi = exp_bounds(2 * t)
    return down(1.0 - up(2.0 / down(E_lo + 1.0))), up(1.0 - down(2.0 / up(E_hi + 1.0)))


def tanh_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` enclosing ``tanh(x)``, within ``[-1, 1]``, relatively accurate near 0.

    Args:
        x: float64 array (any shape; converted).
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        t = np.abs(x)
        lo_t, hi_t = _split_apply(~(t > 0.5), t, _tanh_small, _tanh_big)  # NaN: small
        np.clip(lo_t, 0.0, 1.0, out=lo_t)
        np.clip(hi_t, 0.0, 1.0, out=hi_t)
        neg = x < 0  # tanh is odd
        lo = np.where(neg, -hi_t, lo_t)
        hi = np.where(neg, -lo_t, hi_t)
        odd = ~(t > 0)
        if odd.any():
            zero = x == 0
            lo[zero], hi[zero] = 0.0, 0.0
            nan = np.isnan(x)
            lo[nan], hi[nan] = -1.0, 1.0
    return lo, hi


@lru_cache(maxsize=64)
def _gamma(m: int) -> Fraction:
    u = Fraction(1, 2**53)
    return m * u / (1 - m * u)


def _sum_up(v: np.ndarray, n: int) -> np.ndarray:
    """An upper bound of the exact sum of nonnegative ``v`` along the last axis (``n`` terms)."""
    c = float(1 + 2 * _gamma(max(n, 1))) * (1 + 2**-50)
    return np.asarray(up(np.sum(v, axis=-1) * c))


def _sum_down(v: np.ndarray, n: int) -> np.ndarray:
    """A lower bound of the exact sum of nonnegative ``v`` along the last axis (``n`` terms)."""
    c = float(1 - 2 * _gamma(max(n, 1))) * (1 - 2**-50)
    return np.asarray(np.maximum(down(np.sum(v, axis=-1) * c), 0.0))


def softmax_bounds(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``softmax(a)_k`` over every ``a`` in the box ``[lo, hi]``, row by row (last axis).

    ``y_k = 1 / (1 + sum_{i != k} exp(a_i - a_k))`` is decreasing in every ``a_i`` (``i != k``)
    and increasing in ``a_k``, so its range over the box is reached at two corners.

    Args:
        lo: float64 ``(..., K)`` lower ends of the logits.
        hi: float64 ``(..., K)`` upper ends (``>= lo``).
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    K = lo.shape[-1]
    # all K x K differences at once, [..., k, i] = a_i - a_k; the diagonal (i = k) is dropped
    # below (exp of -inf is 0): two exp calls per batch instead of two per output
    off = ~np.eye(K, dtype=bool)
    with np.errstate(all="ignore"):
        d_hi = np.where(off, up(hi[..., None, :] - lo[..., :, None]), -np.inf)
        d_lo = np.where(off, down(lo[..., None, :] - hi[..., :, None]), -np.inf)
        S_hi = _sum_up(exp_bounds(d_hi)[1], K - 1)
        S_lo = _sum_down(exp_bounds(d_lo)[0], K - 1)
        y_lo = down(1.0 / up(1.0 + S_hi))
        y_hi = up(1.0 / down(1.0 + S_lo))
        bad = np.isnan(lo).any(axis=-1, keepdims=True) | np.isnan(hi).any(axis=-1, keepdims=True)
        y_lo = np.where(bad, 0.0, np.clip(np.nan_to_num(y_lo, nan=0.0), 0.0, 1.0))
        y_hi = np.where(bad, 1.0, np.clip(np.nan_to_num(y_hi, nan=1.0), 0.0, 1.0))
    return y_lo, y_hi


# ----------------------------------------------------------------------------------------------
# On ball arrays


def ball_from_bounds(lo: np.ndarray, hi: np.ndarray) -> BallArray:
    """The ball array ``mid ± rad`` containing every interval ``[lo, hi]`` (``rad = inf`` if an end is infinite).

    Args:
        lo: float64 lower ends.
        hi: float64 upper ends (``>= lo``).
    """
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    with np.errstate(all="ignore"):
        finite = np.isfinite(lo) & np.isfinite(hi)
        mid = 0.5 * lo + 0.5 * hi
        rad = up(np.maximum(up(hi - mid), up(mid - lo)))
        fallback = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0))
        mid = np.where(finite, mid, fallback)
        rad = np.where(finite, rad, np.inf)
    return BallArray(np.ascontiguousarray(mid), np.ascontiguousarray(rad))


def exp_ball(a: BallArray) -> BallArray:
    """``exp`` of every point of ``a``, enclosed."""
    return ball_from_bounds(exp_bounds(a.lower())[0], exp_bounds(a.upper())[1])


def sigmoid_ball(a: BallArray) -> BallArray:
    """``sigmoid`` of every point of ``a``, enclosed (within [0, 1])."""
    return ball_from_bounds(sigmoid_bounds(a.lower())[0], sigmoid_bounds(a.upper())[1])


def tanh_ball(a: BallArray) -> BallArray:
    """``tanh`` of every point of ``a``, enclosed (within [-1, 1])."""
    return ball_from_bounds(tanh_bounds(a.lower())[0], tanh_bounds(a.upper())[1])


def softmax_ball(a: BallArray) -> BallArray:
    """``softmax`` (last axis) of every point of ``a``, enclosed (within [0, 1])."""
    return ball_from_bounds(*softmax_bounds(a.lower(), a.upper()))
