"""JSON weights: the layered layout and the book's dict layout, keeping every literal's text.

Layered::

    {"dtype": "float64",
     "layers": [{"W": [[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], "b": [0.1, 0.2, 0.3],
                 "activation": "sigmoid"}, ...]}

Book dict: ``{"W1": [[...]], "b1": [...], "W2": ...}`` with activations from the caller.
Either layout may say which interval its inputs lie in: ``"domain": [0, 1]``.
Numbers may be JSON numbers or strings holding decimal or rational literals ("0.1", "1/3").
Each stored value is the literal correctly rounded to the dtype; the literal itself is kept.
Arrays of plain JSON numbers take the fast path (:mod:`.json_fast`: bulk parsing, the text kept
as offsets into the file); everything else is converted literal by literal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from nnverify.errors import WeightsFileError, one_line
from nnverify.limits import MAX_LAYERS, MAX_NAME_SHOWN, Limits
from nnverify.model import FLOAT_DTYPES, Activation, Network
from nnverify.rationals import literal_to_float
from nnverify.weights._book import layer_count, network_from_arrays, resolve_activations
from nnverify.weights.json_fast import Block, RaggedRows, fast_array, restore_rows, scan

FMT = "JSON"
_MAX_DEPTH = 64
#: Only brackets move the depth: found by a scan, not a Python loop over every character.
_BRACKET = re.compile(r"[\[\]{}]")


class _Number(str):
    """Literal text of a JSON number, kept verbatim by the parser."""


class _NonFinite(str):
    """NaN / Infinity / -Infinity written as a bare JSON constant (rejected where it stands)."""


def _keep_constant(name: str) -> _NonFinite:
    return _NonFinite(name)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice in one object; keep one")
        out[k] = v
    return out


def parse_json_text(raw: bytes, path: str, what: str = "weights") -> Any:
    """Decode UTF-8 JSON keeping number literals as text; one-line errors with the path."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WeightsFileError(
            path, f"is not UTF-8 text (byte {exc.start}); save the JSON as UTF-8", fmt=FMT
        ) from None
    depth = cur = 0
    for m in _BRACKET.finditer(text):  # cheap guard: the stdlib parser recurses once per level
        ch = m.group()
        if ch in "[{":
            cur += 1
            depth = max(depth, cur)
            if depth > _MAX_DEPTH:
                raise WeightsFileError(
                    path, f"nests deeper than {_MAX_DEPTH} levels; {what} need 3 at most", fmt=FMT
                )
        elif ch in "]}":
            cur -= 1
    try:
        return json.loads(
            text,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_keep_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise WeightsFileError(
            path, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", fmt=FMT
        ) from None
    except (ValueError, RecursionError) as exc:
        raise WeightsFileError(path, str(exc), fmt=FMT) from None


def _shape_of(value: Any, key: str, path: str) -> tuple[int, ...]:
    """Shape of a nested list of numbers (rectangular), without converting anything."""
    if isinstance(value, list):
        if not value:
            return (0,)
        inner = [_shape_of(v, key, path) for v in value]
        if any(s != inner[0] for s in inner):
            raise WeightsFileError(
                path, f"rows have different lengths; {key} must be rectangular", fmt=FMT, key=key
            )
        return (len(value),) + inner[0]
    return ()


def _slow_value(value: Any) -> Any:
    """``value`` with every scanned :class:`Block` parsed back into literals (for the per-literal path)."""
    if isinstance(value, Block):
        return json.loads(value.text, parse_float=_Number, parse_int=_Number)
    if isinstance(value, list):
        return [_slow_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _slow_value(v) for k, v in value.items()}
    return value


def _fast(value: Any, key: str, path: str, dtype: np.dtype[Any]) -> tuple[np.ndarray, Any] | None:
    """The fast path for a scanned vector or matrix, or None."""
    if not isinstance(value, Block):
        return None
    try:
        result = fast_array(value, dtype)
    except RaggedRows:
        raise WeightsFileError(
            path, f"rows have different lengths; {key} must be rectangular", fmt=FMT, key=key
        ) from None
    if result is None:
        return None
    arr, text = result
    bad = np.flatnonzero(~np.isfinite(arr.reshape(-1)))
    if bad.size:
        i = int(bad[0])
        index = [i // arr.shape[1], i % arr.shape[1]] if value.matrix else [i]
        raise WeightsFileError(
            path, f"{key}{index} is {text.text(i)}, which overflows {dtype}; every weight must be finite",
            fmt=FMT, key=key,
        )
    return arr, text


def _to_array(
    value: Any, key: str, path: str, dtype: np.dtype
) -> tuple[np.ndarray, Any]:
    """Convert nested lists of literals to an array of ``dtype`` and the same-shaped literal text."""
    fast = _fast(value, key, path, dtype)
    if fast is not None:
        return fast
    value = _slow_value(value)
    shape = _shape_of(value, key, path)

    def convert(v: Any, index: list[int]) -> tuple[float, str]:
        if isinstance(v, bool) or v is None or isinstance(v, dict):
            raise WeightsFileError(
                path,
                f"{key}{index} is {json.dumps(v)}; expected a number or a numeric string",
                fmt=FMT,
                key=key,
            )
        text = str(v)
        if isinstance(v, _NonFinite) or text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise WeightsFileError(
                path, f"{key}{index} is {text}; every weight and bias must be finite", fmt=FMT, key=key
            )
        try:
            f = literal_to_float(text, dtype)
        except ValueError as exc:
            raise WeightsFileError(path, f"{key}{index}: {exc}", fmt=FMT, key=key) from None
        if not np.isfinite(f):
            raise WeightsFileError(
                path,
                f"{key}{index} is {text}, which overflows {dtype}; every weight must be finite",
                fmt=FMT,
                key=key,
            )
        return float(f), text.strip()

    if len(shape) == 0:
        f, t = convert(value, [])
        return np.asarray(f, dtype=dtype), t
    if len(shape) == 1:
        pairs = [convert(v, [i]) for i, v in enumerate(value)]
        return np.array([p[0] for p in pairs], dtype=dtype).reshape(shape), tuple(p[1] for p in pairs)
    if len(shape) == 2:
        rows = [[convert(v, [i, j]) for j, v in enumerate(row)] for i, row in enumerate(value)]
        arr = np.array([[p[0] for p in r] for r in rows], dtype=dtype).reshape(shape)
        return arr, tuple(tuple(p[1] for p in r) for r in rows)
    raise WeightsFileError(
        path, f"is {len(shape)}-D with shape {shape}; expected a 1-D or 2-D list", fmt=FMT, key=key
    )


def _dtype_of(doc: dict[str, Any], path: str) -> np.dtype[Any]:
    name = doc.get("dtype", "float64")
    try:
        dt = np.dtype(str(name)) if isinstance(name, str) else None
    except Exception:  # np.dtype raises several kinds for arbitrary text
        dt = None
    if dt is None or dt not in FLOAT_DTYPES:
        raise WeightsFileError(
            path, f"dtype {name!r} is not supported; expected \"float32\" or \"float64\"", fmt=FMT,
            key="dtype",
        )
    return dt


def _count(value: Any) -> int:
    if isinstance(value, Block):
        return value.count
    if isinstance(value, list):
        return sum(_count(v) for v in value)
    return 1


_META = frozenset({"dtype", "name", "activations", "format", "domain"})


def _document(raw: bytes, path: str, limits: Limits) -> dict[str, Any]:
    """The top-level object, arrays of plain numbers as :class:`Block` s and metadata as plain JSON."""
    skeleton, blocks = scan(raw, path, limits)
    try:
        doc = parse_json_text(skeleton, path)
    except WeightsFileError:
        parse_json_text(raw, path)  # the error as it stands in the file itself (line, column)
        raise
    doc = restore_rows(doc, blocks)
    if not isinstance(doc, dict):
        raise WeightsFileError(
            path,
            f"top level is a JSON {type(doc).__name__}; expected an object with \"layers\" or "
            "the book's keys W1, b1, ...",
            fmt=FMT,
        )
    for k in _META & set(doc):  # only weights take the fast path: metadata is plain JSON again
        doc[k] = _slow_value(doc[k])
    return doc


def _check_depth(n_layers: int, path: str) -> None:
    if n_layers > MAX_LAYERS:
        raise WeightsFileError(path, f"has {n_layers:,} layers; a network has at most {MAX_LAYERS:,}", fmt=FMT)


def _layered_arrays(doc: dict[str, Any], path: str) -> tuple[dict[str, Any], list[str] | None]:
    """``W1, b1, ...`` from the layered layout, and the activations it names (None if none)."""
    extra = sorted(set(doc) - _META - {"layers"})
    if extra:
        raise WeightsFileError(path, f"unexpected key {extra[0]!r} next to \"layers\"", fmt=FMT, key=extra[0])
    layers = doc["layers"]
    if not isinstance(layers, list) or not layers:
        raise WeightsFileError(
            path, "\"layers\" must be a non-empty list of {W, b, activation}", fmt=FMT, key="layers"
        )
    _check_depth(len(layers), path)
    arrays: dict[str, Any] = {}
    stored: list[str] = []
    for l, spec in enumerate(layers, start=1):
        where = f"layers[{l - 1}]"
        if not isinstance(spec, dict) or not {"W", "b"} <= set(spec):
            raise WeightsFileError(path, f"{where} must be an object with \"W\" and \"b\"", fmt=FMT, key=where)
        unknown = sorted(set(spec) - {"W", "b", "activation"})
        if unknown:
            raise WeightsFileError(
                path, f"{where} has unexpected key {unknown[0]!r}; expected W, b, activation", fmt=FMT, key=where
            )
        arrays[f"W{l}"], arrays[f"b{l}"] = spec["W"], spec["b"]
        stored.append(str(_slow_value(spec.get("activation", ""))))
    if all(not s for s in stored):
        return arrays, None
    return arrays, stored


def _book_arrays(doc: dict[str, Any], path: str) -> tuple[dict[str, Any], Any]:
    """``W1, b1, ...`` from the book's layout, and its ``activations`` (None if absent)."""
    _check_depth(layer_count(list(doc), path, FMT, extra=tuple(_META)), path)
    return {k: v for k, v in doc.items() if k not in _META}, doc.get("activations")


def _converted(
    arrays: dict[str, Any], n_layers: int, path: str, dtype: np.dtype[Any]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Every array in ``dtype`` and its literal text (None where a 0-D array has no rows to keep)."""
    numeric: dict[str, np.ndarray] = {}
    texts: dict[str, Any] = {}
    for key, value in arrays.items():
        numeric[key], texts[key] = _to_array(value, key, path, dtype)
    for l in range(1, n_layers + 1):
        if numeric[f"W{l}"].ndim != 2:
            texts[f"W{l}"] = None
        if numeric[f"b{l}"].ndim != 1:
            texts[f"b{l}"] = None
    return numeric, texts


def _name_of(doc: dict[str, Any], path: str) -> str | None:
    """The file's ``"name"``, cut to :data:`MAX_NAME_SHOWN` characters (it heads every printout)."""
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise WeightsFileError(path, f"\"name\" is a JSON {type(name).__name__}; expected text", fmt=FMT, key="name")
    if name and len(name) > MAX_NAME_SHOWN:  # printed in every header: cut, say how long
        name = f"{name[:MAX_NAME_SHOWN]}... ({len(name):,} characters)"
    return one_line(name) if name else None  # shown on terminals: no escape sequences from a file


def read_json(
    raw: bytes,
    path: str,
    activations: Sequence[Activation | str] | None,
    limits: Limits,
    name: str,
) -> Network:
    """Read either JSON layout from ``raw`` bytes."""
    doc = _document(raw, path, limits)
    dtype = _dtype_of(doc, path)
    arrays, stored_acts = _layered_arrays(doc, path) if "layers" in doc else _book_arrays(doc, path)
    n_layers = len(arrays) // 2
    limits.check_params(sum(_count(v) for v in arrays.values()), path)
    try:
        acts = resolve_activations(n_layers, activations, stored_acts, path, FMT)
    except WeightsFileError:
        raise
    except Exception as exc:  # an unknown activation name in the file
        raise WeightsFileError(path, str(exc), fmt=FMT, key="activation") from None
    numeric, texts = _converted(arrays, n_layers, path, dtype)
    return network_from_arrays(numeric, acts, path, FMT, _name_of(doc, path) or name, texts,
                               domain=_domain_of(doc, path),
                               defaulted=activations is None and stored_acts is None)


def _domain_of(doc: dict[str, Any], path: str) -> tuple[float, float] | None:
    """``"domain": [low, high]`` as two floats (the model checks low < high), or None."""
    if "domain" not in doc:
        return None
    value = doc["domain"]
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, _Number) for v in value)):
        raise WeightsFileError(
            path, f"\"domain\" is {json.dumps(value)}; expected two numbers [low, high], e.g. [0, 1]",
            fmt=FMT, key="domain",
        )
    try:
        return (float(value[0]), float(value[1]))
    except (ValueError, OverflowError):
        raise WeightsFileError(path, f"\"domain\" {value} holds a number that is not finite",
                               fmt=FMT, key="domain") from None


