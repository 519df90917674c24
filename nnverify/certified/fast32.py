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
from nnverify.certified.elementary import ball_from_bounds, sigmoid_bounds, softmax_ball, tanh_bounds
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


def _monotone(bounds: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> Callable[[BallArray], BallArray]:
    """An increasing function on balls: its lower bound at the lower ends, its upper bound at the
    upper ends — both ends in one call (small batches pay NumPy's per-call cost once)."""

    def h(a: BallArray) -> BallArray:
        ends = np.concatenate([a.lower(), a.upper()])
        lo, hi = bounds(ends)
        n = a.mid.shape[0]
        return ball_from_bounds(lo[:n], hi[n:])

    return h


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
    Activation.SIGMOID: _monotone(sigmoid_bounds),
    Activation.TANH: _monotone(tanh_bounds),
    Activation.SOFTMAX: softmax_ball,
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
