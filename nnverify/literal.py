"""The literal text of a weights file's numbers, kept as byte offsets (decimal mode reads it).

A JSON weights file's numbers are parsed once into floats; decimal mode needs their text as
written (``0.1`` is the rational 1/10, not the float nearest it). :class:`LiteralText` keeps
that text without a Python string per number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["LiteralText", "text_shape"]


class LiteralText(Sequence[Any]):
    """The literal text of a weight matrix (or bias vector) as it stood in a file, kept lazily.

    Holds the file's bytes once plus, per number, the offsets of its text: a few bytes per
    weight instead of a Python string each (6 M weights cost 2.1 GB as strings). Indexing
    gives what a tuple of tuples would — ``text[i]`` is row ``i`` as a tuple of ``str`` for a
    matrix, the ``str`` itself for a vector — made on demand; ``==`` compares with tuples.

    Args:
        raw: the bytes the offsets point into (ASCII number literals).
        starts: ``int`` array, the first byte of each literal (row-major, the shape's size).
        ends: one past the last byte (surrounding whitespace is stripped on reading).
        shape: ``(rows, cols)`` or ``(n,)``.
    """

    __slots__ = ("_raw", "_starts", "_ends", "shape")

    def __init__(self, raw: bytes, starts: np.ndarray, ends: np.ndarray, shape: tuple[int, ...]) -> None:
        if starts.shape != ends.shape or int(np.prod(shape)) != starts.size or len(shape) not in (1, 2):
            raise ValueError(f"literal offsets of size {starts.size} do not fit shape {shape}")
        self._raw, self._starts, self._ends, self.shape = raw, starts, ends, tuple(shape)

    def text(self, flat_index: int) -> str:
        """The literal at a row-major position."""
        s, e = int(self._starts[flat_index]), int(self._ends[flat_index])
        return self._raw[s:e].decode("ascii").strip()

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"row {i} of literal text with {len(self)} rows")
        if len(self.shape) == 1:
            return self.text(i)
        cols = self.shape[1]
        return tuple(self.text(i * cols + j) for j in range(cols))

    def as_tuple(self) -> tuple[Any, ...]:
        """The whole text as nested tuples (what a reader without offsets would have kept)."""
        return tuple(self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LiteralText):
            other = other.as_tuple()
        return isinstance(other, tuple) and self.as_tuple() == other

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __repr__(self) -> str:
        return f"LiteralText(shape={self.shape})"


def text_shape(text: Any) -> tuple[int, ...]:
    """The shape of literal text: a LiteralText knows it; nested tuples are measured (rectangular or not)."""
    if isinstance(text, LiteralText):
        return text.shape
    if text and isinstance(text[0], tuple):
        cols = len(text[0])
        return (len(text), cols) if all(len(r) == cols for r in text) else (len(text), -1)
    return (len(text),)
