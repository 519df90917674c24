"""Exact replay: a law's example as JSON, and back, so one failing case can be rerun as it was.

``encode_case`` writes every array with its dtype and every value exactly (floats in their
shortest round-trip form, so a float32 value reads back to the same float32), and a random
network with its weights; the configured network is written as ``"given"`` (the command that
replays names it with ``--weights``/``--activations``). ``decode_case`` rebuilds the example,
checking what it reads like any other user input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nnverify.errors import UsageError
from nnverify.model import FLOAT_DTYPES, Network

__all__ = ["encode_case", "decode_case", "read_case"]

_MAX_DEPTH = 8


def encode_case(example: Any, given: Network) -> Any:
    """``example`` as JSON-able data (``given``: the configured network, written by name only)."""
    if isinstance(example, Network):
        if example is given:
            return {"$network": "given"}
        return {"$network": {"name": example.name, "dtype": str(example.dtype),
                             "activations": [a.value for a in example.activations],
                             "weights": {k: v.astype(np.float64).tolist() for k, v in example.to_book_dict().items()}}}
    if isinstance(example, np.ndarray):
        return {"$array": example.astype(np.float64).tolist() if example.dtype.kind == "f" else example.tolist(),
                "dtype": str(example.dtype)}
    if isinstance(example, (list, tuple)):
        return [encode_case(v, given) for v in example]
    if isinstance(example, np.generic):
        return example.item()
    return example


def _array(doc: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(str(doc.get("dtype")))
    if dtype not in FLOAT_DTYPES:
        raise UsageError(f"--replay: an array has dtype {doc.get('dtype')!r}; expected float32 or float64")
    values = np.array(doc["$array"], dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise UsageError("--replay: an array holds a value that is not finite")
    out = values.astype(dtype)
    if not np.array_equal(out.astype(np.float64), values):
        raise UsageError(f"--replay: a value is not exactly a {dtype} number (was the case edited?)")
    return out


def _network(doc: Any, given: Network) -> Network:
    if doc == "given":
        return given
    if not isinstance(doc, Mapping) or not isinstance(doc.get("weights"), Mapping):
        raise UsageError("--replay: a network must be \"given\" or {\"weights\": ..., \"activations\": ...}")
    net = Network.from_book_dict(doc["weights"], activations=doc.get("activations"),
                                 name=str(doc.get("name", "replayed network")))
    return net.astype(str(doc.get("dtype", net.dtype)))


def decode_case(doc: Any, given: Network, depth: int = 0) -> Any:
    """The example ``doc`` encodes (:class:`UsageError` naming what is wrong)."""
    if depth > _MAX_DEPTH:
        raise UsageError("--replay: the case nests too deeply")
    if isinstance(doc, Mapping):
        if "$network" in doc:
            return _network(doc["$network"], given)
        if "$array" in doc:
            return _array(doc)
        raise UsageError(f"--replay: unexpected object with keys {sorted(doc)[:5]}")
    if isinstance(doc, list):
        return [decode_case(v, given, depth + 1) for v in doc]
    if isinstance(doc, (int, float, bool)) or doc is None:
        return doc
    raise UsageError(f"--replay: unexpected value {doc!r:.40}")


def read_case(text: str, name: str | None = None) -> Any:
    """The JSON case of ``--replay TEXT`` or ``--replay @FILE``.

    Args:
        text: a case, a counterexample holding one, or a whole ``--json`` document (``@FILE``).
        name: the property whose counterexample to take from a whole document.
    """
    source = "--replay"
    if text.startswith("@"):
        path = text[1:]
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--replay @{path}: cannot be read ({exc.strerror}); give a JSON file") from None
        source = f"--replay @{path}"
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{source}: is not JSON ({str(exc)[:80]}); give the counterexample's \"case\"") from None
    if isinstance(doc, Mapping) and isinstance(doc.get("properties"), list):  # a whole --json run
        found = [p for p in doc["properties"] if isinstance(p, Mapping) and p.get("name") == name
                 and isinstance(p.get("counterexample"), Mapping)]
        if not found:
            raise UsageError(f"{source}: holds no counterexample of {name!r}")
        doc = found[0]["counterexample"]
    if isinstance(doc, Mapping) and "case" in doc:
        doc = doc["case"]  # a whole counterexample pasted: take its case
    if doc is None:
        raise UsageError(f"{source}: holds no case")
    return doc
