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
from nnverify.limits import MAX_ACTIVATION_NAME, MAX_LAYERS, MAX_NPY_TRAILING_BYTES, Limits
from nnverify.model import Activation, Network
from nnverify.weights._book import layer_count, network_from_arrays, resolve_activations

FMT = "NPZ"
#: Members a network's NPZ can have: a W and a b per layer, activations and domain.
MAX_MEMBERS = 2 * MAX_LAYERS + 2
#: What starts each entry of a zip archive's central directory.
_CENTRAL_ENTRY = b"PK\x01\x02"


def _member_header(zf: zipfile.ZipFile, member: str, path: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """A member's shape and dtype from its .npy header, and the bytes of data it inflates to."""
    key = member[:-4] if member.endswith(".npy") else member
    try:
        with zf.open(member) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            header = fh.tell()
    except Exception as exc:  # zipfile/format raise many kinds for a corrupt member
        raise WeightsFileError(path, f"member is not a valid .npy array ({exc})", fmt=FMT, key=key) from None
    return shape, dtype, zf.getinfo(member).file_size - header


def _check_size(key: str, shape: tuple[int, ...], dtype: np.dtype, size: int, path: str) -> None:
    """Refuse a member that inflates to far more than its header declares (np.load would inflate
    only the declared bytes, but the zip holds a bomb)."""
    data = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > data + MAX_NPY_TRAILING_BYTES:
        raise WeightsFileError(path, f"member inflates to {size:,} bytes of data but its header declares "
                               f"{tuple(shape)} {dtype} ({data:,} bytes); rewrite it with np.savez",
                               fmt=FMT, key=key)


def _open(raw: bytes, path: str) -> tuple[zipfile.ZipFile, list[str], list[str]]:
    """The archive, its member names and their keys (``.npy`` dropped), each key once. The members
    are counted before zipfile reads its directory (a million empty members took 10 s and 860 MB)."""
    entries = raw.count(_CENTRAL_ENTRY)  # every member's directory entry starts so
    if entries > MAX_MEMBERS:
        raise WeightsFileError(path, f"has {entries:,} zip directory entries; a network has at most "
                               f"{MAX_LAYERS:,} layers (a W and a b each), activations and domain", fmt=FMT)
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
    total = 0  # every member is judged from its header before np.load inflates any of them
    for member, key in zip(members, keys):
        shape, dtype, size = _member_header(zf, member, path)
        total += _check_member(key, shape, dtype, n_layers, path)
        _check_size(key, shape, dtype, size, path)
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
