"""The restricted unpickler refuses everything but NumPy's array reconstruction, and runs nothing.

Every hostile pickle below would, if loaded with plain ``pickle``, leave a trace: create a
marker file, delete a folder, write an .npy file. Each test loads it the way nnverify does and
then proves the trace is absent. The payloads are never unpickled with plain ``pickle``; that
they are live is shown by a *recording* unpickler that resolves every global to a recorder and
sees the dangerous call requested (see ``test_payloads_are_live``).
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reliability
from corpus import hostile as H
from hypothesis import given, settings
from hypothesis import strategies as st

from nnverify.errors import WeightsFileError
from nnverify.weights import read_network_bytes
from nnverify.weights.pickle_format import safe_unpickle


def load(raw: bytes, cls: str) -> str:
    """Load ``raw`` as nnverify does; record and return the outcome ('ok', 'error' or 'crashed')."""
    t0 = time.perf_counter()
    try:
        reliability.call_with_limit(lambda: read_network_bytes(raw, "evil.pkl"), 5.0)
    except WeightsFileError as exc:
        one_line = "\n" not in str(exc) and str(exc).startswith("evil.pkl")
        outcome = "error" if one_line else "crashed"
    except reliability.Hung:
        outcome = "hung"
    except BaseException:  # noqa: BLE001 - anything else is a crash
        outcome = "crashed"
    else:
        outcome = "ok"
    return reliability.record(cls, outcome, time.perf_counter() - t0, note=f"pickle {raw[:60]!r}")


class Trace:
    """A side effect that must not happen: a marker file appearing (or a folder vanishing)."""

    def __init__(self, tmp_path: Path) -> None:
        self.marker = tmp_path / "PWNED"
        self.keep = tmp_path / "keep"
        self.keep.mkdir()
        (self.keep / "precious.txt").write_text("still here")
        self.npy = tmp_path / "written.npy"

    def happened(self) -> bool:
        return self.marker.exists() or not (self.keep / "precious.txt").exists() or self.npy.exists()


def _payloads(t: Trace) -> dict[str, tuple[str, str, tuple[Any, ...]]]:
    """name -> (module, global, args): calls that would leave a trace in ``t``."""
    touch = f"touch {t.marker}"
    py = f"open({str(t.marker)!r}, 'w').write('x')"
    return {
        "os.system": ("os", "system", (touch,)),
        "posix.system": ("posix", "system", (touch,)),
        "os.popen": ("os", "popen", (touch,)),
        "os.remove": ("os", "remove", (str(t.keep / "precious.txt"),)),
        "shutil.rmtree": ("shutil", "rmtree", (str(t.keep),)),
        "subprocess.call": ("subprocess", "call", (["touch", str(t.marker)],)),
        "subprocess.run": ("subprocess", "run", (["touch", str(t.marker)],)),
        "subprocess.check_output": ("subprocess", "check_output", (["touch", str(t.marker)],)),
        "subprocess.Popen": ("subprocess", "Popen", (["touch", str(t.marker)],)),
        "subprocess.getoutput": ("subprocess", "getoutput", (touch,)),
        "builtins.eval": ("builtins", "eval", (py,)),
        "builtins.exec": ("builtins", "exec", (py,)),
        "builtins.open": ("builtins", "open", (str(t.marker), "w")),
        "builtins.compile": ("builtins", "compile", (py, "x", "exec")),
        "builtins.__import__": ("builtins", "__import__", ("os",)),
        "builtins.getattr": ("builtins", "getattr", ("x", "upper")),
        "__builtin__.eval": ("__builtin__", "eval", (py,)),
        "io.open": ("io", "open", (str(t.marker), "w")),
        "pickle.loads": ("pickle", "loads", (pickle.dumps("harmless"),)),
        "numpy.save": ("numpy", "save", (str(t.npy), [1.0])),
        "numpy.load": ("numpy", "load", (str(t.marker), "r", True)),
        "numpy.frombuffer": ("numpy", "frombuffer", (b"\0" * 8,)),
        "numpy.fromfile": ("numpy", "fromfile", ("/etc/hostname",)),
        "numpy.testing.runstring": ("numpy.testing._private.utils", "runstring", (py, {})),
        "numpy.ctypeslib.load_library": ("numpy.ctypeslib", "load_library", ("libc", "/lib")),
        "numpy._core.multiarray.scalar": ("numpy._core.multiarray", "scalar", ()),
        "numpy.lib.format.read_array": ("numpy.lib.format", "read_array", ()),
        "copyreg._reconstructor": ("copyreg", "_reconstructor", ()),
        "_codecs.decode": ("_codecs", "decode", (b"x", "rot13")),
        "nnverify.files.atomic_write_bytes": ("nnverify.files", "atomic_write_bytes",
                                           (str(t.marker), b"x")),
        "__main__.anything": ("__main__", "anything", ()),
    }


def _simple(v: Any) -> bytes:
    """Opcodes for a str, bytes, list of str, dict, bool, float or tuple argument."""
    if isinstance(v, bool):
        return H.TRUE if v else H.FALSE
    if isinstance(v, str):
        return H.text(v)
    if isinstance(v, bytes):
        return H.raw_bytes(v)
    if isinstance(v, float):
        return b"G" + __import__("struct").pack(">d", v)
    if isinstance(v, list):
        return H.EMPTY_LIST + b"".join(_simple(x) + H.APPEND for x in v)
    if isinstance(v, dict):
        return H.EMPTY_DICT
    raise TypeError(v)


STYLES: dict[str, Callable[[str, str, tuple[Any, ...]], bytes]] = {
    # the call as W1's value inside an otherwise valid book pickle (GLOBAL + REDUCE)
    "reduce-in-book": lambda m, n, a: H.tiny_book_pickle(
        {"W2": H.call(H.glob(m, n), *(_simple(x) for x in a))}),
    # the whole pickle is the call, as a protocol-4 STACK_GLOBAL
    "stack-global": lambda m, n, a: H.PROTO4 + H.call(H.stack_glob(m, n), *(_simple(x) for x in a))
    + H.STOP,
    # INST opcode: module/name inline, called on the marked arguments
    "inst": lambda m, n, a: H.PROTO2 + H.MARK + b"".join(_simple(x) for x in a)
    + b"i" + m.encode() + b"\n" + n.encode() + b"\n" + H.STOP,
    # OBJ opcode: class first, then arguments
    "obj": lambda m, n, a: H.PROTO2 + H.MARK + H.glob(m, n) + b"".join(_simple(x) for x in a)
    + b"o" + H.STOP,
}


def _names() -> list[str]:
    return [
        "os.system", "posix.system", "os.popen", "os.remove", "shutil.rmtree", "subprocess.call",
        "subprocess.run", "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput",
        "builtins.eval", "builtins.exec", "builtins.open", "builtins.compile",
        "builtins.__import__", "builtins.getattr", "__builtin__.eval", "io.open", "pickle.loads",
        "numpy.save", "numpy.load", "numpy.frombuffer", "numpy.fromfile",
        "numpy.testing.runstring", "numpy.ctypeslib.load_library",
        "numpy._core.multiarray.scalar", "numpy.lib.format.read_array", "copyreg._reconstructor",
        "_codecs.decode", "nnverify.files.atomic_write_bytes", "__main__.anything",
    ]


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("name", _names())
def test_forbidden_global_is_refused_and_nothing_runs(tmp_path: Path, name: str, style: str) -> None:
    t = Trace(tmp_path)
    module, glob_name, args = _payloads(t)[name]
    raw = STYLES[style](module, glob_name, args)
    modules_before = set(sys.modules)
    outcome = load(raw, "pickle-globals")
    if t.happened():
        reliability.record("pickle-globals", "ran code", note=f"{name} via {style}")
    assert not t.happened(), f"{name} via {style}: the side effect happened"
    assert outcome == "error"
    with pytest.raises(WeightsFileError, match=rf"references {module}\.{glob_name}, which is not allowed"):
        read_network_bytes(raw, "evil.pkl")
    # refused before lookup: nothing the pickle named was imported
    assert set(sys.modules) - modules_before == set()


@pytest.mark.parametrize("name", ["os.system", "builtins.exec", "subprocess.call", "numpy.save"])
@pytest.mark.parametrize("protocol", [0, 2, 3, 4, 5])
def test_reduce_payload_from_pickle_dumps_is_refused(tmp_path: Path, name: str, protocol: int) -> None:
    t = Trace(tmp_path)
    funcs = {"os.system": os.system, "builtins.exec": exec, "subprocess.call": subprocess.call,
             "numpy.save": np.save}
    _, _, args = _payloads(t)[name]
    raw = H.reduce_pickle(funcs[name], *args, protocol=protocol)
    outcome = load(raw, "pickle-reduce")
    assert not t.happened()
    assert outcome == "error"


def test_extension_registry_code_is_refused(tmp_path: Path) -> None:
    """EXT1 looks a global up in copyreg's registry; it must still go through the allowlist."""
    t = Trace(tmp_path)
    copyreg.add_extension("os", "system", 0xF0)
    try:
        raw = H.PROTO2 + b"\x82\xf0" + H.tuple_(H.text(f"touch {t.marker}")) + H.REDUCE + H.STOP
        assert load(raw, "pickle-globals") == "error"
    finally:
        copyreg.remove_extension("os", "system", 0xF0)
    assert not t.happened()


