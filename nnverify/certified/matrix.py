"""The matrix route: ``A = [Z 1] @ [W; b]`` layer by layer with ``arb_mat`` products.

python-flint's ``arb_mat`` multiplies by the classical algorithm unless every dimension reaches
:data:`BLOCK_MIN` (121 here); its block algorithm (exact integer products of scaled blocks) is
several times faster and its balls are the same for exact inputs and never wider for ball
inputs (``tests/test_certified.py`` checks both). So a product is padded with zero rows and
columns up to :data:`BLOCK_MIN` when the batch is that long and the padding costs at most
:data:`PAD_COST` times the work: layer 1 of the book's MNIST network (785 x 50) gets 6x faster.
"""

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

__all__ = ["matrix_route", "augmented_weights", "abs_augmented_weights", "padded_shape", "BLOCK_MIN", "PAD_COST"]

#: The smallest dimension for which arb_mat takes its block algorithm.
BLOCK_MIN = 121
#: Pad only when the padded product has at most this many times the entries to multiply.
PAD_COST = 3.0

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


def abs_augmented_weights(network: Network) -> list[arb_mat]:
    """Per layer ``|[W; b]|`` as an ``arb_mat`` of exact floats (cached per network: the bounds
    need it on every call, and building it cost 6 of 8 ms per row of the book's MNIST network)."""
    per_net = network_cache(network, "arb_abs_weights")
    if "mats" not in per_net:
        per_net["mats"] = [arb_mat(np.abs(ly.W.astype(np.float64)).tolist()
                                   + [np.abs(ly.b.astype(np.float64)).tolist()]) for ly in network.layers]
    mats: list[arb_mat] = per_net["mats"]
    return mats


def padded_shape(rows: int, inner: int, cols: int) -> tuple[int, int] | None:
    """``(inner', cols')`` to pad ``[Z 1]`` (rows x inner) @ ``[W; b]`` (inner x cols) to, or None."""
    if rows < BLOCK_MIN:
        return None
    k, m = max(inner, BLOCK_MIN), max(cols, BLOCK_MIN)
    if (k, m) == (inner, cols) or k * m > PAD_COST * inner * cols:
        return None
    return k, m


def _padded(Waug: arb_mat, k: int, m: int) -> arb_mat:
    rows, cols = Waug.nrows(), Waug.ncols()
    out = arb_mat(k, m)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = Waug[i, j]
    return out


def _product(Z_rows: list[list[Any]], Waug: arb_mat, cache: dict[Any, Any], key: Any) -> list[arb]:
    """The entries of ``[Z 1] @ [W; b]`` row-major, through a zero-padded block product when it pays."""
    n_rows, inner, cols = len(Z_rows), Waug.nrows(), Waug.ncols()
    one: Any = arb(1) if Z_rows[0] and isinstance(Z_rows[0][0], arb) else 1.0
    shape = padded_shape(n_rows, inner, cols)
    if shape is None:
        return list((arb_mat([r + [one] for r in Z_rows]) * Waug).entries())
    k, m = shape
    if key not in cache:
        cache[key] = _padded(Waug, k, m)
    zeros = [0.0] * (k - inner)
    full = (arb_mat([r + [one] + zeros for r in Z_rows]) * cache[key]).entries()
    return [full[r * m + j] for r in range(n_rows) for j in range(cols)]


def matrix_route(
    network: Network, rows: Sequence[Sequence[Any]], mode: Mode, prec: int
) -> tuple[LayerBalls, LayerBalls]:
    """Balls of every ``a`` and ``z`` for the input ``rows`` (floats or balls), under ``ctx.workprec(prec)``."""
    mats = augmented_weights(network, mode, prec)
    padded = network_cache(network, "arb_weights_padded")
    z_rows: list[list[Any]] = [list(r) for r in rows]  # floats or balls
    all_a, all_z = [], []
    n_rows = len(z_rows)
    for l, (layer, Waug) in enumerate(zip(network.layers, mats)):
        flat = _product(z_rows, Waug, padded, (mode, prec if mode is Mode.DECIMAL else 0, l))
        m = layer.n_out
        a_rows = [flat[r * m:(r + 1) * m] for r in range(n_rows)]
        z_rows = [activate_balls(layer.activation, r) for r in a_rows]
        all_a.append(a_rows)
        all_z.append(z_rows)
    return all_a, all_z
