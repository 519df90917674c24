"""What each activation does over a box of computed inputs ``â in [lo, hi]``, vectorized.

For a layer whose computed weighted sums ``â`` lie in a box around the exact ``a``:

- ``ĥ(â) - h(a) = D (â - a) + eta``: ``D`` is the divided difference ``(h(â) - h(a)) / (â - a)``,
  which lies in the hull of ``h'`` over the box (mean value theorem; relu's in ``[0, 1]``), and
  ``eta = ĥ(â) - h(â)`` is the evaluation error the rounding model states
  (:class:`~nnverify.bounds.rounding.RoundingModel`): sigmoid ``max(c_rel u h, c_abs u)``, tanh
  ``2 k u |tanh|``, relu/identity/step exact. A step whose box straddles 0 gets ``D = 0`` and
  ``eta = 1`` (its output may be the other value), honestly.
- softmax, a vector function: ``Delta y = J (Delta a) + eta`` with ``J`` in the interval
  Jacobian ``y_k (delta_kj - y_j)`` over the box (:func:`softmax_jacobian`), and ``eta`` the
  evaluation error of :func:`softmax_errors` (exp arguments off by the shift's rounding
  ``u |â_i - c|`` plus exp's own ``k`` ulps).
- every range is clamped: a computed sigmoid or softmax lies in ``[0, 1]``, a tanh in
  ``[-1, 1]``; so no error exceeds the distance from the exact value to the far end (the cap).

All enclosures come from :mod:`nnverify.certified.elementary` (nothing trusts libm) and every
step is rounded outward.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from flint import ctx

from nnverify.bounds.activations import BallConstants
from nnverify.bounds.rounding import ModelConstants
from nnverify.bounds.sums import float_up_q
from nnverify.bounds.vector import TINY64, IntervalMatrix, factor_up, plus_tiny, sum_up
from nnverify.certified import arf_to_fraction
from nnverify.certified.arrays import down, up
from nnverify.certified.elementary import expm1_bounds, sigmoid_and_slope_bounds, tanh_bounds
from nnverify.model import Activation

__all__ = ["VecConstants", "UnitBox", "unit_box", "softmax_jacobian", "softmax_errors", "capped", "RANGES"]


def _f(x: object) -> float:
    return float_up_q(arf_to_fraction(x.upper()))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class VecConstants:
    """The rounding model's constants as float64 upper bounds, for one dtype and output width.

    Args:
        u: unit roundoff.
        c_rel_u: sigmoid's relative evaluation error ``c_rel u``.
        c_abs_tiny: sigmoid's absolute evaluation error ``c_abs u`` plus one underflow.
        two_k_u: tanh's relative evaluation error ``2 k u``.
        tiny: the smallest subnormal.
        k_tiny: ``k`` underflows plus one (per softmax term, and tanh's subnormal results).
        phi: bounds ``|log(1 + theta)|`` for exp's relative error ``theta``.
        up_fac: ``(1 + u)^2 / (1 - gamma_{K-1})`` (softmax sum and division), rounded up.
        down_fac: ``(1 - u)^2 / (1 + gamma_{K-1})``, rounded down.
    """

    u: float
    c_rel_u: float
    c_abs_tiny: float
    two_k_u: float
    tiny: float
    k_tiny: float
    phi: float
    up_fac: float
    down_fac: float

    @classmethod
    def of(cls, c: ModelConstants, n_outputs: int) -> VecConstants:
        """The constants for ``c`` and ``n_outputs`` (memoized: every call of the bounds asks)."""
        return _vec_constants(c, n_outputs)

    @classmethod
    def compute(cls, c: ModelConstants, n_outputs: int) -> VecConstants:
        with ctx.workprec(64):
            b = BallConstants.of(c, n_outputs)
            up_fac = (1 + b.u) ** 2 / (1 - b.gamma_sum)
            down_fac = (1 - b.u) ** 2 / (1 + b.gamma_sum)
            lo = arf_to_fraction(down_fac.lower())
        down_f = float(lo)
        if down_f > lo:
            down_f = float(np.nextafter(down_f, -np.inf))
        return cls(u=_f(b.u), c_rel_u=_f(b.c_rel_u), c_abs_tiny=_f(b.c_abs_tiny), two_k_u=_f(b.two_k_u),
                   tiny=_f(b.tiny), k_tiny=_f(b.k_tiny), phi=_f(b.phi), up_fac=_f(up_fac), down_fac=down_f)


@lru_cache(maxsize=64)
def _vec_constants(c: ModelConstants, n_outputs: int) -> VecConstants:
    return VecConstants.compute(c, n_outputs)


@dataclass(frozen=True, eq=False)
class UnitBox:
    """One elementwise activation over the box of its computed inputs, per row and unit.

    Args:
        d_mid: midpoints of the divided differences ``D``.
        d_rad: their radii (``D in d_mid ± d_rad``).
        lipschitz: an upper bound of ``|D|``.
        eta: a bound on the evaluation error ``|ĥ(â) - h(â)|``.
        lo: lower end of ``h`` over the box (the range of the exact function there).
        hi: upper end.
    """

    d_mid: np.ndarray
    d_rad: np.ndarray
    lipschitz: np.ndarray
    eta: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _hull(d_lo: np.ndarray, d_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint and radius covering ``[d_lo, d_hi]``."""
    with np.errstate(all="ignore"):
        mid = 0.5 * d_lo + 0.5 * d_hi
        rad = up(np.maximum(up(d_hi - mid), up(mid - d_lo)))
    return mid, np.asarray(rad)


def _sigmoid_box(lo: np.ndarray, hi: np.ndarray, c: VecConstants) -> UnitBox:
    """sigmoid over ``[lo, hi]`` from one exp, at the point ``p`` of the box nearest 0.

    ``sigma'(a) = sigma(a) sigma(-a)`` is largest (1/4) at 0 and falls away from it, so its
    maximum over the box is at ``p`` (both factors relatively accurate, also where ``sigma`` is
    within an ulp of 1: ``a = 40``, ``a = 1e300``). Its minimum: ``(log sigma')' = 1 - 2 sigma``,
    and ``|1 - 2 sigma(a)| <= m + 2 L |a - p|`` (``m`` its value at ``p``, ``L`` the largest slope),
    so ``sigma'(a) >= sigma'(p) e^{-(m w + L w^2)} >= sigma'(p) (1 - m w - L w^2)`` within ``w``
    of ``p``. The values: ``sigma(a) <= sigma(p) + L (a - p)`` (mean value theorem).
    """
    with np.errstate(all="ignore"):
        unknown = np.isnan(lo) | np.isnan(hi)
        p = np.where(lo > 0, lo, np.where(hi < 0, hi, 0.0))  # NaN ends: 0 (then everything below)
        s_lo_p, s_hi_p, dl_p, dh_p = sigmoid_and_slope_bounds(p)
        w = np.fmax(up(hi - p), up(p - lo))  # the farthest point of the box from p (inf allowed)
        # |1 - 2 sigma(p)| = 1 - 2 sigma(-|p|), and sigma(-|p|) >= min(s_lo_p, 1 - s_hi_p)
        small = np.where(p < 0, s_lo_p, down(1.0 - s_hi_p))
        m = np.maximum(up(1.0 - 2.0 * np.maximum(small, 0.0)), 0.0)
        expo = up(up(m * w) + up(dh_p * up(w * w)))
        d_lo = np.fmax(down(dl_p * down(1.0 - expo)), 0.0)
        d_hi = dh_p
        s_hi = np.fmin(up(s_hi_p + up(dh_p * up(hi - p))), 1.0)  # NaN (inf - inf): 1
        s_lo = np.fmax(down(s_lo_p - up(dh_p * up(p - lo))), 0.0)
        if unknown.any():
            d_lo, d_hi = np.where(unknown, 0.0, d_lo), np.where(unknown, 0.25, d_hi)
            s_lo, s_hi = np.where(unknown, 0.0, s_lo), np.where(unknown, 1.0, s_hi)
        # relative (1/(1+exp(-a)) and exp(a)/(1+exp(a))) or absolute (0.5*(1+tanh(a/2))): the larger
        # (the relative term, where it is the larger, is >= 2^-60: one step up covers the underflow)
        eta = np.maximum(up(c.c_rel_u * s_hi * factor_up(1)), c.c_abs_tiny)
    mid, rad = _hull(d_lo, d_hi)
    return UnitBox(mid, rad, d_hi, np.asarray(eta), s_lo, s_hi)


def _tanh_box(lo: np.ndarray, hi: np.ndarray, c: VecConstants) -> UnitBox:
    t_lo, t_hi = tanh_bounds(lo)[0], tanh_bounds(hi)[1]
    with np.errstate(all="ignore"):
        g_dn = [np.maximum(down(1.0 - up(t * t)), 0.0) for t in (t_lo, t_hi)]
        g_up = [np.minimum(up(1.0 - down(t * t)), 1.0) for t in (t_lo, t_hi)]
        d_lo = np.minimum(*g_dn)
        d_hi = np.where((t_lo <= 0) & (t_hi >= 0), 1.0, np.maximum(*g_up))
        t_abs = np.maximum(np.abs(t_lo), np.abs(t_hi))
        # k ulps of a result v: at most 2 k u |v| + k tiny (an ulp is below 2 u |v| or is tiny)
        eta = plus_tiny(c.two_k_u * t_abs * factor_up(1), c.k_tiny)
    mid, rad = _hull(d_lo, d_hi)
    return UnitBox(mid, rad, d_hi, np.asarray(eta), t_lo, t_hi)


def _relu_box(lo: np.ndarray, hi: np.ndarray, c: VecConstants) -> UnitBox:
    d_lo = np.where(lo > 0, 1.0, 0.0)
    d_hi = np.where(hi > 0, 1.0, 0.0)
    mid, rad = _hull(d_lo, d_hi)
    return UnitBox(mid, rad, d_hi, np.zeros_like(lo), np.maximum(lo, 0.0), np.maximum(hi, 0.0))


def _identity_box(lo: np.ndarray, hi: np.ndarray, c: VecConstants) -> UnitBox:
    one = np.ones_like(lo)
    return UnitBox(one, np.zeros_like(lo), one, np.zeros_like(lo), lo, hi)


def _step_box(lo: np.ndarray, hi: np.ndarray, c: VecConstants) -> UnitBox:
    # exact unless the box straddles 0: then the computed step may be the other value
    straddles = ~((lo > 0) | (hi <= 0))
    zero = np.zeros_like(lo)
    return UnitBox(zero, zero.copy(), zero.copy(), np.where(straddles, 1.0, 0.0),
                   np.where(lo > 0, 1.0, 0.0), np.where(hi > 0, 1.0, 0.0))


_BOXES = {
    Activation.SIGMOID: _sigmoid_box,
    Activation.TANH: _tanh_box,
    Activation.RELU: _relu_box,
    Activation.IDENTITY: _identity_box,
    Activation.STEP: _step_box,
}


def unit_box(activation: Activation, lo: np.ndarray, hi: np.ndarray, c: VecConstants) -> UnitBox:
    """The elementwise activation over the box ``[lo, hi]`` of computed inputs (not softmax).

    Args:
        activation: any activation but softmax.
        lo: ``(N, m)`` lower ends of ``â``.
        hi: ``(N, m)`` upper ends.
        c: the model's constants.
    """
    return _BOXES[activation](lo, hi, c)


def capped(activation: Activation, err: np.ndarray, z_lo: np.ndarray, z_hi: np.ndarray) -> np.ndarray:
    """``err`` capped by the range of the computed activation (the exact value is in ``[z_lo, z_hi]``)."""
    with np.errstate(all="ignore"):
        z_abs = np.maximum(np.abs(z_lo), np.abs(z_hi))
        if activation in (Activation.SIGMOID, Activation.SOFTMAX):
            cap = np.maximum(z_hi, up(1.0 - z_lo))  # a computed value is in [0, 1]
        elif activation is Activation.TANH:
            cap = up(1.0 + z_abs)  # in [-1, 1]
        elif activation is Activation.STEP:
            cap = np.ones_like(err)
        else:
            return err
    return np.asarray(np.fmin(err, cap))


#: The range of each computed activation (a correct implementation never leaves it).
RANGES = {
    Activation.SIGMOID: (0.0, 1.0),
    Activation.SOFTMAX: (0.0, 1.0),
    Activation.TANH: (-1.0, 1.0),
    Activation.STEP: (0.0, 1.0),
    Activation.RELU: (0.0, np.inf),
    Activation.IDENTITY: (-np.inf, np.inf),
}


def softmax_jacobian(y_lo: np.ndarray, y_hi: np.ndarray) -> IntervalMatrix:
    """The interval Jacobian ``J_kj = y_k (delta_kj - y_j)`` for ``y`` in the box ``[y_lo, y_hi]``, ``(N, K, K)``.

    Args:
        y_lo: ``(N, K)`` lower ends of the softmax over the box of logits.
        y_hi: ``(N, K)`` upper ends.
    """
    with np.errstate(all="ignore"):
        # off the diagonal: -y_k y_j, between -(y_k^hi y_j^hi) and -(y_k^lo y_j^lo)
        p_hi = up(y_hi[:, :, None] * y_hi[:, None, :])
        p_lo = np.maximum(down(y_lo[:, :, None] * y_lo[:, None, :]), 0.0)
        lo, hi = -p_hi, -p_lo
        # on it: y (1 - y), concave in y, maximum 1/4 at 1/2
        f_dn = np.minimum(*[np.maximum(down(y * down(1.0 - y)), 0.0) for y in (y_lo, y_hi)])
        f_up = [up(y * up(1.0 - y)) for y in (y_lo, y_hi)]
        f_hi = np.where((y_lo <= 0.5) & (y_hi >= 0.5), 0.25, np.minimum(np.maximum(*f_up), 0.25))
        K = y_lo.shape[1]
        idx = np.arange(K)
        lo[:, idx, idx] = f_dn
        hi[:, idx, idx] = f_hi
    mid, rad = _hull(lo, hi)
    return IntervalMatrix(mid, rad)


def softmax_errors(a_lo: np.ndarray, a_hi: np.ndarray, e: np.ndarray, p_lo: np.ndarray, p_hi: np.ndarray,
                   c: VecConstants) -> np.ndarray:
    """A bound on ``|ŷ_k - p_k|``: the computed softmax of inputs off by ``e`` from ``[a_lo, a_hi]``.

    ``p`` is the exact softmax of the exact inputs (``p in [p_lo, p_hi]``). Each exp argument is
    off by ``r_i = e_i + u (max_j (a_j + e_j) - (a_i - e_i)) + phi`` in log terms (input error,
    the shift's rounding, exp's own), so ``ŷ_k / p_k = e^{theta_k} / sum_i p_i e^{theta_i}``
    times the sum's and the division's roundings, ``|theta_i| <= r_i``; ``sum_i p_i = 1`` bounds the
    sum both ways too. With ``e = 0`` and the box of computed inputs this is the evaluation error.

    Args:
        a_lo: ``(N, K)`` lower ends of the exact inputs.
        a_hi: ``(N, K)`` upper ends.
        e: ``(N, K)`` bounds of the input errors (zeros for the evaluation error alone).
        p_lo: ``(N, K)`` lower ends of the exact softmax.
        p_hi: ``(N, K)`` upper ends.
        c: the model's constants.
    """
    K = a_lo.shape[1]
    with np.errstate(all="ignore"):
        top = np.max(up(a_hi + e), axis=1, keepdims=True)
        spread = up(top - down(a_lo - e))
        r = up(up(e + up(c.u * spread * factor_up(1))) + c.phi)
        r_max = np.max(r, axis=1, keepdims=True)
        m_hi = expm1_bounds(r)[1]  # e^{r} - 1, relatively accurate
        # h >= sum_i p_i e^{theta_i} - 1 = sum_i p_i (e^{theta_i} - 1), and <= e^{r_max} - 1;
        # d >= 1 - sum_i p_i e^{theta_i} = sum_i p_i (1 - e^{theta_i}) <= sum_i p_i r_i, and <= r_max
        uf = (K + 1) * TINY64  # the products p_i m_i may underflow
        h = np.minimum(plus_tiny(sum_up(p_hi * m_hi * factor_up(1)), uf), expm1_bounds(r_max[:, 0])[1])[:, None]
        d = np.minimum(plus_tiny(sum_up(p_hi * r * factor_up(1)), uf), r_max[:, 0])[:, None]
        f_up = float(np.nextafter(c.up_fac - 1.0, np.inf))
        f_dn = float(np.nextafter(1.0 - c.down_fac, np.inf))
        # ŷ/p - 1 <= ((1 + m_k)(1 + f) - (1 - d)) / (1 - d); 1 - ŷ/p <= h + (1 - e^{-r_k}) + f'
        num = up(up(up(m_hi + f_up) + up(m_hi * f_up)) + d)
        above = up(num / down(1.0 - d))
        below = up(up(h + r) + f_dn)
        rel = np.maximum(above, below)
        err = plus_tiny(p_hi * rel * factor_up(1), (K + 3) * c.k_tiny)
    return np.asarray(np.where(np.isnan(err) | (d >= 1), np.inf, err))
