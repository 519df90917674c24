"""Options shared by the subcommands, and turning them into a network and inputs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from nnverify.errors import UsageError
from nnverify.input_files import load_inputs, load_labels
from nnverify.inputs import Inputs, parse_x, sample_inputs
from nnverify.labels import check_label_range, select_rows
from nnverify.limits import Limits
from nnverify.model import Network
from nnverify.status import json_float
from nnverify.weights import BOOK_X_TEXT, BUILTIN_NAMES, load_network
from nnverify.weights.known import recognise

#: ``--inputs`` names besides files (nnverify.datasets.MNIST_DIGITS; that module loads lazily).
MNIST_DIGITS = "mnist-digits"
#: ``--samples`` draws from [--low, --high); without them from the network's domain, else this.
DEFAULT_SAMPLE_RANGE = (0.0, 1.0)

__all__ = [
    "add_network_arguments",
    "add_input_arguments",
    "add_output_arguments",
    "network_from_args",
    "inputs_from_args",
    "limits_from_args",
    "sample_range",
    "domain_text",
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
                   help=f"a batch of inputs: .npy (N, n), .npz with x (and labels), JSON list of lists, "
                   f"or CSV one row a line (a header naming a 'label' column gives labels); or "
                   f"{MNIST_DIGITS}: 10,000 real MNIST digits with labels, shipped with nnverify")
    if samples:
        m.add_argument("--samples", metavar="N", type=int, default=None,
                       help="N inputs drawn uniformly from [--low, --high) with --seed")
        g.add_argument("--low", type=float, default=None,
                       help="lower end for --samples (default: the network's input domain, else 0)")
        g.add_argument("--high", type=float, default=None,
                       help="upper end for --samples (default: the network's input domain, else 1)")
        g.add_argument("--seed", type=int, default=0, help="seed for --samples (default 0)")
    g.add_argument("--labels", metavar="FILE", default=None,
                   help="the class of each input row, 0-based (.npy, .npz with labels, JSON list, or "
                   "one whole number a line)")
    s = g.add_mutually_exclusive_group()
    s.add_argument("--first", metavar="N", type=int, default=None, help="only the first N inputs")
    s.add_argument("--indices", metavar="I,J,...", default=None,
                   help="only these inputs, by 0-based position (e.g. --indices 0,17,42)")
    s.add_argument("--per-class", metavar="K", type=int, default=None,
                   help="only the first K inputs of each class (needs labels)")


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
    """The network from ``--weights/--activations/--dtype`` (default: the book's network).

    A weights file recognised by content as a built-in network gets a note on stderr.
    """
    net = load_network(
        args.weights,
        activations=_split_activations(args.activations),
        limits=limits_from_args(args),
    )
    known = recognise(net) if args.weights is not None and args.weights not in BUILTIN_NAMES else None
    if known is not None:
        setting = ("your --activations" if args.activations is not None
                   else " -> ".join(a.value for a in net.activations))
        print(f"nnverify {getattr(args, 'command', '')}: note: {args.weights} holds {known.about}, recognised by "
              f"content: using {setting} and input domain {domain_text(net.domain)}, as "
              f"--weights {known.name}", file=sys.stderr)
    if args.dtype is not None:
        net = net.astype(args.dtype)
    return net


def domain_text(domain: tuple[float, float] | None) -> str:
    """``[0, 1]`` (shortest round-trip numbers), or ``none`` when there is no domain."""
    if domain is None:
        return "none"
    return "[" + ", ".join(repr(v) if v != int(v) else str(int(v)) for v in domain) + "]"


def sample_range(args: argparse.Namespace, network: Network) -> tuple[float, float, str]:
    """``(low, high, why)`` for ``--samples``: the options, else the network's domain, else [0, 1)."""
    domain = network.domain or DEFAULT_SAMPLE_RANGE
    low = domain[0] if args.low is None else args.low
    high = domain[1] if args.high is None else args.high
    if args.low is not None or args.high is not None:
        why = "--low/--high"
    elif network.domain is not None:
        why = f"the network's input domain {domain_text(network.domain)}"
    else:
        why = "the default; the network declares no input domain"
    return low, high, why


def _parse_indices(text: str) -> list[int]:
    cells = [c for c in text.replace(",", " ").split() if c]
    try:
        values = [int(c) for c in cells]
    except ValueError:
        values = []
    if not values:
        raise UsageError(f"--indices {text!r}: give whole numbers, e.g. --indices 0,17,42")
    return values


def _selected(inputs: Inputs, args: argparse.Namespace) -> Inputs:
    indices = None if args.indices is None else _parse_indices(args.indices)
    rows = select_rows(len(inputs), inputs.labels, first=args.first, indices=indices,
                       per_class=args.per_class, source=inputs.source)
    return inputs if rows is None else inputs.select(rows)


def _batch_from_args(args: argparse.Namespace, network: Network, limits: Limits) -> Inputs:
    """The inputs before any ``--first/--indices/--per-class`` selection."""
    if args.x is not None:
        return parse_x(args.x)
    if args.inputs == MNIST_DIGITS:
        from nnverify.datasets import mnist_digits

        indices = None if args.indices is None else _parse_indices(args.indices)
        return mnist_digits(first=args.first, indices=indices, per_class=args.per_class).inputs()
    if args.inputs is not None:
        return load_inputs(args.inputs, limits=limits, width=network.n_inputs)
    if getattr(args, "samples", None) is not None:
        limits.check_inputs(args.samples * network.n_inputs, f"--samples {args.samples}")
        low, high, _ = sample_range(args, network)
        return sample_inputs(network.n_inputs, args.samples, low=low, high=high, seed=args.seed)
    if network.n_inputs == len(BOOK_X_TEXT):
        return parse_x(",".join(BOOK_X_TEXT))
    more = ", --samples N" if hasattr(args, "samples") else ""
    raise UsageError(
        f"the network takes {network.n_inputs} inputs and none were given; use --x, "
        f"--inputs FILE{more}, or --inputs {MNIST_DIGITS}"
    )


def inputs_from_args(args: argparse.Namespace, network: Network) -> Inputs:
    """The inputs from ``--x/--inputs/--samples`` and ``--labels``, then ``--first/--indices/--per-class``.

    The book's x is the default for the book network. Labels are checked against the network's
    outputs (0-based classes); values outside the network's input domain get a note on stderr.
    """
    limits = limits_from_args(args)
    if args.labels is not None and args.x is None and args.inputs is None:
        raise UsageError(f"--labels {args.labels} gives the class of each input row, but no inputs were "
                         "given; add --inputs FILE (or --x) with one row per label")
    inputs = _batch_from_args(args, network, limits)
    if inputs.values.shape[1] != network.n_inputs:
        raise UsageError(
            f"{inputs.source}: gives {inputs.values.shape[1]} values per input but the network "
            f"takes {network.n_inputs} (W1 has shape {network.layers[0].W.shape})"
            + ("; the digits are 28x28 images, for a 784-input network such as --weights book-mnist"
               if args.inputs == MNIST_DIGITS else "")
        )
    if args.labels is not None:
        inputs = inputs.with_labels(load_labels(args.labels, limits=limits), args.labels)
    if inputs.labels is not None:
        check_label_range(inputs.labels, network.n_outputs,
                          args.labels if args.labels is not None else inputs.source)
    if args.inputs != MNIST_DIGITS:  # the shipped digits were selected as they were loaded
        inputs = _selected(inputs, args)
    if network.domain is not None:
        low, high = network.domain
        outside = int(((inputs.values < low) | (inputs.values > high)).sum())
        if outside:
            pixels = high == 1 and 1 < float(inputs.values.max()) <= 255
            print(f"nnverify {getattr(args, 'command', '')}: note: {outside:,} of {inputs.values.size:,} "
                  f"input values lie outside the network's input domain {domain_text(network.domain)}"
                  + ("; pixels 0..255? divide them by 255, as the book's load_mnist(normalize=True) does"
                     if pixels else ""), file=sys.stderr)
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
