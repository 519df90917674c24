"""Claims audit: every number nnverify reads is exactly the float (binary mode) or the rational
(decimal mode) its text or its stored bits say.

The references are independent of the code under test: ``Fraction(text)`` for the rational a
literal says, CPython's ``float(text)`` (correctly rounded) for float64, and for float32 a
round-to-nearest-even written here from the exact rational (:func:`exact_round`), never
``float32(float64(text))``, which rounds twice. Checked: the JSON fast path (bulk NumPy parse
with the float32 midpoint fallback) and the per-literal path on generated documents, the edge
literals (float32 midpoints exactly or within 1e-30 of one, subnormals, the float32 and float64
overflow thresholds, ``-0``, ``1e-400``), decimal versus binary mode, and the inputs (``--x``, CSV
and JSON cells, .npy arrays).

Each test notes a perturbation of the code that makes it fail (its teeth); they were tried in a
scratch copy of the package. What they found is fixed or documented: Python float cells given to
``inputs_from_cells`` became ``Fraction(str(x))``; integer .npy inputs beyond 2**53 were silently
rounded; ``--dtype`` casts the stored floats (as ``astype``), which the docs now say.
"""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnverify.errors import InputsError, WeightsFileError
from nnverify.input_files import load_inputs
from nnverify.inputs import Inputs, input_rationals, inputs_from_cells, parse_x
from nnverify.limits import Limits
from nnverify.model import Activation, Layer, LiteralText, Network
from nnverify.modes import Mode
from nnverify.rationals import literal_to_float, parse_literal, round_to_dtype, weight_rationals
from nnverify.weights.json_fast import _CHUNK
from nnverify.weights.json_format import read_json

F = Fraction
#: (significand bits, smallest normal exponent, largest exponent) per dtype.
FORMATS = {"float32": (24, -126, 127), "float64": (53, -1022, 1023)}
#: The float32 overflow threshold 2**128 - 2**103: from here on a rational rounds to infinity.
F32_THRESHOLD = 2**128 - 2**103
F64_THRESHOLD = 2**1024 - 2**970


# -- the independent reference ---------------------------------------------------------------

def exact_round(q: Fraction, dtype: str) -> float:
    """``q`` rounded to nearest, ties to even, to ``dtype``, as a Python float (or +-inf).

    From the rational alone: the quantum of ``q``'s binade (``2**(e - p + 1)``, at least that of
    the subnormals), the integer quotient and its remainder, ties to the even quotient.
    """
    p, emin, emax = FORMATS[dtype]
    if q == 0:
        return 0.0
    sign, a = (-1 if q < 0 else 1), abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()  # 2**e <= a < 2**(e+1), or one off
    if F(2) ** e > a:
        e -= 1
    quantum = F(2) ** (max(e, emin) - p + 1)
    n = a / quantum
    whole, rest = divmod(n.numerator, n.denominator)
    if 2 * rest > n.denominator or (2 * rest == n.denominator and whole % 2 == 1):
        whole += 1
    value = whole * quantum
    if value >= F(2) ** (emax + 1):
        return sign * math.inf
    return sign * float(value)  # exact: value is a float of the dtype


def expected(text: str, dtype: str) -> float:
    """What a literal must read as: rounded once from its text, ``-0.0`` for a negative zero."""
    w = exact_round(F(text.strip()), dtype)
    return -0.0 if w == 0 and text.strip().startswith("-") else w


def same(got: object, want: float) -> bool:
    """Equal including the sign of zero."""
    g = float(got)  # type: ignore[arg-type]
    return g == want and math.copysign(1, g) == math.copysign(1, want)


