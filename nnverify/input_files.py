"""Batches of inputs from files (.npy, .npz, .json, .csv) and their labels.

Any batch may carry **labels**, the class of each row (0-based, as ``np.argmax`` counts): an
``.npz`` with ``x`` (or ``inputs``) and ``labels``, a CSV whose first line is a header naming a
``label`` column (Kaggle's MNIST CSV ``label,pixel0,...,pixel783`` reads as it is), or a
separate file read by :func:`load_labels`. Files are read within the limits, never executed.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from typing import BinaryIO

import numpy as np

from nnverify.errors import InputsError, LimitError, WeightsFileError
from nnverify.files import read_user_file
from nnverify.inputs import Inputs, inputs_from_cells
from nnverify.labels import check_labels, label_literal
from nnverify.limits import DEFAULT_LIMITS, Limits

__all__ = ["load_inputs", "load_labels", "LABEL_COLUMN"]

#: The column of a CSV header that holds the labels.
LABEL_COLUMN = "label"
#: The first CSV line holding more than blanks and a comment (found by one search, not a split).
_FIRST_LINE = re.compile(r"^[^\S\r\n]*([^\s#][^\r\n]*)", re.MULTILINE)
#: A comment, and the start of a line holding a value: what counts a CSV's values without a split.
_COMMENT = re.compile(r"#[^\r\n]*")
_DATA_LINE = re.compile(r"^[^\S\r\n]*\S", re.MULTILINE)


def _check_finite_array(arr: np.ndarray, source: str) -> np.ndarray:
    if arr.dtype.kind not in "fiub":
        raise InputsError(f"{source}: has dtype {arr.dtype}; expected numbers")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputsError(f"{source}: has shape {arr.shape}; expected (N, n) with N, n >= 1")
    wide = arr
    arr = arr.astype(np.float64)
    if wide.dtype.kind in "iu" or wide.dtype.itemsize > 8:  # integers, long doubles: exact only if they fit
        with np.errstate(all="ignore"):
            lost = np.isfinite(arr) & (arr.astype(wide.dtype) != wide)
        if lost.any():
            i, j = (int(v) for v in np.argwhere(lost)[0])
            raise InputsError(f"{source}: row {i}, value {j} is {wide[i, j]!r}, which float64 cannot hold "
                              "exactly; give float64 or float32 inputs")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise InputsError(f"{source}: row {i}, value {j} is {arr[i, j]!r}; inputs must be finite")
    return arr


def _read_file(path: str | os.PathLike[str], limits: Limits, what: str) -> bytes:
    """The bytes of a regular file, refused above ``limits`` before they are all read."""
    source = str(path)
    return read_user_file(source, limits, lambda why: InputsError(f"{source}: {why}"), what=what)


def _npy_header(fh: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(fh)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = reader(fh)
    return shape, dtype


def _load_npy(raw: bytes, source: str, limits: Limits) -> np.ndarray:
    """A .npy array, its header checked (size, no objects) before anything is allocated."""
    try:
        shape, dtype = _npy_header(io.BytesIO(raw))
        limits.check_inputs(int(np.prod(shape, dtype=object)), source)
        return np.load(io.BytesIO(raw), allow_pickle=False)  # type: ignore[no-any-return]
    except (InputsError, LimitError):
        raise
    except Exception as exc:
        raise InputsError(f"{source}: is not a readable .npy array ({exc})") from None


#: Names an inputs .npz may give its input array.
_NPZ_INPUTS = ("x", "inputs")


def _load_npz(raw: bytes, source: str, limits: Limits) -> dict[str, np.ndarray]:
    """The members of an .npz, each header checked before allocation (``allow_pickle=False``)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        members = zf.namelist()
        headers = {}
        for m in members:
            key = m[:-4] if m.endswith(".npy") else m
            if key in headers:
                raise InputsError(f"{source}: member {key!r} appears twice in the archive; keep one")
            with zf.open(m) as fh:
                headers[key] = _npy_header(fh)  # type: ignore[arg-type]
    except InputsError:
        raise
    except Exception as exc:  # zipfile and the .npy format raise many kinds for a damaged file
        raise InputsError(f"{source}: is not a readable .npz archive ({exc})") from None
    for key, (_, dtype) in headers.items():
        if dtype.hasobject:
            raise InputsError(f"{source}: member {key!r} holds Python objects (dtype {dtype}); "
                              "save plain numeric arrays (nothing from this file was run)")
    limits.check_inputs(sum(int(np.prod(shape, dtype=object)) for shape, _ in headers.values()), source)
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:
        raise InputsError(f"{source}: could not be read as .npz ({exc})") from None


