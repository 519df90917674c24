"""The interesting cases the fuzzing found, kept as plain regression tests.

Each case names the input that broke nnverify before its fix and what happened then:
exit 3 means "internal error" (a crash), "hang" means the run never ended.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import reliability
from corpus import hostile as H


@pytest.fixture
def write(tmp_path: Path) -> object:
    def w(name: str, raw: bytes) -> str:
        p = tmp_path / name
        p.write_bytes(raw)
        return str(p)
    return w


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], cls: str) -> reliability.CliRun:
    return reliability.run_cli(argv, capsys, cls)


def test_json_float32_literal_just_above_the_largest_float32_is_an_error_not_a_crash(
    write: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 3: OverflowError from Fraction(inf) (np.spacing of float32 max is inf)."""
    path = write("w.json", b'{"dtype": "float32", "W1": [[1e308]], "b1": [0]}')  # type: ignore[operator]
    r = _run(["forward", "--weights", path, "--x", "1"], capsys, "json-values")
    reliability.assert_clean(r, allowed=("error",))
    assert "1e308, which overflows float32" in r.err


def test_json_float32_literal_rounding_down_to_the_largest_float32_is_valid(
    write: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Just below max + half an ulp rounds to max (ties go to inf): the same code path, exit 0."""
    path = write("w.json", b'{"dtype": "float32", "W1": [["340282356779733661637539395458142568447"]], '  # type: ignore[operator]
                           b'"b1": [0]}')
    r = _run(["forward", "--weights", path, "--x", "0", "--json"], capsys, "json-values")
    reliability.assert_clean(r, allowed=("ok",))


def test_pickle_dtype_state_with_a_forged_subarray_is_refused(
    write: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 3 (NumPy broadcast error): a float64 dtype rebuilt with a (1000, 1000) subarray."""
    f8 = H.dtype_("f8")
    forged = H.dtype_("f8", H.tuple_(H.int_(3), H.text("|"), H.tuple_(f8, H.tuple_(H.int_(1000), H.int_(1000))),
                                     H.NONE, H.NONE, H.int_(-1), H.int_(-1), H.int_(0)))
    raw = H.book_pickle({"W1": H.array_((2, 1), forged, b"A" * 16),
                         "b1": H.array_((1,), H.dtype_("f8"), b"\0" * 8)})
    r = _run(["forward", "--weights", write("w.pkl", raw), "--x", "1,2"], capsys, "pickle-objects")  # type: ignore[operator]
    reliability.assert_clean(r, allowed=("error",))
    assert "fields, subarrays and flags are refused" in r.err


def test_pickle_dtype_state_with_fields_is_refused(write: object, capsys: pytest.CaptureFixture[str]) -> None:
    """Was exit 0: a structured dtype passed as float64 (kind 'f') and was computed with."""
    f8 = H.dtype_("f8")
    forged = H.dtype_("f8", H.tuple_(H.int_(3), H.text("|"), H.NONE, H.tuple_(H.text("a")),
                                     H.EMPTY_DICT + H.text("a") + H.tuple_(f8, H.int_(0)) + H.SETITEM,
                                     H.int_(8), H.int_(1), H.int_(16)))
    raw = H.book_pickle({"W1": H.array_((2, 1), forged, b"A" * 16),
                         "b1": H.array_((1,), H.dtype_("f8"), b"\0" * 8)})
    r = _run(["forward", "--weights", write("w.pkl", raw), "--x", "1,2"], capsys, "pickle-objects")  # type: ignore[operator]
    reliability.assert_clean(r, allowed=("error",))


@pytest.mark.parametrize("option", ["--weights", "--inputs"])
def test_a_fifo_is_refused_instead_of_blocking_forever(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    """Was a hang: open() of a FIFO waits for a writer that never comes."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = _run(["forward", option, str(fifo)], capsys, "cli-paths")
    reliability.assert_clean(r, allowed=("error",))
    assert "not a regular file" in r.err


@pytest.mark.parametrize("option", ["--weights", "--inputs"])
def test_dev_zero_is_refused_instead_of_read_without_end(
    capsys: pytest.CaptureFixture[str], option: str
) -> None:
    """Was exit 3 (MemoryError) for --inputs: read_bytes() of an endless device."""
    r = _run(["forward", option, "/dev/zero"], capsys, "cli-paths")
    reliability.assert_clean(r, allowed=("error",))
    assert "not a regular file" in r.err


def test_numpy_protocol_2_and_5_pickles_load(write: object, capsys: pytest.CaptureFixture[str]) -> None:
    """Was exit 2 for valid files: protocol 2 uses _codecs.encode, protocol 5 numpy's _frombuffer."""
    import pickle

    import numpy as np

    for protocol in (2, 5):
        raw = pickle.dumps({"W1": np.array([[0.5], [0.25]]), "b1": np.array([0.125])}, protocol=protocol)
        r = _run(["forward", "--weights", write(f"p{protocol}.pkl", raw), "--x", "1,2"], capsys,  # type: ignore[operator]
                 "valid-files")
        reliability.assert_clean(r, allowed=("ok",))
        assert "1.125" in r.out


@pytest.mark.parametrize("argv,message", [
    (["forward", "--samples", "2", "--seed", "-1"], "--seed -1: must be 0 or more"),
    (["forward", "--samples", "2", "--low=-1.7e308", "--high=1.7e308"], "overflows float64; narrow the range"),
])
def test_sample_options_numpy_refuses_are_clean_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Were exit 3: NumPy's ValueError (negative seed) and OverflowError (high - low = inf)."""
    r = _run(argv, capsys, "cli-args")
    reliability.assert_clean(r, allowed=("error",))
    assert message in r.err


def test_a_non_utf8_output_name_is_printed_not_crashed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 3 after writing the file: printing 'wrote \\udcff.json' to a strict UTF-8 stdout."""
    monkeypatch.chdir(tmp_path)
    r = _run(["convert", "-o", "\udcff.json", "--format", "json"], capsys, "cli-paths")
    reliability.assert_clean(r, allowed=("ok",))
    assert "\\udcff.json" in r.out
    assert (tmp_path / os.fsdecode(b"\xff.json")).exists()


def test_forward_json_with_an_overflowing_float_pass_is_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    """Was exit 3: json.dumps(allow_nan=False) on the inf in A1 (x = 1.7e308)."""
    import json

    r = _run(["forward", "--x", "1.7e308,1.7e308", "--json"], capsys, "cli-args")
    reliability.assert_clean(r, allowed=("ok",))
    doc = json.loads(r.out)
    assert doc["layers"][0]["a"][2] == "inf"
    assert "overflowed" in r.err  # noted in one line, not a NumPy RuntimeWarning


def test_forward_prints_huge_values_in_scientific_notation(capsys: pytest.CaptureFixture[str]) -> None:
    """Was a 309-digit positional number for x = 1e308."""
    r = _run(["forward", "--x", "1e308,-2.5e20"], capsys, "cli-args")
    reliability.assert_clean(r, allowed=("ok",))
    assert "x  = [1e+308, -2.5e+20]" in r.out


def test_an_input_overflowing_float32_is_named_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    r = _run(["forward", "--x", "1e308,1", "--dtype", "float32"], capsys, "cli-args")
    reliability.assert_clean(r, allowed=("error",))
    assert "value 0 is 1e+308, which overflows float32" in r.err


def test_a_lone_surrogate_in_the_network_name_is_printed_not_crashed_on(tmp_path: Path) -> None:
    """Was exit 3 in a C/C.UTF-8 locale: stdout's surrogateescape handler cannot encode "\\ud800"
    (valid JSON escape text in the file's "name"), so printing the network's name crashed."""
    import subprocess
    import sys

    (tmp_path / "w.json").write_text('{"name": "\\ud800", "W1": [["0.5"]], "b1": ["0"]}')
    env = dict(os.environ, LC_ALL="C.UTF-8", PYTHONIOENCODING="")
    proc = subprocess.run([sys.executable, "-m", "nnverify", "forward", "--weights", "w.json", "--x", "1"],
                          cwd=tmp_path, env=env, capture_output=True, timeout=60)
    err = proc.stderr.decode("utf-8", "backslashreplace")
    reliability.record("subprocess", reliability.classify(proc.returncode, err, verdicts=False),
                       note="nnverify forward --weights (name \\ud800)")
    assert proc.returncode == 0, err
    assert b"network: \\ud800" in proc.stdout


@pytest.mark.parametrize("protocol", [0, 1])
def test_python2_era_pickles_without_a_proto_opcode_are_recognised(
    write: object, capsys: pytest.CaptureFixture[str], protocol: int
) -> None:
    """Was exit 2 "not a weights file": protocols 0/1 (Python 2's default) start without PROTO."""
    import pickle

    import numpy as np

    raw = pickle.dumps({"W1": np.array([[0.5], [0.25]]), "b1": np.array([0.125])}, protocol=protocol)
    r = _run(["forward", "--weights", write(f"p{protocol}.pkl", raw), "--x", "1,2"], capsys,  # type: ignore[operator]
             "valid-files")
    reliability.assert_clean(r, allowed=("ok",))
    assert "1.125" in r.out


def test_a_python2_numpy_pickle_with_byte_strings_loads(write: object, capsys: pytest.CaptureFixture[str]) -> None:
    """Python 2 wrote str (bytes) with (SHORT_)BINSTRING: keys, dtype codes and the raw data."""
    import struct

    def s(b: bytes) -> bytes:  # SHORT_BINSTRING, what Python 2 wrote for a str
        return b"U" + bytes([len(b)]) + b

    def arr(shape: tuple[int, ...], data: bytes) -> bytes:
        dt = H.glob("numpy", "dtype") + s(b"f8") + b"K\x00K\x01" + H.TUPLE3 + H.REDUCE + H.tuple_(
            H.int_(3), s(b"<"), H.NONE, H.NONE, H.NONE, H.int_(-1), H.int_(-1), H.int_(0)) + H.BUILD
        rec = H.call(H.glob("numpy.core.multiarray", "_reconstruct"), H.glob("numpy", "ndarray"),
                     H.tuple_(H.int_(0)), s(b"b"))
        return rec + H.tuple_(H.int_(1), H.tuple_(*(H.int_(n) for n in shape)), dt, H.FALSE, s(data)) + H.BUILD

    raw = (H.PROTO2 + H.EMPTY_DICT + s(b"W1") + arr((2, 1), struct.pack("<2d", 0.5, 0.25)) + H.SETITEM
           + s(b"b1") + arr((1,), struct.pack("<d", 0.125)) + H.SETITEM + H.STOP)
    r = _run(["forward", "--weights", write("py2.pkl", raw), "--x", "1,2"], capsys, "valid-files")  # type: ignore[operator]
    reliability.assert_clean(r, allowed=("ok",))
    assert "1.125" in r.out


@pytest.mark.parametrize("broken", ["report", "check", "test"])
def test_a_subcommand_whose_dependency_is_missing_disables_only_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    """Was a traceback for EVERY subcommand: build_parser() imported them all outside any guard,
    so one missing dependency (say sympy for the report) broke `nnverify forward` too."""
    import sys

    from nnverify.cli import SUBCOMMANDS

    if broken not in SUBCOMMANDS:
        pytest.skip(f"nnverify {broken} is not registered")
    monkeypatch.setitem(sys.modules, f"nnverify.cli.{broken}", None)  # import now raises ImportError
    r = _run(["forward", "--x", "1,2"], capsys, "faults")
    reliability.assert_clean(r, allowed=("ok",))
    r = _run([broken, "-o", "x.tex", "--weights", "book"], capsys, "faults")
    reliability.assert_clean(r, allowed=("error",))
    assert f"nnverify {broken} is unavailable here" in r.err and "pip install" in r.err


@pytest.mark.parametrize("name", ["dtype\x0bp13", "sys\x1b[2J\x1b[31m", "x\ny", "a\u2028b", "\x00"])
def test_control_characters_from_a_file_are_escaped_in_the_error(
    write: object, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Was a two-line error (a bit flip turned a protocol-0 pickle's "numpy\\ndtype" into
    "numpy\\x0bdtype", and \\x0b is a line break to splitlines); an ESC would reach the terminal."""
    raw = b"\x80\x02c" + b"numpy\n" + name.encode("utf-8") + b"\n)R."
    r = _run(["forward", "--weights", write("w.pkl", raw)], capsys, "pickle-globals")  # type: ignore[operator]
    reliability.assert_clean(r, allowed=("error",))
    assert not any(not c.isprintable() for c in r.err.rstrip("\n")), repr(r.err)


@pytest.mark.parametrize("name,shown", [('"\\u001b[2J\\u001b[31mred"', "\\x1b[2J\\x1b[31mred"),
                                        ('"tab\\there"', "tab\\there"), ('"plain é"', "plain é")])
def test_a_network_name_from_json_cannot_send_terminal_escapes(
    write: object, capsys: pytest.CaptureFixture[str], name: str, shown: str
) -> None:
    """Was printed raw: a JSON "name" holding ESC sequences cleared or recoloured the terminal."""
    path = write("w.json", f'{{"name": {name}, "W1": [["0.5"]], "b1": ["0"]}}'.encode())  # type: ignore[operator]
    r = _run(["forward", "--weights", path, "--x", "1"], capsys, "json-encoding")
    reliability.assert_clean(r, allowed=("ok",))
    assert f"network: {shown} (1-1" in r.out and "\x1b" not in r.out


def test_a_json_network_name_that_is_not_text_is_refused(write: object, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("w.json", b'{"name": [1, 2], "W1": [["0.5"]], "b1": ["0"]}')  # type: ignore[operator]
    r = _run(["forward", "--weights", path, "--x", "1"], capsys, "json-structure")
    reliability.assert_clean(r, allowed=("error",))
    assert '"name" is a JSON list; expected text' in r.err


@pytest.mark.parametrize("put", [b"r\x00\x00\x00\x50", b"p1342177280\n", b"q\xff"],
                         ids=["LONG_BINPUT 2^30", "PUT 1342177280", "BINPUT 255"])
def test_a_pickle_memo_index_far_out_of_range_is_refused_at_once(tmp_path: Path, put: bytes) -> None:
    """Was a hang (found by fuzzing: one bit flip turned protocol 0's 'tp15\\nR' into 'tr15\\nR'):
    the C unpickler grows its memo table to the index a PUT names, here over a billion slots,
    in C code no signal interrupts. Run in a subprocess so a regression cannot hang the suite."""
    import subprocess
    import sys

    (tmp_path / "w.pkl").write_bytes(b"\x80\x02}" + put + b".")
    t0 = __import__("time").perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "nnverify", "forward", "--weights", "w.pkl"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=20)
        outcome = reliability.classify(proc.returncode, proc.stderr, verdicts=False)
    except subprocess.TimeoutExpired:
        outcome, proc = "hung", None
    reliability.record("pickle-objects", outcome, __import__("time").perf_counter() - t0,
                       note=f"pickle memo index {put!r}")
    assert outcome == "error"
    assert proc is not None and "out of range" in proc.stderr


def test_an_npz_whose_header_names_an_unknown_zip_version_is_refused(
    write: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was exit 3: zipfile raises NotImplementedError ("zip file version 6.4") for one edited byte
    of the central directory (found by a deeper fuzz run, NNVERIFY_FUZZ_SCALE=24)."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, W1=np.zeros((2, 2)), b1=np.zeros(2))
    raw = bytearray(buf.getvalue())
    cd = raw.rindex(b"PK\x01\x02")  # a central directory entry; byte 6 is "version needed"
    raw[cd + 6] = ord("@")
    r = _run(["forward", "--weights", write("w.npz", bytes(raw))], capsys, "npz-bitflip")  # type: ignore[operator]
    reliability.assert_clean(r, allowed=("error",))
    assert "not a readable zip archive (zip file version 6.4)" in r.err