def test_the_reference_rounds_like_the_hardware() -> None:
    """The reference agrees with NumPy's float64 -> float32 cast (one rounding of an exact value)
    on random floats of every binade (subnormals, ties), and with CPython's float() on texts.

    Teeth: ``2 * rest >= n.denominator`` (ties away), or ``max(e, emin)`` dropped, fails it.
    """
    rng = np.random.default_rng(1)
    x = np.ldexp(rng.integers(1, 2**30, 3000).astype(np.float64), rng.integers(-185, 100, 3000))
    x = np.concatenate([x, np.ldexp(np.arange(1.0, 64.0), -150), [2.0**-150, 3 * 2.0**-150, 1 + 2.0**-24]])
    with np.errstate(over="ignore"):
        want = x.astype(np.float32).astype(np.float64)
    for v, w in zip(x.tolist(), want.tolist()):
        assert exact_round(F(v), "float32") == w, v
    for text in ("0.1", "1e-320", "2.4703282292062328e-324", "2.4703282292062327e-324", "1.7976931348623158e308"):
        assert exact_round(F(text), "float64") == float(text), text


# -- literals: adversarial text -------------------------------------------------------------

def _decimal_text(q: Fraction, digits: int | None) -> str:
    """``q`` in E notation: exact for a dyadic ``q`` (``digits`` None), else to ``digits`` digits."""
    with localcontext() as ctx:
        ctx.prec = 1000 if digits is None else digits
        d = Decimal(q.numerator) / Decimal(q.denominator)
    return format(d, "e") if digits is not None or len(format(d, "f")) > 60 else format(d, "f")


@st.composite
def midpoint_literal(draw: st.DrawFn, dtype: str = "float32", nudged: bool = False) -> str:
    """A midpoint of two adjacent ``dtype`` floats (normal or subnormal), written exactly or
    nudged by 1e-17 .. 1e-40 relative: the double-rounding trap (float64 lands on the midpoint)."""
    p, emin, emax = FORMATS[dtype]
    e = draw(st.integers(emin - p + 1, emax))
    if e < emin:  # between two subnormals (or 0 and the smallest)
        m = draw(st.integers(0, 2 ** (p - 1) - 1))
        q = F(2 * m + 1) * F(2) ** (emin - p)
    else:
        m = draw(st.integers(2 ** (p - 1), 2**p - 1))
        q = F(2 * m + 1) * F(2) ** (e - p)
    k = draw(st.sampled_from([17, 20, 30, 40]))
    nudge = draw(st.sampled_from([1, -1] if nudged else [0, 0, 1, -1]))
    text = _decimal_text(q, None) if nudge == 0 else _decimal_text(q * (1 + F(nudge, 10**k)), k + 25)
    if len(text) > 398:  # deep float64 midpoints: 350 digits (within 1e-340 of the midpoint)
        text = _decimal_text(q, 350)
    return ("-" if draw(st.booleans()) else "") + text


EDGE_LITERALS = [
    "0", "-0", "0.0", "-0.0", "1e-400", "-1e-400", "1E+5", "1e-0005", "12e0", "16777217", "-16777217", "33554435",
    "1e-45", "1.4e-45", "-1.4e-45", "7e-46", "-7e-46", "7.1e-46",
    "7.006492321624085354618647916449580656401309709382578858785341419448955413429303e-46",  # below 2**-150
    "7.006492321624085354618647916449580656401309709382578858785341419448955413429304e-46",  # above 2**-150
    "1.1754942e-38", "1.1754943508222875e-38", "1.1754942807573643e-38",  # around the smallest normal
    "3.4028235e38", "-3.4028235e38", "3.4028234663852886e38", "3.4028235677973362e38", "3.4028235677973366e38",
    str(F32_THRESHOLD - 1), "-" + str(F32_THRESHOLD - 1), "3.40282356779733661637539395458142568447999e38",
    "5e-324", "2.4703282292062328e-324", "2.4703282292062327e-324", "1.7976931348623157e308",
    "1.0000000596046448", "1.00000005960464477539062500000000000000001", "1.000000059604644775390625",
    "0." + "0" * 390 + "1", "9" * 39, "1" + "0" * 38,
]


