"""Options shared by the subcommands, and turning them into a network and inputs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from nnverify.errors import UsageError
from nnverify.inputs import Inputs, load_inputs, parse_x, sample_inputs
from nnverify.limits import Limits
from nnverify.model import Network
from nnverify.status import json_float
from nnverify.weights import BOOK_X_TEXT, BUILTIN_NAMES, load_network

__all__ = [
    "add_network_arguments",
    "add_input_arguments",
    "add_output_arguments",
    "network_from_args",
    "inputs_from_args",
    "limits_from_args",
    "print_json",
]


def add_network_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("network")
    g.add_argument(
        "--weights",
        metavar="PATH",
        default=None,
        help="weights file (JSON, NPZ or the book's pickle) or a built-in name: "
        + "; ".join(f"{k}: {v}" for k, v in BUILTIN_NAMES.items()),
    )
    g.add_argument(
        "--activations",
        metavar="LIST",
        default=None,
        help="one activation per layer, comma-separated (identity, sigmoid, relu, step, tanh, "
        "softmax); default: the file's, else sigmoid for hidden layers and identity for the output",
    )
    g.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default=None,
        help="compute in this dtype (weights and inputs converted); default: the weights' dtype",
    )
    g.add_argument("--max-params", type=int, default=Limits.max_params, metavar="N",
                   help=f"refuse networks with more weights (default {Limits.max_params:,})")
    g.add_argument("--max-file-mb", type=int, default=Limits.max_file_bytes // 2**20, metavar="MB",
                   help="refuse larger files (default %(default)s)")
    g.add_argument("--max-inputs", type=int, default=Limits.max_inputs, metavar="N",
                   help=f"refuse more input values (default {Limits.max_inputs:,})")


def add_input_arguments(p: argparse.ArgumentParser, *, samples: bool = True) -> None:
    g = p.add_argument_group("inputs (default: the book's x = 1.0,0.5 for the book network)")
    m = g.add_mutually_exclusive_group()
    m.add_argument("--x", metavar="VALUES", default=None, help="one input, e.g. --x 1.0,0.5")
    m.add_argument("--inputs", metavar="FILE", default=None,
                   help="a batch of inputs: .npy (N, n), JSON list of lists, or CSV one row a line")
    if samples:
        m.add_argument("--samples", metavar="N", type=int, default=None,
                       help="N inputs drawn uniformly from [--low, --high) with --seed")
        g.add_argument("--low", type=float, default=0.0, help="lower end for --samples (default 0)")
        g.add_argument("--high", type=float, default=1.0, help="upper end for --samples (default 1)")
        g.add_argument("--seed", type=int, default=0, help="seed for --samples (default 0)")


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")


def limits_from_args(args: argparse.Namespace) -> Limits:
    for opt in ("max_params", "max_file_mb", "max_inputs"):
        if getattr(args, opt) < 1:
            raise UsageError(f"--{opt.replace('_', '-')} {getattr(args, opt)}: must be at least 1")
    return Limits(
        max_params=args.max_params,
        max_file_bytes=args.max_file_mb * 2**20,
        max_inputs=args.max_inputs,
    )


def _split_activations(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [t.strip() for t in text.split(",")]
    if not all(names):
        raise UsageError(f"--activations {text!r} has an empty name; give e.g. sigmoid,sigmoid,identity")
    return names


def network_from_args(args: argparse.Namespace) -> Network:
    """The network from ``--weights/--activations/--dtype`` (default: the book's network)."""
    net = load_network(
        args.weights,
        activations=_split_activations(args.activations),
        limits=limits_from_args(args),
    )
    if args.dtype is not None:
        net = net.astype(args.dtype)
    return net


def inputs_from_args(args: argparse.Namespace, network: Network) -> Inputs:
    """The inputs from ``--x/--inputs/--samples``; the book's x for the book network by default."""
    limits = limits_from_args(args)
    if args.x is not None:
        inputs = parse_x(args.x)
    elif args.inputs is not None:
        inputs = load_inputs(args.inputs, limits=limits)
    elif getattr(args, "samples", None) is not None:
        limits.check_inputs(args.samples * network.n_inputs, f"--samples {args.samples}")
        inputs = sample_inputs(network.n_inputs, args.samples, low=args.low, high=args.high,
                               seed=args.seed)
    elif network.n_inputs == len(BOOK_X_TEXT):
        inputs = parse_x(",".join(BOOK_X_TEXT))
    else:
        more = ", --samples N" if hasattr(args, "samples") else ""
        raise UsageError(
            f"the network takes {network.n_inputs} inputs and none were given; use --x, "
            f"--inputs FILE{more}"
        )
    if inputs.values.shape[1] != network.n_inputs:
        raise UsageError(
            f"{inputs.source}: gives {inputs.values.shape[1]} values per input but the network "
            f"takes {network.n_inputs} (W1 has shape {network.layers[0].W.shape})"
        )
    return inputs


def jsonable(value: Any) -> Any:
    """Arrays to nested lists of Python floats (exact: float32 widens losslessly)."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.dtype.kind != "f" else value.astype(np.float64).tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return json_float(value)  # JSON has no inf/nan: the same strings as the check reports
    return value


def dumps_json(doc: Any, indent: int = 0) -> str:
    """JSON with objects indented and lists of scalars kept on one line (one matrix row a line).

    Floats print in Python's shortest round-trip form, so every value reads back exactly.
    """
    doc = jsonable(doc)
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(doc, dict):
        if not doc:
            return "{}"
        items = [f"{inner}{json.dumps(str(k))}: {dumps_json(v, indent + 1)}" for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(doc, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple, np.ndarray)) for v in doc):
            return "[" + ", ".join(json.dumps(jsonable(v), allow_nan=False) for v in doc) + "]"
        items = [inner + dumps_json(v, indent + 1) for v in doc]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(doc, allow_nan=False)


def print_json(doc: Any) -> None:
    sys.stdout.write(dumps_json(doc) + "\n")
