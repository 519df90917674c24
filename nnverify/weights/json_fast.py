"""The fast path for JSON weights: arrays of plain numbers parsed without a Python object per number.

A scanner (one regular expression over the file's bytes, strings skipped) finds every innermost
array of plain JSON numbers and replaces it in a small *skeleton* by a placeholder; the standard
parser reads the skeleton (keys, names, activations, the nesting), and each array's numbers are
parsed in bulk by NumPy, whose text parser is CPython's correctly rounded ``PyOS_string_to_double``.
The literal text stays in the file's bytes: a :class:`~nnverify.model.LiteralText` keeps the
offsets of every number and makes the text on demand (for the exact-decimal model).

float32 is rounded once from the text: through float64 first, which is exact rounding except
where the float64 lands exactly on a midpoint between two float32 (double rounding can only go
wrong there, and ``x < m`` implies ``fl64(x) <= m`` for every representable midpoint ``m``): those
entries, and any beyond the float32 range, are re-rounded from their text with exact rationals.

Everything the fast path does not handle (numbers written as strings, mixed arrays, bad entries,
literals the slow path refuses) goes through the standard per-literal path, with its messages.
"""

from __future__ import annotations

import re
import secrets
import sys
from typing import Any

import numpy as np

from nnverify.model import LiteralText
from nnverify.rationals import literal_to_float

__all__ = ["Row", "scan", "restore_rows", "fast_array"]

#: A JSON string, unrolled ("normal* (special normal*)*") so a 100 MB name is one tight run of a
#: character class: the alternation ``(?:[^"\\]|\\.)*`` keeps a backtracking frame per character
#: (11.8 GB and 42 s for a 100 MB "name").
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_WS = rb"[ \t\n\r]*"
#: The repeat of a number list is possessive where Python has it (3.11): a greedy ``(...)*`` keeps a
#: backtracking frame per number (2 GB, 5 s for one row of 3 million); nothing after a number can
#: match by giving characters back, so the matches are the same.
_POSSESSIVE = b"+" if sys.version_info >= (3, 11) else b""
_NUMLIST = rb"\[" + _WS + _NUM + _WS + rb"(?:," + _WS + _NUM + _WS + rb")*" + _POSSESSIVE + rb"\]"
_SCANNER = re.compile(_STRING + rb"|" + _NUMLIST)
#: Literals the per-literal path refuses are left to it: exponents beyond +-9999 (found by this
#: pattern, which scans fast), and literals over 400 characters (found from the offsets).
_BIG_EXPONENT = re.compile(rb"[eE][+-]?0*[1-9][0-9]{4}")
_MAX_LITERAL = 400
#: A placeholder key no file can forge (fresh per process).
_KEY = "nnverify-row-" + secrets.token_hex(8)
_BOM = b"\xef\xbb\xbf"


class Row:
    """An innermost JSON array of plain numbers: its byte span ``[start, end)`` in the file."""

    __slots__ = ("start", "end", "_count", "_raw")

    def __init__(self, raw: bytes, start: int, end: int) -> None:
        self._raw, self.start, self.end = raw, start, end
        self._count = -1

    @property
    def count(self) -> int:
        """How many numbers it holds."""
        if self._count < 0:
            self._count = self._raw.count(b",", self.start, self.end) + 1
        return self._count


def scan(raw: bytes) -> tuple[bytes, list[Row]]:
    """The skeleton of the JSON text ``raw`` (number arrays replaced by placeholders) and the rows."""
    pieces: list[bytes] = []
    rows: list[Row] = []
    last = len(_BOM) if raw.startswith(_BOM) else 0
    for m in _SCANNER.finditer(raw, last):
        if raw[m.start()] != 0x5B:  # a string: stays in the skeleton as it is
            continue
        pieces.append(raw[last:m.start()])
        pieces.append(b'{"%s": %d}' % (_KEY.encode(), len(rows)))
        rows.append(Row(raw, m.start(), m.end()))
        last = m.end()
    pieces.append(raw[last:])
    return b"".join(pieces), rows


def restore_rows(doc: Any, rows: list[Row]) -> Any:
    """The parsed skeleton with every placeholder replaced by its :class:`Row` (depth-limited input)."""
    if isinstance(doc, dict):
        if len(doc) == 1 and _KEY in doc:
            return rows[int(doc[_KEY])]  # the parser keeps numbers as text
        return {k: restore_rows(v, rows) for k, v in doc.items()}
    if isinstance(doc, list):
        return [restore_rows(v, rows) for v in doc]
    return doc


def _offsets(raw: bytes, rows: list[Row]) -> tuple[np.ndarray, np.ndarray]:
    """Per number (row-major), the byte offsets of its text: starts and ends."""
    lo, hi = rows[0].start, rows[-1].end
    buf = np.frombuffer(raw, dtype=np.uint8, count=hi - lo, offset=lo)
    itype = np.int32 if len(raw) < 2**31 else np.int64
    commas = (np.flatnonzero(buf == 0x2C) + lo).astype(itype)
    S = np.array([r.start for r in rows], dtype=itype)
    E = np.array([r.end for r in rows], dtype=itype)
    owner = np.searchsorted(S, commas, side="right") - 1
    inside = commas[(owner >= 0) & (commas < E[np.maximum(owner, 0)])]  # not the commas between rows
    starts = np.sort(np.concatenate([S + 1, inside + 1]))
    ends = np.sort(np.concatenate([inside, E - 1]))
    return starts, ends


def _round_float32(v64: np.ndarray, text: LiteralText) -> np.ndarray:
    """float32 correctly rounded from the text: float64 then float32, except at exact midpoints."""
    with np.errstate(over="ignore", invalid="ignore"):
        f32 = v64.astype(np.float32)
        back = f32.astype(np.float64)
        toward = np.where(v64 > back, np.float32(np.inf), np.float32(-np.inf))
        other = np.nextafter(f32, toward).astype(np.float64)
        mid = 0.5 * back + 0.5 * other  # exact: both are float32 values
    risky = np.flatnonzero(((v64 != back) & (v64 == mid)) | (np.isinf(f32) & np.isfinite(v64)))
    for i in risky:
        f32[i] = literal_to_float(text.text(int(i)), np.float32)
    return f32


def fast_array(rows: list[Row], raw: bytes, dtype: np.dtype[Any], matrix: bool
               ) -> tuple[np.ndarray, LiteralText] | None:
    """The values of ``rows`` (a matrix's rows, or one vector) in ``dtype`` with their literal text,
    or None when the per-literal path must decide (a literal it would refuse).

    Non-finite values (overflow) come back as they are; the caller reports them with their text.
    """
    if any(_BIG_EXPONENT.search(raw, r.start, r.end) for r in rows):
        return None
    starts, ends = _offsets(raw, rows)
    if starts.size and int(np.max(ends - starts)) > _MAX_LITERAL:  # with whitespace: look closer
        if any(len(raw[s:e].strip()) > _MAX_LITERAL for s, e in zip(starts.tolist(), ends.tolist())):
            return None
    values = np.concatenate([np.fromstring(raw[r.start + 1:r.end - 1], dtype=np.float64, sep=",")
                             for r in rows])
    shape = (len(rows), rows[0].count) if matrix else (rows[0].count,)
    if values.size != starts.size or int(np.prod(shape)) != values.size:
        return None  # cannot happen for scanned rows; the slow path would say what is wrong
    text = LiteralText(raw, starts, ends, shape)
    if dtype == np.float32:
        values = _round_float32(values, text)
    return values.reshape(shape), text
