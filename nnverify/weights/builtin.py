"""Built-in networks: the book's §3.4 example (the embedded default) and its trained MNIST weights."""

from __future__ import annotations

from importlib import resources

import numpy as np

from nnverify.model import Activation, Layer, Network
from nnverify.rationals import parse_literal, round_to_dtype

__all__ = ["book_network", "BOOK_X", "BOOK_X_TEXT", "BUILTIN_NAMES", "book_mnist_bytes"]

# The book's literals, kept as text so the exact-decimal model (0.1 = 1/10) exists.
_BOOK_TEXT = (
    ((("0.1", "0.3", "0.5"), ("0.2", "0.4", "0.6")), ("0.1", "0.2", "0.3"), Activation.SIGMOID),
    ((("0.1", "0.4"), ("0.2", "0.5"), ("0.3", "0.6")), ("0.1", "0.2"), Activation.SIGMOID),
    ((("0.1", "0.3"), ("0.2", "0.4")), ("0.1", "0.2"), Activation.IDENTITY),
)

#: The book's input ``x = np.array([1.0, 0.5])`` and its literal text.
BOOK_X_TEXT = ("1.0", "0.5")
BOOK_X = np.array([1.0, 0.5])

#: Names accepted by ``--weights`` besides file paths.
BUILTIN_NAMES = {
    "book": "the book's §3.4 network, 2-3-2-2, sigmoid -> sigmoid -> identity (the default)",
    "book-mnist": "the book's trained MNIST weights (ch03/sample_weight.pkl, MIT, (c) 2016 Koki "
    "Saitoh), 784-50-100-10 float32, sigmoid -> sigmoid -> softmax",
}


def _to_float(text: str) -> float:
    return float(round_to_dtype(parse_literal(text), np.float64))


def book_network() -> Network:
    """The book's §3.4 network (``init_network()``), float64, with its literal text."""
    layers = []
    for W_text, b_text, act in _BOOK_TEXT:
        W = np.array([[_to_float(t) for t in row] for row in W_text])
        b = np.array([_to_float(t) for t in b_text])
        layers.append(Layer(W, b, act, W_text, b_text))
    return Network(tuple(layers), name="book")


def book_mnist_bytes() -> bytes:
    """The shipped copy of the book's ``sample_weight.pkl`` (read through the restricted unpickler)."""
    return resources.files("nnverify.data").joinpath("sample_weight.pkl").read_bytes()
