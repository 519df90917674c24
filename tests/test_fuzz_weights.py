"""Fuzzing the weights readers through the CLI: every file ends in exit 0 or a one-line exit 2.

Valid networks are generated in every format (JSON layered, JSON book dict, NPZ, pickle of
every protocol), then broken: truncated, bit-flipped, edited, re-typed, nested, re-encoded.
Each case runs ``nnverify forward --weights FILE --samples 1`` in-process under a 5 s limit
and is recorded for the README's reliability table (``tests/reliability.py``).
"""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reliability
from corpus import hostile as H
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st


def fuzz(n: int) -> settings:
    """``n`` examples under the CI profile (a quarter of them in the quicker dev profile)."""
    return settings(max_examples=reliability.examples(n),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def run_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """``run_file(raw, cls, name=...)``: write ``raw``, run forward on it, record the outcome."""

    def run(raw: bytes, cls: str, name: str = "weights.bin", args: tuple[str, ...] = ("--samples", "1")
            ) -> reliability.CliRun:
        path = tmp_path / name
        path.write_bytes(raw)
        return reliability.run_cli(["forward", "--weights", str(path), *args], capsys, cls)

    return run


# -- valid networks in every format ------------------------------------------------------------

SPECIAL = [-0.0, 0.0, 5e-324, -5e-324, 2.2250738585072014e-308 / 3, 1.4e-45, -1.4e-45, 1e-40, 0.5]


@st.composite
def networks(draw: Any, *, special: bool = True) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    """(dtype, [(W, b), ...]) of 1-3 small layers; values include -0.0 and subnormals."""
    dtype = draw(st.sampled_from(["float64", "float32"]))
    width = 64 if dtype == "float64" else 32
    value = st.floats(-1e3, 1e3, width=width, allow_subnormal=True)
    if special:
        value = value | st.sampled_from(SPECIAL)
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        W = draw(st.lists(value, min_size=n_in * n_out, max_size=n_in * n_out))
        b = draw(st.lists(value, min_size=n_out, max_size=n_out))
        layers.append((np.array(W, dtype=dtype).reshape(n_in, n_out), np.array(b, dtype=dtype)))
    return dtype, layers


def _lit(v: np.floating) -> Any:
    # float32 values as the shortest float32 text: parsing it rounds straight back to the value
    return float(v) if v.dtype == np.float64 else np.format_float_positional(v, unique=True) \
        if v != 0 or not np.signbit(v) else "-0.0"


def encode(fmt: str, net: tuple[str, list[tuple[np.ndarray, np.ndarray]]]) -> bytes:
    dtype, layers = net
    if fmt == "json-layers":
        return H.json_layers(
            [([[_lit(v) for v in row] for row in W], [_lit(v) for v in b], "sigmoid")
             for W, b in layers], dtype)
    if fmt == "json-book":
        doc: dict[str, Any] = {"dtype": dtype}
        for l, (W, b) in enumerate(layers, 1):
            doc[f"W{l}"] = [[_lit(v) for v in row] for row in W]
            doc[f"b{l}"] = [_lit(v) for v in b]
        return H.json_book(doc)
    arrays = {}
    for l, (W, b) in enumerate(layers, 1):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    if fmt == "npz":
        return H.npz_arrays(arrays)
    if fmt.startswith("pickle"):
        return pickle.dumps(arrays, protocol=int(fmt[-1]))
    raise ValueError(fmt)


FORMATS = ["json-layers", "json-book", "npz", "pickle0", "pickle1", "pickle2", "pickle3", "pickle4", "pickle5"]
PREFIX = {"json-layers": "json", "json-book": "json", "npz": "npz"}


def _cls(fmt: str, what: str) -> str:
    return f"{PREFIX.get(fmt, 'pickle')}-{what}"


@fuzz(60)
@given(fmt=st.sampled_from(FORMATS), net=networks())
def test_valid_files_with_subnormals_and_negative_zero_exit_0(run_file: Any, fmt: str, net: Any) -> None:
    r = run_file(encode(fmt, net), "valid-files")
    reliability.assert_clean(r, allowed=("ok",))


@fuzz(150)
@given(fmt=st.sampled_from(FORMATS), net=networks(special=False), data=st.data())
def test_truncated_file_is_a_clean_error(run_file: Any, fmt: str, net: Any, data: Any) -> None:
    raw = encode(fmt, net)
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    reliability.assert_clean(run_file(raw[:cut], _cls(fmt, "truncated")))


@fuzz(200)
@given(fmt=st.sampled_from(FORMATS), net=networks(special=False), data=st.data())
def test_bit_flips_give_a_verdict_or_a_clean_error(run_file: Any, fmt: str, net: Any, data: Any) -> None:
    raw = bytearray(encode(fmt, net))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 7)),
                               min_size=1, max_size=8), label="flips")
    for pos, bit in flips:
        raw[pos] ^= 1 << bit
    reliability.assert_clean(run_file(bytes(raw), _cls(fmt, "bitflip")))


