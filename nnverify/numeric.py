"""The NumPy forward pass, equation-shaped as in the book: ``a1 = x @ W1 + b1; z1 = h(a1)``.

Importing this module does not import SymPy. Every activation keeps the input's dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnverify.errors import InputsError
from nnverify.model import Activation, Network

__all__ = [
    "ForwardPass",
    "forward",
    "sigmoid",
    "softmax",
    "relu",
    "step",
    "tanh",
    "identity",
    "activate",
    "ACTIVATIONS",
    "check_inputs",
]


def identity(a: np.ndarray) -> np.ndarray:
    """``sigma(a) = a`` (the book's ``identity_function``): returns ``a`` itself, bit for bit."""
    return a


def sigmoid(a: np.ndarray) -> np.ndarray:
    """``h(a) = 1 / (1 + exp(-a))`` without overflow or warnings for any finite ``a``.

    Wherever ``exp(-a)`` is finite this *is* ``1 / (1 + exp(-a))``, bit for bit. Below that
    (a < -log(max float), about -709.8 in float64, -88.7 in float32) ``1 + exp(-a)`` would
    round to ``exp(-a)`` anyway, so the value is ``exp(a)``, computed without the overflow.
    """
    a = np.asarray(a)
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    a = a.astype(dt, copy=False)
    # Largest argument whose exp is finite in this dtype.
    cut = dt.type(np.log(np.finfo(dt).max))
    safe = np.maximum(a, -cut)
    with np.errstate(under="ignore", over="ignore"):
        naive = 1 / (1 + np.exp(-safe))
        tail = np.exp(a)
    return np.asarray(np.where(a >= -cut, naive, tail).astype(dt, copy=False))


def relu(a: np.ndarray) -> np.ndarray:
    """``h(a) = max(a, 0)``."""
    return np.asarray(np.maximum(a, np.zeros((), dtype=np.asarray(a).dtype)))


def step(a: np.ndarray) -> np.ndarray:
    """``h(a) = 1 if a > 0 else 0``; step(0) = 0, as in the book (``x > 0``)."""
    a = np.asarray(a)
    return (a > 0).astype(a.dtype)


def tanh(a: np.ndarray) -> np.ndarray:
    """``h(a) = tanh(a)``."""
    return np.asarray(np.tanh(a))


def softmax(a: np.ndarray) -> np.ndarray:
    """``y_k = exp(a_k - max a) / sum_i exp(a_i - max a)``, row by row on a batch.

    Shifting by the row maximum changes nothing mathematically and keeps every ``exp``
    argument <= 0, so no logit is large enough to overflow.
    """
    a = np.asarray(a)
    shifted = a - np.max(a, axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(shifted)
    return np.asarray(e / np.sum(e, axis=-1, keepdims=True))


#: The activation functions, one entry per :class:`~nnverify.model.Activation`.
ACTIVATIONS: dict[Activation, Callable[[np.ndarray], np.ndarray]] = {
    Activation.IDENTITY: identity,
    Activation.SIGMOID: sigmoid,
    Activation.RELU: relu,
    Activation.STEP: step,
    Activation.TANH: tanh,
    Activation.SOFTMAX: softmax,
}


def activate(activation: Activation, a: np.ndarray) -> np.ndarray:
    """Apply ``activation`` elementwise (softmax: along the last axis)."""
    return ACTIVATIONS[Activation.parse(activation)](a)


@dataclass(frozen=True, eq=False)
class ForwardPass:
    """The result of :func:`forward`: the input and every intermediate, in the book's names.

    ``a[l-1]`` is ``A{l}`` (weighted sums of layer l) and ``z[l-1]`` is ``Z{l}``; the output
    ``y`` is ``z[-1]``. Shapes are ``(units,)`` for one input, ``(N, units)`` for a batch.
    """

    x: np.ndarray
    a: tuple[np.ndarray, ...]
    z: tuple[np.ndarray, ...]

    @property
    def y(self) -> np.ndarray:
        return self.z[-1]

    @property
    def batched(self) -> bool:
        return self.x.ndim == 2


def check_inputs(network: Network, x: object, *, dtype: object = None) -> np.ndarray:
    """Validate ``x`` for ``network`` and return it as an array of ``dtype`` (default: the network's).

    ``x`` is one input of shape (n,) or a batch of shape (N, n), finite.
    """
    dt = np.dtype(dtype) if dtype is not None else network.dtype  # type: ignore[call-overload]
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise InputsError(f"input is not a numeric array ({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise InputsError(f"input has dtype {arr.dtype}; expected numbers")
    if arr.ndim not in (1, 2):
        raise InputsError(
            f"input has shape {arr.shape}; expected one input ({network.n_inputs},) or a "
            f"batch (N, {network.n_inputs})"
        )
    if arr.shape[-1] != network.n_inputs:
        raise InputsError(
            f"input has {arr.shape[-1]} values per row but the network takes "
            f"{network.n_inputs} (W1 has shape {network.layers[0].W.shape})"
        )
    if arr.ndim == 2 and arr.shape[0] == 0:
        raise InputsError("the input batch is empty; give at least one row")
    with np.errstate(over="ignore"):
        out = arr.astype(dt)
    bad = ~np.isfinite(out)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputsError(f"input{list(idx)} is {arr[idx]} (as {dt}: {float(out[idx])}); inputs must be finite")
    return out


def forward(network: Network, x: object, *, dtype: object = None) -> ForwardPass:
    """Run the network on one input ``(n,)`` or a batch ``(N, n)``.

    Args:
        network: the network.
        x: the input(s); cast to ``dtype``.
        dtype: float32 or float64; default the network's own dtype. Weights are cast too.

    Example:
        >>> from nnverify.weights import book_network, BOOK_X
        >>> forward(book_network(), BOOK_X).y
        array([0.31682708, 0.69627909])
    """
    if dtype is not None:
        network = network.astype(dtype)
    z = check_inputs(network, x)
    x_arr = z
    a_list: list[np.ndarray] = []
    z_list: list[np.ndarray] = []
    for layer in network.layers:
        a = z @ layer.W + layer.b
        z = activate(layer.activation, a)
        a_list.append(a)
        z_list.append(z)
    return ForwardPass(x_arr, tuple(a_list), tuple(z_list))
