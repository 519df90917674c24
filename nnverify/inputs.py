"""Network inputs: ``--x 1.0,0.5`` or seeded random samples, as :class:`Inputs` (batch files:
:mod:`nnverify.input_files`).

Inputs given as text keep that text: the exact-decimal model uses it, and each value is
rounded from it straight to the dtype in use (never through float64 first).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.errors import InputsError, UsageError
from nnverify.labels import check_labels
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.numeric import check_inputs
from nnverify.rationals import literal_to_float, parse_literal, round_to_dtype

__all__ = ["Inputs", "inputs_from_cells", "parse_x", "sample_inputs", "input_rationals"]

@dataclass(frozen=True, eq=False)
class Inputs:
    """A batch of inputs, shape (N, n), with the literal text of each value when known.

    Args:
        values: the exact values, shape (N, n): float64, or float32 for float32 data (the
            MNIST digits), which every dtype holds exactly.
        text: literal text per value, same shape as ``values``, or None.
        source: where they came from (for messages).
        single: True for one input given as ``--x`` (printed without the batch axis).
        labels: the class of each row, int64 ``(N,)``, 0-based; None when there are none.
        index: the 0-based position of each row in its source (after a selection such as
            ``--per-class``), int64 ``(N,)``; None when the rows are the source's, in order.
    """

    values: np.ndarray
    text: tuple[tuple[str, ...], ...] | None = None
    source: str = "inputs"
    single: bool = False
    labels: np.ndarray | None = None
    index: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", check_labels(self.labels, len(self), self.source))
        if self.index is not None:
            index = np.asarray(self.index, dtype=np.int64)
            if index.shape != (len(self),):
                raise InputsError(f"{self.source}: index has shape {index.shape}; expected ({len(self)},)")
            object.__setattr__(self, "index", index)

    def select(self, rows: np.ndarray, source: str | None = None) -> Inputs:
        """The rows ``rows`` (0-based positions) with their text, labels and source positions."""
        rows = np.asarray(rows, dtype=np.int64)
        text = None if self.text is None else tuple(self.text[r] for r in rows.tolist())
        index = rows if self.index is None else self.index[rows]
        labels = None if self.labels is None else self.labels[rows]
        return Inputs(self.values[rows], text, source or self.source, self.single, labels, index)

    def with_labels(self, labels: np.ndarray, source: str) -> Inputs:
        """The same rows with ``labels`` (read from ``source``) attached."""
        if self.labels is not None:
            raise InputsError(
                f"{source}: {self.source} already carries labels; give the labels once "
                "(drop --labels, or the labels in the inputs file)"
            )
        return Inputs(self.values, self.text, self.source, self.single,
                      check_labels(labels, len(self), source), self.index)

    def as_dtype(self, dtype: object) -> np.ndarray:
        """The values as ``dtype``; from the literal text when there is one (one rounding)."""
        dt = np.dtype(dtype)  # type: ignore[call-overload]
        if self.text is None or dt == np.float64:
            with np.errstate(over="ignore"):
                out = self.values.astype(dt, copy=False)  # (the values themselves if already dt)
        else:
            out = np.array(
                [[literal_to_float(t, dt) for t in row] for row in self.text], dtype=dt
            )
        bad = ~np.isfinite(out)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise InputsError(
                f"{self.source}: row {i}, value {j} is {float(self.values[i, j])!r}, which overflows {dt}"
            )
        return out

    def __len__(self) -> int:
        return int(self.values.shape[0])


def _cell_text(cell: str | int | float) -> str:
    """A cell's literal text: text as given, an int exactly, a float as the rational it is (its
    shortest repr where that says the same, else ``p/q``: a float is a binary number, and 0.1 is
    not 1/10)."""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, int) or not math.isfinite(cell):
        return str(cell)
    short = repr(cell)
    exact = Fraction(cell)
    return short if Fraction(short) == exact else f"{exact.numerator}/{exact.denominator}"


def inputs_from_cells(rows: list[list[Any]], source: str) -> Inputs:
    """Inputs from rows of number cells (text or numbers), each kept as its literal text."""
    if not rows:
        raise InputsError(f"{source}: holds no inputs; give at least one row")
    width = len(rows[0])
    text_rows = []
    for i, row in enumerate(rows):
        if len(row) != width:
            raise InputsError(
                f"{source}: row {i} has {len(row)} values but row 0 has {width}; rows must be "
                "equally long"
            )
        trow = []
        for j, cell in enumerate(row):
            if isinstance(cell, bool) or not isinstance(cell, (str, int, float)):
                raise InputsError(f"{source}: row {i}, value {j} is {cell!r}; expected a number")
            text = _cell_text(cell)
            try:
                q = parse_literal(text)
            except ValueError as exc:
                raise InputsError(f"{source}: row {i}, value {j}: {exc}") from None
            if not np.isfinite(round_to_dtype(q, np.float64)):
                raise InputsError(f"{source}: row {i}, value {j} is {cell}, which overflows float64")
            trow.append(text)
        text_rows.append(tuple(trow))
    values = np.array(
        [[float(literal_to_float(t, np.float64)) for t in r] for r in text_rows]
    )
    return Inputs(values, tuple(text_rows), source)


def parse_x(text: str) -> Inputs:
    """One input from ``"1.0,0.5"`` (commas and/or spaces)."""
    cells = [c for c in text.replace(",", " ").split() if c]
    if not cells:
        raise InputsError(f"--x {text!r} holds no numbers; give e.g. --x 1.0,0.5")
    inp = inputs_from_cells([cells], "--x")
    return Inputs(inp.values, inp.text, "--x", single=True)


def sample_inputs(
    n_inputs: int, count: int, *, low: float = 0.0, high: float = 1.0, seed: int = 0
) -> Inputs:
    """``count`` inputs drawn uniformly from [low, high) with NumPy's PCG64 seeded by ``seed``."""
    if count < 1:
        raise InputsError(f"--samples {count}: must be at least 1")
    if not (np.isfinite(low) and np.isfinite(high)) or not low < high:
        raise InputsError(f"--low {low} --high {high}: need finite low < high")
    if not np.isfinite(float(high) - float(low)):  # NumPy refuses a width beyond the largest float
        raise InputsError(
            f"--low {low} --high {high}: the width high - low overflows float64; narrow the range"
        )
    if seed < 0:
        raise InputsError(f"--seed {seed}: must be 0 or more")
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, high, size=(count, n_inputs))
    return Inputs(values, None, f"--samples {count} --low {low} --high {high} --seed {seed}")


def input_rationals(
    network: Network, x: Any, mode: Mode
) -> tuple[np.ndarray, tuple[tuple[Fraction, ...], ...] | None]:
    """The inputs as the float array NumPy sees ``(N, n)`` and the exact rationals the model uses.

    Binary mode (and any input without literal text): the exact value of each float after the
    cast to the network's dtype; the second item is then None (the floats *are* the exact
    values). Decimal mode with an :class:`Inputs` that kept its text: the rationals the text says.
    """
    if isinstance(x, Inputs):
        floats = x.as_dtype(network.dtype)
        if floats.shape[1] != network.n_inputs:
            check_inputs(network, floats)  # raises the one-line width error
        if mode is Mode.DECIMAL and x.text is not None:
            try:
                exact = tuple(tuple(parse_literal(t) for t in row) for row in x.text)
            except ValueError as exc:  # Inputs built by hand with bad text
                raise UsageError(f"{x.source}: {exc}") from None
            return floats, exact
        return floats, None
    floats = check_inputs(network, x)
    if floats.ndim == 1:
        floats = floats[None, :]
    return floats, None