@fuzz(100)
@given(fmt=st.sampled_from(FORMATS), net=networks(special=False), data=st.data())
def test_byte_edits_give_a_verdict_or_a_clean_error(run_file: Any, fmt: str, net: Any, data: Any) -> None:
    raw = bytearray(encode(fmt, net))
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        pos = data.draw(st.integers(0, len(raw)), label="pos")
        kind = data.draw(st.sampled_from(["insert", "delete", "replace"]), label="kind")
        chunk = data.draw(st.binary(min_size=1, max_size=8), label="chunk")
        if kind == "insert":
            raw[pos:pos] = chunk
        elif kind == "delete":
            del raw[pos:pos + len(chunk)]
        else:
            raw[pos:pos + len(chunk)] = chunk
    reliability.assert_clean(run_file(bytes(raw), _cls(fmt, "bitflip")))


# -- JSON structure, values, keys, encodings, nesting -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from(["W1", "b1", "0.1", "1/3", "sigmoid", "float32"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["W", "b", "W1", "b1", "W2", "b2", "layers", "activation", "activations",
                         "dtype", "name", "format", "x", ""]) | st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replace(doc[head], rest, value)}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(doc)]


@fuzz(200)
@given(fmt=st.sampled_from(["json-layers", "json-book"]), net=networks(special=False),
       data=st.data())
def test_json_with_a_node_replaced_by_garbage_is_handled(run_file: Any, fmt: str, net: Any,
                                                         data: Any) -> None:
    doc = json.loads(encode(fmt, net))
    path = data.draw(st.sampled_from(_paths(doc)), label="path")
    doc = _replace(doc, path, data.draw(json_values, label="garbage"))
    reliability.assert_clean(run_file(json.dumps(doc).encode(), "json-structure", "w.json"))


@fuzz(60)
@given(doc=json_values)
def test_arbitrary_json_documents_are_handled(run_file: Any, doc: Any) -> None:
    reliability.assert_clean(run_file(json.dumps(doc).encode(), "json-structure", "w.json"))


LITERALS = {
    # literal text -> must the network still load? (True: exit 0; False: exit 2; None: either)
    "NaN": False, "Infinity": False, "-Infinity": False, '"nan"': False, '"inf"': False,
    "1e999": False, "-1e999": False, '"1e400"': False, "1e308": None,
    "4.9e-324": True, "-4.9e-324": True, "1e-400": True, "-0.0": True, '"-0.0"': True,
    "2.2250738585072014e-309": True, '"1/3"': True, '"-7/2"': True, '"1/0"': False,
    '"0x10"': False, '"1_000"': False, '"abc"': False, '""': False, '" "': False,
    "true": False, "null": False, "{}": False, '"1e99999999"': False, '"1e-99999999"': False,
    "9" * 399: False, '"' + "9" * 1000 + '"': False, "0." + "0" * 390 + "1": True,
    '"' + "1" * 200 + "/" + "3" * 190 + '"': True,
}


@fuzz(120)
@given(fmt=st.sampled_from(["json-layers", "json-book"]),
       dtype=st.sampled_from(["float64", "float32"]), literal=st.sampled_from(sorted(LITERALS)),
       where=st.sampled_from(["W", "b"]))
def test_json_special_values_are_valid_or_named(run_file: Any, fmt: str, dtype: str, literal: str,
                                                where: str) -> None:
    W = [["0.5", "-0.25"], ["1", "2"]]
    b = ["0.125", "0"]
    placeholder = '"@@"'
    if where == "W":
        W[1][0] = "@@"
    else:
        b[1] = "@@"
    if fmt == "json-layers":
        text = H.json_layers([(W, b, "identity")], dtype).decode()
    else:
        text = json.dumps({"dtype": dtype, "W1": W, "b1": b})
    raw = text.replace(placeholder, literal).encode()
    r = run_file(raw, "json-values", "w.json")
    expect = LITERALS[literal]
    if literal == "1e308" and dtype == "float64":
        expect = True
    allowed = ("ok", "error") if expect is None else ("ok",) if expect else ("error",)
    reliability.assert_clean(r, allowed=allowed)
    if expect is False and literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        assert "finite" in r.err


