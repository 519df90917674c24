"""The JSON fast path: the same values and text as the per-literal path, without an object per number."""

from __future__ import annotations

import json
import random
import tracemalloc
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest

from nnverify.errors import WeightsFileError
from nnverify.limits import Limits
from nnverify.model import LiteralText
from nnverify.rationals import literal_to_float
from nnverify.weights.json_fast import fast_array, scan
from nnverify.weights.json_format import read_json


def _read(text: str, activations: list[str] | None = None):
    return read_json(text.encode(), "w.json", activations, Limits(), "w.json")


def _layered(W: list[list[str]], b: list[str], dtype: str = "float64") -> str:
    rows = ",\n  ".join("[" + ", ".join(r) + "]" for r in W)
    return f'{{"dtype": "{dtype}", "layers": [{{"W": [{rows}], "b": [{", ".join(b)}], "activation": "identity"}}]}}'


def _literals(rng: random.Random, n: int, dtype: str) -> list[str]:
    getcontext().prec = 200  # exact decimal expansions of the dyadic midpoints below
    out = []
    for _ in range(n):
        kind = rng.randrange(6)
        if kind == 0:
            out.append(repr(rng.uniform(-5, 5)))
        elif kind == 1:
            lo, hi = (-344, 287) if dtype == "float64" else (-66, 17)
            out.append(f"{rng.randrange(1, 10**20)}e{rng.randrange(lo, hi)}")
        elif kind == 2:
            out.append(f"-0.{rng.randrange(10**30):030d}")
        elif kind == 3:  # float32 midpoints in decimal, exact or a hair above: the double-rounding trap
            m = rng.randrange(1 << 23, 1 << 24)
            q = Fraction(2 * m + 1, 1 << (25 + rng.randrange(0, 40)))
            text = str(Decimal(q.numerator) / Decimal(q.denominator))
            out.append(text + rng.choice(["", "0000000000000000000001"]) if "." in text and "E" not in text
                       else text)
        elif kind == 4:
            out.append(rng.choice(["0", "-0", "0.0", "-0.0", "1e-400", "-1e-46", "1.4e-45", "3.4028235e38",
                                   "3.40282356779733661637539395458142568447e38", "5e-324", "2.4703282292062328e-324"]
                                  + (["1.7976931348623157e308"] if dtype == "float64" else [])))
        else:
            out.append(str(rng.randrange(-10**6, 10**6)))
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fast_values_and_text_equal_the_per_literal_path(dtype: str) -> None:
    rng = random.Random(5)
    lits = _literals(rng, 12 * 9 + 9, dtype)
    W = [lits[i * 9:(i + 1) * 9] for i in range(12)]
    b = lits[-9:]
    net = _read(_layered(W, b, dtype))
    layer = net.layers[0]
    assert isinstance(layer.W_text, LiteralText) and isinstance(layer.b_text, LiteralText)
    want_W = np.array([[literal_to_float(t, dtype) for t in row] for row in W], dtype=dtype)
    want_b = np.array([literal_to_float(t, dtype) for t in b], dtype=dtype)
    assert layer.W.tobytes() == want_W.tobytes() and layer.b.tobytes() == want_b.tobytes()  # sign of 0 too
    assert layer.W_text == tuple(tuple(r) for r in W) and layer.b_text == tuple(b)


def test_float32_midpoints_are_rounded_once_from_the_text() -> None:
    # 1 + 2**-24 is the midpoint of 1 and the next float32; a hair above it must round up, and
    # through float64 it would land exactly on the midpoint and round (to even) down.
    above = "1.0000000596046448" + "0" * 20 + "1"
    assert float(above) == 1 + 2**-24
    net = _read(_layered([[above, "1.00000005960464477539062500000000000000001"]], ["1.0000000596046447753906250", "0"],
                         "float32"))
    up = np.nextafter(np.float32(1), np.float32(2))
    assert net.layers[0].W[0, 0] == up and net.layers[0].W[0, 1] == up
    assert net.layers[0].b[0] == np.float32(1)  # the exact midpoint: ties to even


def test_the_fast_path_keeps_no_python_object_per_number() -> None:
    rng = np.random.default_rng(0)
    W = rng.standard_normal((200, 500)).tolist()
    raw = json.dumps({"layers": [{"W": W, "b": [0.5] * 500, "activation": "sigmoid"}]}).encode()
    tracemalloc.start()
    try:
        net = read_json(raw, "w.json", None, Limits(), "w")
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    floats = net.layers[0].W.nbytes
    # the file's bytes (about 20 per number here) + float64 + two int32 offsets; never ~350 B each
    assert kept < len(raw) + 4 * floats
    assert peak < 2 * len(raw) + 6 * floats


def test_a_per_number_object_path_would_fail_the_memory_check() -> None:
    """The memory test above can fail: the per-literal path (rationals as strings) keeps an object each."""
    rng = np.random.default_rng(0)
    W = [[f"{v}/7" for v in row] for row in rng.integers(-99, 99, (200, 500)).tolist()]
    raw = json.dumps({"layers": [{"W": W, "b": ["1/2"] * 500, "activation": "sigmoid"}]}).encode()
    tracemalloc.start()
    try:
        net = read_json(raw, "w.json", None, Limits(), "w")
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept > len(raw) + 4 * net.layers[0].W.nbytes


@pytest.mark.parametrize(("W", "b", "dtype", "message"), [
    ([["1e400", "0"]], ["0", "0"], "float64", r"W1\[0, 0\] is 1e400, which overflows float64"),
    ([["1", "2"]], ["0", "3.5e38"], "float32", r"b1\[1\] is 3.5e38, which overflows float32"),
    ([["1", "2"], ["3"]], ["0", "0"], "float64", "rows have different lengths"),
    ([["1", "1e10000"]], ["0", "0"], "float64", "exponent in '1e10000' is beyond"),
    ([["1", "1" * 401]], ["0", "0"], "float64", "longer than 400"),
    ([["1", '"1/3"']], ["0", "0"], "float64", None),  # strings: the per-literal path, fine
    ([["1", "true"]], ["0", "0"], "float64", r"W1\[0, 1\] is true"),
])
def test_bad_entries_get_the_per_literal_messages(W, b, dtype, message) -> None:
    text = _layered(W, b, dtype)
    if message is None:
        net = _read(text)
        assert net.layers[0].W_text[0] == ("1", "1/3")
        return
    with pytest.raises(WeightsFileError, match=message):
        _read(text)


def test_metadata_stays_plain_json_and_syntax_errors_point_into_the_file() -> None:
    with pytest.raises(WeightsFileError, match="name.* is a JSON list"):
        _read('{"name": [1, 2], "layers": [{"W": [[1]], "b": [0]}]}')
    with pytest.raises(WeightsFileError, match="line 3 column"):
        _read('{"layers": [{"W": [[1,\n 2]],\n "b": [0 0]}]}')


def test_strings_that_look_like_arrays_are_left_alone() -> None:
    raw = b'{"name": "[1, 2, 3]", "W1": [[1, 2]], "b1": [ 3 ,4 ]}'
    skeleton, blocks = scan(raw, "w.json", Limits())
    assert len(blocks) == 2 and b'"[1, 2, 3]"' in skeleton
    result = fast_array(blocks[1], np.dtype("float64"))
    assert result is not None
    arr, text = result
    assert arr.tolist() == [3.0, 4.0] and text.as_tuple() == ("3", "4")