def plain_literal(dtype: str) -> st.SearchStrategy[str]:
    """JSON-number literals: midpoints of float32 and of ``dtype``, edges, floats, integers, long
    mantissas with exponents."""
    long_mantissa = st.builds(
        lambda lead, digits, exp, neg: f"{'-' if neg else ''}{lead}.{digits}e{exp}",
        st.integers(1, 9), st.text("0123456789", min_size=1, max_size=300), st.integers(-60, 38), st.booleans())
    return st.one_of(
        midpoint_literal("float32"), midpoint_literal(dtype), st.sampled_from(EDGE_LITERALS),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.floats(width=32, allow_nan=False, allow_infinity=False).map(lambda v: repr(float(v))),
        st.integers(-10**30, 10**30).map(str), long_mantissa,
    )


def finite_in(dtype: str) -> st.SearchStrategy[str]:
    return plain_literal(dtype).filter(lambda t: math.isfinite(expected(t, dtype)))


def any_literal(dtype: str) -> st.SearchStrategy[str]:
    """What a numeric string (and an input cell) may also be: a rational ``p/q``, '+', '.5'."""
    rational = st.builds(lambda p, q: f"{p}/{q}", st.integers(-10**40, 10**40), st.integers(1, 10**40))
    other = st.sampled_from(["+1", "+0.5", ".5", "5.", "007", "-.25e1", "+1e-46", "-0/7"])
    return st.one_of(finite_in(dtype), rational, other).filter(lambda t: math.isfinite(expected(t, dtype)))


JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
DTYPES = st.sampled_from(["float32", "float64"])