@fuzz(40)
@given(net=networks(special=False), data=st.data())
def test_duplicate_keys_are_refused_by_name(run_file: Any, net: Any, data: Any) -> None:
    fmt = data.draw(st.sampled_from(["json-layers", "json-book"]), label="fmt")
    text = encode(fmt, net).decode()
    key = data.draw(st.sampled_from(['"dtype"', '"W1"', '"b1"', '"layers"', '"W"', '"b"',
                                     '"activation"']), label="key")
    assume(key in text)
    i = text.index(key)
    text = text[:i] + key + ': "dup", ' + text[i:]
    r = run_file(text.encode(), "json-duplicate", "w.json")
    reliability.assert_clean(r, allowed=("error",))
    assert "appears twice" in r.err


BAD_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\xe2\x82", b"\x80", b"\xc0\xaf"]


@fuzz(60)
@given(net=networks(special=False), data=st.data())
def test_non_utf8_json_is_refused(run_file: Any, net: Any, data: Any) -> None:
    raw = encode(data.draw(st.sampled_from(["json-layers", "json-book"]), label="fmt"), net)
    pos = data.draw(st.integers(1, len(raw)), label="pos")
    bad = data.draw(st.sampled_from(BAD_UTF8), label="bad")
    r = run_file(raw[:pos] + bad + raw[pos:], "json-encoding", "w.json")
    reliability.assert_clean(r, allowed=("error",))


@pytest.mark.parametrize("encoding,ok", [("utf-8-sig", True), ("utf-16", False), ("utf-32", False),
                                         ("latin-1", True)])
def test_json_encodings(run_file: Any, encoding: str, ok: bool) -> None:
    text = '{"W1": [[0.5]], "b1": [0.25], "name": "plain ascii"}'
    r = run_file(text.encode(encoding), "json-encoding", "w.json")
    reliability.assert_clean(r, allowed=("ok",) if ok else ("error",))


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x1b[2J", "\u2028", "\ud800"])
def test_control_characters_in_json_strings(run_file: Any, control: str) -> None:
    raw = ('{"W1": [[0.5]], "b1": [0.25], "name": "' + control + '"}').encode("utf-8", "surrogatepass")
    r = run_file(raw, "json-encoding", "w.json")
    reliability.assert_clean(r)
    assert "\x1b" not in r.err and "\x00" not in r.err  # nothing raw reaches the terminal


@fuzz(30)
@given(depth=st.sampled_from([63, 64, 65, 100, 1000, 10_000, 100_000]) | st.integers(60, 3000),
       opener=st.sampled_from(["[", '{"a":', '{"W1":', '{"layers":[{"W":']))
def test_deep_nesting_is_refused_quickly(run_file: Any, depth: int, opener: str) -> None:
    closer = {"[": "]", '{"a":': "}", '{"W1":': "}", '{"layers":[{"W":': "}]"}[opener]
    raw = (opener * depth + "0" + closer * depth).encode()
    r = run_file(raw, "json-deep", "w.json")
    reliability.assert_clean(r, allowed=("error",))


# -- NPZ headers and dtypes ----------------------------------------------------------------------

DESCRS = ["<f8", "<f4", ">f8", "<f2", "|O", "<i8", "|b1", "<U8", "|V8", "<c16", "<M8[s]", "garbage",
          [("a", "<f8")], [("a", "|O")], [("a", "<f8", (2,))], "(2,)<f8", 7, None]
SHAPES = st.one_of(
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.integers(1, 3)),
    st.just(()),
    st.sampled_from([(10**9, 10**9), (2**31, 2**31), (2**62, 2), (10**6,), (-1, 2), (2.5, 1),
                     (10**30,), (2, 2, 2), ("2", "1")]),
)


@fuzz(200)
@given(descr=st.sampled_from(DESCRS), shape=SHAPES, fortran=st.sampled_from([False, True, "x"]),
       data_len=st.sampled_from([0, 8, 16, 32, 64]), member=st.sampled_from(["W1.npy", "b1.npy"]),
       raw_header=st.none() | st.sampled_from([
           "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), 'extra': 1}",
           "{'descr': '<f8', 'fortran_order': False}",
           "__import__('os').system('touch /tmp/nnverify-PWNED')",
           "{'descr': '<f8', 'fortran_order': False, 'shape': (2,) * 100000}",
           "[1, 2, 3]", "", "{", "{'descr': b'<f8', 'fortran_order': False, 'shape': (2, 1)}",
       ]),
       version=st.sampled_from([(1, 0), (2, 0), (3, 0), (9, 9)]))
