"""Networks recognised by their content: the book's trained MNIST weights, whatever the file is called.

The book's ``ch03/sample_weight.pkl`` holds only arrays: nothing in it says that the output
layer is a softmax or that the inputs are pixels / 255. A file whose arrays are exactly the
book's (same keys, shapes, dtype and bits; checked by a SHA-256 digest, never by the file
name) gets what ``--weights book-mnist`` has: sigmoid -> sigmoid -> softmax and the input
domain [0, 1], unless the file or the caller says otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from nnverify.model import Activation, Network

__all__ = ["KnownNetwork", "BOOK_MNIST", "arrays_digest", "recognise", "recognise_arrays"]


@dataclass(frozen=True)
class KnownNetwork:
    """What a recognised weights file is, and what it gets.

    Args:
        name: the built-in name that holds the same weights.
        digest: SHA-256 of the arrays (:func:`arrays_digest`).
        shapes: the arrays' shapes, ``W1, b1, W2, ...`` (checked before hashing anything).
        activations: the activations the network was trained with.
        domain: the input interval of its training data.
        about: one line for the note that says a file was recognised.
    """

    name: str
    digest: str
    shapes: tuple[tuple[int, ...], ...]
    activations: tuple[Activation, ...]
    domain: tuple[float, float]
    about: str


BOOK_MNIST = KnownNetwork(
    name="book-mnist",
    digest="2a734f22acfe9226bd2e1119c937008cb8963e42612eb043f95f53bb0857eebc",
    shapes=((784, 50), (50,), (50, 100), (100,), (100, 10), (10,)),
    activations=(Activation.SIGMOID, Activation.SIGMOID, Activation.SOFTMAX),
    domain=(0.0, 1.0),
    about="the book's trained MNIST weights (ch03/sample_weight.pkl)",
)

_KNOWN = (BOOK_MNIST,)


def arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over each array's key, dtype, shape and little-endian bytes, in ``W1, b1, W2, ...`` order."""
    h = hashlib.sha256()
    n = len(arrays) // 2
    for key in [k for l in range(1, n + 1) for k in (f"W{l}", f"b{l}")]:
        a = np.asarray(arrays[key])
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        h.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def recognise_arrays(arrays: Mapping[str, np.ndarray]) -> KnownNetwork | None:
    """The known network whose arrays these are exactly, or None.

    Args:
        arrays: the book's dict ``{"W1": ..., "b1": ..., ...}``.
    """
    for known in _KNOWN:
        keys = [k for l in range(1, len(known.shapes) // 2 + 1) for k in (f"W{l}", f"b{l}")]
        if set(arrays) != set(keys):
            continue
        if any(np.shape(arrays[k]) != s or np.asarray(arrays[k]).dtype.kind != "f"
               for k, s in zip(keys, known.shapes)):
            continue
        if arrays_digest(arrays) == known.digest:
            return known
    return None


def recognise(network: Network) -> KnownNetwork | None:
    """The known network ``network`` holds the weights of (in their stored dtype), or None.

    Args:
        network: a loaded network (before any ``astype``: float64 copies are not recognised).
    """
    if all(network.n_params != sum(int(np.prod(s)) for s in k.shapes) for k in _KNOWN):
        return None  # spares hashing every other network
    return recognise_arrays({f"{c}{l}": getattr(ly, c) for l, ly in enumerate(network.layers, 1) for c in "Wb"})
