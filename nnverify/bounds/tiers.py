"""Both tiers of the bound at once: :func:`error_bounds` on a :class:`~nnverify.certified.arrays.BallPass`.

- ``interval``: today's rules (:mod:`.interval_arrays`: errors pushed forward through ``|W|``)
  for the output layer, from the signed chain's a-priori errors of the layer below — today's
  bound for a one-layer network, and never above it (each a-priori error of the signed chain
  is at most today's: the order-free local bound is at most ``gamma_{n+1}`` of the same sums,
  and a smaller box has a smaller slope and evaluation error), at a fraction of the cost of
  running today's chain through every layer (``interval_arrays.interval_bounds`` does that);
- ``linear``: the signed bound (:mod:`.adjoint`) over a-priori boxes tightened layer by layer;
- ``sound = min(interval, linear)``: both hold for every correct float computation in the
  dtype (any summation order, FMA or not, blocked or pairwise), under the stated exp/tanh
  accuracy (:class:`~nnverify.bounds.rounding.RoundingModel`) — so the minimum does too;
- ``probabilistic = min(sound, lambda sqrt(var) + R)``: holds with probability
  ``>= confidence`` per output under the model of :mod:`.probabilistic`.

Everything is float64 arrays, one vectorized pass per layer (no per-number loop), on any
``BallPass``: the arb one (``ball_pass(certify(...))``) or a faster certified reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnverify.bounds.adjoint import REFINE_FLOPS, LayerState, Terms, backward, backward_flops
from nnverify.bounds.boxes import RANGES, UnitBox, VecConstants, capped, softmax_errors, softmax_jacobian, unit_box
from nnverify.bounds.interval_arrays import activation_step, check_ball_pass
from nnverify.bounds.probabilistic import DEFAULT_CONFIDENCE, check_confidence, probabilistic_bound
from nnverify.bounds.rounding import DEFAULT_ROUNDING, RoundingModel
from nnverify.bounds.sums import LayerWeights, SumErrors, gamma_sums, layer_weights, order_free_sums
from nnverify.bounds.vector import IntervalMatrix, matmul_up
from nnverify.certified.arrays import BallArray, BallPass, down, up
from nnverify.certified.elementary import softmax_bounds
from nnverify.certified.heap import keep_freed_memory
from nnverify.model import Activation, Network

__all__ = ["OutputBounds", "beyond_the_float_range", "error_bounds", "signed_bounds"]

#: Largest interval matrix a backward pass may hold per chunk of rows (floats).
_CHUNK_FLOATS = 1_000_000


@dataclass(frozen=True, eq=False)
class OutputBounds:
    """Per output, absolute bounds on ``|y_float - y_exact|``, float64 rounded up, ``(N, K)`` each.

    Args:
        interval: today's rules at the output layer (see the module text).
        linear: the signed first-order bound (sound; inf where it could not be formed).
        sound: ``min(interval, linear)``.
        probabilistic: ``min(sound, probabilistic)``: holds with probability ``>= confidence``.
        confidence: the probability the probabilistic bound holds, per output.
    """

    interval: np.ndarray
    linear: np.ndarray
    sound: np.ndarray
    probabilistic: np.ndarray
    confidence: float


def _rows(bp: BallPass, start: int, stop: int) -> BallPass:
    def cut(b: BallArray) -> BallArray:
        return BallArray(b.mid[start:stop], b.rad[start:stop])

    return BallPass(bp.x[start:stop], tuple(cut(a) for a in bp.a), tuple(cut(z) for z in bp.z))


def error_bounds(network: Network, bp: BallPass, model: RoundingModel = DEFAULT_ROUNDING, *,
                 confidence: float = DEFAULT_CONFIDENCE) -> OutputBounds:
    """The sound and probabilistic bounds on every output (see the module text).

    Args:
        network: the network; ``network.dtype`` is the arithmetic's dtype.
        bp: ball arrays of a binary-mode certified pass of this network.
        model: the stated accuracy of exp/tanh.
        confidence: the probability the probabilistic bound holds for one output, in [0.5, 1).

    Example:
        >>> from nnverify.weights import book_network, BOOK_X
        >>> from nnverify.certified import certify
        >>> from nnverify.certified.arrays import ball_pass
        >>> b = error_bounds(book_network(), ball_pass(certify(book_network(), BOOK_X)))
        >>> bool((b.probabilistic <= b.sound).all() and (b.sound <= b.interval).all())
        True
    """
    check_ball_pass(network, bp)
    confidence = check_confidence(confidence)
    keep_freed_memory()  # the next chunk reuses this one's arrays
    step = max(1, _CHUNK_FLOATS // _floats_per_row([network.n_inputs] + [ly.n_out for ly in network.layers]))
    parts, sums_beyond = [], []
    for start in range(0, bp.x.shape[0], step):
        big: list[np.ndarray] = []
        interval, linear, terms = _both_chains(network, _rows(bp, start, start + step), model, big)
        sound = np.fmin(interval, linear)
        prob = np.fmin(sound, probabilistic_bound(terms.var, terms.fixed, confidence))
        parts.append((interval, linear, sound, prob))
        sums_beyond.append(np.logical_or.reduce(big))
    cat = [np.nan_to_num(np.concatenate(p, axis=0), nan=np.inf) for p in zip(*parts)]
    beyond = beyond_the_float_range(network, bp) | np.concatenate(sums_beyond)
    if beyond.any():
        for b in cat:
            b[beyond] = np.inf
    return OutputBounds(cat[0], cat[1], cat[2], cat[3], confidence)


def _floats_per_row(widths: list[int]) -> int:
    """The largest array per input row any pass of :func:`_both_chains` may build (floats).

    A backward pass from layer ``l`` with ``K`` functionals holds ``(N, K, n_m)`` matrices for
    ``m = 1..l+1`` (softmax's Jacobian on top) or ``m = 1..l-1`` (the units themselves: the first
    matrix, ``W^T``, is shared by every row); the order-free sums hold ``(N, 2 n)``.
    """
    L, K = len(widths) - 1, widths[-1]
    sizes = [2 * max(widths), K * max(widths[1:]) + K * K]
    for l in range(1, L):  # layers whose box may be refined by a pass from their own units
        sizes.append(widths[l + 1] * max(widths[1:l], default=0))
    return max(sizes)


def beyond_the_float_range(network: Network, bp: BallPass) -> np.ndarray:
    """The rows ``(N,)`` where some unit's exact value may round to infinity in the dtype.

    There a correct computation may overflow, which the rounding model leaves out (its
    ``fl(x) = x (1 + d)`` holds only inside the float range): no bound is given for any output
    of such a row (``inf``), so no verdict on it can be ``ok`` or ``failed`` by a bound.
    :func:`error_bounds` also leaves out the rows where a partial sum of some weighted sum may
    overflow though the sum itself does not (:func:`_sums_may_overflow`).
    """
    big = float(np.finfo(network.dtype).max)
    rows = np.zeros(bp.x.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        for b in (*bp.a, *bp.z):
            # |mid| + rad rounded to nearest: above the largest float (or inf) exactly when the
            # exact upper end reaches the largest float plus half its ulp, which rounds to inf
            rows |= ~np.all(np.abs(b.mid) + b.rad <= big, axis=1)
    return rows


def _sums_may_overflow(sums: SumErrors, w: LayerWeights, dtype: np.dtype) -> np.ndarray:
    """The rows ``(N,)`` where a partial sum of some weighted sum may round to infinity.

    Every partial sum, in any order, is a sum of a subset of the computed products and the bias
    plus its share of the roundings (:mod:`.sums`): at most ``T + |b| + rho`` in magnitude. Below
    the largest float nothing rounds to infinity (``[3e38, 3e38, -3e38, -3e38]`` sums to 0
    exactly, yet to inf in float32 when the positive terms come first).
    """
    with np.errstate(all="ignore"):
        reach = up(up(sums.T + np.abs(w.b)) + sums.rho)
    return np.asarray(~np.all(reach <= float(np.finfo(dtype).max), axis=1))


def _computed_box(activation: Activation, z: BallArray, e_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the computed activations may be: the exact ones ± ``e_z``, within the activation's range."""
    low, high = RANGES[activation]
    with np.errstate(all="ignore"):
        return (np.clip(down(z.lower() - e_z), low, high), np.clip(up(z.upper() + e_z), low, high))


