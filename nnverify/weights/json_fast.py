"""The fast path for JSON weights: arrays of plain numbers parsed without a Python object per number.

A scanner finds every array of plain JSON numbers that is the value of a key (``"W1": [[...]]``,
``"b": [...]``, ``"domain": [0, 1]``), a vector or a whole matrix, and replaces it in a small
*skeleton* by a placeholder; the standard parser reads the skeleton (keys, names, activations,
the nesting), and each array's numbers are parsed in bulk by NumPy, whose text parser is
CPython's correctly rounded ``PyOS_string_to_double``. The literal text stays in the file's bytes:
a :class:`~nnverify.model.LiteralText` keeps the offsets of every number and makes the text on
demand (for the exact-decimal model).

Bounded: an array is found as one run of a character class (no backtracking state per number:
a repeated group kept about 500 bytes per number, 6 GB for a 10^7-number row) and checked in
chunks of at most :data:`_CHUNK` bytes; a matrix is one placeholder, not one per row; the
scanner counts what it leaves to the standard parser (strings, other arrays) against the
limits before that parser makes an object of each.

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
from collections.abc import Iterator
from typing import Any

import numpy as np

from nnverify.errors import WeightsFileError
from nnverify.limits import MAX_LAYERS, Limits
from nnverify.model import LiteralText
from nnverify.rationals import literal_to_float

__all__ = ["Block", "RaggedRows", "scan", "restore_rows", "fast_array", "MAX_BLOCKS"]

#: A JSON string, unrolled ("normal* (special normal*)*") so a 100 MB name is one tight run of a
#: character class: the alternation ``(?:[^"\\]|\\.)*`` keeps a backtracking frame per character
#: (11.8 GB and 42 s for a 100 MB "name").
_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_WS = rb"[ \t\n\r]*"
_NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_STRING_AT = re.compile(_STRING)
#: Up to 4,096 strings in a row with what separates them (keys, names, rationals): one match, so
#: a file of short strings is not a Python loop per string. Only strings without a backslash (so
#: counting quotes counts them), a comma or an opening bracket (which would be counted as values);
#: a colon ends the match, so the scan sees which array is the value of a key.
_STRINGS = re.compile(rb'(?:"[^"\\,\[{]*"[ \t\n\r,]*){1,4096}')
_ONLY_WS = re.compile(_WS)
_CLASS = rb"0-9eE+\-., \t\n\r"
#: Everything an array of numbers is made of, as one run of a character class; the second for
#: numbers written as strings (``["0.5", "-1e3"]``), tried where the first stops at a quote.
_RUN = (re.compile(rb"[" + _CLASS + rb"\[\]]*"), re.compile(rb'[' + _CLASS + rb'\[\]"]*'))
#: A vector: no bracket inside.
_VECTOR = (re.compile(rb"\[[" + _CLASS + rb"]*\]"), re.compile(rb'\[[' + _CLASS + rb'"]*\]'))


def _entries_pattern(number: bytes) -> re.Pattern[bytes]:
    """Numbers with the brackets next to them, comma-separated: a piece of a vector or matrix."""
    entry = _WS + rb"(?:\[" + _WS + rb")*" + number + _WS + rb"(?:\]" + _WS + rb")*"
    return re.compile(entry + rb"(?:," + entry + rb")*")


_ENTRIES = (_entries_pattern(_NUM), _entries_pattern(rb'"' + _NUM + rb'"'))
#: Bytes checked by one match of :data:`_ENTRIES` (its backtracking state grows with the numbers).
_CHUNK = 1 << 16
#: Literals the per-literal path refuses are left to it: exponents beyond +-9999 (found by this
#: pattern, which scans fast), and literals over 400 characters (found from the offsets).
_BIG_EXPONENT = re.compile(rb"[eE][+-]?0*[1-9][0-9]{4}")
_MAX_LITERAL = 400
#: A placeholder key no file can forge (fresh per process).
_KEY = "nnverify-row-" + secrets.token_hex(8)
_BOM = b"\xef\xbb\xbf"
_OPEN, _CLOSE, _COMMA, _QUOTE = 0x5B, 0x5D, 0x2C, 0x22
#: Arrays of numbers a network can hold as values of keys: a W and a b per layer, and a domain.
MAX_BLOCKS = 2 * MAX_LAYERS + 1
#: What NumPy's parser must not see: brackets (of a matrix's rows) and quotes.
_NOT_NUMBERS = bytes.maketrans(b'[]"', b"   ")


class RaggedRows(ValueError):
    """A matrix whose rows hold different numbers of values."""


class Block:
    """An array of plain JSON numbers (or of strings that are plain JSON numbers, ``quoted``), a
    vector or a matrix: its byte span ``[start, end)`` and how many numbers it holds."""

    __slots__ = ("_raw", "start", "end", "matrix", "quoted", "count")

    def __init__(self, raw: bytes, start: int, end: int, matrix: bool, quoted: bool, count: int) -> None:
        self._raw, self.start, self.end, self.matrix, self.quoted = raw, start, end, matrix, quoted
        self.count = count

    @property
    def text(self) -> bytes:
        """The array as it stands in the file."""
        return self._raw[self.start:self.end]


def _pieces(raw: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """``[lo, hi)`` pieces of ``raw[start:end]`` of about :data:`_CHUNK` bytes, each ending just
    before a comma (which belongs to no piece) or at ``end``."""
    lo = start
    while lo < end:
        hi = raw.find(b",", min(lo + _CHUNK, end), end)
        hi = end if hi < 0 else hi
        yield lo, hi
        lo = hi + 1


def _entries(raw: bytes, start: int, end: int, quoted: bool) -> int:
    """How many numbers ``raw[start:end]`` (inside an array's outer brackets) holds; 0 when it is
    not numbers and the brackets next to them, comma-separated."""
    count = 0
    for lo, hi in _pieces(raw, start, end):
        if _ENTRIES[quoted].fullmatch(raw, lo, hi) is None:
            return 0
        count += raw.count(b",", lo, hi) + 1
    return count if start < end and raw[end - 1] != _COMMA else 0


def _brackets(raw: bytes, lo: int, hi: int, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In ``raw[lo:hi]``: where the brackets and commas are, which byte each is, and the depth
    after each (``depth`` before the first)."""
    buf = np.frombuffer(raw, dtype=np.uint8, count=hi - lo, offset=lo)
    where = np.flatnonzero((buf == _OPEN) | (buf == _CLOSE) | (buf == _COMMA))
    kind = buf[where]
    after = depth + np.cumsum((kind == _OPEN).astype(np.int32) - (kind == _CLOSE))
    return where + lo, kind, after


def _matrix_end(raw: bytes, start: int, end: int) -> int:
    """Where the array at ``start`` ends in the run ``[start, end)`` when it nests exactly two
    deep (a matrix), else -1. In pieces: a 30,000,000-row matrix costs no array per bracket."""
    depth = deepest = 0
    for lo in range(start, end, _CHUNK):
        where, _, after = _brackets(raw, lo, min(lo + _CHUNK, end), depth)
        if not after.size:
            continue
        zero = np.flatnonzero(after == 0)
        upto = int(zero[0]) if zero.size else after.size
        deepest = max(deepest, int(after[:upto].max()) if upto else 0)
        if deepest > 2:
            return -1
        if zero.size:
            return int(where[upto]) + 1 if deepest == 2 else -1
        depth = int(after[-1])
    return -1


def _block_at(raw: bytes, start: int, end: int, quoted: bool) -> Block | None:
    """The vector or matrix of numbers at the start of the run ``[start, end)``, or None."""
    m = _VECTOR[quoted].match(raw, start, end)
    stop = m.end() if m else _matrix_end(raw, start, end)
    if stop < 0:
        return None
    count = _entries(raw, start + 1, stop - 1, quoted)
    return Block(raw, start, stop, m is None, quoted, count) if count else None


def _run_end(raw: bytes, start: int, quoted: bool) -> int:
    m = _RUN[quoted].match(raw, start)  # matches, if only the empty run
    return start if m is None else m.end()


def _array_at(raw: bytes, start: int, keyed: bool) -> tuple[Block | None, int]:
    """The array at ``start`` as a :class:`Block` if it is the value of a key and all numbers, and
    where the scan goes on: after the block, or after the run (which holds no quote) if no block."""
    run_end = _run_end(raw, start, False)
    block = _block_at(raw, start, run_end, False) if keyed else None
    if block is None and keyed and raw[run_end:run_end + 1] == b'"':
        block = _block_at(raw, start, _run_end(raw, start, True), True)
    return block, run_end if block is None else block.end


def _left(raw: bytes, start: int, end: int) -> int:
    """Commas and opening brackets in ``raw[start:end]``: what makes the standard parser's objects."""
    return raw.count(b",", start, end) + raw.count(b"[", start, end) + raw.count(b"{", start, end)


def _too_many_blocks(path: str) -> WeightsFileError:
    return WeightsFileError(path, f"holds more than {MAX_BLOCKS:,} arrays of numbers; a network has at "
                            f"most {MAX_LAYERS:,} layers, a W and a b each, and a domain", fmt="JSON")


class _Next:
    """Where the next ``byte`` is at or after a position, found once (bytes.find) and kept until
    the scan passes it: every byte of the file is searched once, however many strings it holds."""

    __slots__ = ("_raw", "_byte", "at")

    def __init__(self, raw: bytes, byte: bytes) -> None:
        self._raw, self._byte, self.at = raw, byte, raw.find(byte)

    def after(self, pos: int) -> int:
        if 0 <= self.at < pos:
            self.at = self._raw.find(self._byte, pos)
        return len(self._raw) if self.at < 0 else self.at


def _keyed(raw: bytes, pos: int, start: int) -> bool:
    """Whether the ``[`` at ``start`` is the value of a key: ``raw[pos:start]`` (no string in it)
    ends with a colon and whitespace."""
    colon = raw.rfind(b":", pos, start)
    return colon >= 0 and _ONLY_WS.fullmatch(raw, colon + 1, start) is not None


def scan(raw: bytes, path: str, limits: Limits) -> tuple[bytes, list[Block]]:
    """The skeleton of the JSON text ``raw`` (arrays of numbers replaced by placeholders) and the
    arrays. What is left to the standard parser (strings, brackets, commas) is counted against
    ``limits`` before that parser makes an object of each: as the scan goes (strings and arrays
    met), then exactly (every comma and bracket outside the blocks and long strings)."""
    pieces: list[bytes] = []
    blocks: list[Block] = []
    last = pos = len(_BOM) if raw.startswith(_BOM) else 0
    met = strings = inside = 0
    quote, bracket, budget = _Next(raw, b'"'), _Next(raw, b"["), limits.max_json_values
    while (start := min(quote.after(pos), bracket.after(pos))) < len(raw):
        if raw[start] == _QUOTE:  # strings: stay as they are
            m = _STRINGS.match(raw, start)
            if m is not None:
                pos = m.end()
                n = raw.count(b'"', start, pos) // 2
            else:  # one with a backslash, comma or bracket in it
                m = _STRING_AT.match(raw, start)
                pos = start + 1 if m is None else m.end()  # unterminated: the parser will say where
                n = 1
                inside += _left(raw, start, pos)
            strings += n
            met += n - 1
        else:
            block, end = _array_at(raw, start, _keyed(raw, pos, start))
            pos = end
            if block is not None:
                if len(blocks) == MAX_BLOCKS:
                    raise _too_many_blocks(path)
                pieces += [raw[last:block.start], b'{"%s": %d}' % (_KEY.encode(), len(blocks))]
                blocks.append(block)
                last = block.end
                inside += _left(raw, block.start, block.end)
        met += 1  # a string or an array: at least one value each
        if met > budget:
            limits.check_json_values(met, path, at_least=True)
    limits.check_json_values(strings + _left(raw, 0, len(raw)) - inside, path)
    pieces.append(raw[last:])
    return b"".join(pieces), blocks


def restore_rows(doc: Any, blocks: list[Block]) -> Any:
    """The parsed skeleton with every placeholder replaced by its :class:`Block` (depth-limited input)."""
    if isinstance(doc, dict):
        if len(doc) == 1 and _KEY in doc:
            return blocks[int(doc[_KEY])]  # the parser keeps numbers as text
        return {k: restore_rows(v, blocks) for k, v in doc.items()}
    if isinstance(doc, list):
        return [restore_rows(v, blocks) for v in doc]
    return doc


def _literals(block: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per number (row-major) the byte offsets of its text, starts and ends; per row its count.

    A literal starts after a row's ``[`` or a comma inside a row and ends at a comma inside a row
    or the row's ``]`` (a vector is one row). Found in pieces, so only the offsets are kept.
    """
    raw, inside = block._raw, 2 if block.matrix else 1
    itype = np.int32 if len(raw) < 2**31 else np.int64
    starts, ends, firsts, quotes = [], [], [], []
    depth = 0
    for lo in range(block.start, block.end, _CHUNK):
        hi = min(lo + _CHUNK, block.end)
        if block.quoted:
            quotes.append((np.flatnonzero(np.frombuffer(raw, np.uint8, hi - lo, lo) == _QUOTE) + lo).astype(itype))
        where, kind, after = _brackets(raw, lo, hi, depth)
        depth = int(after[-1]) if after.size else depth
        opens = (kind == _OPEN) & (after == inside)
        commas = (kind == _COMMA) & (after == inside)
        first = opens | commas
        starts.append((where[first] + 1).astype(itype))
        firsts.append(opens[first])
        ends.append(where[commas | ((kind == _CLOSE) & (after == inside - 1))].astype(itype))
    row_first = np.flatnonzero(np.concatenate(firsts))
    starts_all, ends_all = np.concatenate(starts), np.concatenate(ends)
    counts = np.diff(np.append(row_first, starts_all.size))
    if block.quoted:  # the text is between the quotes (checked: each number is one string)
        q = np.concatenate(quotes)
        starts_all, ends_all = q[0::2] + 1, q[1::2]
    return starts_all, ends_all, counts


def _values(block: Block) -> np.ndarray | None:
    """The numbers of ``block`` as float64 (NumPy's text parser, in pieces), or None if they do
    not come out as :attr:`Block.count` numbers."""
    raw = block._raw
    values = np.empty(block.count, dtype=np.float64)
    done = 0
    for lo, hi in _pieces(raw, block.start + 1, block.end - 1):
        piece = raw[lo:hi].translate(_NOT_NUMBERS) if block.matrix or block.quoted else raw[lo:hi]
        got = np.fromstring(piece, dtype=np.float64, sep=",")
        if done + got.size > values.size:
            return None
        values[done:done + got.size] = got
        done += got.size
    return values if done == values.size else None


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


def fast_array(block: Block, dtype: np.dtype[Any]) -> tuple[np.ndarray, LiteralText] | None:
    """The values of ``block`` in ``dtype`` with their literal text, or None when the per-literal
    path must decide (a literal it would refuse, a number beside the rows of a matrix).

    Raises :class:`RaggedRows` for a matrix whose rows differ in length. Non-finite values
    (overflow) come back as they are; the caller reports them with their text.
    """
    raw = block._raw
    if _BIG_EXPONENT.search(raw, block.start, block.end):
        return None
    starts, ends, counts = _literals(block)
    if starts.size != block.count or ends.size != block.count:
        return None  # numbers beside a matrix's rows: the slow path says what is wrong
    if block.matrix and np.any(counts != counts[0]):
        raise RaggedRows(f"rows have {int(counts.min())} to {int(counts.max())} values")
    if int(np.max(ends - starts)) > _MAX_LITERAL:  # with whitespace: look closer
        if any(len(raw[s:e].strip()) > _MAX_LITERAL for s, e in zip(starts.tolist(), ends.tolist())):
            return None
    values = _values(block)
    if values is None:
        return None  # cannot happen for scanned arrays; the slow path would say what is wrong
    shape = (counts.size, int(counts[0])) if block.matrix else (block.count,)
    text = LiteralText(raw, starts, ends, shape)
    if dtype == np.float32:
        values = _round_float32(values, text)
    return values.reshape(shape), text