def _npz_inputs(raw: bytes, source: str, limits: Limits) -> Inputs:
    arrays = _load_npz(raw, source, limits)
    names = [k for k in _NPZ_INPUTS if k in arrays]
    unknown = sorted(set(arrays) - set(_NPZ_INPUTS) - {"labels"})
    if len(names) > 1:
        raise InputsError(f"{source}: holds both 'x' and 'inputs'; keep one input array")
    if not names:
        found = ", ".join(repr(k) for k in sorted(arrays)) or "nothing"
        hint = " (for the shipped digits use --inputs mnist-digits)" if "images" in arrays else ""
        raise InputsError(
            f"{source}: holds {found} but no inputs; an inputs .npz holds 'x' (or 'inputs'), "
            f"shape (N, n), and optionally 'labels', shape (N,): np.savez(f, x=..., labels=...){hint}"
        )
    if unknown:
        raise InputsError(f"{source}: unexpected member {unknown[0]!r}; an inputs .npz holds "
                          "'x' (or 'inputs') and optionally 'labels'")
    values = _check_finite_array(arrays[names[0]], source)
    labels = arrays.get("labels")
    return Inputs(values, None, source,
                  labels=None if labels is None else check_labels(labels, len(values), source))


def _csv_rows(text: str, source: str) -> tuple[list[list[str]], np.ndarray | None]:
    """The rows of a CSV, and the label column when a header line names one ``label``."""
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append([c.strip() for c in line.split(",")])
    if not rows or LABEL_COLUMN not in [c.lower() for c in rows[0]]:
        return rows, None
    header = [c.lower() for c in rows[0]]
    if header.count(LABEL_COLUMN) > 1:
        raise InputsError(f"{source}: the header names {LABEL_COLUMN!r} twice; keep one label column")
    col = header.index(LABEL_COLUMN)
    labels, body = [], []
    for i, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise InputsError(f"{source}: row {i} has {len(row)} values but the header names "
                              f"{len(header)} columns; rows must be as long as the header")
        labels.append(label_literal(row[col], i, source))
        body.append(row[:col] + row[col + 1:])
    if not body:
        raise InputsError(f"{source}: has a header but no rows; give at least one input")
    return body, np.array(labels, dtype=np.int64)


def _check_first_width(cells: int, width: int | None, source: str) -> None:
    """Refuse a text file whose first input is not ``width`` values wide, before the rest is parsed."""
    if width is not None and cells != width:
        raise InputsError(f"{source}: gives {cells:,} values in its first input but the network takes "
                          f"{width}; one input per line (CSV) or per inner list (JSON), {width} values each")


def _csv_first_cells(text: str) -> list[str]:
    """The cells of a CSV's first line that holds any (lower-cased), read from that line alone."""
    m = _FIRST_LINE.search(text)
    for line in [m.group(1)] if m else text.splitlines():  # no match: line breaks only \r and kin
        line = line.split("#", 1)[0].strip()
        if line:
            return [c.strip().lower() for c in line.split(",")]
    return []