def _literal(text: str | None, value: np.floating) -> Any:
    if text is not None:
        return text
    return float(value) if value.dtype == np.float64 else str(value)


def network_to_json(network: Network, *, style: str = "layers") -> str:
    """Serialise ``network`` as JSON text.

    Values are written as their literal text when the network has it, otherwise as the
    shortest text that reads back to the same float (so the round trip is exact).
    """
    def rows(arr: np.ndarray, text: Any) -> Any:
        if arr.ndim == 1:
            return [_literal(text[i] if text else None, arr[i]) for i in range(arr.shape[0])]
        return [rows(arr[i], text[i] if text else None) for i in range(arr.shape[0])]

    acts = [a.value for a in network.activations]
    doc: dict[str, Any]
    if style == "layers":
        doc = {"dtype": str(network.dtype), "layers": []}
        if network.domain is not None:
            doc["domain"] = list(network.domain)
        for ly in network.layers:
            doc["layers"].append(
                {"W": rows(ly.W, ly.W_text), "b": rows(ly.b, ly.b_text), "activation": ly.activation.value}
            )
    elif style == "book":
        doc = {"dtype": str(network.dtype), "activations": acts}
        if network.domain is not None:
            doc["domain"] = list(network.domain)
        for l, ly in enumerate(network.layers, start=1):
            doc[f"W{l}"] = rows(ly.W, ly.W_text)
            doc[f"b{l}"] = rows(ly.b, ly.b_text)
    else:
        raise ValueError(f"unknown JSON style {style!r}; expected 'layers' or 'book'")
    return _dump(doc)


def _dump(doc: Any) -> str:
    """Compact rows, one matrix row per line: readable and diff-friendly."""
    text = json.dumps(doc, indent=1)
    return text + "\n"
