"""The signed bound: every local rounding error propagated to the outputs with its sign (interval adjoints).

Write the computed pass as the exact one plus local errors: ``â^l = ẑ^{l-1} W^l + b^l + rho^l``
(the weighted sums' rounding, :mod:`.sums`) and ``ẑ^l = h(â^l) + eta^l`` (the activations'
evaluation error, :mod:`.boxes`). Then *exactly*

    Delta a^l = (Delta z^{l-1}) W^l + rho^l,    Delta z^l = D^l Delta a^l + eta^l,

with ``D^l`` the divided differences of ``h`` between ``a^l`` and ``â^l`` (softmax: a Jacobian
``J`` averaged over the segment). Every ``D`` lies in the hull of ``h'`` over the a-priori box
``[a - e_a, a + e_a]`` (mean value theorem), ``D = d_mid + delta`` with ``|delta| <= d_rad``, so
``Delta z^l = d_mid Delta a^l + xi^l`` with ``|xi^l| <= d_rad e_a^l + eta_bar^l``: the
linearisation remainder, bounded rigorously and treated as one more local error. What is left
is *linear with point coefficients*, and unrolling it gives exactly

    Delta y_k = sum_l sum_j G^l_a[k, j] rho^l_j + G^l_z[k, j] xi^l_j,
    G^l_z = G^{l+1}_a (W^{l+1})^T,   G^l_a = G^l_z diag(d_mid^l),

computed backwards from the outputs (the adjoint, as in Satire's backward pass for propagation
factors, but rigorous: every product's rounding kept as a radius, rounded outward). The sound
bound is ``sum |G_a| rho_bar + |G_z| xi_bar``: signs cancel where the network's paths do,
instead of pushing errors through ``|W|`` — and the remainder is propagated by point matrices,
so it does not blow up through a deep network as interval matrices would (wrapping).

The a-priori boxes come from errors pushed forward through ``|W|`` (each layer's order-free local
bound plus ``e_z |W|``, at most today's interval rules, :mod:`.interval_arrays`), tightened layer by
layer: the same backward pass from ``a^l`` (its units as outputs) bounds ``|Delta a^l|``, and the
smaller of the two bounds makes the next layer's box (a deep tanh network needs this: interval
boxes blow up and the linearisation with them). That costs a backward pass per layer, done while
it is cheap next to the final pass (:data:`REFINE_FLOPS`).

For the probabilistic tier (:mod:`.probabilistic`) the same pass returns ``sum G^2 var``
(the martingale's increments: ``G`` is a product of point matrices, deterministic, known to
within the rounding radius) and the sound remainder: every underflow term and every ``xi``
term (exp/tanh errors are not assumed random, nor is the linearisation remainder).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnverify.bounds.boxes import UnitBox
from nnverify.bounds.sums import LayerWeights, SumErrors
from nnverify.bounds.vector import FactoredRadius, IntervalMatrix, matmul_up, scaled_product, sum_up
from nnverify.certified.arrays import up

__all__ = ["LayerState", "Terms", "backward", "backward_flops", "REFINE_FLOPS"]

#: A hidden layer's box is refined by its own backward pass when that costs at most this many
#: flops per input, or 4 times the final pass.
REFINE_FLOPS = 2_000_000


@dataclass(eq=False)
class LayerState:
    """What the backward passes need of one layer.

    Args:
        w: the layer's weights.
        sums: the local rounding of its weighted sums.
        box: its activation over the a-priori box (None until known, and for softmax).
        xi: the bound ``d_rad e_a + eta_bar`` of its linearisation remainder and evaluation
            error (None until known).
    """

    w: LayerWeights
    sums: SumErrors
    box: UnitBox | None = None
    xi: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Terms:
    """Bounds on the errors of ``K`` quantities (outputs, or the units of one layer), per row.

    Args:
        sound: ``(N, K)`` the signed sound bound ``sum |G| rho_bar + |G_z| eta_bar``.
        var: ``(N, K)`` ``sum G^2 var``, the probabilistic tier's variance proxy.
        fixed: ``(N, K)`` the probabilistic tier's sound remainder.
    """

    sound: np.ndarray
    var: np.ndarray
    fixed: np.ndarray


def _matvec(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Upper bound of ``sum_j A[.., k, j] v[n, j, ...]`` for nonnegative ``A`` (``(K, n)`` shared, or ``(N, K, n)``)."""
    if A.ndim == 2:
        if v.ndim == 2:
            return matmul_up(v, np.ascontiguousarray(A.T))
        return np.stack([matmul_up(v[:, :, c], np.ascontiguousarray(A.T)) for c in range(v.shape[2])], axis=2)
    if v.ndim == 2:
        return matmul_up(A, v[:, :, None])[:, :, 0]
    return matmul_up(A, v)