def _csv_values(text: str, first: list[str]) -> int:
    """How many input values a CSV holds, from its commas and the lines that hold any: counted in
    C, a MiB at a time, before any split (line breaks other than \\n only make it fewer; the
    rows are counted again once split)."""
    lines = cells = lo = 0
    while lo < len(text):
        hi = text.find("\n", lo + (1 << 20))
        hi = len(text) if hi < 0 else hi + 1
        piece = _COMMENT.sub("", text[lo:hi]) if "#" in text[lo:hi] else text[lo:hi]
        n = _DATA_LINE.subn("", piece)[1]
        lines, cells, lo = lines + n, cells + piece.count(",") + n, hi
    if LABEL_COLUMN in first:  # a header: its cells, and a label per row, are no input values
        cells -= len(first) + lines - 1
    return cells


def load_inputs(path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS,
                width: int | None = None) -> Inputs:
    """Read a batch of inputs; the format is chosen by content (.npy/.npz magic, JSON, else CSV).

    - ``.npy``: a 1-D or 2-D numeric array (``allow_pickle=False``);
    - ``.npz``: ``x`` (or ``inputs``) ``(N, n)`` and optionally ``labels`` ``(N,)`` (no pickles);
    - JSON: a list of numbers (one input) or a list of lists; numbers or numeric strings;
    - CSV: one input per line, values separated by commas; ``#`` starts a comment; a first
      line naming a ``label`` column (any case) is a header, and that column holds the labels.

    Args:
        path: the file.
        limits: refuse files and arrays above these sizes before allocating.
        width: the network's input width, when known: a text file whose first input has another
            width is refused before the rest of it is parsed (a 10^6-column CSV in 0.1 s).
    """
    source = str(path)
    raw = _read_file(source, limits, "an inputs file")
    if raw.startswith(b"\x93NUMPY"):
        return Inputs(_check_finite_array(_load_npy(raw, source, limits), source), None, source)
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _npz_inputs(raw, source, limits)
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
        _check_first_width(len(doc[0]) if doc else 0, width, source)
        limits.check_inputs(sum(len(r) for r in doc), source)
        return inputs_from_cells(doc, source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputsError(
            f"{source}: is neither .npy, .npz, JSON nor UTF-8 CSV text (byte {exc.start} is not UTF-8)"
        ) from None
    first = _csv_first_cells(text)
    _check_first_width(len(first) - (LABEL_COLUMN in first), width, source)
    limits.check_inputs(_csv_values(text, first), source)  # 10^8 lines: refused before they are split
    rows, labels = _csv_rows(text, source)
    limits.check_inputs(sum(len(r) for r in rows), source)
    inputs = inputs_from_cells(rows, source)
    return inputs if labels is None else Inputs(inputs.values, inputs.text, source, labels=labels)


def load_labels(path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS) -> np.ndarray:
    """Read a labels file (``--labels``): ``.npy`` ``(N,)``, ``.npz`` with ``labels``, a JSON list,
    or text with one whole number per line (or comma-separated); ``#`` starts a comment.

    Args:
        path: the file.
        limits: refuse larger files before reading them.
    """
    source = str(path)
    raw = _read_file(source, limits, "a labels file")
    if raw.startswith(b"\x93NUMPY"):
        arr = _load_npy(raw, source, limits)
    elif raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        arrays = _load_npz(raw, source, limits)
        if any(k in arrays for k in _NPZ_INPUTS):
            raise InputsError(f"{source}: holds inputs and labels; give it as --inputs {source} "
                              "(its labels are read with it)")
        if set(arrays) != {"labels"}:
            raise InputsError(f"{source}: a labels .npz holds one member 'labels'; found "
                              + (", ".join(repr(k) for k in sorted(arrays)) or "nothing"))
        arr = arrays["labels"]
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputsError(f"{source}: is not a labels file (byte {exc.start} is not UTF-8 text)") from None
        body = text.strip()
        if body.startswith("[") and body.endswith("]"):
            body = body[1:-1]
        cells = [c for line in body.splitlines() for c in line.split("#", 1)[0].replace(",", " ").split()]
        limits.check_inputs(len(cells), source)
        arr = np.array([label_literal(c, i, source) for i, c in enumerate(cells)], dtype=np.int64)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise InputsError(f"{source}: labels have shape {arr.shape}; expected one label per input, shape (N,)")
    return check_labels(arr, arr.shape[0], source)
