"""Builders for hostile weights files: hand-assembled pickles, forged .npy headers, valid bases.

Pickles here are written opcode by opcode (or by ``pickle.dumps`` of objects whose
``__reduce__`` names a dangerous callable). Tests never load them with plain ``pickle``.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np

# -- pickle opcodes -------------------------------------------------------------------------
PROTO2, PROTO3, PROTO4 = b"\x80\x02", b"\x80\x03", b"\x80\x04"
MARK, TUPLE, REDUCE, BUILD, STOP, NONE = b"(", b"t", b"R", b"b", b".", b"N"
TUPLE1, TUPLE2, TUPLE3 = b"\x85", b"\x86", b"\x87"
TRUE, FALSE, EMPTY_DICT, SETITEM, EMPTY_LIST, APPEND = b"\x88", b"\x89", b"}", b"s", b"]", b"a"
NEWOBJ, STACK_GLOBAL, MEMOIZE = b"\x81", b"\x93", b"\x94"


def glob(module: str, name: str) -> bytes:
    """GLOBAL opcode (protocols 0-3)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_glob(module: str, name: str) -> bytes:
    """STACK_GLOBAL (protocol 4): the names pushed as strings first."""
    return text(module) + text(name) + STACK_GLOBAL


def text(s: str) -> bytes:
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def raw_bytes(b: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(b)) + b


def int_(n: int) -> bytes:
    if -(2**31) <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data


def tuple_(*items: bytes) -> bytes:
    return MARK + b"".join(items) + TUPLE


def call(func: bytes, *args: bytes) -> bytes:
    """``func(*args)`` via REDUCE."""
    return func + tuple_(*args) + REDUCE


def dtype_(code: str, state: bytes | None = None, module: str = "numpy") -> bytes:
    """``numpy.dtype(code, False, True)`` plus its BUILD state (NumPy's own layout by default)."""
    out = glob(module, "dtype") + text(code) + FALSE + TRUE + TUPLE3 + REDUCE
    if state is None:
        state = tuple_(int_(3), text("<"), NONE, NONE, NONE, int_(-1), int_(-1), int_(0))
    return out + state + BUILD


def array_(
    shape: Sequence[int],
    dtype: bytes,
    data: bytes,
    *,
    reconstruct: str = "numpy._core.multiarray",
    subtype: bytes | None = None,
    fortran: bytes = FALSE,
) -> bytes:
    """NumPy's ``_reconstruct(ndarray, (0,), b'b')`` + BUILD (1, shape, dtype, fortran, data)."""
    sub = subtype if subtype is not None else glob("numpy", "ndarray")
    out = call(glob(reconstruct, "_reconstruct"), sub, tuple_(int_(0)), raw_bytes(b"b"))
    state = tuple_(int_(1), tuple_(*(int_(s) for s in shape)), dtype, fortran, raw_bytes(data))
    return out + state + BUILD


def book_pickle(items: dict[str, bytes], proto: bytes = PROTO3) -> bytes:
    """A dict pickle ``{key: <value opcodes>}`` as the book's file is laid out."""
    out = proto + EMPTY_DICT
    for key, value in items.items():
        out += text(key) + value + SETITEM
    return out + STOP


def f8(values: Sequence[float]) -> bytes:
    return np.asarray(values, dtype="<f8").tobytes()


def tiny_book_pickle(extra: dict[str, bytes] | None = None) -> bytes:
    """A valid 1-layer network W1 (2, 1), b1 (1,), hand-assembled; ``extra`` entries appended."""
    items = {
        "W1": array_((2, 1), dtype_("f8"), f8([0.5, -0.25])),
        "b1": array_((1,), dtype_("f8"), f8([0.125])),
    }
    items.update(extra or {})
    return book_pickle(items)


class Reducer:
    """An object whose pickle is ``func(*args)``: the classic ``__reduce__`` payload."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def reduce_pickle(func: Any, *args: Any, protocol: int = 3, wrap: bool = True) -> bytes:
    """``pickle.dumps`` of a payload calling ``func(*args)``; wrapped as the book's W1 when ``wrap``."""
    payload = Reducer(func, *args)
    obj: Any = {"W1": payload, "b1": np.zeros(1)} if wrap else payload
    return pickle.dumps(obj, protocol=protocol)


# -- .npy / .npz -----------------------------------------------------------------------------

def npy_bytes(header: dict[str, Any] | str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy file with a forged header (a dict written as NumPy writes it, or raw text)."""
    h = header if isinstance(header, str) else repr(header)
    h = h + " " * ((64 - (len(h) + 11) % 64) % 64) + "\n"
    hb = h.encode("latin-1")
    if version == (1, 0):
        pre = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hb))
    else:
        pre = b"\x93NUMPY" + bytes(version) + struct.pack("<I", len(hb))
    return pre + hb + data


def npz_of(members: dict[str, bytes], compress: bool = False) -> bytes:
    """A zip archive of raw members (names used as given)."""
    buf = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", mode) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def npz_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


# -- JSON ------------------------------------------------------------------------------------

def json_layers(layers: Sequence[tuple[Any, Any, str]], dtype: str = "float64") -> bytes:
    doc = {"dtype": dtype, "layers": [{"W": W, "b": b, "activation": a} for W, b, a in layers]}
    return json.dumps(doc).encode()


def json_book(arrays: dict[str, Any]) -> bytes:
    return json.dumps(arrays).encode()
