"""The book's pickle (``sample_weight.pkl``) through a restricted unpickler.

A pickle can run any code, so plain ``pickle.load`` is never called on a user's file. The
unpickler here resolves only NumPy's array-reconstruction names (under their NumPy 1 and
NumPy 2 module paths), and wraps each so that its arguments are checked too: the class
must be ``ndarray`` itself and the dtype a plain float or the byte buffers NumPy's own
reconstruction uses. Every other global is refused before it is looked up, so nothing
it names is imported or run.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, Sequence

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
#: dtype codes a weights pickle may use: floats, and 'b' (int8) which _reconstruct's
#: placeholder buffer argument names in NumPy's own pickles.
_DTYPE_CODES = {"f2", "f4", "f8", "b1", "u1", "i1"}


class RefusedGlobal(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


def _reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError("_reconstruct may only build numpy.ndarray")
    if not isinstance(shape, tuple) or any(type(s) is not int or s < 0 for s in shape):
        raise pickle.UnpicklingError(f"_reconstruct shape {shape!r} is not a tuple of sizes")
    if np.prod(shape, dtype=object) > 1:
        raise pickle.UnpicklingError(f"_reconstruct placeholder shape {shape!r} is not empty")
    if not isinstance(dtype_code, (bytes, str)):
        raise pickle.UnpicklingError("_reconstruct dtype must be a type code")
    return np.ndarray.__new__(np.ndarray, shape, dtype=np.dtype(dtype_code))  # type: ignore[arg-type]


def _dtype(code: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(code, str) or code not in _DTYPE_CODES:
        raise pickle.UnpicklingError(f"dtype {code!r} is not a float dtype")
    return np.dtype(code, align=bool(align), copy=bool(copy))  # type: ignore[call-overload]


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _RECONSTRUCT:
            return _reconstruct
        if key in _NDARRAY:
            return np.ndarray
        if key in _DTYPE:
            return _dtype
        raise RefusedGlobal(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def safe_unpickle(raw: bytes, path: str) -> Any:
    """Unpickle ``raw`` admitting only NumPy's array reconstruction; one-line errors."""
    try:
        return _RestrictedUnpickler(io.BytesIO(raw)).load()
    except RefusedGlobal as exc:
        raise WeightsFileError(
            path,
            f"refused: the pickle references {exc.module}.{exc.name}, which is not allowed "
            "(only numpy arrays may be loaded; nothing from this file was run); if you trust "
            "the file, re-save its arrays with numpy.savez and load the .npz",
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
    arrays = {k: np.ascontiguousarray(v) for k, v in obj.items()}
    return network_from_arrays(arrays, acts, path, FMT, name)
