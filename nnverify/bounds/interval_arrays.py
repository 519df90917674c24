"""Today's interval bound on ball arrays: the vectorized twin of :mod:`nnverify.bounds.interval`.

The same rules, layer by layer, on a :class:`~nnverify.certified.arrays.BallPass` in float64
rounded up: ``e_a = gamma_{n+1} ((|z| + e_z)|W| + |b|) + e_z |W| + n tiny`` (any summation
order; the last term covers subnormal products), then each activation's rule
``min(cap, L e_a + eta)`` over the box ``[a - e_a, a + e_a]`` (:mod:`.boxes`; softmax's own rule).
The arb version stays as the oracle in the tests; this one is what the verdicts use, and the
a-priori enclosure the signed bound (:mod:`.adjoint`) linearises over.
"""

from __future__ import annotations

import numpy as np

from nnverify.bounds.boxes import VecConstants, capped, softmax_errors, unit_box
from nnverify.bounds.rounding import DEFAULT_ROUNDING, RoundingModel
from nnverify.bounds.sums import gamma_sums, layer_weights
from nnverify.certified.arrays import BallArray, BallPass, down, up
from nnverify.errors import UsageError
from nnverify.model import Activation, Network

__all__ = ["interval_layer_bounds", "interval_bounds", "activation_step", "check_ball_pass"]


def check_ball_pass(network: Network, bp: BallPass) -> None:
    """Raise a UsageError unless ``bp`` has one ``(N, units)`` array per layer of ``network``."""
    if not isinstance(bp, BallPass):
        raise UsageError(f"expected a BallPass (nnverify.certified.arrays.ball_pass), got {type(bp).__name__}")
    if len(bp.a) != len(network.layers) or len(bp.z) != len(network.layers):
        raise UsageError(f"the ball pass has {len(bp.a)} layers but the network has {len(network.layers)}")
    N = bp.x.shape[0]
    if bp.x.ndim != 2 or bp.x.shape[1] != network.n_inputs:
        raise UsageError(f"the ball pass has inputs of shape {bp.x.shape}; the network takes {network.n_inputs}")
    for l, (layer, a) in enumerate(zip(network.layers, bp.a), start=1):
        if a.shape != (N, layer.n_out):
            raise UsageError(f"the ball pass's layer {l} has shape {a.shape}; expected {(N, layer.n_out)}")


def activation_step(activation: Activation, a: BallArray, z: BallArray, e_a: np.ndarray,
                    c: VecConstants) -> np.ndarray:
    """``e_z``: the activation's error bound given ``|â - a| <= e_a`` (exact ``a``, ``z`` enclosed).

    Args:
        activation: the layer's activation.
        a: the exact weighted sums, enclosed.
        z: the exact activations, enclosed.
        e_a: ``(N, m)`` bounds on the weighted sums' errors.
        c: the model's constants.
    """
    with np.errstate(all="ignore"):
        lo, hi = down(a.lower() - e_a), up(a.upper() + e_a)
        if activation is Activation.SOFTMAX:
            err = softmax_errors(a.lower(), a.upper(), e_a, z.lower(), z.upper(), c)
        else:
            box = unit_box(activation, lo, hi, c)
            err = up(up(box.lipschitz * e_a) + box.eta)
        bad = ~np.isfinite(e_a)
        if bad.any():
            err = np.where(bad, np.inf, err)
    return capped(activation, np.asarray(err), z.lower(), z.upper())


def interval_layer_bounds(network: Network, bp: BallPass,
                          model: RoundingModel = DEFAULT_ROUNDING) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per layer ``(e_a, e_z)``, each ``(N, units)`` float64 rounded up (today's interval rules).

    Args:
        network: the network (its dtype is the arithmetic's).
        bp: ball arrays of a binary-mode pass of this network (the floats the computation sees).
        model: the accuracy assumed of exp/tanh.
    """
    check_ball_pass(network, bp)
    consts = model.constants(network.dtype)
    c = VecConstants.of(consts, network.n_outputs)
    tiny = float(consts.tiny)
    z_abs = np.abs(bp.x.astype(np.float64))
    e: np.ndarray | None = None
    out = []
    for layer, w, a, z in zip(network.layers, layer_weights(network), bp.a, bp.z):
        e_a = gamma_sums(z_abs, e, w, consts.u, tiny)[0]
        e_z = activation_step(layer.activation, a, z, e_a, c)
        out.append((e_a, e_z))
        z_abs, e = z.abs_upper(), e_z
    return tuple(out)


def interval_bounds(network: Network, bp: BallPass, model: RoundingModel = DEFAULT_ROUNDING) -> np.ndarray:
    """``(N, k)`` today's bound on ``|y_float - y_exact|`` for any correct computation, from ball arrays."""
    return interval_layer_bounds(network, bp, model)[-1][1]
