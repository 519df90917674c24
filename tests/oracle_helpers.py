"""Shared helpers for the oracle tests: random networks, an independent mpmath forward pass, and
float forward implementations that are correct in different ways (or broken on purpose)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import strategies as st

from nnverify.model import Activation, Layer, Network

# ---------------------------------------------------------------------------------------------
# Random networks


@st.composite
def small_networks(
    draw: st.DrawFn,
    *,
    dtypes: tuple[type, ...] = (np.float64, np.float32),
    hidden: tuple[str, ...] = ("sigmoid", "tanh", "relu", "identity"),
    outputs: tuple[str, ...] = ("identity", "sigmoid", "softmax"),
    max_units: int = 6,
    max_layers: int = 3,
) -> tuple[Network, np.ndarray]:
    """A random network (1..max_layers layers, 1..max_units units) and a batch of 1..4 inputs."""
    dt = draw(st.sampled_from(dtypes))
    n_layers = draw(st.integers(1, max_layers))
    sizes = [draw(st.integers(1, max_units)) for _ in range(n_layers + 1)]
    acts = [draw(st.sampled_from(hidden)) for _ in range(n_layers - 1)] + [draw(st.sampled_from(outputs))]
    scale = draw(st.sampled_from([0.25, 1.0, 4.0, 16.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    layers = tuple(
        Layer((rng.standard_normal((a, b)) * scale).astype(dt), (rng.standard_normal(b) * scale).astype(dt), act)
        for a, b, act in zip(sizes, sizes[1:], acts)
    )
    x = (rng.standard_normal((draw(st.integers(1, 4)), sizes[0])) * scale).astype(dt)
    return Network(layers, name="random"), x


# ---------------------------------------------------------------------------------------------
# An independent high-precision forward pass (mpmath, plain floating point at many digits)


def mp_forward(network: Network, x: np.ndarray, dps: int = 200) -> list[list[mpmath.mpf]]:
    """``y`` for each row of ``x`` with mpmath at ``dps`` digits, from the floats' exact values."""
    out = []
    with mpmath.workdps(dps):
        for row in np.atleast_2d(x).astype(np.float64).tolist():
            z = [mpmath.mpf(v) for v in row]
            for layer in network.layers:
                W, b = layer.W.astype(np.float64).tolist(), layer.b.astype(np.float64).tolist()
                a = [mpmath.fsum([z[i] * mpmath.mpf(W[i][j]) for i in range(len(z))]) + mpmath.mpf(b[j])
                     for j in range(len(b))]
                act = layer.activation
                if act is Activation.SIGMOID:
                    z = [1 / (1 + mpmath.exp(-t)) for t in a]
                elif act is Activation.TANH:
                    z = [mpmath.tanh(t) for t in a]
                elif act is Activation.RELU:
                    z = [t if t > 0 else mpmath.mpf(0) for t in a]
                elif act is Activation.STEP:
                    z = [mpmath.mpf(1) if t > 0 else mpmath.mpf(0) for t in a]
                elif act is Activation.SOFTMAX:
                    m = max(a)
                    e = [mpmath.exp(t - m) for t in a]
                    s = mpmath.fsum(e)
                    z = [t / s for t in e]
                else:
                    z = a
            out.append(z)
    return out


def mp_to_fraction(v: mpmath.mpf) -> Fraction:
    sign, man, exp, _ = v._mpf_  # not mpf(v): that would round to the current precision
    return (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)


# ---------------------------------------------------------------------------------------------
# Float forward implementations: correct variants and broken ones

Forward = Callable[[Network, np.ndarray], np.ndarray]


def sig_naive(a: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def sig_tanh(a: np.ndarray) -> np.ndarray:
    """0.5 * (1 + tanh(a/2)): absolute error ~u, relative error 100% for very negative a."""
    return a.dtype.type(0.5) * (1 + np.tanh(a / 2))


def sig_ratio(a: np.ndarray) -> np.ndarray:
    """exp(a) / (1 + exp(a)) for a < 0, the naive form otherwise."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.minimum(a, 0))
        return np.where(a < 0, e / (1 + e), 1 / (1 + np.exp(-np.maximum(a, 0)))).astype(a.dtype)


def softmax_noshift(a: np.ndarray) -> np.ndarray:
    e = np.exp(a)
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_shift_reciprocal(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return e * (1 / np.sum(e, axis=-1, keepdims=True))


def softmax_shift(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def make_forward(sigmoid=sig_naive, softmax=softmax_shift, matmul: str = "dot",
                 inner_dtype: type | None = None, bias: bool = True) -> Forward:
    """A float forward pass with the given pieces; ``inner_dtype`` rounds every ``a`` through it."""

    def act(kind: Activation, a: np.ndarray) -> np.ndarray:
        if kind is Activation.SIGMOID:
            return sigmoid(a)
        if kind is Activation.SOFTMAX:
            return softmax(a)
        if kind is Activation.RELU:
            return np.maximum(a, a.dtype.type(0))
        if kind is Activation.TANH:
            return np.tanh(a)
        if kind is Activation.STEP:
            return (a > 0).astype(a.dtype)
        return a

    def fwd(net: Network, x: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(x).astype(net.dtype)
        for layer in net.layers:
            W, b = layer.W, layer.b
            if matmul == "dot":
                s = np.dot(z, W)
            elif matmul == "einsum":
                s = np.einsum("ni,ij->nj", z, W)
            elif matmul == "reversed":
                s = np.zeros((z.shape[0], W.shape[1]), dtype=net.dtype)
                for i in reversed(range(W.shape[0])):
                    s = s + z[:, i:i + 1] * W[i]
            elif matmul == "pairwise":
                s = np.sum(z[:, :, None] * W[None, :, :], axis=1)
            else:
                raise ValueError(matmul)
            a = s + b if bias else s
            if inner_dtype is not None:
                a = a.astype(inner_dtype).astype(net.dtype)
            with np.errstate(over="ignore", under="ignore"):
                z = act(layer.activation, a)
        return z

    return fwd


CORRECT_VARIANTS: dict[str, Forward] = {
    "dot+naive sigmoid": make_forward(),
    "einsum+tanh sigmoid": make_forward(sig_tanh, softmax_noshift, "einsum"),
    "reversed sum+exp ratio sigmoid": make_forward(sig_ratio, softmax_shift_reciprocal, "reversed"),
    "pairwise sum+tanh sigmoid": make_forward(sig_tanh, softmax_shift, "pairwise"),
}
