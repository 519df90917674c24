"""The matrix route: ``A = [Z 1] @ [W; b]`` layer by layer with ``arb_mat`` products."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from flint import arb, arb_mat

from nnverify.certified.activations import activate_balls
from nnverify.certified.balls import ball
from nnverify.model import Network, network_cache
from nnverify.modes import Mode
from nnverify.rationals import weight_rationals

__all__ = ["matrix_route", "augmented_weights"]

#: The balls of every layer for a batch: ``[layer][row][unit]``.
LayerBalls = list[list[list[arb]]]


def augmented_weights(network: Network, mode: Mode, prec: int) -> list[arb_mat]:
    """Per layer ``[W; b]`` as an ``arb_mat`` (cached per network, mode and, for decimal balls, precision)."""
    per_net = network_cache(network, "arb_weights")
    key = (mode, prec if mode is Mode.DECIMAL else 0)
    if key not in per_net:
        mats = []
        if mode is Mode.BINARY:
            for layer in network.layers:
                rows = layer.W.astype(np.float64).tolist() + [layer.b.astype(np.float64).tolist()]
                mats.append(arb_mat(rows))  # floats convert exactly
        else:
            for W, b in weight_rationals(network, mode):
                mats.append(arb_mat([[ball(q) for q in row] for row in W] + [[ball(q) for q in b]]))
        per_net[key] = mats
    mats_out: list[arb_mat] = per_net[key]
    return mats_out


def matrix_route(
    network: Network, rows: Sequence[Sequence[Any]], mode: Mode, prec: int
) -> tuple[LayerBalls, LayerBalls]:
    """Balls of every ``a`` and ``z`` for the input ``rows`` (floats or balls), under ``ctx.workprec(prec)``."""
    mats = augmented_weights(network, mode, prec)
    one = arb(1)
    z_rows: list[list[Any]] = [list(r) for r in rows]  # floats or balls
    all_a, all_z = [], []
    n_rows = len(z_rows)
    for layer, Waug in zip(network.layers, mats):
        Z = arb_mat([r + [one] for r in z_rows]) if z_rows[0] and isinstance(z_rows[0][0], arb) \
            else arb_mat([r + [1.0] for r in z_rows])
        flat = (Z * Waug).entries()
        m = layer.n_out
        a_rows = [flat[r * m:(r + 1) * m] for r in range(n_rows)]
        z_rows = [activate_balls(layer.activation, r) for r in a_rows]
        all_a.append(a_rows)
        all_z.append(z_rows)
    return all_a, all_z
