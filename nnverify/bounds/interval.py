"""The interval bound: errors pushed forward layer by layer through ``|W|`` and the activations.

For each layer, ``|â_j - a_j| <= gamma_{n+1} (sum_i (|z_i| + e_i)|w_ij| + |b_j|) + sum_i e_i |w_ij| + n tiny``
(any summation order, FMA or not; the last term covers subnormal products), then each
activation's rule (:mod:`.activations`). Computed in ``arb`` at :data:`BOUND_PREC` bits, every
step rounded outward. This per-number version is the oracle of the tests; the verdicts use its
vectorized twin (:mod:`.interval_arrays`) and the tighter bounds of :mod:`.tiers`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from flint import arb, arb_mat, ctx

from nnverify.bounds.activations import BallConstants, activation_errors, upper
from nnverify.bounds.rounding import DEFAULT_ROUNDING, RoundingModel
from nnverify.bounds.ulps import float_up, gamma
from nnverify.certified import CertifiedPass, arf_to_fraction, ball, certify
from nnverify.errors import UsageError
from nnverify.model import Network
from nnverify.modes import Mode

__all__ = ["forward_error_bounds", "layer_error_bounds", "BOUND_PREC"]

#: Working precision of the bound's own arithmetic: ample, since every step rounds outward.
BOUND_PREC = 64

#: Per layer, the error balls of ``a`` and of ``z``: ``[(e_a rows, e_z rows), ...]``.
ErrorBalls = list[tuple[list[list[arb]], list[list[arb]]]]


def layer_error_bounds(
    network: Network, certified: CertifiedPass, model: RoundingModel = DEFAULT_ROUNDING
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per layer ``(e_a, e_z)``, each ``(N, units)`` float64, rounded up: bounds on ``|â - a|``
    and ``|ẑ - z|`` for any correct float computation in ``network.dtype`` (binary mode).

    Args:
        network: the network (its dtype is the arithmetic's).
        certified: a BINARY-mode pass of this network.
        model: the accuracy assumed of exp/tanh.
    """
    balls = _layer_error_balls(network, certified, model)
    return tuple((_to_float_up(ea), _to_float_up(ez)) for ea, ez in balls)


def _to_float_up(rows: list[list[arb]]) -> np.ndarray:
    def one(v: arb) -> float:
        return float_up(arf_to_fraction(upper(v))) if v.is_finite() else math.inf

    return np.array([[one(v) for v in row] for row in rows], dtype=np.float64)


def _weighted_sum_errors(
    layer_W: np.ndarray, layer_b: np.ndarray, prev_abs: list[list[Any]], prev_err: list[list[arb]] | None, g: arb,
    underflow: arb,
) -> list[list[arb]]:
    """``gamma_{n+1} (|z| + e)|[W; b]| + e|W| + n tiny`` per row and unit (the weighted-sum rule).

    The last term covers subnormal products (each may lose up to half the smallest subnormal:
    ``W3 = [[5e-324]] * 3`` at ``z = 0.5`` makes every product 0.0).
    """
    absW = arb_mat(np.abs(layer_W.astype(np.float64)).tolist() + [np.abs(layer_b.astype(np.float64)).tolist()])
    N, m = len(prev_abs), layer_W.shape[1]
    if prev_err is None:  # exact inputs: no error yet
        flat = (arb_mat([row + [1.0] for row in prev_abs]) * absW).entries()
        return [[upper(g * v + underflow) for v in flat[r * m:(r + 1) * m]] for r in range(N)]
    one, zero = arb(1), arb(0)
    ft = (arb_mat([[zi + ei for zi, ei in zip(zr, er)] + [one] for zr, er in zip(prev_abs, prev_err)]) * absW).entries()
    fs = (arb_mat([er + [zero] for er in prev_err]) * absW).entries()
    return [[upper(g * ft[r * m + j] + fs[r * m + j] + underflow) for j in range(m)] for r in range(N)]


def _layer_error_balls(network: Network, certified: CertifiedPass, model: RoundingModel) -> ErrorBalls:
    if certified.mode is not Mode.BINARY:
        raise UsageError("layer error bounds need a binary-mode pass (the floats the computation sees)")
    if certified.network is not network:
        raise UsageError("the certified pass was computed for another network")
    consts = model.constants(network.dtype)
    result: ErrorBalls = []
    with ctx.workprec(BOUND_PREC):
        c = BallConstants.of(consts, network.n_outputs)
        prev_abs: list[list[Any]] = np.abs(certified.x.astype(np.float64)).tolist()
        prev_err: list[list[arb]] | None = None
        for l, layer in enumerate(network.layers):
            g = upper(ball(gamma(layer.n_in + 1, consts.u)))
            e_a = _weighted_sum_errors(layer.W, layer.b, prev_abs, prev_err, g, upper(ball(layer.n_in * consts.tiny)))
            e_z = activation_errors(layer.activation, certified.balls_a[l], certified.balls_z[l], e_a, c)
            result.append((e_a, e_z))
            prev_abs = [[v.abs_upper() for v in row] for row in certified.balls_z[l]]
            prev_err = e_z
    return result


def forward_error_bounds(
    network: Network,
    x: np.ndarray,
    certified: CertifiedPass,
    model: RoundingModel = DEFAULT_ROUNDING,
) -> np.ndarray:
    """``(N, k)`` float64 bounds, rounded up, on ``|y_float - y_exact|`` for any correct float
    computation of ``network`` in its dtype at the inputs ``x`` (see :mod:`nnverify.bounds`).

    In decimal mode the exact values are those of the literal text while the computation
    sees the stored floats: the bound adds ``|y_binary - y_decimal|`` (enclosed, rounded up),
    the representation error, to the rounding bound.

    Args:
        network: the network; ``network.dtype`` is the arithmetic's dtype.
        x: the inputs ``(N, n)`` as the computation sees them (floats of the network's dtype).
        certified: the certified pass at those inputs (binary or decimal mode).
        model: the stated accuracy of exp/tanh.
    """
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if x.shape != certified.x.shape:
        raise UsageError(f"inputs have shape {x.shape} but the certified pass has {certified.x.shape}")
    if certified.mode is Mode.BINARY:
        binary = certified
    else:
        binary = certify(network, certified.x, mode=Mode.BINARY, prec=certified.prec, route=certified.route)
    e_y = _layer_error_balls(network, binary, model)[-1][1]
    if certified.mode is not Mode.BINARY:
        with ctx.workprec(BOUND_PREC):
            e_y = [[upper(e + (yb - yd).abs_upper()) for e, yb, yd in zip(er, br, dr)]
                   for er, br, dr in zip(e_y, binary.balls_z[-1], certified.balls_z[-1])]
    return _to_float_up(e_y)