class _Recorder(pickle.Unpickler):
    """Resolves every global to a function that records the call instead of making it."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(io.BytesIO(raw))
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def find_class(self, module: str, name: str) -> Any:
        def fake(*args: Any) -> _Sink:
            self.calls.append((f"{module}.{name}", args))
            return _Sink()
        return fake


class _Sink:
    def __setstate__(self, state: Any) -> None:
        pass


@pytest.mark.parametrize("style", ["reduce-in-book", "stack-global", "inst"])
def test_payloads_are_live(tmp_path: Path, style: str) -> None:
    """The hostile pickles really ask for the call (so refusing them is what prevents it)."""
    t = Trace(tmp_path)
    module, glob_name, args = _payloads(t)["os.system"]
    rec = _Recorder(STYLES[style](module, glob_name, args))
    rec.load()
    assert ("os.system", (f"touch {t.marker}",)) in rec.calls


# -- allowed names, misused --------------------------------------------------------------------

F8 = H.dtype_("f8")
GOOD_W1 = H.array_((2, 1), F8, H.f8([0.5, -0.25]))


def _misuse_cases() -> dict[str, bytes]:
    nd = H.glob("numpy", "ndarray")
    rc = H.glob("numpy._core.multiarray", "_reconstruct")
    cases = {
        # _reconstruct with a class other than ndarray
        "reconstruct-subtype-dtype": H.call(rc, H.dtype_("f8"), H.tuple_(H.int_(0)), H.raw_bytes(b"b")),
        "reconstruct-subtype-int": H.call(rc, H.int_(7), H.tuple_(H.int_(0)), H.raw_bytes(b"b")),
        "reconstruct-subtype-recarray": H.call(rc, H.glob("numpy", "recarray"),
                                               H.tuple_(H.int_(0)), H.raw_bytes(b"b")),
        "reconstruct-shape-negative": H.call(rc, nd, H.tuple_(H.int_(-5)), H.raw_bytes(b"b")),
        "reconstruct-shape-huge": H.call(rc, nd, H.tuple_(H.int_(10**9), H.int_(10**9)),
                                         H.raw_bytes(b"b")),
        "reconstruct-shape-text": H.call(rc, nd, H.text("(3,)"), H.raw_bytes(b"b")),
        "reconstruct-dtype-int": H.call(rc, nd, H.tuple_(H.int_(0)), H.int_(8)),
        "reconstruct-too-many-args": H.call(rc, nd, H.tuple_(H.int_(0)), H.raw_bytes(b"b"),
                                            H.int_(1)),
        # calling ndarray directly: would allocate 8e18 bytes / an object array
        "ndarray-call-huge": H.call(nd, H.tuple_(H.int_(10**9), H.int_(10**9))),
        "ndarray-call-object": H.call(nd, H.tuple_(H.int_(3)), H.text("O")),
        "ndarray-newobj": nd + H.tuple_(H.tuple_(H.int_(10**6), H.int_(10**6))) + H.NEWOBJ,
        # dtype codes that are not floats
        "dtype-object": H.array_((1,), H.dtype_("O"), b"\0" * 8),
        "dtype-object-O8": H.array_((1,), H.dtype_("O8"), b"\0" * 8),
        "dtype-unicode": H.array_((1,), H.dtype_("U8"), b"\0" * 32),
        "dtype-void": H.array_((1,), H.dtype_("V8"), b"\0" * 8),
        "dtype-datetime": H.array_((1,), H.dtype_("M8"), b"\0" * 8),
        "dtype-int64": H.array_((1,), H.dtype_("i8"), b"\0" * 8),
        "dtype-structured": H.array_((1,), H.dtype_("f8,O"), b"\0" * 16),
        "dtype-subarray-text": H.array_((1,), H.dtype_("(1000,1000)f8"), b"\0" * 8),
        "dtype-code-as-bytes": H.array_((1,), H.glob("numpy", "dtype") + H.raw_bytes(b"f8")
                                        + H.TUPLE1 + H.REDUCE, b"\0" * 8),
        # forged dtype BUILD state: object flags, a subarray, fields on a float64
        "dtype-state-flags-refcount": H.array_((1,), H.dtype_("f8", H.tuple_(
            H.int_(3), H.text("<"), H.NONE, H.NONE, H.NONE, H.int_(-1), H.int_(-1), H.int_(63))),
            b"\0" * 8),
        "dtype-state-subarray": H.array_((2, 1), H.dtype_("f8", H.tuple_(
            H.int_(3), H.text("|"), H.tuple_(F8, H.tuple_(H.int_(1000), H.int_(1000))), H.NONE,
            H.NONE, H.int_(-1), H.int_(-1), H.int_(0))), b"\0" * 16),
        "dtype-state-fields": H.array_((2, 1), H.dtype_("f8", H.tuple_(
            H.int_(3), H.text("|"), H.NONE, H.tuple_(H.text("a")),
            H.EMPTY_DICT + H.text("a") + H.tuple_(F8, H.int_(0)) + H.SETITEM,
            H.int_(100000), H.int_(1), H.int_(16))), b"\0" * 16),
        "dtype-state-elsize": H.array_((1,), H.dtype_("f8", H.tuple_(
            H.int_(3), H.text("<"), H.NONE, H.NONE, H.NONE, H.int_(4096), H.int_(1), H.int_(0))),
            b"\0" * 8),
        "dtype-state-not-tuple": H.array_((1,), H.dtype_("f8", H.EMPTY_DICT), b"\0" * 8),
        # forged array BUILD state
        "array-state-list-data": H.call(rc, nd, H.tuple_(H.int_(0)), H.raw_bytes(b"b"))
        + H.tuple_(H.int_(1), H.tuple_(H.int_(2)), F8, H.FALSE,
                   H.EMPTY_LIST + H.int_(1) + H.APPEND + H.int_(2) + H.APPEND) + H.BUILD,
        "array-state-short-data": H.array_((2, 1), F8, b"\0" * 8),
        "array-state-huge-shape": H.array_((10**9, 10**9), F8, b"\0" * 16),
        "array-state-huge-shape-int64": H.array_((2**62, 4), F8, b"\0" * 16),
        "array-state-zero-dim-huge": H.array_((0, 2**62), F8, b""),
        "array-state-fortran-int": H.array_((2, 1), F8, b"\0" * 16, fortran=H.int_(2)),
        "array-state-dtype-text": H.call(rc, nd, H.tuple_(H.int_(0)), H.raw_bytes(b"b"))
        + H.tuple_(H.int_(1), H.tuple_(H.int_(1)), H.text("f8"), H.FALSE, H.raw_bytes(b"\0" * 8))
        + H.BUILD,
        "array-no-build": H.call(rc, nd, H.tuple_(H.int_(0)), H.raw_bytes(b"b")),
        "array-state-dict": H.call(rc, nd, H.tuple_(H.int_(0)), H.raw_bytes(b"b"))
        + H.EMPTY_DICT + H.text("shape") + H.int_(5) + H.SETITEM + H.BUILD,
        # BUILD on the allowed callables themselves (would change them for later loads)
        "build-on-reconstruct-dict": rc + H.EMPTY_DICT + H.text("__defaults__") + H.int_(1)
        + H.SETITEM + H.BUILD,
        "build-on-reconstruct-slots": rc + H.tuple_(H.NONE, H.EMPTY_DICT + H.text("__call__")
                                                     + H.int_(1) + H.SETITEM) + H.BUILD,
        "build-on-ndarray": nd + H.EMPTY_DICT + H.text("x") + H.int_(1) + H.SETITEM + H.BUILD,
        "frombuffer-object": H.call(H.glob("numpy._core.numeric", "_frombuffer"),
                                    H.raw_bytes(b"\0" * 8), H.dtype_("O"), H.tuple_(H.int_(1)),
                                    H.text("C")),
        "frombuffer-bad-order": H.call(H.glob("numpy._core.numeric", "_frombuffer"),
                                       H.raw_bytes(b"\0" * 8), F8, H.tuple_(H.int_(1)), H.text("K")),
        "frombuffer-huge": H.call(H.glob("numpy._core.numeric", "_frombuffer"),
                                  H.raw_bytes(b"\0" * 8), F8, H.tuple_(H.int_(10**12)), H.text("C")),
        "codecs-encode-rot13": H.call(H.glob("_codecs", "encode"), H.text("x"), H.text("rot13")),
        "persistent-id": b"P" + b"anything\n",
        "binpersid": H.text("x") + b"Q",
    }
    return cases


MISUSE = _misuse_cases()


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_allowed_names_misused_are_refused(case: str) -> None:
    raw = H.tiny_book_pickle({"W2": MISUSE[case]})
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = load(raw, "pickle-objects" if "dtype" in case or "array" in case else "pickle-reduce")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss0) / 1024
    assert outcome == "error", case
    assert grown_mb < 64, f"{case}: peak memory grew by {grown_mb:.0f} MB"


def test_allowed_callables_are_not_changed_by_a_build_attempt() -> None:
    from nnverify.weights import pickle_format as pf

    before = {n: dict(vars(getattr(pf, n))) for n in ("_ReconstructName", "_DtypeName", "_NdarrayName")}
    for case in ("build-on-reconstruct-dict", "build-on-reconstruct-slots", "build-on-ndarray"):
        with pytest.raises(WeightsFileError):
            safe_unpickle(H.tiny_book_pickle({"W2": MISUSE[case]}), "evil.pkl")
    after = {n: dict(vars(getattr(pf, n))) for n in before}
    assert before == after


def test_object_array_from_numpy_is_refused() -> None:
    raw = pickle.dumps({"W1": np.array([[1.0], [None]], dtype=object), "b1": np.zeros(1)})
    assert load(raw, "pickle-objects") == "error"
    with pytest.raises(WeightsFileError, match="dtype 'O8?' is not a float dtype"):
        safe_unpickle(raw, "evil.pkl")


@pytest.mark.parametrize(
    "opcode",
    [
        b"\x8e" + (2**40).to_bytes(8, "little"),  # BINBYTES8 of 1 TiB
        b"\x8e" + (2**62).to_bytes(8, "little"),
        b"\x8d" + (2**40).to_bytes(8, "little"),  # BINUNICODE8
        b"\x96" + (2**40).to_bytes(8, "little"),  # BYTEARRAY8
        b"\x95" + (2**60).to_bytes(8, "little"),  # FRAME
        b"B" + (2**31 - 1).to_bytes(4, "little"),  # BINBYTES of 2 GiB
        b"X" + (2**32 - 1).to_bytes(4, "little"),  # BINUNICODE of 4 GiB
        b"\x8b" + (2**31 - 1).to_bytes(4, "little"),  # LONG4 of 2 GiB of digits
        b"L" + b"9" * 100_000 + b"L\n",  # LONG with 100,000 decimal digits
    ],
    ids=["binbytes8-1TiB", "binbytes8-2^62", "binunicode8", "bytearray8", "frame-2^60",
         "binbytes-2GiB", "binunicode-4GiB", "long4-2GiB", "long-100k-digits"],
)
def test_huge_declared_buffer_is_refused_without_allocating(opcode: bytes) -> None:
    raw = b"\x80\x05" + opcode + b"abc."
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    assert load(raw, "pickle-objects") == "error"
    assert time.perf_counter() - t0 < 2.0
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss0) / 1024 < 64


# -- what must keep working --------------------------------------------------------------------

arrays_st = st.sampled_from(["<f8", "<f4", ">f8", ">f4"]).flatmap(
    lambda dt: st.tuples(st.integers(1, 4), st.integers(1, 4), st.booleans()).flatmap(
        lambda s: st.lists(
            st.floats(allow_nan=False, allow_infinity=False, width=32 if "f4" in dt else 64,
                      allow_subnormal=True),
            min_size=s[0] * s[1] + s[1], max_size=s[0] * s[1] + s[1],
        ).map(lambda v: (dt, s, v))
    )
)


@settings(max_examples=40)
@given(arrays_st, st.integers(0, 5))
def test_numpy_pickles_of_every_protocol_load_bit_exactly(case: Any, protocol: int) -> None:
    """Real NumPy pickles (C or Fortran order, either byte order, -0.0, subnormals) load exactly."""
    dt, (n_in, n_out, fortran), values = case
    W = np.array(values[: n_in * n_out], dtype=dt).reshape(n_in, n_out)
    if fortran:
        W = np.asfortranarray(W)
    b = np.array(values[n_in * n_out:], dtype=dt)
    raw = pickle.dumps({"W1": W, "b1": b}, protocol=protocol)
    t0 = time.perf_counter()
    net = read_network_bytes(raw, "good.pkl")
    reliability.record("pickle-structure", "ok", time.perf_counter() - t0)
    layer = net.layers[0]
    assert layer.W.dtype == np.dtype(dt).newbyteorder("=")
    assert layer.W.tobytes() == np.ascontiguousarray(W, dtype=layer.W.dtype).tobytes()
    assert layer.b.tobytes() == b.astype(layer.b.dtype).tobytes()


def test_the_books_pickle_still_loads() -> None:
    net = read_network_bytes(
        __import__("nnverify.weights", fromlist=["x"]).book_mnist_bytes(), "book-mnist",
        activations=("sigmoid", "sigmoid", "softmax"),
    )
    assert net.sizes == (784, 50, 100, 10)
    assert net.dtype == np.float32


def test_a_broken_allowlist_would_be_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail: with a permissive find_class, the side effect would happen."""
    from nnverify.weights import pickle_format as pf

    t = Trace(tmp_path)
    seen: list[str] = []
    monkeypatch.setattr(pf._RestrictedUnpickler, "find_class",
                        lambda self, m, n: (lambda *a: seen.append(f"{m}.{n}{a}")))
    raw = STYLES["stack-global"]("os", "system", (f"touch {t.marker}",))
    with pytest.raises(WeightsFileError):
        read_network_bytes(raw, "evil.pkl")
    assert seen == [f"os.system('touch {t.marker}',)"]
    shutil.rmtree(t.keep)
    assert t.happened()  # the trace check itself can see a side effect
