"""Forward passes for the bound tests: correct in every way the rounding model allows, or broken
in the small ways real code is (the probabilistic tier must flag those on book-mnist)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np

from nnverify.certified import CertifiedPass
from nnverify.model import Activation, Network
from nnverify.numeric import activate

Forward = Callable[[Network, np.ndarray], np.ndarray]
Sum = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _sorted_sum(z: np.ndarray, W: np.ndarray, b: np.ndarray, descending: bool) -> np.ndarray:
    """``z @ W + b`` summed term by term in sorted order (the worst order for the partial sums)."""
    terms = z[:, :, None] * W[None, :, :]  # products rounded in the dtype
    terms = np.concatenate([terms, np.broadcast_to(b, (z.shape[0], 1, W.shape[1]))], axis=1)
    terms = np.sort(terms, axis=1)
    if descending:  # positive first
        terms = terms[:, ::-1, :]
    return np.add.accumulate(terms, axis=1, dtype=z.dtype)[:, -1, :]  # strictly left to right


def _pairwise(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(z[:, :, None] * W[None, :, :], axis=1) + b


def _reversed(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = np.zeros((z.shape[0], W.shape[1]), dtype=z.dtype)
    for i in reversed(range(W.shape[0])):
        s = s + z[:, i:i + 1] * W[i]
    return s + b


def _float64_accumulated(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (z.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64)).astype(z.dtype)


SUMS: dict[str, Sum] = {
    "matmul": lambda z, W, b: z @ W + b,
    "einsum": lambda z, W, b: np.einsum("ni,ij->nj", z, W) + b,
    "pairwise": _pairwise,
    "reversed": _reversed,
    "sorted positive-first": lambda z, W, b: _sorted_sum(z, W, b, True),
    "sorted negative-first": lambda z, W, b: _sorted_sum(z, W, b, False),
    "float64-accumulated": _float64_accumulated,
}


def forward_with(weighted_sum: Sum, *, sigmoid: Callable[[np.ndarray], np.ndarray] | None = None,
                 weights: Callable[[np.ndarray], np.ndarray] | None = None) -> Forward:
    """A forward pass whose weighted sums are ``weighted_sum``; optionally its own sigmoid, and
    weights passed through ``weights`` first (a deliberate bug: rounded weights)."""

    def fwd(net: Network, x: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(x).astype(net.dtype)
        for layer in net.layers:
            W, b = layer.W, layer.b
            if weights is not None:
                W, b = weights(W), weights(b)
            a = weighted_sum(z, W, b).astype(net.dtype)
            with np.errstate(all="ignore"):
                if layer.activation is Activation.SIGMOID and sigmoid is not None:
                    z = sigmoid(a).astype(net.dtype)
                else:
                    z = activate(layer.activation, a)
        return z

    return fwd


CORRECT: dict[str, Forward] = {name: forward_with(f) for name, f in SUMS.items()}


def errors(cert: CertifiedPass, y: np.ndarray) -> np.ndarray:
    """``(N, k)`` the distance from each output to its exact enclosure, as floats rounded up."""
    out = np.zeros(y.shape)
    for i in range(y.shape[0]):
        for k in range(y.shape[1]):
            e = cert.y[i][k]
            v = Fraction(float(y[i, k]))
            d = max(e.lower - v, v - e.upper, Fraction(0))
            f = float(d)
            out[i, k] = f if Fraction(f) >= d else float(np.nextafter(f, np.inf))
    return out


# ---------------------------------------------------------------------------------------------
# Broken in small ways (issue 10's list): each must be flagged on book-mnist, inputs in [0, 1]


def _round_mantissa(bits: int) -> Callable[[np.ndarray], np.ndarray]:
    """Round to ``bits`` explicit mantissa bits, to nearest (bfloat16: 7, TF32: 10)."""

    def f(v: np.ndarray) -> np.ndarray:
        m, e = np.frexp(v.astype(np.float64))
        return (np.ldexp(np.round(m * 2.0 ** (bits + 1)), e - bits - 1)).astype(v.dtype)

    return f


def _significant_digits(d: int) -> Callable[[np.ndarray], np.ndarray]:
    def f(v: np.ndarray) -> np.ndarray:
        return np.array([float(f"{x:.{d - 1}e}") for x in v.ravel().tolist()]).reshape(v.shape).astype(v.dtype)

    return f


def _tf32_sum(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    r = _round_mantissa(10)
    return r(z) @ r(W) + b


def _drop_smallest(z: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    terms = z[:, :, None] * W[None, :, :]
    small = np.argmin(np.abs(terms), axis=1)
    full = terms.sum(axis=1, dtype=z.dtype)
    dropped = np.take_along_axis(terms, small[:, None, :], axis=1)[:, 0, :]
    return full - dropped + b


def _sigmoid_float16(a: np.ndarray) -> np.ndarray:
    h = a.astype(np.float16)
    with np.errstate(all="ignore"):
        return (1 / (1 + np.exp(-h))).astype(a.dtype)


def _sigmoid_taylor3(a: np.ndarray) -> np.ndarray:
    # exp(-a) by a 3-term Taylor series 1 - a + a^2/2 (only good near 0)
    e = 1 - a + a * a / 2
    with np.errstate(all="ignore"):
        return 1 / (1 + np.abs(e))


def _biases_off(rel: float) -> Forward:
    def fwd(net: Network, x: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(x).astype(net.dtype)
        for layer in net.layers:
            a = z @ layer.W + layer.b * net.dtype.type(1 + rel)
            z = activate(layer.activation, a)
        return z

    return fwd


def _one_w3_weight_off(rel: float) -> Forward:
    def fwd(net: Network, x: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(x).astype(net.dtype)
        for l, layer in enumerate(net.layers):
            W = layer.W
            if l == len(net.layers) - 1:
                W = W.copy()
                i, j = np.unravel_index(np.argmax(np.abs(W)), W.shape)
                W[i, j] *= net.dtype.type(1 + rel)
            z = activate(layer.activation, z @ W + layer.b)
        return z

    return fwd


BROKEN: dict[str, Forward] = {
    "weights kept in bfloat16": forward_with(SUMS["matmul"], weights=_round_mantissa(7)),
    "products in TF32": forward_with(_tf32_sum),
    "4 significant digits per weight": forward_with(SUMS["matmul"], weights=_significant_digits(4)),
    "all biases 2.4% off": _biases_off(0.024),
    "one W3 weight 1% off": _one_w3_weight_off(0.01),
    "sigmoid in float16": forward_with(SUMS["matmul"], sigmoid=_sigmoid_float16),
    "3-term Taylor exp": forward_with(SUMS["matmul"], sigmoid=_sigmoid_taylor3),
    "smallest term of every sum dropped": forward_with(_drop_smallest),
}