def _add(*terms: np.ndarray) -> np.ndarray:
    out = terms[0]
    with np.errstate(all="ignore"):
        for t in terms[1:]:
            out = up(out + t)
    return np.asarray(out)


def _times_underflow(s: np.ndarray, uf: float) -> np.ndarray:
    """``s * uf`` rounded up (``uf`` a possibly subnormal constant, ``s`` a small array)."""
    with np.errstate(all="ignore"):
        return np.asarray(up(s * uf))


def _square_up(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(up(x * x))


def backward(states: list[LayerState], l: int, top: IntervalMatrix | None,
             top_xi: np.ndarray | None = None, *, prob: bool = True) -> Terms:
    """Propagate every local error of layers ``0..l`` to ``K`` linear functionals of ``Delta a^l``.

    Args:
        states: per layer (0-based), weights, local sums, boxes and ``xi``; ``box`` and ``xi``
            must be set for every layer below ``l``.
        l: the layer (0-based) whose ``Delta a`` the functionals read.
        top: ``(N, K, n_l)`` the functionals' matrix (softmax's Jacobian at its midpoint, taken as
            exact), or None for the units of ``a^l`` themselves (``K = n_l``).
        top_xi: ``(N, K)`` a bound on the functionals' own remainder (softmax: ``rad(J) e_a``
            plus its evaluation error), added to ``sound`` and ``fixed``.
        prob: also the probabilistic tier's ``var`` and ``fixed`` (else they are zeros).
    """
    st = states[l]
    rho, var, uf = st.sums.rho, st.sums.var, st.sums.underflow
    mid: np.ndarray
    rad: FactoredRadius | None = None
    if top is None:
        sound, v, fixed = rho.copy(), var.copy(), np.full_like(rho, uf)
        mid, absG = st.w.WT, st.w.WT_abs  # G_z = W^T, shared by every row, exact
    else:
        absT = np.abs(top.mid)
        sound = _matvec(absT, rho)
        v = _matvec(_square_up(absT), var) if prob else np.zeros_like(sound)
        fixed = _times_underflow(sum_up(absT), uf) if prob else np.zeros_like(sound)
        if l > 0:
            ones = np.ones((top.mid.shape[0], top.mid.shape[2]))
            mid, rad = scaled_product(top.mid, None, ones, st.w.WT, st.w.WT_abs_cols)  # J W^T, rounding kept
            absG = np.asarray(up(np.abs(mid) + rad.full()))
    if top_xi is not None:
        sound, fixed = _add(sound, top_xi), _add(fixed, top_xi)
    for m in range(l - 1, -1, -1):
        sm = states[m]
        if sm.box is None or sm.xi is None:
            raise ValueError(f"layer {m + 1}'s activation box is not known yet")
        d = sm.box.d_mid
        ad = np.abs(d)
        with np.errstate(all="ignore"):
            # Delta z^m = d Delta a^m + xi^m, Delta a^m = ... + rho^m: |G_z| (xi + |d| rho); the
            # probabilistic remainder |G_z| xi + uf |G_z| |d| (uf is subnormal: kept out of the products)
            per_unit = [up(sm.xi + up(ad * sm.sums.rho))]
            if prob:
                per_unit += [sm.xi, ad]
        both = _matvec(absG, np.stack(per_unit, axis=2))
        sound = _add(sound, both[:, :, 0])
        if prob:
            fixed = _add(fixed, both[:, :, 1], _times_underflow(both[:, :, 2], sm.sums.underflow))
            v = _add(v, _matvec(_square_up(absG), up(up(d * d) * sm.sums.var)))
        if m == 0 or not np.any(d):  # the first layer, or a step layer: nothing flows further down
            break
        mid, rad = scaled_product(mid, rad, d, sm.w.WT, sm.w.WT_abs_cols)
        absG = np.asarray(up(np.abs(mid) + rad.full()))
    return Terms(sound, v, fixed)


def backward_flops(widths: list[int], l: int, K: int) -> int:
    """Flops per input of :func:`backward` from layer ``l`` (0-based) with ``K`` functionals.

    Args:
        widths: ``[n_0, n_1, ..., n_L]``: inputs, then every layer's units.
        l: the top layer.
        K: functionals (``widths[l + 1]`` for the units themselves).
    """
    flops = K * widths[l + 1] * K if K != widths[l + 1] else 0
    flops += 3 * K * widths[l + 1] * widths[l]
    for m in range(l - 1, -1, -1):
        flops += 4 * K * widths[m + 1]  # scaling, |G|, the sums
        if m > 0:
            flops += 3 * K * widths[m + 1] * widths[m]
    return flops
