"""Network inputs: ``--x 1.0,0.5``, a batch file (.npy, .json, .csv) or seeded random samples.

Inputs given as text keep that text: the exact-decimal model uses it, and each value is
rounded from it straight to the dtype in use (never through float64 first).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.errors import InputsError, LimitError, UsageError, WeightsFileError
from nnverify.files import read_user_file
from nnverify.limits import DEFAULT_LIMITS, Limits
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.numeric import check_inputs
from nnverify.rationals import literal_to_float, parse_literal, round_to_dtype

__all__ = ["Inputs", "parse_x", "load_inputs", "sample_inputs", "input_rationals"]


@dataclass(frozen=True, eq=False)
class Inputs:
    """A batch of inputs, shape (N, n), with the literal text of each value when known.

    Args:
        values: float64 values, shape (N, n).
        text: literal text per value, same shape as ``values``, or None.
        source: where they came from (for messages).
    """

    values: np.ndarray
    text: tuple[tuple[str, ...], ...] | None = None
    source: str = "inputs"
    single: bool = False

    def as_dtype(self, dtype: object) -> np.ndarray:
        """The values as ``dtype``; from the literal text when there is one (one rounding)."""
        dt = np.dtype(dtype)  # type: ignore[call-overload]
        if self.text is None or dt == np.float64:
            with np.errstate(over="ignore"):
                out = self.values.astype(dt)
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


def _parse_cells(rows: list[list[Any]], source: str) -> Inputs:
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
            try:
                q = parse_literal(str(cell))
            except ValueError as exc:
                raise InputsError(f"{source}: row {i}, value {j}: {exc}") from None
            if not np.isfinite(round_to_dtype(q, np.float64)):
                raise InputsError(f"{source}: row {i}, value {j} is {cell}, which overflows float64")
            trow.append(str(cell).strip())
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
    inp = _parse_cells([cells], "--x")
    return Inputs(inp.values, inp.text, "--x", single=True)


def _check_finite_array(arr: np.ndarray, source: str) -> np.ndarray:
    if arr.dtype.kind not in "fiub":
        raise InputsError(f"{source}: has dtype {arr.dtype}; expected numbers")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputsError(f"{source}: has shape {arr.shape}; expected (N, n) with N, n >= 1")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InputsError(f"{source}: row {i}, value {j} is {arr[i, j]!r}; inputs must be finite")
    return arr


def load_inputs(path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS) -> Inputs:
    """Read a batch of inputs; the format is chosen by content (.npy magic, JSON, else CSV).

    - ``.npy``: a 1-D or 2-D numeric array (``allow_pickle=False``);
    - JSON: a list of numbers (one input) or a list of lists; numbers or numeric strings;
    - CSV: one input per line, values separated by commas; ``#`` starts a comment.
    """
    source = str(path)
    raw = read_user_file(source, limits, lambda why: InputsError(f"{source}: {why}"), what="an inputs file")
    if raw.startswith(b"\x93NUMPY"):
        try:
            buf = io.BytesIO(raw)
            version = np.lib.format.read_magic(buf)
            header = (
                np.lib.format.read_array_header_1_0(buf)
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0(buf)
            )
            limits.check_inputs(int(np.prod(header[0], dtype=object)), source)
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except (InputsError, LimitError):
            raise
        except Exception as exc:
            raise InputsError(f"{source}: is not a readable .npy array ({exc})") from None
        values = _check_finite_array(arr, source)
        return Inputs(values, None, source)
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"[":
        from nnverify.weights.json_format import parse_json_text

        try:
            doc = parse_json_text(raw, source, what="inputs")
        except WeightsFileError as exc:
            raise InputsError(f"{source}: {exc.reason}") from None
        if isinstance(doc, list) and doc and not isinstance(doc[0], list):
            doc = [doc]
        if not isinstance(doc, list) or not all(isinstance(r, list) for r in doc):
            raise InputsError(f"{source}: expected a JSON list of numbers or a list of lists")
        limits.check_inputs(sum(len(r) for r in doc), source)
        return _parse_cells(doc, source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputsError(
            f"{source}: is neither .npy, JSON nor UTF-8 CSV text (byte {exc.start} is not UTF-8)"
        ) from None
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append([c.strip() for c in line.split(",")])
    limits.check_inputs(sum(len(r) for r in rows), source)
    return _parse_cells(rows, source)


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
