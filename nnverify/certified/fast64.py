"""Certified forward pass of a float64 network in double-double ball arithmetic.

Every layer is ``a = z @ W + b`` by exact Ozaki slice products summed in double-double
(:func:`~nnverify.certified.ozaki.dd_affine`), then ``z = h(a)`` by the activations below, each
evaluated at the ball's midpoint with :func:`~nnverify.certified.ddexp.dd_exp` and widened by
the largest slope over the ball:

- sigmoid: ``t = exp(-|a|)``, ``sigma(|a|) = 1/(1 + t)``, ``sigma(-|a|) = t/(1 + t)``; slope
  ``sigma (1 - sigma) <= min(1/4, e^{2 rho} t)`` (``log sigma`` and ``log(1 - sigma)`` are
  1-Lipschitz, and ``min(sigma, 1 - sigma) <= t``);
- tanh: ``tanh(|a|) = -m / (2 + m)`` with ``m = expm1(-2|a|)``; slope ``sech^2 <= min(1, 4 e^{2 rho} t)``,
  ``t = exp(-2|a|)``;
- softmax: ``exp(a_k - c) / sum_i exp(a_i - c)`` with ``c`` the row's largest leading part; a
  shift ``d`` of the logits by at most ``rho_k`` moves ``y_k`` by the factor ``e^{±(rho_k + max rho)}``;
- relu, step, identity: exact on balls that do not straddle 0 (``step(0) = 0``); otherwise the
  ball of every value taken.

Radii above ``2**-20`` are not worth the trouble: they make the ball infinite and the caller
falls back to ``arb``. The result carries every layer as :class:`~nnverify.certified.arrays.BallArray`
(a :class:`~nnverify.certified.arrays.BallPass`) and the outputs as double-double balls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnverify.certified.arrays import BallArray, BallPass
from nnverify.certified.ddexp import dd_exp
from nnverify.certified.ddouble import DD, dd_add, dd_div, up, upper_sum
from nnverify.certified.fpenv import ensure_float_environment
from nnverify.certified.ozaki import WeightSlices, dd_affine
from nnverify.model import Activation, Network, network_cache

__all__ = ["dd_forward", "DD_ACTIVATIONS", "dd_weights"]

#: Above this input radius an activation gives up (infinite radius): the ball is useless anyway.
_RHO_MAX = 2.0**-20


def _rho_ok(rho: np.ndarray) -> np.ndarray:
    return rho <= _RHO_MAX


def _neg_abs(a: DD, scale: float = 1.0) -> tuple[DD, np.ndarray]:
    """``-scale |a_mid|`` as an exact ball (``scale`` a power of two), and the signs of the midpoints."""
    sign = np.where(a.hi < 0, -1.0, 1.0)
    return DD(-scale * np.abs(a.hi), -scale * sign * a.lo, np.zeros_like(a.hi)), sign


def _widen(z: DD, slope: np.ndarray, rho: np.ndarray) -> DD:
    spread = np.where(_rho_ok(rho), up(slope * rho), np.inf)
    spread = np.where(rho == 0, 0.0, spread)
    return DD(z.hi, z.lo, up(z.rad + spread)).sanitized()


def _ones(shape: tuple[int, ...]) -> DD:
    return DD(np.ones(shape), np.zeros(shape), np.zeros(shape))


def _sigmoid(a: DD) -> DD:
    m, sign = _neg_abs(a)
    t, _ = dd_exp(m, with_expm1=False)  # in (0, 1]
    d = dd_add(_ones(a.shape), t)
    num = DD(np.where(sign > 0, 1.0, t.hi), np.where(sign > 0, 0.0, t.lo), np.where(sign > 0, 0.0, t.rad))
    z = dd_div(num, d)
    rho = a.rad
    slope = np.minimum(0.25, up(t.abs_upper() * up(1.0 + 4 * rho)))  # e^{2 rho} <= 1 + 4 rho here
    return _widen(z, slope, rho)


def _tanh(a: DD) -> DD:
    m2, sign = _neg_abs(a, 2.0)
    t, em = dd_exp(m2)  # t = exp(-2|a|), em = t - 1 in (-1, 0]
    assert em is not None
    two = DD(np.full(a.shape, 2.0), np.zeros(a.shape), np.zeros(a.shape))
    z = dd_div(em.neg(), dd_add(two, em))
    z = DD(sign * z.hi, sign * z.lo, z.rad)
    rho = a.rad
    slope = np.minimum(1.0, up(4.0 * up(t.abs_upper() * up(1.0 + 4 * rho))))
    return _widen(z, slope, rho)


def _softmax(a: DD) -> DD:
    c = np.max(a.hi, axis=1, keepdims=True)
    d = dd_add(DD(a.hi, a.lo, np.zeros_like(a.hi)), DD(np.broadcast_to(-c, a.shape), np.zeros(a.shape),
                                                      np.zeros(a.shape)))
    e, _ = dd_exp(d, with_expm1=False)
    total = DD(e.hi[:, :1], e.lo[:, :1], e.rad[:, :1])
    for k in range(1, a.shape[1]):
        total = dd_add(total, DD(e.hi[:, k:k + 1], e.lo[:, k:k + 1], e.rad[:, k:k + 1]))
    S = DD(np.broadcast_to(total.hi, a.shape), np.broadcast_to(total.lo, a.shape),
           np.broadcast_to(total.rad, a.shape))
    y = dd_div(e, S)
    rho = a.rad
    both = upper_sum(rho, np.max(rho, axis=1, keepdims=True))
    # |y(a + d) - y(a)| <= y (e^{rho_k + max rho} - 1) <= y both (1 + both) for both <= 1
    y_up = np.minimum(y.abs_upper(), 1.0)
    spread = np.where(both <= _RHO_MAX, up(y_up * up(both * up(1.0 + both))), np.inf)
    spread = np.where(both == 0, 0.0, spread)
    return DD(y.hi, y.lo, up(y.rad + spread)).sanitized()


def _lower(a: DD) -> np.ndarray:
    """A lower bound of every value in the ball."""
    return np.asarray(np.nextafter(np.nextafter(a.hi + a.lo, -np.inf) - a.rad, -np.inf))


def _upper(a: DD) -> np.ndarray:
    return np.asarray(np.nextafter(np.nextafter(a.hi + a.lo, np.inf) + a.rad, np.inf))


def _relu(a: DD) -> DD:
    lo, hi = _lower(a), _upper(a)
    pos, neg = lo >= 0, hi <= 0
    half = up(np.maximum(hi, 0.0) * 0.5)  # straddling balls: [0, hi] as mid hi/2 +- hi/2 (rounded up)
    z_hi = np.where(pos, a.hi, np.where(neg, 0.0, half))
    z_lo = np.where(pos, a.lo, 0.0)
    z_rad = np.where(pos, a.rad, np.where(neg, 0.0, half))
    return DD(z_hi, z_lo, z_rad).sanitized()


def _step(a: DD) -> DD:
    lo, hi = _lower(a), _upper(a)
    one, zero = lo > 0, hi <= 0  # step(0) = 0
    z_hi = np.where(one, 1.0, np.where(zero, 0.0, 0.5))
    z_rad = np.where(one | zero, 0.0, 0.5)
    return DD(z_hi, np.zeros_like(z_hi), z_rad)


#: ``h`` on double-double balls ``(N, units)``, per activation (softmax row by row).
DD_ACTIVATIONS: dict[Activation, Callable[[DD], DD]] = {
    Activation.IDENTITY: lambda a: a,
    Activation.SIGMOID: _sigmoid,
    Activation.TANH: _tanh,
    Activation.SOFTMAX: _softmax,
    Activation.RELU: _relu,
    Activation.STEP: _step,
}


def dd_weights(network: Network) -> tuple[WeightSlices, ...]:
    """The network's weights sliced for exact products (cached on the network)."""
    cache = network_cache(network, "dd_weights")
    if "slices" not in cache:
        cache["slices"] = tuple(WeightSlices.of(ly.W.astype(np.float64), ly.b.astype(np.float64))
                                for ly in network.layers)
    slices: tuple[WeightSlices, ...] = cache["slices"]
    return slices


