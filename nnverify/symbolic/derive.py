"""Derivations: the layered definitions and closed forms of chosen units and outputs, as data.

The library half of ``nnverify derive``: :func:`derive` decides what to build (refusing before
it builds anything too large), builds it, and evaluates closed forms at an input with SymPy's
``evalf`` when one is given. Printing is the caller's (the CLI prints text, LaTeX or JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from nnverify.display import derivation_html, derivation_latex
from nnverify.errors import LimitError, UsageError
from nnverify.inputs import Inputs
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.rationals import parse_literal
from nnverify.symbolic.model import DEFAULT_MAX_OPS, MAX_CLOSED_DEPTH, SymbolicModel, build_model
from nnverify.symbolic.symbols import x_symbol
from nnverify.validate import check_int, check_network

__all__ = ["UnitDerivation", "OutputDerivation", "Derivation", "derive", "layered_size_bound"]


@dataclass(frozen=True)
class UnitDerivation:
    """One unit ``(l, j)``: its layered ``a`` and ``z`` and, when asked for and small enough, its closed form.

    Args:
        layer: ``l`` (1-based).
        unit: ``j`` (1-based).
        activation: the layer's activation name.
        a: the layered ``a^{(l)}_j`` (in the previous layer's ``z`` symbols).
        z: the layered ``z^{(l)}_j = h(a^{(l)}_j)``.
        closed_nodes: the expanded size in nodes (None when the closed form was not asked for).
        a_closed: ``a^{(l)}_j`` in ``x`` (None when not asked for or above ``max_ops``).
        z_closed: ``z^{(l)}_j`` in ``x`` (likewise).
        a_value: ``a_closed`` at the input, as decimal text (None without an input).
        z_value: ``z_closed`` at the input.
        closed_depth: the expanded nesting depth (0 when the closed form was not asked for).
    """

    layer: int
    unit: int
    activation: str
    a: sympy.Expr
    z: sympy.Expr
    closed_nodes: int | None = None
    a_closed: sympy.Expr | None = None
    z_closed: sympy.Expr | None = None
    a_value: str | None = None
    z_value: str | None = None
    closed_depth: int = 0


@dataclass(frozen=True)
class OutputDerivation:
    """One output ``y_k``: its layered definition and, when small enough, its closed form in ``x``."""

    output: int
    layered: sympy.Expr
    closed_nodes: int
    closed: sympy.Expr | None = None
    value: str | None = None
    closed_depth: int = 0


@dataclass(frozen=True, eq=False)
class Derivation:
    """What :func:`derive` built: the units and outputs asked for, in one mode, maybe at one input."""

    network: Network
    mode: Mode
    max_ops: int
    x: Inputs | None
    units: tuple[UnitDerivation, ...]
    outputs: tuple[OutputDerivation, ...]
    one_unit: bool = False

    def _repr_html_(self) -> str:  # Jupyter shows it: nnverify.display
        return derivation_html(self)

    def _repr_latex_(self) -> str:
        return derivation_latex(self)



def layered_size_bound(network: Network) -> int:
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


def _point(network: Network, x: Inputs | None, mode: Mode) -> dict[sympy.Symbol, sympy.Rational] | None:
    """``{x_i: Rational}``: the text's rationals in decimal mode, else the floats' (cast to the dtype)."""
    if x is None:
        return None
    if mode is Mode.SYMBOLIC:
        raise UsageError("--x needs numbers for the weights; use --mode binary or --mode decimal")
    if x.values.shape[1] != network.n_inputs:
        raise UsageError(f"--x gives {x.values.shape[1]} values but the network takes {network.n_inputs}")
    if mode is Mode.DECIMAL and x.text is not None:
        values = [parse_literal(t) for t in x.text[0]]
    else:
        values = [Fraction(float(v)) for v in x.as_dtype(network.dtype)[0]]
    return {x_symbol(i): sympy.Rational(q.numerator, q.denominator) for i, q in enumerate(values, start=1)}


def _value(expr: sympy.Expr, point: dict[sympy.Symbol, sympy.Rational] | None, digits: int) -> str | None:
    if point is None:
        return None
    v = expr.evalf(digits, subs=point)
    if not v.is_number:
        raise UsageError(f"the expression still has free symbols {sorted(map(str, v.free_symbols))}")
    return str(sympy.Float(v, digits))


def _refuse_whole_model(network: Network, max_ops: int) -> None:
    # Refuse before building: a 1000x1000 layer takes ~30 s to build, and the shapes and
    # non-zero weights already bound what printing every unit would cost.
    most = layered_size_bound(network)
    if most > max_ops:
        raise LimitError(
            f"the layered model of {network.name} has up to {most:,} expression nodes, above "
            f"--max-ops {max_ops:,}; pick one with --unit a1_1 or --output 1, or raise it with "
            f"--max-ops {most}"
        )


def _whole_model(model: SymbolicModel, max_ops: int) -> tuple[list[tuple[int, int]], list[int]]:
    units = [(l, j) for l in range(1, model.n_layers + 1) for j in range(1, len(model.a[l - 1]) + 1)]
    layered = sum(model.layered_size(l, j) for l, j in units)
    if layered > max_ops:
        raise LimitError(
            f"the layered model of {model.network.name} has {layered:,} expression nodes, above "
            f"--max-ops {max_ops:,}; pick one with --unit a1_1 or --output 1, or raise it with "
            f"--max-ops {layered}"
        )
    return units, list(range(1, len(model.z[-1]) + 1))


def _unit(model: SymbolicModel, l: int, j: int, closed: bool, point: dict[sympy.Symbol, sympy.Rational] | None,
          digits: int, max_ops: int) -> UnitDerivation:
    a, z = model.unit(l, j)
    act = model.network.layers[l - 1].activation.value
    if not closed:
        return UnitDerivation(l, j, act, a, z)
    size, depth = model.expanded_size(l, j), model.expanded_depth(l, j)
    if size > max_ops or depth > MAX_CLOSED_DEPTH:
        return UnitDerivation(l, j, act, a, z, closed_nodes=size, closed_depth=depth)
    ca, cz = model.closed_unit(l, j, max_ops=max_ops)
    return UnitDerivation(l, j, act, a, z, size, ca, cz, _value(ca, point, digits), _value(cz, point, digits),
                          depth)


def derive(
    network: Network,
    *,
    mode: Mode | str | None = None,
    unit: tuple[int, int] | None = None,
    output: int | None = None,
    x: Inputs | None = None,
    digits: int = 20,
    max_ops: int = DEFAULT_MAX_OPS,
) -> Derivation:
    """The layered definitions and closed forms of one unit, one output, or the whole network.

    Args:
        network: the network.
        mode: SYMBOLIC, BINARY or DECIMAL weights; default DECIMAL when the network has literal
            text, else BINARY.
        unit: ``(l, j)``: that unit's layered ``a`` and ``z`` and its closed form in ``x``.
        output: ``k``: the output ``y_k``, layered and as a closed form (a closed form above
            ``max_ops`` raises :class:`LimitError`; in a whole-network derivation it is left out).
        x: an input to evaluate each closed form at (SymPy ``evalf``), or None.
        digits: significant digits of those values.
        max_ops: the largest expression (tree nodes) to build.

    Example:
        >>> from nnverify.weights import book_network
        >>> d = derive(book_network(), output=1)
        >>> d.outputs[0].output, d.mode.value
        (1, 'decimal')
    """
    check_network(network)
    max_ops = check_int("--max-ops", max_ops, 1)
    digits = check_int("--digits", digits, 1, 1000)
    chosen = Mode.parse(mode) if mode is not None else (Mode.DECIMAL if network.has_text else Mode.BINARY)
    if unit is None and output is None:
        _refuse_whole_model(network, max_ops)
    model = build_model(network, chosen)
    point = _point(network, x, chosen)
    if unit is not None:
        model.unit(*unit)  # validates the indices
        units, outputs = [unit], []
    elif output is not None:
        model.output(output)
        units, outputs = [], [output]
    else:
        units, outputs = _whole_model(model, max_ops)
    L = model.n_layers
    unit_docs = tuple(_unit(model, l, j, unit is not None, point, digits, max_ops) for l, j in units)
    output_docs = []
    for k in outputs:
        size, depth = model.expanded_size(L, k), model.expanded_depth(L, k)
        fits = size <= max_ops and depth <= MAX_CLOSED_DEPTH
        closed = model.closed_form(k, max_ops=max_ops) if output is not None or fits else None
        output_docs.append(OutputDerivation(k, model.output(k), size, closed,
                                            None if closed is None else _value(closed, point, digits), depth))
    return Derivation(network, chosen, max_ops, x, unit_docs, tuple(output_docs), one_unit=unit is not None)
