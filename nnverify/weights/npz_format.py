"""NPZ weights (the book's keys ``W1, b1, ...``), read with ``allow_pickle=False``.

Each member's header is read first, so a file that declares an absurd shape or dtype is refused
before anything is inflated or allocated: weights count against ``--max-params``, ``activations``
must be one short name per layer, ``domain`` two numbers. Optional members, which :func:`npz_bytes` writes so that the
file round-trips: ``activations`` (a string array) and ``domain`` (float64 ``[low, high]``,
the interval the inputs are meant to lie in).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import numpy as np

from nnverify.errors import WeightsFileError
from nnverify.limits import MAX_ACTIVATION_NAME, Limits
from nnverify.model import Activation, Network
from nnverify.weights._book import layer_count, network_from_arrays, resolve_activations

FMT = "NPZ"


def _member_header(zf: zipfile.ZipFile, member: str, path: str) -> tuple[tuple[int, ...], np.dtype]:
    key = member[:-4] if member.endswith(".npy") else member
    try:
        with zf.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except Exception as exc:  # zipfile/format raise many kinds for a corrupt member
        raise WeightsFileError(path, f"member is not a valid .npy array ({exc})", fmt=FMT, key=key) from None
    return shape, dtype


def _open(raw: bytes, path: str) -> tuple[zipfile.ZipFile, list[str], list[str]]:
    """The archive, its member names and their keys (``.npy`` dropped), each key once."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        members = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError) as exc:
        # NotImplementedError: a damaged header names a zip version or method zipfile lacks
        raise WeightsFileError(path, f"is not a readable zip archive ({exc})", fmt=FMT) from None
    keys = [m[:-4] if m.endswith(".npy") else m for m in members]
    seen: set[str] = set()
    for key in keys:  # NumPy would silently keep the last of two members with one name
        if key in seen:
            raise WeightsFileError(
                path, f"key {key!r} appears twice in the archive; keep one", fmt=FMT, key=key
            )
        seen.add(key)
    return zf, members, keys


def _check_member(key: str, shape: tuple[int, ...], dtype: np.dtype, n_layers: int, path: str) -> int:
    """Refuse a member whose header asks for what its key never holds, before it is inflated;
    returns the weights and biases it declares (0 for ``activations`` and ``domain``)."""
    if dtype.hasobject:
        raise WeightsFileError(path, f"holds Python objects (dtype {dtype}); weights must be float arrays",
                               fmt=FMT, key=key)
    if key == "activations":
        if dtype.kind != "U" or tuple(shape) != (n_layers,):
            raise WeightsFileError(path, f"declares dtype {dtype} and shape {tuple(shape)}; expected one "
                                   f"name per layer, shape ({n_layers},) of strings", fmt=FMT, key=key)
        if dtype.itemsize // 4 > MAX_ACTIVATION_NAME:
            raise WeightsFileError(path, f"declares names of {dtype.itemsize // 4:,} characters; an "
                                   f"activation's name has at most {MAX_ACTIVATION_NAME}", fmt=FMT, key=key)
        return 0
    if key == "domain":
        if tuple(shape) != (2,):
            raise WeightsFileError(path, f"has shape {tuple(shape)}; expected [low, high], shape (2,)",
                                   fmt=FMT, key=key)
        if dtype.kind not in "fiu":
            raise WeightsFileError(path, f"has dtype {dtype}; expected two numbers [low, high]", fmt=FMT, key=key)
        return 0
    if dtype.kind != "f":
        raise WeightsFileError(path, f"has dtype {dtype}; expected float32 or float64", fmt=FMT, key=key)
    return int(np.prod(shape, dtype=object))


def read_npz(
    raw: bytes,
    path: str,
    activations: Sequence[Activation | str] | None,
    limits: Limits,
    name: str,
) -> Network:
    zf, members, keys = _open(raw, path)
    n_layers = layer_count(keys, path, FMT, extra=("activations", "domain"))
    # every member is counted from its header before np.load inflates any of them
    total = sum(_check_member(key, *_member_header(zf, member, path), n_layers, path)
                for member, key in zip(members, keys))
    limits.check_params(total, path)
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:
        raise WeightsFileError(path, f"could not be read as NPZ ({exc})", fmt=FMT) from None
    acts_arr = arrays.pop("activations", None)
    stored = None if acts_arr is None else [str(s) for s in acts_arr]
    domain = arrays.pop("domain", None)
    try:
        acts = resolve_activations(n_layers, activations, stored, path, FMT)
    except WeightsFileError:
        raise
    except Exception as exc:
        raise WeightsFileError(path, str(exc), fmt=FMT, key="activations") from None
    return network_from_arrays(arrays, acts, path, FMT, name,
                               domain=None if domain is None else domain.astype(np.float64).tolist(),
                               defaulted=activations is None and stored is None)


def npz_bytes(network: Network) -> bytes:
    """The network as NPZ bytes: ``W1, b1, ...`` in their dtype plus ``activations``."""
    buf = io.BytesIO()
    arrays = network.to_book_dict()
    arrays["activations"] = np.array([a.value for a in network.activations])
    if network.domain is not None:
        arrays["domain"] = np.array(network.domain, dtype=np.float64)
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()
