"""Exact numbers: lossless conversions between floats, literal text and rationals, and the exact
weights of a network in each mode.

Exact means exact: a stored float becomes the rational it *is* (``Fraction(float)``), never
``Fraction(str(w))``; literal text ("0.1", "1/3") becomes the rational it *says*. Rounding a
rational to float32 is done directly (correctly rounded, ties to even), not through float64,
which could round twice.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, cast

import numpy as np

from nnverify.errors import UsageError
from nnverify.model import Network
from nnverify.modes import Mode

__all__ = [
    "parse_literal",
    "literal_to_float",
    "round_to_dtype",
    "to_fraction",
    "check_exact_mode",
    "weight_rationals",
    "MAX_LITERAL_CHARS",
]

#: Longest literal accepted; longer text is refused before any big-integer arithmetic.
MAX_LITERAL_CHARS = 400
#: Largest decimal exponent accepted in a literal (10**9999 is still instant as a Python int).
MAX_LITERAL_EXPONENT = 9999

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?")
_RATIONAL = re.compile(r"([+-]?\d+)/(\d+)")


def parse_literal(text: str) -> Fraction:
    """The exact rational a decimal (``"0.1"``, ``"-2.5e-3"``) or rational (``"1/3"``) literal says.

    Raises ValueError with the rule broken (the caller adds path and key).
    """
    s = text.strip()
    if len(s) > MAX_LITERAL_CHARS:
        raise ValueError(
            f"number literal of {len(s)} characters is longer than {MAX_LITERAL_CHARS}"
        )
    m = _DECIMAL.fullmatch(s)
    if m:
        if m.group(1) is not None and abs(int(m.group(1))) > MAX_LITERAL_EXPONENT:
            raise ValueError(
                f"exponent in {s!r} is beyond +-{MAX_LITERAL_EXPONENT}; no float is that large or small"
            )
        return Fraction(s)
    m = _RATIONAL.fullmatch(s)
    if m:
        if int(m.group(2)) == 0:
            raise ValueError(f"{s!r} divides by zero")
        return Fraction(int(m.group(1)), int(m.group(2)))
    shown = s if len(s) <= 40 else s[:37] + "..."
    raise ValueError(
        f"{shown!r} is not a number; expected a decimal like \"0.1\" or \"-2.5e-3\" "
        "or a rational like \"1/3\""
    )


def to_fraction(value: float | np.floating) -> Fraction:
    """The exact rational value of a stored float (any float dtype)."""
    return Fraction(float(value))  # float32 -> float64 is exact


def round_to_dtype(q: Fraction, dtype: object) -> np.floating[Any]:
    """Round the rational ``q`` to the nearest ``dtype`` float, ties to even (IEEE default).

    Returns an infinity when ``q`` is beyond the dtype's range (the caller rejects it).
    """
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    try:
        f64 = float(q)  # CPython's int/int division is correctly rounded
    except OverflowError:
        f64 = float("inf") if q > 0 else float("-inf")
    if dt == np.float64:
        return cast(np.floating[Any], np.float64(f64))
    with np.errstate(over="ignore"):
        guess = dt.type(f64)
    if not np.isfinite(guess):
        # Above the largest finite value: that value still wins if q is within half an ulp.
        big = np.finfo(dt).max
        # the ulp of the top binade (spacing(big) itself is infinite: the next value is inf)
        half_ulp = Fraction(float(np.spacing(np.nextafter(big, dt.type(0))))) / 2
        if abs(q) < Fraction(float(big)) + half_ulp:
            return cast(np.floating[Any], -big if q < 0 else big)
        return cast(np.floating[Any], guess)
    best, best_err = guess, abs(to_fraction(guess) - q)
    with np.errstate(over="ignore"):  # the neighbour of the largest float is inf: skipped below
        neighbours = (np.nextafter(guess, dt.type(np.inf)), np.nextafter(guess, dt.type(-np.inf)))
    for cand in neighbours:
        if not np.isfinite(cand):
            continue
        err = abs(to_fraction(cand) - q)
        bits = int(np.asarray(cand).view(np.uint32 if dt == np.float32 else np.uint16))
        if err < best_err or (err == best_err and bits % 2 == 0):
            best, best_err = cand, err
    return cast(np.floating[Any], dt.type(best))


def literal_to_float(text: str, dtype: object) -> np.floating[Any]:
    """The literal correctly rounded to ``dtype``; "-0.0" (or a negative underflow) keeps its sign."""
    q = parse_literal(text)
    f = round_to_dtype(q, dtype)
    if f == 0 and text.strip().startswith("-"):
        return cast(np.floating[Any], -f)
    return f


def check_exact_mode(network: Network, mode: Mode | str) -> Mode:
    """``mode`` as a :class:`Mode` that gives ``network`` numbers: BINARY, or DECIMAL with literal text."""
    mode = Mode.parse(mode)
    if mode is Mode.SYMBOLIC:
        raise UsageError(
            "mode symbolic has symbols for the weights and cannot be evaluated; use binary or decimal"
        )
    if mode is Mode.DECIMAL and not network.has_text:
        raise UsageError(
            f"mode decimal needs the literal text of every weight, but {network.name} has none "
            "(it was read from a binary file such as NPZ or pickle); use --mode binary, or a JSON "
            "weights file"
        )
    return mode


def weight_rationals(network: Network, mode: Mode) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    """Per layer ``(W, b)`` as exact rationals: the stored floats (BINARY) or their literal text (DECIMAL)."""
    mode = check_exact_mode(network, mode)
    out = []
    for layer in network.layers:
        if mode is Mode.DECIMAL and layer.W_text is not None and layer.b_text is not None:
            W = [[parse_literal(t) for t in row] for row in layer.W_text]
            b = [parse_literal(t) for t in layer.b_text]
        else:
            W = [[Fraction(v) for v in row] for row in layer.W.astype(np.float64).tolist()]
            b = [Fraction(v) for v in layer.b.astype(np.float64).tolist()]
        out.append((W, b))
    return out
