"""The book's dict layout (``W1, b1, W2, b2, ...``) shared by the JSON, NPZ and pickle readers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from nnverify.errors import NNVerifyError, WeightsFileError
from nnverify.model import Activation, Layer, Network, check_domain
from nnverify.weights.known import recognise_arrays

_KEY = re.compile(r"([Wb])([1-9][0-9]*)")


def default_activations(n_layers: int) -> tuple[Activation, ...]:
    """The book's default: sigmoid on every hidden layer, identity on the output."""
    return (Activation.SIGMOID,) * (n_layers - 1) + (Activation.IDENTITY,)


def layer_count(keys: Sequence[str], path: str, fmt: str, extra: Sequence[str] = ()) -> int:
    """Check the keys are exactly W1, b1, ..., WL, bL (plus ``extra``) and return L."""
    indices: dict[str, set[int]] = {"W": set(), "b": set()}
    for key in keys:
        if key in extra:
            continue
        m = _KEY.fullmatch(key)
        if not m:
            raise WeightsFileError(
                path,
                f"unexpected key {key!r}; the book's layout has only W1, b1, W2, b2, ...",
                fmt=fmt,
            )
        indices[m.group(1)].add(int(m.group(2)))
    if not indices["W"] and not indices["b"]:
        raise WeightsFileError(
            path, "holds no W1/b1 arrays: the network is empty", fmt=fmt
        )
    n = max(indices["W"] | indices["b"])
    for letter in ("W", "b"):
        missing = [f"{letter}{l}" for l in range(1, n + 1) if l not in indices[letter]]
        if missing:
            raise WeightsFileError(
                path,
                f"key {missing[0]} is missing; layers must be numbered W1, b1 ... W{n}, b{n} "
                "without gaps",
                fmt=fmt,
            )
    return n


def resolve_activations(
    n_layers: int,
    given: Sequence[Activation | str] | None,
    stored: Sequence[Activation | str] | None,
    path: str,
    fmt: str,
) -> tuple[Activation, ...]:
    """``--activations`` beats what the file stores, which beats the book's default."""
    chosen = given if given is not None else stored
    if chosen is None:
        return default_activations(n_layers)
    acts = tuple(Activation.parse(a) for a in chosen)
    if len(acts) != n_layers:
        source = "--activations" if given is not None else "the file's activations"
        raise WeightsFileError(
            path,
            f"{source} lists {len(acts)} ({', '.join(a.value for a in acts)}) but the file "
            f"has {n_layers} layers; give one activation per layer",
            fmt=fmt,
        )
    return acts


def network_from_arrays(
    arrays: Mapping[str, np.ndarray],
    activations: Sequence[Activation],
    path: str,
    fmt: str,
    name: str,
    texts: Mapping[str, object] | None = None,
    *,
    domain: object = None,
    defaulted: bool = False,
) -> Network:
    """Build the network, turning model validation errors into file errors that carry the path.

    Args:
        arrays: ``W1, b1, ...`` as arrays.
        activations: one per layer.
        path: the file (for messages).
        fmt: the format read (for messages).
        name: the network's display name.
        texts: the literal text of each array, when the file had it.
        domain: the input domain the file stores, or None.
        defaulted: True when ``activations`` are the book's default (neither given nor stored):
            a file recognised by content (:mod:`nnverify.weights.known`) then gets the
            activations it was trained with. A recognised file always gets its input domain
            unless it stores one.
    """
    known = recognise_arrays(arrays)
    if known is not None:
        activations = known.activations if defaulted else activations
        domain = known.domain if domain is None else domain
    if domain is not None:
        try:
            domain = check_domain(domain, "\"domain\"")
        except NNVerifyError as exc:
            raise WeightsFileError(path, str(exc), fmt=fmt, key="domain") from None
    layers = []
    for l, act in enumerate(activations, start=1):
        W, b = arrays[f"W{l}"], arrays[f"b{l}"]
        W_text = b_text = None
        if texts is not None:
            W_text, b_text = texts.get(f"W{l}"), texts.get(f"b{l}")
        try:
            layers.append(Layer(W, b, act, W_text, b_text))  # type: ignore[arg-type]
        except NNVerifyError as exc:
            raise WeightsFileError(path, str(exc), fmt=fmt) from None
    try:
        return Network(tuple(layers), name=name, domain=domain)
    except NNVerifyError as exc:
        raise WeightsFileError(path, str(exc), fmt=fmt) from None