def _box(a: BallArray, e_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the computed weighted sums may be: the exact ones ± ``e_a``, rounded outward."""
    with np.errstate(all="ignore"):
        return down(a.lower() - e_a), up(a.upper() + e_a)


def _remainder(box: UnitBox, e_a: np.ndarray) -> np.ndarray:
    """``xi = d_rad e_a + eta``: the linearisation remainder and the evaluation error of one layer."""
    with np.errstate(all="ignore"):
        return np.asarray(up(up(box.d_rad * e_a) + box.eta))


def _both_chains(network: Network, bp: BallPass, model: RoundingModel, big: list[np.ndarray] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, Terms]:
    """Today's rules at the output, the signed bound, and the probabilistic tier's terms, in one pass
    (and, appended to ``big``, per layer the rows where a partial sum may overflow).

    The signed chain of a-priori errors (``e_z``) takes its weighted-sum errors from the order-free push
    ``rho + e_z |W|``, or — where that box is so wide that the linearisation remainder
    ``d_rad e_a`` exceeds an eighth of the evaluation error somewhere (deep networks) — from
    the backward pass from that layer, when it is cheap enough (:data:`.adjoint.REFINE_FLOPS`).
    The output layer always gets its backward pass: it is the signed bound.
    """
    consts = model.constants(network.dtype)
    c = VecConstants.of(consts, network.n_outputs)
    u, tiny = consts.u, float(consts.tiny)
    widths = [network.n_inputs] + [layer.n_out for layer in network.layers]
    L, K = len(network.layers), network.n_outputs
    budget = max(REFINE_FLOPS, 4 * backward_flops(widths, L - 1, K))
    x = bp.x.astype(np.float64)
    lo, hi, z_abs = x, x, np.abs(x)
    e_z: np.ndarray | None = None
    states: list[LayerState] = []
    for l, (layer, w, a, z) in enumerate(zip(network.layers, layer_weights(network), bp.a, bp.z)):
        sums = order_free_sums(lo, hi, w, u, tiny)
        states.append(LayerState(w, sums))
        if big is not None:
            big.append(_sums_may_overflow(sums, w, network.dtype))
        last = l == L - 1
        if last:  # today's rules for this layer, from the signed chain's errors of the one below
            today_a = gamma_sums(z_abs, e_z, w, u, tiny, T=sums.T if e_z is None else None)[0]
            today = activation_step(layer.activation, a, z, today_a, c)
        terms: Terms | None = None
        if e_z is None:  # exact inputs: only the local rounding
            e_a = sums.rho
            terms = Terms(sums.rho, sums.var, np.full_like(sums.rho, sums.underflow))
        else:
            e_a = up(sums.rho + matmul_up(e_z, w.W_abs))  # (never above today's rule for the same e_z)
            if last and layer.activation is Activation.SOFTMAX:  # the output layer
                return (today, *_softmax_output(states, l, a, e_a, c))
            if last:
                terms = backward(states, l, None, prob=True)
                e_a = np.fmin(e_a, terms.sound)
        box_lo, box_hi = _box(a, e_a)
        if layer.activation is Activation.SOFTMAX:  # a one-layer network: exact inputs
            return (today, *_softmax_output(states, l, a, e_a, c, tighten=False))
        box = unit_box(layer.activation, box_lo, box_hi, c)
        if terms is None and backward_flops(widths, l, widths[l + 1]) <= budget \
                and np.any(box.d_rad * e_a > box.eta / 8):
            e_a = np.fmin(e_a, backward(states, l, None, prob=False).sound)
            box = unit_box(layer.activation, *_box(a, e_a), c)
        states[l].box, states[l].xi = box, _remainder(box, e_a)
        with np.errstate(all="ignore"):
            e_z = capped(layer.activation, up(up(box.lipschitz * e_a) + box.eta), z.lower(), z.upper())
        if last:
            return today, e_z, _elementwise_output(terms, box, e_a)
        lo, hi = _computed_box(layer.activation, z, e_z)
        z_abs = z.abs_upper()
    raise ValueError("a network has at least one layer")


def signed_bounds(network: Network, bp: BallPass, model: RoundingModel = DEFAULT_ROUNDING) -> tuple[np.ndarray, Terms]:
    """The signed bound ``(N, K)`` and the probabilistic tier's terms for the outputs (see :mod:`.adjoint`).

    Args:
        network: the network; ``network.dtype`` is the arithmetic's dtype.
        bp: ball arrays of a binary-mode certified pass of this network.
        model: the stated accuracy of exp/tanh.
    """
    check_ball_pass(network, bp)
    _, linear, terms = _both_chains(network, bp, model)
    return linear, terms


def _elementwise_output(terms: Terms | None, box: UnitBox, e_a: np.ndarray) -> Terms:
    """``Delta y = D Delta a + eta`` for an elementwise output activation: scale the terms of ``a^L``."""
    if terms is None:
        raise ValueError("the output layer's terms are always computed")
    d = np.abs(box.d_mid)
    with np.errstate(all="ignore"):
        var = up(up(d * d) * terms.var)
        fixed = up(up(up(d * terms.fixed) + up(box.d_rad * e_a)) + box.eta)
        sound = up(up(box.lipschitz * terms.sound) + box.eta)
    return Terms(np.asarray(sound), np.asarray(var), np.asarray(fixed))


def _softmax_top(a: BallArray, e_a: np.ndarray, c: VecConstants) -> tuple[IntervalMatrix, np.ndarray, bool]:
    """Softmax's Jacobian over the box ``a ± e_a``, its ``xi = rad(J) e_a + eta``, and whether the
    remainder ``rad(J) e_a`` exceeds an eighth of ``eta`` anywhere (the box is worth tightening)."""
    box_lo, box_hi = _box(a, e_a)
    y_lo, y_hi = softmax_bounds(box_lo, box_hi)
    eta = capped(Activation.SOFTMAX, softmax_errors(box_lo, box_hi, np.zeros_like(box_lo), y_lo, y_hi, c),
                 y_lo, y_hi)
    J = softmax_jacobian(y_lo, y_hi)
    remainder = matmul_up(J.rad, e_a[:, :, None])[:, :, 0]
    return J, np.asarray(up(remainder + eta)), bool(np.any(remainder > eta / 8))


#: Rows of a chunk :func:`_softmax_output` looks at to decide whether softmax's box is worth tightening.
_PROBE_ROWS = 16


def _softmax_output(states: list[LayerState], l: int, a: BallArray, e_a: np.ndarray, c: VecConstants,
                    *, tighten: bool = True) -> tuple[np.ndarray, Terms]:
    """``Delta y = J Delta a^L + eta``: the backward pass from softmax's Jacobian at its midpoint.

    ``J = mid(J) + (J - mid(J))``: the second part, at most ``rad(J) e_a``, joins ``eta``. Where
    that remainder is more than an eighth of ``eta`` (float32 networks, typically), the box
    ``a ± e_a`` is first tightened by the backward pass from the logits themselves, as hidden
    layers are in :func:`_both_chains`; elsewhere (float64) that pass would change next to
    nothing and is skipped. The test looks at :data:`_PROBE_ROWS` rows spread over the chunk,
    so that softmax's box is built once: it decides only how tight the bound is, never whether
    it holds (it holds either way).
    """
    if tighten:
        probe = slice(None, None, max(1, a.mid.shape[0] // _PROBE_ROWS))
        if _softmax_top(BallArray(a.mid[probe], a.rad[probe]), e_a[probe], c)[2]:
            e_a = np.fmin(e_a, backward(states, l, None, prob=False).sound)
    J, top_xi, _ = _softmax_top(a, e_a, c)
    terms = backward(states, l, IntervalMatrix(J.mid, np.zeros((1, 1, 1))), top_xi)
    return terms.sound, terms
