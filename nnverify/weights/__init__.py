"""Reading and writing weights files, choosing the format by content.

Formats: JSON (layered or the book's dict), NPZ (``allow_pickle=False``) and the book's own
pickle (restricted: only NumPy arrays). Built-in names: ``book`` and ``book-mnist``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnverify.errors import UsageError, WeightsFileError, one_line
from nnverify.files import read_user_file
from nnverify.limits import DEFAULT_LIMITS, Limits
from nnverify.model import Activation, Network
from nnverify.weights.builtin import (
    BOOK_X,
    BOOK_X_TEXT,
    BUILTIN_NAMES,
    book_mnist_bytes,
    book_network,
)
from nnverify.weights.json_format import network_to_json, read_json
from nnverify.weights.npz_format import npz_bytes, read_npz
from nnverify.weights.pickle_format import read_pickle

__all__ = [
    "load_network",
    "read_network_bytes",
    "save_network",
    "network_bytes",
    "detect_format",
    "book_network",
    "BOOK_X",
    "BOOK_X_TEXT",
    "BUILTIN_NAMES",
    "WRITE_FORMATS",
]

#: Formats :func:`save_network` writes (pickle is read, never written).
WRITE_FORMATS = ("json", "json-book", "npz")


def detect_format(raw: bytes) -> str | None:
    """``"npz"``, ``"pickle"`` or ``"json"`` from the first bytes, or None."""
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"PK\x05\x06"):
        return "npz"
    if raw[:1] == b"\x80" and len(raw) > 1 and 2 <= raw[1] <= 5:
        return "pickle"
    # protocols 0 and 1 (Python 2's default) have no PROTO opcode: MARK or an empty dict/list
    # first, STOP last; JSON never starts with these
    if raw[:1] in (b"(", b"}", b"]") and raw.rstrip(b"\r\n").endswith(b"."):
        return "pickle"
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return "json"
    return None


_READERS = {"json": read_json, "npz": read_npz, "pickle": read_pickle}


def read_network_bytes(
    raw: bytes,
    path: str,
    *,
    activations: Sequence[Activation | str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    name: str | None = None,
) -> Network:
    """Parse a weights file's bytes (format chosen by content)."""
    fmt = detect_format(raw)
    if fmt is None:
        ext = Path(path).suffix.lower()
        if raw.startswith(b"\x93NUMPY"):
            why = "it is a single .npy array; weights need W1, b1, ... (save them with np.savez)"
        elif not raw:
            why = "it is empty"
        else:
            why = f"its first bytes are {raw[:8]!r}"
        raise WeightsFileError(
            path,
            f"is not a weights file: tried JSON, NPZ and pickle by content and none fits ({why})"
            + (f"; the extension {ext} was not trusted" if ext else ""),
        )
    # the default name is shown on terminals: no control characters or newlines from a file name
    return _READERS[fmt](raw, path, activations, limits, name or one_line(Path(path).name))


def load_network(
    source: str | os.PathLike[str] | Mapping[str, Any] | Network | None = None,
    *,
    activations: Sequence[Activation | str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Network:
    """Load a network from a path, a built-in name, or the book's dict already in memory.

    Args:
        source: a weights file (JSON, NPZ, the book's pickle), ``"book"`` or
            ``"book-mnist"``; the book's dict ``{"W1": ..., "b1": ..., ...}`` (what ``init_network()``
            returns; see :meth:`Network.from_book_dict`); a :class:`Network`; None means the book's
            §3.4 network.
        activations: one per layer; overrides what the file says. Default for the book's dict
            layout: sigmoid for hidden layers, identity for the output (``book-mnist``:
            sigmoid, sigmoid, softmax as the book runs it).
        limits: refuse files above these sizes before allocating.

    Example:
        >>> load_network().sizes
        (2, 3, 2, 2)
    """
    if isinstance(source, Network):
        return source if activations is None else source.with_activations(activations)
    if isinstance(source, Mapping):
        n_params = sum(int(np.size(v)) for v in source.values())
        limits.check_params(n_params, "the dict given")
        return Network.from_book_dict(source, activations=activations, name="dict")
    if not isinstance(source, (str, os.PathLike)) and source is not None:
        raise UsageError(f"load_network: got a {type(source).__name__}; give a path, \"book\", \"book-mnist\", "
                         "the book's dict of W1, b1, ... or a Network")
    if source is None or str(source) == "book":
        net = book_network()
        return net if activations is None else net.with_activations(activations)
    if str(source) == "book-mnist":
        acts = activations if activations is not None else ("sigmoid", "sigmoid", "softmax")
        return read_network_bytes(
            book_mnist_bytes(), "book-mnist", activations=acts, limits=limits, name="book-mnist"
        )
    path = str(source)
    names = ", ".join(BUILTIN_NAMES)
    raw = read_user_file(path, limits, lambda why: WeightsFileError(path, why), what="a weights file",
                         missing=f"no such file (built-in names are: {names})")
    return read_network_bytes(raw, path, activations=activations, limits=limits)


def network_bytes(network: Network, fmt: str) -> bytes:
    """Serialise ``network`` in one of :data:`WRITE_FORMATS`."""
    if fmt == "json":
        return network_to_json(network, style="layers").encode()
    if fmt == "json-book":
        return network_to_json(network, style="book").encode()
    if fmt == "npz":
        return npz_bytes(network)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(WRITE_FORMATS)}")


def save_network(network: Network, path: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Write ``network`` atomically; the format follows the extension unless given."""
    from nnverify.files import atomic_write_bytes

    if fmt is None:
        fmt = "npz" if str(path).lower().endswith(".npz") else "json"
    atomic_write_bytes(path, network_bytes(network, fmt))
