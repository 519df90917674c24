"""Certified forward pass in float64 balls: the fast reference for float32 networks.

Each layer encloses ``a = z @ W + b`` for every ``z`` in the ball ``mid ± rad`` as

``fl(mid @ W + b)  ±  (gamma_{n+1} (|mid| @ |W| + |b|) + rad @ |W| + n 2**-1075)``

with ``u = 2**-53``. The first term is the rounding of the float64 product in *any* summation
order, blocked or not, FMA or not (the products of two float32 are exact in float64, the BLAS
sums are not); the second moves the centre over the ball; the last covers underflowing products.
Every nonnegative product is itself a BLAS product rounded to nearest, so it is turned into an
upper bound of its exact value (:func:`~nnverify.certified.ozaki.upper_dot`) before use, and
every sum is rounded up. ``|mid| @ |W|`` is returned too: the bounds use the same product.

The activations are :mod:`~nnverify.certified.elementary`'s rigorous enclosures (sigmoid, tanh,
softmax — nothing assumed of libm) and exact rules for relu, step (``step(0) = 0``) and identity.

Sound under IEEE binary64, round to nearest, without flush-to-zero: checked once per process by
:func:`~nnverify.certified.elementary.check_float_environment`. A float64 ball is about
``n u`` wide relative to ``|z| @ |W|``: plenty for float32 verdicts (``u = 2**-24``), too wide
for float64 ones (:mod:`.fast64` does those in double-double).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnverify.certified.arrays import BallArray, BallPass
from nnverify.certified.ddouble import ETA, up, upper_sum
from nnverify.certified.elementary import ball_from_bounds, exp_bounds, sigmoid_bounds, tanh_bounds
from nnverify.certified.fpenv import ensure_float_environment
from nnverify.certified.ozaki import gamma_up, upper_dot
from nnverify.model import Activation, Network, network_cache

__all__ = ["BALL_ARRAY_ACTIVATIONS", "F64Weights", "ball_affine", "f64_forward", "f64_weights"]


class F64Weights:
    """A layer's weights as float64 arrays, with ``|W|`` and ``|b|`` (cached per network)."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = np.ascontiguousarray(W, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.absW = np.abs(self.W)
        self.absb = np.abs(self.b)
        self.n = int(self.W.shape[0])
        self.gamma = gamma_up(self.n + 1)


def f64_weights(network: Network) -> tuple[F64Weights, ...]:
    """The network's weights as float64 with their magnitudes, cached on the network."""
    cache = network_cache(network, "f64_weights")
    if "layers" not in cache:
        cache["layers"] = tuple(F64Weights(ly.W, ly.b) for ly in network.layers)
    layers: tuple[F64Weights, ...] = cache["layers"]
    return layers


def ball_affine(z: BallArray, w: F64Weights) -> tuple[BallArray, np.ndarray]:
    """``z @ W + b`` for every point of the ball array ``z``, and ``fl(|z.mid| @ |W|)``.

    Args:
        z: ``(N, n)`` the layer's inputs as balls.
        w: the layer's float64 weights.
    """
    mid = z.mid @ w.W + w.b
    P = np.abs(z.mid) @ w.absW
    rounding = up(w.gamma * upper_sum(upper_dot(P, w.n), w.absb))
    rad = upper_sum(rounding, w.n * ETA)
    if np.any(z.rad):
        rad = upper_sum(rad, upper_dot(z.rad @ w.absW, w.n))
    bad = ~(np.isfinite(mid) & np.isfinite(rad))
    if bad.any():
        mid, rad = np.where(bad, 0.0, mid), np.where(bad, np.inf, rad)
    return BallArray(mid, rad), P


#: Above this input radius the slope bounds below fall back to the global ones (1/4 and 1).
_RHO_SMALL = 2.0**-20


def _down(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.nextafter(x, -np.inf))


def _up(x: np.ndarray) -> np.ndarray:
    """Signed: the next float above (``up`` from :mod:`.ddouble` is for nonnegative values)."""
    return np.asarray(np.nextafter(x, np.inf))


def _ball(lo: np.ndarray, hi: np.ndarray, spread: np.ndarray, low: float, high: float) -> BallArray:
    """The ball of ``[lo - spread, hi + spread]`` (rounded outward), clipped to the range ``[low, high]``."""
    with np.errstate(invalid="ignore"):
        return ball_from_bounds(np.clip(_down(lo - spread), low, high), np.clip(_up(hi + spread), low, high))


def _sigmoid(a: BallArray) -> BallArray:
    """sigmoid at the midpoints (:func:`sigmoid_bounds`), widened by ``rho`` times the largest slope on
    the ball: ``sigma' <= min(sigma, 1 - sigma)`` and both logs are 1-Lipschitz, so the slope is at
    most ``e^rho min(sigma(m), 1 - sigma(m)) <= (1 + 2 rho) min(hi, 1 - lo)`` — relative in both tails."""
    lo, hi = sigmoid_bounds(a.mid)
    rho = a.rad
    small = np.minimum(hi, up(1.0 - lo))
    slope = np.where(rho <= _RHO_SMALL, np.minimum(0.25, up(small * up(1.0 + 2 * rho))), 0.25)
    return _ball(lo, hi, up(rho * slope), 0.0, 1.0)


