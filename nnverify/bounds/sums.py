"""The local rounding error of one layer's weighted sums ``a_j = sum_i z_i w_ij + b_j``, vectorized.

The computation sees inputs ``ẑ_i`` somewhere in a box ``[lo_i, hi_i]`` and returns
``â_j = fl(sum_i ẑ_i w_ij + b_j)`` in *any* order (any binary tree of additions, blocked or
pairwise), with or without FMA. With ``t_i = ẑ_i w_ij`` (exact products) and ``n`` inputs:

- each product is either rounded, ``|fl(t) - t| <= u|t| + tiny/2``, or fused into an FMA;
- each of the ``n`` additions (or FMAs) rounds its exact result, the sum of two computed
  partial sums, by at most ``u`` of it; additions never underflow harmfully (a subnormal sum
  is exact), an FMA may (``tiny/2``), but a term meets at most one underflowing rounding;
- **order-free**: every partial sum is the sum of a subset of the terms, so it lies between
  ``-N`` and ``P``, the sums of the negative and of the positive terms (bias included): its
  magnitude is at most ``M = max(P, N)`` plus its own accumulated error ``E``.

Hence ``|â_j - sum_i t_i - b_j| <= E_j`` with ``E <= u T + n tiny/2 + n u (M + E)``, i.e.
``E0 = (u T + n tiny/2 + n u M) / (1 - n u)``, ``T = sum_i |t_i|``. Sharper, and as sound: a
rounding to nearest errs by at most half an ulp of its result's binade, so an addition whose
exact result is at most ``M + E0`` in magnitude errs by at most ``u 2^floor(log2(M + E0))``
(between half and all of ``u (M + E0)``): ``E = u T + n tiny/2 + n u 2^floor(log2(M + E0))``
(:func:`order_free_sums`). For the probabilistic tier the same roundings are the martingale
increments: their squared bounds sum to at most ``u^2 (sum_i t_i^2 + n 4^floor(log2(M + E0)))``
(:attr:`SumErrors.var`).

:func:`gamma_sums` is today's rule (``gamma_{n+1} (sum_i |t_i| + |b_j|)``, plus the same
underflow term), the vectorized twin of :mod:`nnverify.bounds.interval`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nnverify.bounds.ulps import gamma
from nnverify.bounds.vector import column_sums_up, factor_up, matmul_up, plus_tiny
from nnverify.certified.arrays import up
from nnverify.model import Layer, Network, network_cache

__all__ = ["LayerWeights", "SumErrors", "layer_weights", "order_free_sums", "gamma_sums", "float_up_q"]


@lru_cache(maxsize=4096)
def float_up_q(q: Fraction) -> float:
    """The smallest float64 ``>= q`` (inf beyond the range); memoized (the bounds ask the same few)."""
    try:
        f = float(q)
    except OverflowError:
        return float("inf")
    return f if Fraction(f) >= q else float(np.nextafter(f, np.inf))


@dataclass(frozen=True, eq=False)
class LayerWeights:
    """One layer's weights as float64 arrays the bounds reuse (computed once per network).

    Args:
        W: ``(n, m)`` float64.
        b: ``(m,)`` float64.
        W_pos: ``max(W, 0)``; ``W_neg``: ``max(-W, 0)``; ``W_abs``: ``|W|``.
        WT: ``W.T`` (contiguous); ``WT_abs``: ``|W|.T``; ``WT_abs_cols``: its column sums
            (``|W|``'s row sums), rounded up.
        b_pos: ``max(b, 0)``; ``b_neg``: ``max(-b, 0)``.
        signed: ``[[W_pos, W_neg], [W_neg, W_pos]]``, ``(2n, 2m)``: P and N in one product.
        signed_sq: the same with every entry squared (rounded up): the positive and negative
            terms' sums of squares.
    """

    W: np.ndarray
    b: np.ndarray
    W_pos: np.ndarray
    W_neg: np.ndarray
    W_abs: np.ndarray
    WT: np.ndarray
    WT_abs: np.ndarray
    WT_abs_cols: np.ndarray
    b_pos: np.ndarray
    b_neg: np.ndarray
    signed: np.ndarray
    signed_sq: np.ndarray

    @classmethod
    def of(cls, layer: Layer) -> LayerWeights:
        W = layer.W.astype(np.float64)
        b = layer.b.astype(np.float64)
        W_pos, W_neg = np.maximum(W, 0.0), np.maximum(-W, 0.0)
        W_abs = np.abs(W)
        sq_pos, sq_neg = _squares_up(W_pos), _squares_up(W_neg)
        return cls(W=W, b=b, W_pos=W_pos, W_neg=W_neg, W_abs=W_abs,
                   WT=np.ascontiguousarray(W.T), WT_abs=np.ascontiguousarray(W_abs.T),
                   WT_abs_cols=column_sums_up(W_abs.T),
                   b_pos=np.maximum(b, 0.0), b_neg=np.maximum(-b, 0.0),
                   signed=np.block([[W_pos, W_neg], [W_neg, W_pos]]),
                   signed_sq=np.block([[sq_pos, sq_neg], [sq_neg, sq_pos]]))


def _squares_up(V: np.ndarray) -> np.ndarray:
    """Upper bounds of ``V * V``: 0 stays 0 (exact), an underflowing square becomes the smallest
    normal float (no subnormal entries: they make matrix products ~100x slower)."""
    with np.errstate(all="ignore"):
        sq = V * V
        out = np.where(sq > 0, up(sq), 0.0)
        return np.asarray(np.where((V != 0) & (out < 2.0**-1022), 2.0**-1022, out))


def layer_weights(network: Network) -> tuple[LayerWeights, ...]:
    """Every layer's :class:`LayerWeights`, cached on the network."""
    cache = network_cache(network, "bounds")
    if "weights" not in cache:
        cache["weights"] = tuple(LayerWeights.of(layer) for layer in network.layers)
    out: tuple[LayerWeights, ...] = cache["weights"]
    return out


@dataclass(frozen=True, eq=False)
class SumErrors:
    """The local rounding of one layer's weighted sums, per row and unit.

    Args:
        rho: ``(N, m)`` sound bound on ``|â_j - sum_i ẑ_i w_ij - b_j|``, underflows included.
        var: ``(N, m)`` bound on the sum of the squared bounds of the roundings (the
            probabilistic tier's ``sum c_s^2``), absolute units squared.
        underflow: the part of ``rho`` due to underflows (``n tiny / 2``), the same for every unit.
        T: ``(N, m)`` an upper bound of ``sum_i |ẑ_i w_ij|`` (today's rule reuses it).
    """

    rho: np.ndarray
    var: np.ndarray
    underflow: float
    T: np.ndarray


def order_free_sums(lo: np.ndarray, hi: np.ndarray, w: LayerWeights, u: Fraction, tiny: float) -> SumErrors:
    """The order-free local bound (see the module text) for inputs anywhere in ``[lo, hi]``.

    Args:
        lo: ``(N, n)`` lower ends of the computed inputs ``ẑ`` (float64).
        hi: ``(N, n)`` upper ends.
        w: the layer's weights.
        u: unit roundoff of the arithmetic's dtype.
        tiny: the smallest subnormal of that dtype.
    """
    n, m = w.W.shape
    zp = np.maximum(hi, 0.0)  # the largest positive part of each input
    with np.errstate(all="ignore"):
        if np.all(lo >= 0):  # sigmoid outputs, MNIST pixels: half the work
            PN = matmul_up(zp, w.signed[:n])
            SS = matmul_up(up(zp * zp), w.signed_sq[:n])
        else:
            zn = np.maximum(-lo, 0.0)  # and negative part
            PN = matmul_up(np.concatenate([zp, zn], axis=1), w.signed)
            SS = matmul_up(np.concatenate([up(zp * zp), up(zn * zn)], axis=1), w.signed_sq)
        # sum_i |t_i| <= P' + N' and sum_i t_i^2 <= S+' + S-' (equal unless a box straddles 0)
        T = up(PN[:, :m] + PN[:, m:])
        sq = up(SS[:, :m] + SS[:, m:])
        P, N = up(PN[:, :m] + w.b_pos), up(PN[:, m:] + w.b_neg)
        M = np.maximum(P, N)
        S = np.maximum(up(SS[:, :m] + up(w.b_pos * w.b_pos)), up(SS[:, m:] + up(w.b_neg * w.b_neg)))
        uf = float_up_q(n * Fraction(tiny) / 2)
        u_f, nu_f = float_up_q(u), float_up_q(n * u)
        inv = float_up_q(1 / (1 - n * u)) if n * u < 1 else np.inf
        # E0 = (u T + n tiny/2 + n u M) / (1 - n u): every partial sum at most M + E0
        base = plus_tiny(T * u_f, uf)
        E0 = up(up(base + up(M * nu_f)) * inv * factor_up(2))
        nodes, nodes_sq = _node_bounds(M, S, E0, n)  # at most n 2^floor(log2(M + E0))
        E = np.fmin(E0, up(base + up(nodes * u_f)))
        var = up(up(sq + nodes_sq) * float_up_q(u * u) * factor_up(2))
    return SumErrors(rho=np.asarray(E), var=np.asarray(var), underflow=uf, T=np.asarray(T))


#: Binades below the top one counted one by one in :func:`_node_bounds`.
_LEVELS = 16


def _node_bounds(M: np.ndarray, S: np.ndarray, E0: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``sum_v b_v`` and ``sum_v b_v^2`` over the ``n`` additions, ``u b_v`` bounding each one's rounding.

    In any summation tree the ``k``-th largest addition adds at most ``n + 2 - k`` terms (a
    chain is the extreme; by induction on the two subtrees of the root), so the exact result of
    the addition of rank ``k = 2..n+1`` (from the smallest) is a sum of at most ``k`` terms: at
    most ``min(M, sqrt(k S))`` (Cauchy-Schwarz, ``S`` the larger of the positive and negative
    terms' sums of squares) plus ``E0``, and it rounds by at most half an ulp of that binade,
    ``u b_k`` with ``b_k = 2^floor(log2(min(M, sqrt(k S)) + E0))``. ``b_k`` is a nondecreasing
    staircase of powers of two: count, per binade ``L``, the ranks with ``sqrt(k S) + E0 < 2 L``
    (rounded down, so a rank is only ever put on a higher step), the top step being
    ``2^floor(log2(M + E0))``; ranks below the lowest counted binade are put on it.
    """
    with np.errstate(all="ignore"):
        top = _pow2_floor(up(M + E0))  # the highest step
        # 1 / S, a little small (a rank is then only ever put on a higher step) and finite
        # (S = 0: no rank fits below the top step but by E0 alone, counted as none)
        inv_s = np.where(S > 0, np.minimum((1.0 - 2.0**-30) / S, 1e300), 0.0)
        # a step L holds ranks only where 4 L^2 / S >= 2, so no step below the top one by more
        # than j_max binades holds any (E0 >= 0 only lowers the reach): those are skipped
        ratio = float(np.max(top * top * inv_s, initial=0.0))
        j_max = _LEVELS if not np.isfinite(ratio) else min(_LEVELS, max(0, math.floor(math.log(2.0 * ratio, 4)) + 1)
                                                            if ratio > 0 else 0)
        acc = np.zeros_like(M)  # sum over the counted steps of ranks * 2^-j
        acc_sq = np.zeros_like(M)  # ... of ranks * 4^-j
        below = np.zeros_like(M)  # ranks counted so far (on lower steps)
        for j in range(j_max, 0, -1):
            reach = np.fmax(top * 2.0**(1 - j) - E0, 0.0)  # (NaN: no rank)
            count = np.floor(reach * reach * inv_s) - 1.0
            np.maximum(count, below, out=count)
            np.minimum(count, float(n), out=count)
            step = count - below
            acc += step * 2.0**-j
            acc_sq += step * 4.0**-j
            below = count
        rest = float(n) - below  # every other rank on the top step
        # (counts are integers and the weights powers of two: the sums round by a few ulps at most)
        nodes = up(top * (acc + rest) * (1 + 2.0**-40))
        nodes_sq = up((top * top) * (acc_sq + rest) * (1 + 2.0**-40))
    return np.asarray(nodes), np.asarray(nodes_sq)


def _pow2_floor(v: np.ndarray) -> np.ndarray:
    """The largest power of two ``<= v`` (0 for 0, inf for inf), elementwise, ``v >= 0``."""
    _, e = np.frexp(v)
    out = np.ldexp(1.0, e - 1)
    return np.asarray(np.where(v == 0, 0.0, np.where(np.isfinite(v), out, v)))


def gamma_sums(z_abs: np.ndarray, e: np.ndarray | None, w: LayerWeights, u: Fraction, tiny: float,
               T: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Today's rule, ``gamma_{n+1} ((|z| + e)|W| + |b|) + e |W| + n tiny``, rounded up, ``(N, m)``.

    Returns the bound and ``e |W|`` (None for exact inputs), which the signed bound reuses.

    Args:
        z_abs: ``(N, n)`` upper bounds of the exact inputs' magnitudes.
        e: ``(N, n)`` bounds on the inputs' errors (None: exact inputs).
        w: the layer's weights.
        u: unit roundoff of the arithmetic's dtype.
        tiny: the smallest subnormal of that dtype.
        T: ``|z| |W|`` when already known (exact inputs only).
    """
    n = w.W.shape[0]
    g = float_up_q(gamma(n + 1, u))
    uf = float_up_q(n * Fraction(tiny))
    with np.errstate(all="ignore"):
        if e is None:
            s = up((matmul_up(z_abs, w.W_abs) if T is None else T) + np.abs(w.b))
            return plus_tiny(s * g * factor_up(1), uf), None
        s = up(matmul_up(up(z_abs + e), w.W_abs) + np.abs(w.b))
        pushed = matmul_up(e, w.W_abs)
        return plus_tiny(up(up(s * g * factor_up(1)) + pushed), uf), pushed
