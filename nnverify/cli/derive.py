"""``nnverify derive``: the SymPy model's closed forms, per output and per unit (layered)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nnverify.cli.common import add_network_arguments, network_from_args, print_json
from nnverify.errors import UsageError

if TYPE_CHECKING:
    from nnverify.symbolic.derive import Derivation

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


def _unit_arg(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    m = _UNIT.fullmatch(text.strip())
    if not m:
        raise UsageError(f"--unit {text!r} is not a unit; give layer and unit like a2_1 (1-based)")
    return int(m.group(2)), int(m.group(3))


def _json(d: Derivation, show: Callable[[Any], str], x_text: str | None) -> dict[str, Any]:
    def opt(e: Any) -> str | None:
        return None if e is None else show(e)

    units = []
    for u in d.units:
        entry: dict[str, Any] = {"layer": u.layer, "unit": u.unit, "activation": u.activation,
                                 "a": show(u.a), "z": show(u.z)}
        if d.one_unit:
            entry.update({"closed_form_nodes": u.closed_nodes, "a_closed": opt(u.a_closed),
                          "z_closed": opt(u.z_closed), "a_value": u.a_value, "z_value": u.z_value})
        units.append(entry)
    outputs = [{"output": o.output, "layered": show(o.layered), "closed_form": opt(o.closed),
                "closed_form_nodes": o.closed_nodes, "value": o.value} for o in d.outputs]
    return {"network": d.network.describe(), "mode": d.mode.value, "format": "sympy str + latex",
            "x": x_text, "units": units, "outputs": outputs}


_MODE_TEXT = {"symbolic": "weights and biases are symbols",
              "binary": "each weight is the exact value of its stored float",
              "decimal": "each weight is the rational its literal text says, 0.1 = 1/10"}


def _too_big(nodes: int, depth: int, max_ops: int) -> str:
    from nnverify.symbolic.model import MAX_CLOSED_DEPTH


    if nodes > max_ops:
        return f"{nodes:,} nodes, above --max-ops {max_ops:,}"
    return f"{depth:,} levels of nesting, beyond the {MAX_CLOSED_DEPTH} SymPy can print"


def _print(d: Derivation, latex: bool, x_text: str | None) -> None:
    import sympy

    from nnverify.symbolic import a_symbol, y_symbol, z_symbol

    show = sympy.latex if latex else str
    comment = "% " if latex else ""

    def line(lhs: Any, rhs: Any, value: str | None = None) -> str:
        tail = "" if value is None else (f" \\approx {value}" if latex else f"  = {value}")
        return f"\\[ {show(lhs)} = {show(rhs)}{tail} \\]" if latex else f"  {show(lhs)} = {show(rhs)}{tail}"

    print(f"{comment}network: {d.network.describe()}")
    print(f"{comment}mode: {d.mode.value}: {_MODE_TEXT[d.mode.value]}")
    if x_text is not None:
        print(f"{comment}x = ({x_text})")
    current, L = None, len(d.network.layers)
    for u in d.units:
        if u.layer != current:
            current = u.layer
            print(f"{comment}layer {current} ({'sigma' if current == L else 'h'} = {u.activation})")
        print(line(a_symbol(u.layer, u.unit), u.a))
        print(line(z_symbol(u.layer, u.unit), u.z))
        if d.one_unit and u.a_closed is None:
            print(f"{comment}closed form in x: {_too_big(u.closed_nodes or 0, u.closed_depth, d.max_ops)}; "
                  "the layered definitions define it")
        elif d.one_unit:
            print(f"{comment}closed form in x:")
            print(line(a_symbol(u.layer, u.unit), u.a_closed, u.a_value))
            print(line(z_symbol(u.layer, u.unit), u.z_closed, u.z_value))
    if d.outputs:
        print(f"{comment}outputs")
    for o in d.outputs:
        print(line(y_symbol(o.output), o.layered))
        if o.closed is None:
            why = _too_big(o.closed_nodes, o.closed_depth, d.max_ops)
            print(f"{comment}  y_{o.output}: the closed form has {why}; the layered definitions define it")
        else:
            print(line(y_symbol(o.output), o.closed, o.value))


def run(args: argparse.Namespace) -> int:
    from nnverify.inputs import parse_x
    from nnverify.symbolic import DEFAULT_MAX_OPS
    from nnverify.symbolic.derive import derive

    network = network_from_args(args)
    d = derive(network, mode=args.mode, unit=_unit_arg(args.unit), output=args.output,
               x=None if args.x is None else parse_x(args.x), digits=args.digits,
               max_ops=DEFAULT_MAX_OPS if args.max_ops is None else args.max_ops)
    if args.format == "json":
        print_json(_json(d, str, args.x))
    else:
        _print(d, args.format == "latex", args.x)
    return 0