def _to_balls(x: DD) -> BallArray:
    mid, rad = x.mid_rad64()
    return BallArray(np.ascontiguousarray(mid), np.ascontiguousarray(rad))


def dd_forward(network: Network, x: np.ndarray) -> tuple[BallPass, DD, tuple[np.ndarray, ...]]:
    """Enclose every unit of ``network`` at the float inputs ``x`` ``(N, n)`` in double-double balls.

    Returns the :class:`BallPass`, the outputs as double-double balls and, per layer,
    ``fl(|z_hi| @ |W|)``. Sound under IEEE binary64 round-to-nearest without flush-to-zero;
    entries whose balls went non-finite or too wide carry an infinite radius (decide them
    another way).

    Args:
        network: the network (any dtype; its weights are taken exactly as float64).
        x: ``(N, n)`` inputs, taken exactly as float64.
    """
    ensure_float_environment()
    x64 = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    z = DD.exact(x64)
    a_balls, z_balls, products = [], [], []
    with np.errstate(all="ignore"):  # overflow and NaN are detected by DD.sanitized, not warned
        for layer, w in zip(network.layers, dd_weights(network)):
            a, Q = dd_affine(z, w)
            z = DD_ACTIVATIONS[layer.activation](a)
            a_balls.append(_to_balls(a))
            z_balls.append(_to_balls(z))
            products.append(Q)
    return BallPass(x64, tuple(a_balls), tuple(z_balls)), z, tuple(products)