def _tanh(a: BallArray) -> BallArray:
    """tanh at the midpoints, widened by ``rho`` times the largest slope on the ball: ``tanh' = 1 -
    tanh^2`` and ``|(log(1 - tanh^2))'| = 2 |tanh| <= 2``, so it is at most ``e^{2 rho} (1 - t^2)``
    with ``t^2`` the smallest square over ``[lo, hi]`` at the midpoint."""
    lo, hi = tanh_bounds(a.mid)
    rho = a.rad
    t_min = np.where((lo > 0) | (hi < 0), np.minimum(np.abs(lo), np.abs(hi)), 0.0)
    sech2 = up(1.0 - _down(t_min * t_min))
    slope = np.where(rho <= _RHO_SMALL, np.minimum(1.0, up(sech2 * up(1.0 + 4 * rho))), 1.0)
    return _ball(lo, hi, up(rho * slope), -1.0, 1.0)


def _sum_bounds(v_lo: np.ndarray, v_hi: np.ndarray, mask: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of ``sum_i v_i`` over the ``mask``ed last axis (nonnegative terms,
    ``n`` of them): any summation order is within ``gamma_n`` of the exact sum."""
    g = gamma_up(max(n, 1))
    s_lo = np.sum(np.where(mask, v_lo, 0.0), axis=-1)
    s_hi = np.sum(np.where(mask, v_hi, 0.0), axis=-1)
    return np.maximum(_down(_down(s_lo) * (1.0 - 2 * g)), 0.0), up(up(s_hi + n * ETA) * (1.0 + 2 * g))


def _softmax(a: BallArray) -> BallArray:
    """softmax at the midpoints from K exp enclosures: ``y_k = e_k / (e_k + S_k)`` with ``S_k`` the
    sum of the other ``e_i`` is increasing in ``e_k`` and decreasing in ``S_k``; then widened by the
    logits' radii: a shift of at most ``rho_i`` moves ``y_k`` by a factor ``e^{±(rho_k + max rho)}``."""
    m = a.mid
    c = np.max(m, axis=-1, keepdims=True)
    d = m - c  # one rounding: the exact difference lies within one ulp
    e_lo, e_hi = exp_bounds(_down(d))[0], exp_bounds(_up(d))[1]
    K = m.shape[-1]
    others = ~np.eye(K, dtype=bool)
    S_lo, S_hi = _sum_bounds(e_lo[..., None, :], e_hi[..., None, :], others, K - 1)
    with np.errstate(all="ignore"):
        y_lo = _down(e_lo / up(e_lo + S_hi))
        y_hi = up(e_hi / _down(e_hi + S_lo))
    y_lo = np.where(np.isfinite(y_lo), y_lo, 0.0)
    y_hi = np.where(np.isfinite(y_hi), y_hi, 1.0)
    both = up(a.rad + np.max(a.rad, axis=-1, keepdims=True))
    grow = np.where(both <= _RHO_SMALL, up(both * up(1.0 + both)), np.inf)  # e^b - 1 <= b (1 + b)
    spread = np.where(both == 0, 0.0, up(np.minimum(y_hi, 1.0) * grow))
    return _ball(y_lo, y_hi, np.where(np.isfinite(spread), spread, 1.0), 0.0, 1.0)


def _relu(a: BallArray) -> BallArray:
    lo, hi = a.lower(), a.upper()
    half = up(np.maximum(hi, 0.0) * 0.5)  # straddling 0: [0, hi] as hi/2 ± hi/2
    mid = np.where(lo >= 0, a.mid, np.where(hi <= 0, 0.0, half))
    rad = np.where(lo >= 0, a.rad, np.where(hi <= 0, 0.0, half))
    return BallArray(np.ascontiguousarray(mid), np.ascontiguousarray(rad))


def _step(a: BallArray) -> BallArray:
    lo, hi = a.lower(), a.upper()
    one, zero = lo > 0, hi <= 0  # step(0) = 0
    mid = np.where(one, 1.0, np.where(zero, 0.0, 0.5))
    return BallArray(mid, np.where(one | zero, 0.0, 0.5))


#: ``h`` on ball arrays ``(N, units)``, per activation (softmax row by row).
BALL_ARRAY_ACTIVATIONS: dict[Activation, Callable[[BallArray], BallArray]] = {
    Activation.IDENTITY: lambda a: a,
    Activation.SIGMOID: _sigmoid,
    Activation.TANH: _tanh,
    Activation.SOFTMAX: _softmax,
    Activation.RELU: _relu,
    Activation.STEP: _step,
}


def f64_forward(network: Network, x: np.ndarray) -> tuple[BallPass, tuple[np.ndarray, ...]]:
    """Enclose every unit of ``network`` at the float inputs ``x`` ``(N, n)`` in float64 balls.

    Returns the :class:`BallPass` and, per layer, ``fl(|z_mid| @ |W|)``. Entries that overflowed
    carry an infinite radius.

    Args:
        network: the network (any dtype; its weights are taken exactly as float64).
        x: ``(N, n)`` inputs, taken exactly as float64.
    """
    ensure_float_environment()
    x64 = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    z = BallArray(x64, np.zeros_like(x64))
    a_balls, z_balls, products = [], [], []
    with np.errstate(all="ignore"):  # overflow becomes an infinite radius, never a warning
        for layer, w in zip(network.layers, f64_weights(network)):
            a, P = ball_affine(z, w)
            z = BALL_ARRAY_ACTIVATIONS[layer.activation](a)
            a_balls.append(a)
            z_balls.append(z)
            products.append(P)
    return BallPass(x64, tuple(a_balls), tuple(z_balls)), tuple(products)