@settings(max_examples=400, deadline=None)
@given(data=st.data(), dtype=DTYPES)
def test_literal_to_float_rounds_once_from_the_text(data: st.DataObject, dtype: str) -> None:
    """``literal_to_float`` and ``parse_literal`` against the reference: the rounding and the rational.

    Teeth: ``round_to_dtype`` returning ``guess`` (float32 of float64, twice rounded), or its
    tie-break on odd bits, or ``<=`` for the overflow threshold, fails it.
    """
    text = data.draw(st.one_of(any_literal(dtype), plain_literal(dtype)))
    q = F(text.strip())
    assert parse_literal(text) == q
    want = expected(text, dtype)
    got = literal_to_float(text, dtype)
    assert got.dtype == np.dtype(dtype)
    assert same(got, want) or (math.isinf(want) and got == want), (text, got, want)
    if dtype == "float64" and "/" not in text:
        assert same(got, float(text) if not text.startswith("-") or float(text) else -0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threshold", [F32_THRESHOLD, F64_THRESHOLD])
def test_round_to_dtype_at_the_overflow_threshold(dtype: str, threshold: int) -> None:
    """Just below the threshold is the largest float, the threshold itself (a tie whose even
    neighbour is infinity) and above are infinity, for both signs.

    Teeth: ``abs(q) <= big + half_ulp`` in ``round_to_dtype`` fails it.
    """
    for q in (F(threshold) - F(1, 10**40), F(threshold), F(threshold) + 1):
        for s in (1, -1):
            want = exact_round(s * q, dtype)
            assert same(round_to_dtype(s * q, dtype), want), (dtype, s * q)


# -- JSON weights: the fast path, the per-literal path, the reference -------------------------

def _document(dtype: str, W: list[list[str]], b: list[str], ws: str) -> bytes:
    sep = "," + ws
    rows = sep.join("[" + ws + sep.join(r) + ws + "]" for r in W)
    return (f'{{"dtype": "{dtype}", "layers": [{{"W": [{ws}{rows}{ws}], "b": [{ws}{sep.join(b)}{ws}],'
            f' "activation": "identity"}}]}}').encode()


def texts(layer: Layer) -> tuple[list[list[str]], list[str]]:
    """A layer's literal text (it must have some) as lists."""
    assert layer.W_text is not None and layer.b_text is not None
    return [list(r) for r in layer.W_text], list(layer.b_text)


def _read(raw: bytes) -> Network:
    return read_json(raw, "w.json", None, Limits(), "w.json")


@st.composite
def weight_literals(draw: st.DrawFn, dtype: str) -> tuple[list[list[str]], list[str]]:
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    W = [[draw(finite_in(dtype)) for _ in range(m)] for _ in range(n)]
    W[draw(st.integers(0, n - 1))][0] = draw(midpoint_literal(nudged=True))  # a double-rounding trap in each
    return W, [draw(finite_in(dtype)) for _ in range(m)]


@settings(max_examples=120, deadline=None)
@given(data=st.data(), dtype=DTYPES, ws=st.sampled_from(["", " ", "\n  ", "\t", "\r\n"]))
def test_fast_and_per_literal_paths_equal_the_reference(data: st.DataObject, dtype: str, ws: str) -> None:
    """A document of adversarial literals reads, on the fast path (JSON numbers, and numbers in
    strings) and on the per-literal path (strings with a blank, which the scanner leaves alone),
    as the reference's values bit for bit (sign of zero too), with the literal text kept.

    Teeth: ``_round_float32`` without its fallback (``risky`` empty: float32 of float64), with the
    midpoint taken towards the wrong neighbour, or without the ``isinf(f32)`` re-rounding, fails it.
    """
    W, b = data.draw(weight_literals(dtype))
    want_W = [[expected(t, dtype) for t in row] for row in W]
    want_b = [expected(t, dtype) for t in b]
    for quote, fast in (("{}", True), ('"{}"', True), ('" {}"', False)):
        raw = _document(dtype, [[quote.format(t) for t in r] for r in W], [quote.format(t) for t in b], ws)
        layer = _read(raw).layers[0]
        assert isinstance(layer.W_text, LiteralText) is fast and isinstance(layer.b_text, LiteralText) is fast
        assert layer.W.dtype == np.dtype(dtype) and layer.b.dtype == np.dtype(dtype)
        for i, row in enumerate(want_W):
            for j, w in enumerate(row):
                assert same(layer.W[i, j], w), (quote, W[i][j], layer.W[i, j], w)
        for j, w in enumerate(want_b):
            assert same(layer.b[j], w), (quote, b[j], layer.b[j], w)
        assert texts(layer) == (W, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("quote", ["{}", '"{}"', '" {}"'])
def test_edge_literals_in_every_path(dtype: str, quote: str) -> None:
    """Every edge literal (subnormals, 7e-46, the overflow thresholds, -0, 1e-400) as a weight:
    the reference value, or a one-line error naming the literal when it overflows the dtype.

    Teeth: ``_round_float32`` without the ``isinf(f32) & isfinite(v64)`` re-rounding (the integer
    just below 2**128 - 2**103 lands on it in float64 and would be refused as an overflow), or
    ``literal_to_float`` dropping the sign of a negative zero, fails it.
    """
    for text in EDGE_LITERALS:
        want = expected(text, dtype)
        raw = _document(dtype, [[quote.format(text)]], [quote.format("-0")], "")
        if math.isinf(want):
            with pytest.raises(WeightsFileError, match="overflows " + dtype):
                _read(raw)
            continue
        layer = _read(raw).layers[0]
        assert same(layer.W[0, 0], want), (text, layer.W[0, 0], want)
        assert same(layer.b[0], -0.0)


@pytest.mark.parametrize("quote", ["{}", '"{}"'])
def test_literal_length_and_exponent_limits_hold_on_both_paths(quote: str) -> None:
    """A 400-character literal is read exactly (fast and slow alike); 401 characters and an
    exponent beyond +-9999 are refused, whether the scanner or the per-literal path sees them.

    Teeth: ``_MAX_LITERAL = 401`` in json_fast (the fast path accepts what the slow path
    refuses), or ``_BIG_EXPONENT`` needing six digits, fails it.
    """
    ok = "0." + "0" * 300 + "1" * 98  # 400 characters
    assert len(ok) == 400
    for dtype in ("float32", "float64"):
        layer = _read(_document(dtype, [[quote.format(ok)]], ["0"], " ")).layers[0]
        assert same(layer.W[0, 0], expected(ok, dtype)) and texts(layer)[0] == [[ok]]
    for bad, message in ((ok + "1", "longer than 400"), ("1e10000", "beyond"), ("0e-10000", "beyond"),
                         ("1.5e+0010000", "beyond")):
        with pytest.raises(WeightsFileError, match=message):
            _read(_document("float64", [[quote.format(bad)]], ["0"], " "))


def test_a_row_longer_than_the_scan_chunk_is_exact_across_its_pieces() -> None:
    """A vector and a matrix of about three scan chunks (64 KiB each) of adversarial literals:
    every value and every literal's text, including those across a chunk edge.

    Teeth: ``_literals`` not carrying the bracket depth from one chunk to the next, or
    ``_pieces`` cutting without looking for a comma, fails it.
    """
    import random

    rng = random.Random(7)
    pool = [t for t in EDGE_LITERALS if math.isfinite(expected(t, "float32"))]
    mids = [_decimal_text(F(2 * rng.randrange(2**23, 2**24) + 1, 2**25) * (1 + F(rng.choice([0, 1, -1]), 10**30)), 60)
            for _ in range(40)]
    lits = [rng.choice(pool + mids) for _ in range(3 * _CHUNK // 40)]
    cols = 16
    lits = lits[: len(lits) - len(lits) % cols]
    W = [lits[i:i + cols] for i in range(0, len(lits), cols)]
    raw = _document("float32", W, lits[:cols], "")
    assert len(raw) > 2 * _CHUNK
    layer = _read(raw).layers[0]
    assert isinstance(layer.W_text, LiteralText)
    cache = {t: expected(t, "float32") for t in set(lits)}
    got = layer.W.reshape(-1).tolist()
    assert all(same(g, cache[t]) for g, t in zip(got, lits))
    assert [t for row in texts(layer)[0] for t in row] == lits
    row = ",".join(lits)
    book = _read(f'{{"dtype": "float32", "W1": [[{row}]], "b1": [{row}], "activations": ["identity"]}}'.encode())
    (W_text,), b_text = texts(book.layers[0])
    for arr, text in ((book.layers[0].W[0], W_text), (book.layers[0].b, b_text)):
        assert list(text) == lits
        assert all(same(g, cache[t]) for g, t in zip(arr.tolist(), lits))


# -- decimal mode and binary mode ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decimal_mode_is_the_text_and_binary_mode_the_stored_float(dtype: str) -> None:
    """``weight_rationals``: DECIMAL gives the rational the text says (0.1 is 1/10, "1/3" is 1/3,
    a 99-digit mantissa all of it); BINARY gives the stored float's exact value.

    Teeth: DECIMAL reading the floats (``Fraction(float)``), or BINARY reading ``Fraction(str(w))``
    (0.1 would be 1/10), fails it.
    """
    long = "0." + "3" * 99
    texts = [["0.1", '"1/3"', long], ["-0", "1e-45", "3.4028234663852886e38"]]
    raw = _document(dtype, texts, ['"0.2"', "7e-46", '"-2.5e-3"'], " ")
    net = _read(raw)
    W, b = weight_rationals(net, Mode.DECIMAL)[0]
    plain = [[t.strip('"') for t in r] for r in texts]
    assert W == [[F(t) for t in r] for r in plain] and W[0][0] == F(1, 10) and W[0][1] == F(1, 3)
    assert b == [F(1, 5), F(7, 10**46), F(-1, 400)]
    Wb, bb = weight_rationals(net, Mode.BINARY)[0]
    for i, r in enumerate(plain):
        for j, t in enumerate(r):
            assert Wb[i][j] == F(float(net.layers[0].W[i, j])) == F(exact_round(F(t), dtype))
    assert Wb[0][0] != F(1, 10) and bb[0] == F(exact_round(F(1, 5), dtype))


# -- inputs: --x, CSV, JSON ---------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dtype=DTYPES)
def test_inputs_are_rounded_once_from_their_text(data: st.DataObject, dtype: str) -> None:
    """``--x``, a CSV line, a JSON list of numbers and of numeric strings: the floats are each
    value rounded once from its text to the network's dtype, in both modes; decimal mode's
    rationals are ``Fraction(text)``.

    Teeth: ``Inputs.as_dtype`` casting ``values`` (float64) instead of rounding the text, or
    ``input_rationals`` giving the floats' rationals in decimal mode, fails it.
    """
    lits = data.draw(st.lists(st.one_of(midpoint_literal("float32"), any_literal(dtype)), min_size=0, max_size=5)
                     .filter(lambda ts: all(math.isfinite(float(F(t))) for t in ts)))
    lits.insert(data.draw(st.integers(0, len(lits))), data.draw(midpoint_literal(nudged=True)))
    net = Network((Layer(np.ones((len(lits), 1), dtype), np.zeros(1, dtype), Activation.IDENTITY),))
    with tempfile.TemporaryDirectory() as d:
        csv, js, jq = Path(d, "x.csv"), Path(d, "x.json"), Path(d, "q.json")
        csv.write_text(" , ".join(lits) + "\n# a comment\n")
        plain = all(JSON_NUMBER.fullmatch(t) for t in lits)
        js.write_text("[" + ", ".join(lits) + "]")
        jq.write_text(json.dumps([lits]))
        sources = [parse_x(",".join(lits)), load_inputs(csv), load_inputs(jq)] + ([load_inputs(js)] if plain else [])
        for inputs in sources:
            floats, exact = input_rationals(net, inputs, Mode.DECIMAL)
            assert floats.dtype == np.dtype(dtype) and exact is not None
            for t, g, e in zip(lits, floats[0].tolist(), exact[0]):
                assert same(g, expected(t, dtype)), (inputs.source, t, g)
                assert e == F(t)
            binary, none = input_rationals(net, inputs, Mode.BINARY)
            assert none is None and binary.tobytes() == floats.tobytes()


@pytest.mark.parametrize("text", ["1e39", "-3.5e38", "3.4028235677973366e38x"])
def test_inputs_beyond_the_dtype_are_refused(text: str) -> None:
    """An input that overflows float32 is refused for a float32 network (never inf), and text that
    is not a literal is refused before any rounding; 3.4028235677973366e38 itself reads as the
    largest float32.

    Teeth: ``as_dtype`` without its ``isfinite`` check fails it.
    """
    net = Network((Layer(np.ones((1, 1), np.float32), np.zeros(1, np.float32), Activation.IDENTITY),))
    with pytest.raises(InputsError):
        input_rationals(net, parse_x(text), Mode.BINARY)
    floats, _ = input_rationals(net, parse_x("3.4028235677973366e38"), Mode.BINARY)
    assert floats[0, 0] == np.finfo(np.float32).max


def test_binary_input_arrays_keep_their_values() -> None:
    """.npy/.npz inputs of float16, float32, big-endian float64, Fortran order and bool: each
    value exactly (every one is a float64), cast once to float32 for a float32 network.

    Teeth: ``_check_finite_array`` casting through float32 (``arr.astype(np.float32)``) fails it.
    """
    arrays = [np.array([[65504, 6e-8, -0.0]], np.float16), np.array([[1 + 2**-23, 2**-149, 0.1]], ">f4"),
              np.array([[0.1, 1 + 2**-24, 5e-324]], ">f8"), np.asfortranarray(np.arange(6.0).reshape(2, 3) / 7),
              np.array([[True, False, True]])]
    net = Network((Layer(np.ones((3, 1), np.float32), np.zeros(1, np.float32), Activation.IDENTITY),))
    with tempfile.TemporaryDirectory() as d:
        for k, arr in enumerate(arrays):
            npy, npz = Path(d, f"{k}.npy"), Path(d, f"{k}.npz")
            np.save(npy, arr)
            buf = io.BytesIO()
            np.savez(buf, x=arr)
            npz.write_bytes(buf.getvalue())
            for path in (npy, npz):
                inputs = load_inputs(path)
                assert inputs.values.tolist() == arr.astype(np.float64).tolist()
                assert np.array_equal(np.signbit(inputs.values), np.signbit(arr))
                floats, _ = input_rationals(net, inputs, Mode.BINARY)
                with np.errstate(under="ignore"):
                    assert floats.tobytes() == arr.astype(np.float64).astype(np.float32).tobytes()


# -- claims found false -----------------------------------------------------------------------

def test_dtype_conversion_casts_the_stored_floats_and_keeps_the_text() -> None:
    """A float64 JSON network converted to float32 (``--dtype float32``, ``Network.astype``) is cast
    as NumPy's ``astype`` casts the loaded floats (what a program converting it gets: here a double
    rounding, 1.0), while the same file read with ``"dtype": "float32"`` rounds the literal once
    (1 + 2**-23); the text stays for decimal mode (ARCHITECTURE, numerical conventions).

    Teeth: ``astype`` rounding the kept text instead fails the cast; dropping ``W_text`` fails the text.
    """
    text = "1.00000005960464477539062500000000000000001"  # a hair above the midpoint 1 + 2**-24
    as64 = _read(_document("float64", [[text]], ["0"], ""))
    as32 = _read(_document("float32", [[text]], ["0"], ""))
    assert as32.layers[0].W[0, 0] == np.float32(1 + 2**-23) == expected(text, "float32")
    converted = as64.astype("float32")
    assert converted.layers[0].W_text == ((text,),)
    assert converted.layers[0].W.tobytes() == as64.layers[0].W.astype(np.float32).tobytes()
    assert converted.layers[0].W[0, 0] == np.float32(1.0) != as32.layers[0].W[0, 0]


def test_float_cells_are_the_floats_they_are() -> None:
    """``inputs_from_cells`` (public) given Python floats: binary mode should see the floats NumPy
    has (``np.float32(x)``), decimal mode their exact values.

    Teeth: keeping ``str(x)`` as a float cell's text fails (it did, as an xfail).
    """
    x = 1 + 2**-24
    inputs = inputs_from_cells([[x, 0.1]], "api")
    assert isinstance(inputs, Inputs)
    net = Network((Layer(np.ones((2, 1), np.float32), np.zeros(1, np.float32), Activation.IDENTITY),))
    floats, _ = input_rationals(net, inputs, Mode.BINARY)
    assert floats[0].tolist() == [float(np.float32(x)), float(np.float32(0.1))]
    net64 = net.astype("float64")
    floats64, exact = input_rationals(net64, inputs, Mode.DECIMAL)
    rationals = exact[0] if exact is not None else tuple(F(float(v)) for v in floats64[0])  # None: the floats
    assert rationals == (F(x), F(0.1))


def test_integer_inputs_beyond_float64_are_refused_or_exact() -> None:
    """An int64 input that float64 cannot hold: refused, like such a weight, or kept exactly.

    Teeth: dropping the exactness check in ``_check_finite_array`` fails (it did, as an xfail).
    """
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "x.npy")
        np.save(path, np.array([[2**53 + 1, 1]], dtype=np.int64))
        try:
            inputs = load_inputs(path)
        except InputsError:
            return
        assert int(inputs.values[0, 0]) == 2**53 + 1