def test_forged_npy_headers_are_refused_before_allocating(
    run_file: Any, descr: Any, shape: Any, fortran: Any, data_len: int, member: str,
    raw_header: str | None, version: tuple[int, int],
) -> None:
    good = {"W1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (2, 1)},
                                  H.f8([0.5, 0.25])),
            "b1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1,)},
                                  H.f8([0.0]))}
    header: Any = raw_header if raw_header is not None else {
        "descr": descr, "fortran_order": fortran, "shape": shape}
    good[member] = H.npy_bytes(header, bytes(range(256))[:data_len] * 1, version=version)
    r = run_file(H.npz_of(good), "npz-header", "w.npz")
    reliability.assert_clean(r)
    assert not Path("/tmp/nnverify-PWNED").exists()


def test_npy_header_declaring_a_billion_squared_names_the_limit(run_file: Any) -> None:
    raw = H.npz_of({
        "W1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)}),
        "b1.npy": H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**9,)}),
    })
    r = run_file(raw, "npz-header", "w.npz")
    reliability.assert_clean(r, allowed=("error",))
    assert "1,000,000,001,000,000,000 weights and biases" in r.err
    assert "--max-params" in r.err
    assert r.seconds < 1.0


@fuzz(60)
@given(net=networks(special=False),
       cast=st.sampled_from(["float16", ">f8", ">f4", "int64", "int8", "bool", "complex128",
                             "mixed", "nan", "inf", "U3"]),
       which=st.integers(0, 10))
def test_npz_dtypes_other_than_float32_float64_are_named(run_file: Any, net: Any, cast: str,
                                                        which: int) -> None:
    dtype, layers = net
    arrays: dict[str, np.ndarray] = {}
    for l, (W, b) in enumerate(layers, 1):
        arrays[f"W{l}"], arrays[f"b{l}"] = W, b
    key = sorted(arrays)[which % len(arrays)]
    a = arrays[key]
    if cast == "mixed":
        arrays[key] = a.astype(np.float32 if dtype == "float64" else np.float64)
    elif cast in ("nan", "inf"):
        a = a.copy()
        a.flat[0] = np.nan if cast == "nan" else -np.inf
        arrays[key] = a
    else:
        arrays[key] = a.astype(cast)
    r = run_file(H.npz_arrays(arrays), "npz-dtypes", "w.npz")
    reliability.assert_clean(r, allowed=("ok", "error") if cast.startswith(">") else ("error",)
                             if len(layers) > 1 or cast != "mixed" else ("ok", "error"))
    if cast in ("nan", "inf"):
        assert "finite" in r.err


# -- pickle structure ---------------------------------------------------------------------------

plain_objects = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
    | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.sampled_from(["W1", "b1", "W2", "b2", "x"]) | st.integers(), inner, max_size=3)
    | st.sets(st.integers(), max_size=3) | st.frozensets(st.text(max_size=2), max_size=3),
    max_leaves=12,
)
array_values = st.sampled_from([
    np.zeros((2, 1)), np.zeros(1), np.zeros((2, 2, 2)), np.float64(1.5), np.zeros((0, 3)),
    np.array([1, 2]), np.array(["a"]), np.zeros((1, 1), dtype=np.float32),
    np.zeros((2, 1), dtype=np.float16), np.ma.masked_array([1.0]), np.rec.array([(1.0,)]),
    np.array([np.nan]), np.zeros(3, dtype=[("a", "f8")]),
])


@fuzz(120)
@given(obj=st.dictionaries(st.sampled_from(["W1", "b1", "W2", "b2", "W3", "x", "w1"]) | st.integers(),
                           plain_objects | array_values, max_size=5) | plain_objects,
       protocol=st.integers(0, 5))
def test_pickles_of_wrong_structure_are_refused(run_file: Any, obj: Any, protocol: int) -> None:
    reliability.assert_clean(run_file(pickle.dumps(obj, protocol=protocol), "pickle-structure", "w.pkl"))


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_pickle_is_refused(run_file: Any, depth: int) -> None:
    raw = H.PROTO2 + H.EMPTY_LIST * depth + H.APPEND * (depth - 1) + H.STOP
    reliability.assert_clean(run_file(raw, "pickle-structure", "w.pkl"), allowed=("error",))


