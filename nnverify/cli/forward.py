"""``nnverify forward``: run the NumPy forward pass and print every layer in the book's names."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from nnverify.cli.common import (
    add_input_arguments,
    add_network_arguments,
    add_output_arguments,
    inputs_from_args,
    network_from_args,
    print_json,
)
from nnverify.model import Activation
from nnverify.numeric import forward

HELP = "run the NumPy forward pass and print each layer's a and z and the output y"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_network_arguments(p)
    add_input_arguments(p)
    add_output_arguments(p)
    p.add_argument("--full", action="store_true", help="print every value of large arrays")


def _fmt(arr: np.ndarray, full: bool) -> str:
    """Eight significant decimals as the book prints them, trimmed: [0.3, 0.7, 1.1]."""
    def one(v: np.floating) -> str:
        return np.format_float_positional(v, precision=8, unique=True, trim="0") \
            if 1e-4 <= abs(v) < 1e16 or v == 0 or not np.isfinite(v) \
            else np.format_float_scientific(v, precision=7, unique=True, trim="-")

    return np.array2string(
        arr,
        separator=", ",
        max_line_width=100,
        threshold=10**9 if full else 12,
        edgeitems=3,
        formatter={"float_kind": one},
    )


def run(args: argparse.Namespace) -> int:
    network = network_from_args(args)
    inputs = inputs_from_args(args, network)
    x = inputs.as_dtype(network.dtype)
    if inputs.single:
        x = x[0]
    with np.errstate(over="ignore", invalid="ignore"):  # inf/nan are printed, and noted below
        fp = forward(network, x)
    if not all(np.isfinite(a).all() for a in fp.a + fp.z):
        print("nnverify forward: note: the float pass overflowed (inf or nan above); "
              "the exact model has no such limit (see nnverify check)", file=sys.stderr)
    # classes (0-based, as np.argmax counts) for labelled inputs or a softmax classifier
    classes = network.n_outputs >= 2 and (inputs.labels is not None
                                          or network.activations[-1] is Activation.SOFTMAX)
    predicted = np.argmax(fp.y, axis=-1) if classes else None
    labels = inputs.labels if predicted is not None else None
    correct = None if labels is None or predicted is None else int(np.sum(np.atleast_1d(predicted) == labels))
    if args.json:
        doc: dict[str, Any] = {
            "network": network.describe(),
            "dtype": str(network.dtype),
            "x": fp.x,
            "layers": [{"a": a, "z": z} for a, z in zip(fp.a, fp.z)],
            "y": fp.y,
        }
        if predicted is not None:
            doc["predicted"] = predicted
        if labels is not None and correct is not None:
            doc.update({"labels": labels[0] if inputs.single else labels, "accuracy": correct / len(labels)})
        print_json(doc)
        return 0
    print(f"network: {network.describe()}")
    batch = f" (batch of {x.shape[0]})" if x.ndim == 2 else ""
    print(f"x  = {_fmt(fp.x, args.full)}{batch}")
    L = len(network.layers)
    for l, (a, z, layer) in enumerate(zip(fp.a, fp.z, network.layers), start=1):
        h = layer.activation.value
        print(f"A{l} = {_fmt(a, args.full)}")
        name = "Y " if l == L else f"Z{l}"
        print(f"{name} = {_fmt(z, args.full)}    # {'sigma' if l == L else 'h'} = {h}")
    if predicted is not None:
        print(f"predicted = {_fmt(predicted, args.full)}    # argmax of Y, 0-based like np.argmax: "
              "class 0 is y1")
    if labels is not None and correct is not None:
        print(f"labels    = {_fmt(labels[0] if inputs.single else labels, args.full)}")
        print(f"accuracy: {round(correct / len(labels), 4)} ({correct} of {len(labels)})")
    return 0
