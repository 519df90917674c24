"""The book's pickle (``sample_weight.pkl``) through a restricted unpickler.

A pickle can run any code, so plain ``pickle.load`` is never called on a user's file. The
unpickler here resolves only NumPy's array-reconstruction names (under their NumPy 1 and
NumPy 2 module paths), and wraps each so that its arguments are checked too: the class
must be ``ndarray`` itself and the dtype a plain float or the byte buffers NumPy's own
reconstruction uses. Every other global is refused before it is looked up, so nothing
it names is imported or run. The allowed names return stand-ins, not NumPy objects: a
dtype's and an array's pickled state is checked before a fresh array is built from raw
bytes, so NumPy's own ``__setstate__`` never sees a forged state. Protocols 0 to 5 load
(Python 2's byte strings as latin-1, protocol 2's ``_codecs.encode``, protocol 5's
``_frombuffer``).
"""

from __future__ import annotations

import io
import pickle
import pickletools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from nnverify.errors import WeightsFileError
from nnverify.limits import Limits
from nnverify.model import Activation, Network
from nnverify.weights._book import layer_count, network_from_arrays, resolve_activations

FMT = "pickle"

_RECONSTRUCT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
_NDARRAY = {("numpy", "ndarray")}
_DTYPE = {("numpy", "dtype")}
#: NumPy's protocol-5 reduction: _frombuffer(buffer, dtype, shape, order).
_FROMBUFFER = {
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}
#: Python 3 writes bytes in protocol 2 as _codecs.encode(text, "latin1").
_ENCODE = {("_codecs", "encode")}
#: dtype codes a weights pickle may use: floats, and 'b' (int8) which _reconstruct's
#: placeholder buffer argument names in NumPy's own pickles.
_DTYPE_CODES = {"f2", "f4", "f8", "b1", "u1", "i1"}


#: Opcodes whose argument is a memo index.
_MEMO_OPS = {"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"}