# -- anything at all ----------------------------------------------------------------------------

@fuzz(100)
@given(prefix=st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x80\x02", b"\x80\x05", b"{",
                               b"[", b"\x93NUMPY", b"\xef\xbb\xbf{", b"  \n{", b"\x80\x06"]),
       body=st.binary(max_size=200),
       name=st.sampled_from(["w.json", "w.npz", "w.pkl", "w", "w.npy", ".hidden", "w.JSON"]))
def test_random_bytes_are_refused(run_file: Any, prefix: bytes, body: bytes, name: str) -> None:
    reliability.assert_clean(run_file(prefix + body, "random-bytes", name))


def test_zip_bomb_member_is_not_expanded(run_file: Any) -> None:
    """A member whose header says (2, 1) followed by 200 MB of compressed zeros reads 16 bytes."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("W1.npy", "w", force_zip64=True) as fh:
            fh.write(H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (2, 1)}))
            chunk = b"\0" * 2**20
            for _ in range(200):
                fh.write(chunk)
        zf.writestr("b1.npy", H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1,)},
                                          H.f8([0.0])))
    r = run_file(buf.getvalue(), "npz-header", "w.npz")
    reliability.assert_clean(r)
    assert r.seconds < 2.0


def test_struct_sanity() -> None:
    """The forged header helper writes what NumPy itself reads (so the fuzz above is on target)."""
    import io

    raw = H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (2,)}, struct.pack("<2d", 1, 2))
    assert np.load(io.BytesIO(raw)).tolist() == [1.0, 2.0]


@fuzz(40)
@given(fmt=st.sampled_from(FORMATS), net=networks(), out=st.sampled_from(["json", "json-book", "npz"]))
def test_convert_round_trips_every_valid_file_bit_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, net: Any, out: str
) -> None:
    """Valid files (subnormals, -0.0) convert to every format and compute the same, bit for bit."""
    src = tmp_path / "src.bin"
    src.write_bytes(encode(fmt, net))
    dst = tmp_path / f"dst.{out}"
    acts = ["sigmoid"] * (len(net[1]) - 1) + ["identity"]
    r = reliability.run_cli(["convert", "--weights", str(src), "-o", str(dst), "--format", out, "--force",
                             "--activations", ",".join(acts)], capsys, "valid-files")
    reliability.assert_clean(r, allowed=("ok",))
    from nnverify.weights import load_network

    a, b = load_network(str(src), activations=acts), load_network(str(dst))
    assert a.dtype == b.dtype and a.activations == b.activations
    for la, lb in zip(a.layers, b.layers):
        assert la.W.tobytes() == lb.W.tobytes() and la.b.tobytes() == lb.b.tobytes()


@pytest.mark.parametrize("names", [("W1.npy", "W1.npy"), ("W1.npy", "W1"), ("b1.npy", "b1.npy")])
def test_npz_with_a_member_twice_is_refused(run_file: Any, names: tuple[str, str]) -> None:
    """Was exit 0 with the LAST member's values: NumPy silently keeps one of two same-named members."""
    import io
    import warnings
    import zipfile

    one = H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1, 1)}, H.f8([0.5]))
    nine = H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1, 1)}, H.f8([9.0]))
    b = H.npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1,)}, H.f8([0.0]))
    members = [("W1.npy", one), ("b1.npy", b)] if names[0] == "b1.npy" else [("b1.npy", b)]
    members += [(names[0], one if names[0].startswith("W") else b), (names[1], nine if names[1].startswith("W") else b)]
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is told to write
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members:
                zf.writestr(name, data)
    r = run_file(buf.getvalue(), "npz-header", "dup.npz")
    reliability.assert_clean(r, allowed=("error",))
    assert "appears twice in the archive" in r.err


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", ["W", "b"])
def test_non_finite_weights_are_refused_in_every_format(run_file: Any, fmt: str, bad: float, where: str) -> None:
    W = np.array([[0.5, -0.0], [5e-324, 1.0]])
    b = np.array([0.0, 2.0])
    (W if where == "W" else b).flat[1] = bad
    raw = encode(fmt, ("float64", [(W, b)]))  # JSON: Python writes the non-standard NaN/Infinity
    cls = {"json": "json-values", "npz": "npz-dtypes", "pickle": "pickle-structure"}[PREFIX.get(fmt, "pickle")]
    r = run_file(raw, cls)
    reliability.assert_clean(r, allowed=("error",))
    assert "finite" in r.err
