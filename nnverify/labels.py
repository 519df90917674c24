"""Labels: the class of each input row, 0-based as ``np.argmax`` counts (digit 0 is class 0).

Validation only (no files, no network): :mod:`nnverify.inputs` reads labels from files, the
command line checks them against the network's number of outputs with :func:`check_label_range`,
and :func:`select_rows` picks rows (``--first``, ``--indices``, ``--per-class``) of any batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnverify.errors import InputsError, UsageError
from nnverify.rationals import parse_literal

__all__ = ["check_labels", "check_label_range", "label_literal", "select_rows"]


def label_literal(text: str, row: int, source: str) -> int:
    """The whole number a label's text says (``"7"``, ``"7.0"``), or a one-line error naming its row."""
    try:
        q = parse_literal(text)
    except ValueError:
        q = None
    if q is None or q.denominator != 1:
        raise InputsError(f"{source}: label {text!r} (row {row}) is not a whole number; labels are "
                          "class numbers 0, 1, 2, ...")
    if abs(q.numerator) > 2**62:
        raise InputsError(f"{source}: label {text} (row {row}) is far outside any class range")
    return int(q.numerator)


def check_labels(labels: Any, n_rows: int, source: str) -> np.ndarray:
    """``labels`` as a read-only int64 ``(n_rows,)`` array of class numbers >= 0, or a one-line error.

    Args:
        labels: integers (or floats with integral values), one per input row.
        n_rows: the number of input rows they label.
        source: where they came from (for messages).
    """
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iuf":
        raise InputsError(f"{source}: labels have dtype {arr.dtype}; expected whole numbers (class 0, 1, ...)")
    if arr.ndim != 1:
        raise InputsError(f"{source}: labels have shape {arr.shape}; expected one label per input, shape ({n_rows},)")
    if arr.shape[0] != n_rows:
        raise InputsError(f"{source}: holds {arr.shape[0]} labels for {n_rows} inputs; give one label per input row")
    if arr.dtype.kind == "f":
        bad = ~(np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2.0**62))
        if bad.any():
            i = int(np.argmax(bad))
            raise InputsError(f"{source}: label {float(arr[i])!r} (row {i}) is not a whole number; labels "
                              "are class numbers 0, 1, 2, ...")
    elif arr.dtype == np.uint64 and arr.size and int(arr.max()) >= 2**63:
        i = int(np.argmax(arr))
        raise InputsError(f"{source}: label {int(arr[i])} (row {i}) is far outside any class range")
    out = arr.astype(np.int64)
    if out.size and int(out.min()) < 0:
        i = int(np.argmin(out))
        raise InputsError(f"{source}: label {int(out[i])} (row {i}) is negative; classes are numbered from 0")
    out.setflags(write=False)
    return out


def check_label_range(labels: np.ndarray, n_classes: int, source: str) -> None:
    """Raise a one-line error unless every label is a class ``0 .. n_classes - 1`` of the network."""
    if labels.size and int(labels.max()) >= n_classes:
        i = int(np.argmax(labels))
        raise InputsError(
            f"{source}: label {int(labels[i])} (row {i}) is outside the network's {n_classes} "
            f"classes 0..{n_classes - 1}; labels are 0-based like np.argmax (class 0 is output y_1)"
        )


def select_rows(
    n_rows: int,
    labels: np.ndarray | None,
    *,
    first: int | None = None,
    indices: Sequence[int] | None = None,
    per_class: int | None = None,
    source: str = "inputs",
) -> np.ndarray | None:
    """The 0-based rows a selection picks, in order, or None when none is asked for.

    Args:
        n_rows: rows in the source.
        labels: the source's labels (``per_class`` needs them), or None.
        first: the first N rows.
        indices: these rows (0-based positions in the source), in this order, each once.
        per_class: the first K rows of each class that appears in the labels, in source order.
        source: the source's name (for messages).
    """
    given = [name for name, v in (("--first", first), ("--indices", indices), ("--per-class", per_class))
             if v is not None]
    if not given:
        return None
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} both select rows; give one of them")
    if first is not None:
        if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or not 1 <= first <= n_rows:
            raise UsageError(f"--first {first!r}: {source} has {n_rows:,} rows; give 1 to {n_rows}")
        return np.arange(int(first), dtype=np.int64)
    if indices is not None:
        idx = [int(i) for i in indices if not isinstance(i, bool) and isinstance(i, (int, np.integer))]
        if not indices or len(idx) != len(indices):
            raise UsageError(f"--indices {indices!r}: give whole numbers, e.g. --indices 0,17,42")
        for i in idx:
            if not 0 <= i < n_rows:
                raise UsageError(f"--indices: {i} is outside {source}'s rows 0..{n_rows - 1} (0-based)")
        seen: set[int] = set()
        for i in idx:
            if i in seen:
                raise UsageError(f"--indices: {i} appears twice; give each row once")
            seen.add(i)
        return np.array(idx, dtype=np.int64)
    assert per_class is not None
    if labels is None:
        raise UsageError(f"--per-class needs labels, and {source} has none; give --labels FILE or use --first")
    if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) or per_class < 1:
        raise UsageError(f"--per-class {per_class!r}: must be a whole number >= 1")
    picked = []
    for c in np.unique(labels).tolist():
        rows = np.flatnonzero(labels == c)
        if rows.shape[0] < per_class:
            raise UsageError(f"--per-class {per_class}: class {c} has only {rows.shape[0]} rows in "
                             f"{source}; give at most --per-class {rows.shape[0]}")
        picked.append(rows[:per_class])
    return np.sort(np.concatenate(picked)).astype(np.int64)
