"""``nnverify derive``: the SymPy model's closed forms, per output and per unit (layered)."""

from __future__ import annotations

import argparse
import re
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.cli.common import add_network_arguments, network_from_args, print_json
from nnverify.errors import LimitError, UsageError

HELP = "print the exact closed forms of the network: per output y_k and per unit a/z (layered)"

_UNIT = re.compile(r"([az])?(\d+)_(\d+)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_network_arguments(p)
    g = p.add_argument_group("what to derive")
    g.add_argument("--mode", choices=("symbolic", "binary", "decimal"), default=None,
                   help="weights as symbols w^(l)_ij (symbolic), as the exact value of each stored "
                   "float (binary), or as the file's literal text (decimal); default: decimal when "
                   "the file has literal text, else binary")
    sel = g.add_mutually_exclusive_group()
    sel.add_argument("--unit", metavar="a2_1",
                     help="one unit, layer 2 unit 1 (a2_1, z2_1 or 2_1): its layered definition and "
                     "its closed form in x")
    sel.add_argument("--output", type=int, metavar="K", help="one output y_K (1-based)")
    g.add_argument("--format", choices=("text", "latex", "json"), default="text",
                   help="text (SymPy's printer), latex (sympy.latex) or json (both)")
    g.add_argument("--x", metavar="VALUES", default=None,
                   help="also evaluate each closed form at this input (e.g. --x 1.0,0.5) with "
                   "SymPy's evalf on the printed expression")
    g.add_argument("--digits", type=int, default=20, metavar="D",
                   help="significant digits for --x values (default 20)")
    g.add_argument("--max-ops", type=int, default=None, metavar="N",
                   help="largest expression (tree nodes) to print or expand (default 100,000); "
                   "beyond it a one-line error names the size")


def _printer(fmt: str) -> Any:
    import sympy

    return sympy.latex if fmt == "latex" else str


def _input_point(args: argparse.Namespace, network: Any, mode: Any) -> dict[Any, Any] | None:
    """``{x_i: Rational}`` for ``--x``: the text's rationals in decimal mode, else the floats'."""
    if args.x is None:
        return None
    import sympy

    from nnverify.inputs import parse_x
    from nnverify.modes import Mode
    from nnverify.symbolic import x_symbol

    if mode is Mode.SYMBOLIC:
        raise UsageError("--x needs numbers for the weights; use --mode binary or --mode decimal")
    inputs = parse_x(args.x)
    if inputs.values.shape[1] != network.n_inputs:
        raise UsageError(f"--x gives {inputs.values.shape[1]} values but the network takes {network.n_inputs}")
    if mode is Mode.DECIMAL and inputs.text is not None:
        from nnverify.rationals import parse_literal

        values = [parse_literal(t) for t in inputs.text[0]]
    else:
        values = [Fraction(float(v)) for v in inputs.as_dtype(network.dtype)[0]]
    return {x_symbol(i): sympy.Rational(q.numerator, q.denominator) for i, q in enumerate(values, start=1)}


def _value(expr: Any, point: dict[Any, Any] | None, digits: int) -> str | None:
    if point is None:
        return None
    import sympy

    v = expr.evalf(digits, subs=point)
    if not v.is_number:
        raise UsageError(f"the expression still has free symbols {sorted(map(str, v.free_symbols))}")
    return str(sympy.Float(v, digits))


def _layered_size_bound(network: Any) -> int:
    """An upper bound on the node count of every unit's layered ``a`` and ``z``, from the weights alone.

    ``a_j = b_j + sum_i w_ij z_i`` has at most 2 + 3 * (non-zero w_ij) nodes (Add, b, and a Mul
    of a weight and a symbol per term); every activation's ``z`` has at most 3 m + 10 (softmax:
    exp(a_k) over a sum of m exps; sigmoid, relu, step, tanh fewer).
    """
    total = 0
    for layer in network.layers:
        m = layer.n_out
        total += int(2 * m + 3 * np.count_nonzero(layer.W)) + m * (3 * m + 10)
    return total


def run(args: argparse.Namespace) -> int:
    from nnverify.modes import Mode
    from nnverify.symbolic import DEFAULT_MAX_OPS, a_symbol, build_model, y_symbol, z_symbol

    max_ops = DEFAULT_MAX_OPS if args.max_ops is None else args.max_ops
    if max_ops < 1:
        raise UsageError(f"--max-ops {max_ops}: must be at least 1")
    if not 1 <= args.digits <= 1000:
        raise UsageError(f"--digits {args.digits}: must be from 1 to 1000")
    network = network_from_args(args)
    if args.mode is None:
        mode = Mode.DECIMAL if network.has_text else Mode.BINARY
    else:
        mode = Mode.parse(args.mode)
    if args.unit is None and args.output is None:
        # Refuse before building: a 1000x1000 layer takes ~30 s to build, and the shapes and
        # non-zero weights already bound what printing every unit would cost.
        most = _layered_size_bound(network)
        if most > max_ops:
            raise LimitError(
                f"the layered model of {network.name} has up to {most:,} expression nodes, above "
                f"--max-ops {max_ops:,}; pick one with --unit a1_1 or --output 1, or raise it with "
                f"--max-ops {most}"
            )
    model = build_model(network, mode)
    point = _input_point(args, network, mode)
    show = _printer(args.format)
    L = model.n_layers

    units: list[tuple[int, int]] = []
    outputs: list[int] = []
    if args.unit is not None:
        m = _UNIT.fullmatch(args.unit.strip())
        if not m:
            raise UsageError(f"--unit {args.unit!r} is not a unit; give layer and unit like a2_1 (1-based)")
        l, j = int(m.group(2)), int(m.group(3))
        model.unit(l, j)  # validates the indices
        units = [(l, j)]
    elif args.output is not None:
        model.output(args.output)
        outputs = [args.output]
    else:
        units = [(l, j) for l in range(1, L + 1) for j in range(1, len(model.a[l - 1]) + 1)]
        outputs = list(range(1, len(model.z[-1]) + 1))
        layered = sum(model.layered_size(l, j) for l, j in units)
        if layered > max_ops:
            raise LimitError(
                f"the layered model of {network.name} has {layered:,} expression nodes, above "
                f"--max-ops {max_ops:,}; pick one with --unit a1_1 or --output 1, or raise it with "
                f"--max-ops {layered}"
            )

    doc_units, doc_outputs = [], []
    for l, j in units:
        a, z = model.unit(l, j)
        entry: dict[str, Any] = {"layer": l, "unit": j, "activation": network.layers[l - 1].activation.value,
                                 "a": show(a), "z": show(z)}
        if args.unit is not None:
            size = model.expanded_size(l, j)
            entry["closed_form_nodes"] = size
            if size <= max_ops:
                ca, cz = model.closed_unit(l, j, max_ops=max_ops)
                entry.update({"a_closed": show(ca), "z_closed": show(cz),
                              "a_value": _value(ca, point, args.digits),
                              "z_value": _value(cz, point, args.digits)})
            else:
                entry.update({"a_closed": None, "z_closed": None, "a_value": None, "z_value": None})
        doc_units.append(entry)
    for k in outputs:
        size = model.expanded_size(L, k)
        closed = model.closed_form(k, max_ops=max_ops) if args.output is not None or size <= max_ops else None
        doc_outputs.append({
            "output": k,
            "layered": show(model.output(k)),
            "closed_form": None if closed is None else show(closed),
            "closed_form_nodes": size,
            "value": None if closed is None else _value(closed, point, args.digits),
        })

    if args.format == "json":
        print_json({"network": network.describe(), "mode": mode.value, "format": "sympy str + latex",
                    "x": args.x, "units": doc_units, "outputs": doc_outputs})
        return 0

    latex = args.format == "latex"

    def line(lhs: Any, rhs: str, value: str | None = None) -> str:
        import sympy

        name = sympy.latex(lhs) if latex else str(lhs)
        tail = "" if value is None else (f" \\approx {value}" if latex else f"  = {value}")
        return f"\\[ {name} = {rhs}{tail} \\]" if latex else f"  {name} = {rhs}{tail}"

    comment = "% " if latex else ""
    mode_text = {Mode.SYMBOLIC: "weights and biases are symbols",
                 Mode.BINARY: "each weight is the exact value of its stored float",
                 Mode.DECIMAL: "each weight is the rational its literal text says, 0.1 = 1/10"}[mode]
    print(f"{comment}network: {network.describe()}")
    print(f"{comment}mode: {mode.value}: {mode_text}")
    if args.x is not None:
        print(f"{comment}x = ({args.x})")
    current = None
    for e in doc_units:
        if e["layer"] != current:
            current = e["layer"]
            role = "sigma" if current == L else "h"
            print(f"{comment}layer {current} ({role} = {e['activation']})")
        l, j = e["layer"], e["unit"]
        print(line(a_symbol(l, j), e["a"]))
        print(line(z_symbol(l, j), e["z"]))
        if "a_closed" in e and e["a_closed"] is None:
            print(f"{comment}closed form in x: {e['closed_form_nodes']:,} nodes, above --max-ops {max_ops:,}; "
                  "the layered definitions define it")
        elif "a_closed" in e:
            print(f"{comment}closed form in x:")
            print(line(a_symbol(l, j), e["a_closed"], e["a_value"]))
            print(line(z_symbol(l, j), e["z_closed"], e["z_value"]))
    if doc_outputs:
        print(f"{comment}outputs")
    for o in doc_outputs:
        k = o["output"]
        print(line(y_symbol(k), o["layered"]))
        if o["closed_form"] is None:
            print(f"{comment}  y_{k}: the closed form has {o['closed_form_nodes']:,} nodes, above --max-ops "
                  f"{max_ops:,}; the layered definitions define it")
        else:
            print(line(y_symbol(k), o["closed_form"], o["value"]))
    return 0
