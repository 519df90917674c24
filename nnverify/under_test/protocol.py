"""The messages between nnverify and the worker process that runs the user's code.

A message is one frame: an 8-byte big-endian length, then a 4-byte length of a UTF-8 JSON
header, the header, and the raw bytes of every array the header names. An array stands in
the header as ``{"$a": i, "dtype": "<f8", "shape": [2, 3]}``; its bytes follow in order.

No pickle, in either direction: the worker runs the user's code, so whatever it sends is
data to check, never code to run. :func:`decode` accepts only the dtypes listed in
``ARRAY_DTYPES`` and sizes that add up, and refuses frames above a stated limit, so a
hostile or broken worker yields a :class:`ProtocolError`, never a crash of nnverify.
"""

from __future__ import annotations

import json
import math
import os
import select
import time
from typing import Any

import numpy as np

__all__ = ["ProtocolError", "PipeClosed", "encode", "decode", "send", "recv", "recv_blocking", "clean_text", "forget",
           "MAX_FRAME", "ARRAY_DTYPES"]

#: Largest frame either side accepts (bytes).
MAX_FRAME = 1 << 30
_MAX_HEADER = 16 << 20

#: dtypes an array may have on the wire (a result of another dtype is reported, not sent).
ARRAY_DTYPES = frozenset(
    np.dtype(t).str for t in (np.float16, np.float32, np.float64, np.longdouble, np.int8, np.int16, np.int32,
                              np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_)
)


class ProtocolError(Exception):
    """A frame that is not a well-formed message."""


class PipeClosed(Exception):
    """The other side closed its end of the pipe (or the deadline passed, with ``timed_out``)."""

    def __init__(self, timed_out: bool = False) -> None:
        super().__init__("timed out" if timed_out else "pipe closed")
        self.timed_out = timed_out


def clean_text(value: Any, limit: int = 400) -> str:
    """``value`` as one printable line of at most ``limit`` characters (text from the worker)."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def encode(doc: Any) -> bytes:
    """One frame holding ``doc`` (JSON-able values and NumPy arrays)."""
    blobs: list[bytes] = []

    def walk(v: Any) -> Any:
        t = type(v)
        if t is str or t is int or t is float or t is bool or v is None:
            return v
        if isinstance(v, np.ndarray):
            arr = np.ascontiguousarray(v)
            blobs.append(arr.tobytes())
            return {"$a": len(blobs) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}
        if isinstance(v, dict):
            return {str(k): walk(u) for k, u in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(u) for u in v]
        return v

    header = json.dumps(walk(doc), allow_nan=True).encode()
    body = len(header).to_bytes(4, "big") + header + b"".join(blobs)
    return len(body).to_bytes(8, "big") + body


def decode(body: bytes) -> Any:
    """The message of a frame's body (without its 8-byte length); :class:`ProtocolError` if malformed."""
    if len(body) < 4:
        raise ProtocolError("frame shorter than its header length")
    n = int.from_bytes(body[:4], "big")
    if n > min(_MAX_HEADER, len(body) - 4):
        raise ProtocolError(f"header length {n} does not fit the frame")
    try:
        header = json.loads(body[4 : 4 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"header is not JSON ({type(exc).__name__})") from None
    offset = 4 + n
    arrays: list[tuple[int, np.ndarray]] = []

    def walk(v: Any, depth: int = 0) -> Any:
        t = type(v)
        if t is str or t is int or t is float or t is bool or v is None:
            return v
        if depth > 32:
            raise ProtocolError("message nests too deeply")
        if isinstance(v, dict):
            if "$a" in v:
                return make_array(v)
            return {k: walk(u, depth + 1) for k, u in v.items()}
        if isinstance(v, list):
            return [walk(u, depth + 1) for u in v]
        return v

    def make_array(spec: dict[str, Any]) -> np.ndarray:
        nonlocal offset
        dt, shape, index = spec.get("dtype"), spec.get("shape"), spec.get("$a")
        if not isinstance(dt, str) or dt not in ARRAY_DTYPES:
            raise ProtocolError(f"array dtype {clean_text(dt, 40)} is not allowed")
        if not (isinstance(shape, list) and len(shape) <= 32
                and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40 for s in shape)):
            raise ProtocolError("array shape is not a list of sizes")
        if index != len(arrays):
            raise ProtocolError("arrays out of order")
        dtype = np.dtype(dt)
        size = math.prod(shape) * dtype.itemsize
        if offset + size > len(body):
            raise ProtocolError("array bytes run past the end of the frame")
        arr: np.ndarray = np.frombuffer(body, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy()
        offset += size
        arrays.append((index, arr))
        return arr

    doc = walk(header)
    if offset != len(body):
        raise ProtocolError("bytes left over after the last array")
    return doc


def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PipeClosed(timed_out=True)
            _, ready, _ = select.select([], [fd], [], left)
            if not ready:
                raise PipeClosed(timed_out=True)
        try:
            n = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            continue
        except (BrokenPipeError, OSError):
            raise PipeClosed() from None
        view = view[n:]


#: Bytes read past the end of the last message, per file descriptor (one read often holds a
#: whole message: one system call instead of two).
_pending: dict[int, bytearray] = {}


def forget(fd: int) -> None:
    """Drop what was read ahead on ``fd`` (it is being closed)."""
    _pending.pop(fd, None)


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    buf = _pending.setdefault(fd, bytearray())
    if len(buf) >= n:
        out = bytes(buf[:n])
        del buf[:n]
        return out
    chunks: list[bytes] = [bytes(buf)]
    n -= len(buf)
    buf.clear()
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PipeClosed(timed_out=True)
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise PipeClosed(timed_out=True)
        try:
            chunk = os.read(fd, max(n, 1 << 16))
        except BlockingIOError:
            continue
        except OSError:
            raise PipeClosed() from None
        if not chunk:
            raise PipeClosed()
        if len(chunk) > n:  # the start of the next message: keep it
            buf += chunk[n:]
            chunk = chunk[:n]
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send(fd: int, doc: Any, deadline: float | None = None) -> None:
    """Write one message to ``fd`` by ``deadline`` (``time.monotonic()`` seconds, None: wait)."""
    _write_all(fd, encode(doc), deadline)


def recv(fd: int, deadline: float | None = None, max_frame: int = MAX_FRAME) -> Any:
    """Read one message from ``fd`` by ``deadline``; :class:`PipeClosed` or :class:`ProtocolError`."""
    n = int.from_bytes(_read_exact(fd, 8, deadline), "big")
    if n > max_frame:
        raise ProtocolError(f"frame of {n} bytes is larger than the limit of {max_frame}")
    return decode(_read_exact(fd, n, deadline))


def recv_blocking(fd: int) -> Any:
    """The worker's side: wait as long as it takes for the next request."""
    return recv(fd, None)