class RefusedGlobal(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


# NumPy's own __setstate__ methods trust their state: a pickle could give a float64 dtype
# object flags or a (1000, 1000) subarray while keeping itemsize 8. So no NumPy object is
# built from pickle data until the data is checked: the pickle builds these stand-ins, whose
# __setstate__ validates the state and makes a fresh array. Each stand-in has __slots__ and
# no __dict__, so a BUILD opcode cannot set anything else on it.


class _DtypeSpec:
    """``numpy.dtype(code, align, copy)`` as pickled, waiting for its checked BUILD state."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        # A plain dtype's state: (3, byteorder, None, None, None, -1, -1, 0) (version 4 adds
        # metadata after it in some NumPy releases).
        if (
            type(state) is not tuple
            or len(state) not in (8, 9)
            or type(state[0]) is not int
            or state[0] not in (3, 4)
            or not isinstance(state[1], str)
            or state[1] not in ("<", ">", "|", "=")
            or any(s is not None for s in state[2:5])
            or any(type(s) is not int for s in state[5:8])
            or state[5:8] != (-1, -1, 0)
            or (len(state) == 9 and state[8] is not None)
        ):
            raise pickle.UnpicklingError(
                "dtype state is not a plain float dtype's (fields, subarrays and flags are refused)"
            )
        if state[1] == "<":
            self.dtype = self.dtype.newbyteorder("<")
        elif state[1] == ">":
            self.dtype = self.dtype.newbyteorder(">")


class _ArraySpec:
    """``_reconstruct(ndarray, ...)`` as pickled; its BUILD state becomes a checked, fresh array."""

    __slots__ = ("array",)

    def __setstate__(self, state: Any) -> None:
        # ndarray state: (version, shape, dtype, is_fortran, raw bytes)
        if type(state) is not tuple or len(state) != 5:
            raise pickle.UnpicklingError("array state is not (version, shape, dtype, order, data)")
        version, shape, spec, fortran, data = state
        if type(version) is not int or type(fortran) is not bool:
            raise pickle.UnpicklingError("array state is not (version, shape, dtype, order, data)")
        self.array = _checked_array(shape, spec, fortran, data)


def _checked_array(shape: Any, spec: Any, fortran: bool, data: Any) -> np.ndarray:
    """A fresh array from pickled raw bytes, after checking every part of the request."""
    if not isinstance(spec, _DtypeSpec):
        raise pickle.UnpicklingError("array dtype is not a numpy.dtype")
    if type(shape) is not tuple or any(type(s) is not int or s < 0 for s in shape):
        raise pickle.UnpicklingError(f"array shape {shape!r} is not a tuple of sizes")
    if isinstance(data, str):  # Python 2 pickles store bytes as latin-1 text
        data = data.encode("latin-1")
    if type(data) not in (bytes, bytearray):
        raise pickle.UnpicklingError(
            f"array data is a {type(data).__name__}; expected raw bytes (object arrays are refused)"
        )
    need = int(np.prod(shape, dtype=object)) * spec.dtype.itemsize
    if len(data) != need:
        raise pickle.UnpicklingError(
            f"array of shape {shape} and dtype {spec.dtype} needs {need:,} bytes but the "
            f"pickle holds {len(data):,}"
        )
    flat = np.frombuffer(bytes(data), dtype=spec.dtype)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), copy=True)


class _NdarrayName:
    """The global ``numpy.ndarray``: only a marker for ``_reconstruct``; it cannot be called."""

    __slots__ = ()


class _ReconstructName:
    __slots__ = ()

    def __call__(self, subtype: Any, shape: Any, dtype_code: Any) -> _ArraySpec:
        if not isinstance(subtype, _NdarrayName):
            raise pickle.UnpicklingError("_reconstruct may only build numpy.ndarray")
        if type(shape) is not tuple or any(type(s) is not int or s < 0 for s in shape):
            raise pickle.UnpicklingError(f"_reconstruct shape {shape!r} is not a tuple of sizes")
        if np.prod(shape, dtype=object) > 1:
            raise pickle.UnpicklingError(f"_reconstruct placeholder shape {shape!r} is not empty")
        if not isinstance(dtype_code, (bytes, str)):
            raise pickle.UnpicklingError("_reconstruct dtype must be a type code")
        return _ArraySpec()


class _DtypeName:
    __slots__ = ()

    def __call__(self, code: Any, align: Any = False, copy: Any = False) -> _DtypeSpec:
        if not isinstance(code, str) or code not in _DTYPE_CODES:
            raise pickle.UnpicklingError(f"dtype {code!r} is not a float dtype")
        return _DtypeSpec(np.dtype(code))


class _FrombufferName:
    __slots__ = ()

    def __call__(self, data: Any, spec: Any, shape: Any, order: Any) -> _ArraySpec:
        if not isinstance(order, str) or order not in ("C", "F"):
            raise pickle.UnpicklingError(f"_frombuffer order {order!r} is not 'C' or 'F'")
        out = _ArraySpec()
        out.array = _checked_array(shape, spec, order == "F", data)
        return out


class _EncodeName:
    __slots__ = ()

    def __call__(self, text: Any, encoding: Any = "utf-8") -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise pickle.UnpicklingError("_codecs.encode is allowed only as encode(text, 'latin1')")
        return text.encode("latin-1")


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _RECONSTRUCT:
            return _ReconstructName()
        if key in _NDARRAY:
            return _NdarrayName()
        if key in _DTYPE:
            return _DtypeName()
        if key in _FROMBUFFER:
            return _FrombufferName()
        if key in _ENCODE:
            return _EncodeName()
        raise RefusedGlobal(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def _arrays_of(obj: Any) -> Any:
    """Replace the stand-ins of a top-level dict by their arrays (nested ones stay refused)."""
    if isinstance(obj, _ArraySpec):
        if not hasattr(obj, "array"):
            raise pickle.UnpicklingError("an array has no data (its BUILD step is missing)")
        return obj.array
    if isinstance(obj, dict):
        return {k: _arrays_of(v) if isinstance(v, _ArraySpec) else v for k, v in obj.items()}
    return obj


def safe_unpickle(raw: bytes, path: str) -> Any:
    """Unpickle ``raw`` admitting only NumPy's array reconstruction; one-line errors."""
    try:
        # Walk the opcodes first (pure Python, nothing allocated ahead of the data): the C
        # unpickler allocates a declared length (BINBYTES8, BYTEARRAY8 ...) before reading it,
        # and a forged length then ends in MemoryError or CPython noise on stderr.
        with warnings.catch_warnings():  # a protocol-0 STRING's bad escape warns; it is refused anyway
            warnings.simplefilter("ignore", DeprecationWarning)
            for count, (op, arg, _) in enumerate(pickletools.genops(raw)):
                # memo slots are numbered from 0 as objects are made; the C unpickler sizes its
                # memo table to the index it is given: a PUT of 1,000,000,000 allocates gigabytes
                if op.name in _MEMO_OPS and isinstance(arg, int) and not 0 <= arg <= count:
                    raise pickle.UnpicklingError(f"memo index {arg:,} at opcode {count:,} is out of range")
            # latin-1: Python 2 pickles (old repos) store array bytes as 8-bit text
            return _arrays_of(_RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load())
    except RefusedGlobal as exc:
        raise WeightsFileError(
            path,
            f"refused: the pickle references {exc.module}.{exc.name}, which is not allowed "
            "(only numpy arrays may be loaded; nothing from this file was run); convert it "
            "with 'nnverify convert' on a trusted machine, or save it as .npz",
            fmt=FMT,
        ) from None
    except RecursionError:
        raise WeightsFileError(path, "nests too deeply to be a weights pickle", fmt=FMT) from None
    except MemoryError:
        raise WeightsFileError(path, "declares more memory than is available", fmt=FMT) from None
    except Exception as exc:  # truncated or corrupt streams raise many kinds
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsFileError(path, f"is not a valid weights pickle ({msg})", fmt=FMT) from None


def read_pickle(
    raw: bytes,
    path: str,
    activations: Sequence[Activation | str] | None,
    limits: Limits,
    name: str,
) -> Network:
    obj = safe_unpickle(raw, path)
    if not isinstance(obj, dict):
        raise WeightsFileError(
            path, f"holds a {type(obj).__name__}; expected the book's dict of W1, b1, ...", fmt=FMT
        )
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsFileError(path, f"has a non-text key {key!r}", fmt=FMT)
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise WeightsFileError(
                path, f"value is {kind}; expected a float32 or float64 array", fmt=FMT, key=key
            )
    n_layers = layer_count(list(obj), path, FMT)
    limits.check_params(sum(int(v.size) for v in obj.values()), path)
    acts = resolve_activations(n_layers, activations, None, path, FMT)
    # native byte order: a big-endian float32 is still float32 to the model
    arrays = {k: np.ascontiguousarray(v, dtype=v.dtype.newbyteorder("=")) for k, v in obj.items()}
    return network_from_arrays(arrays, acts, path, FMT, name, defaulted=activations is None)
