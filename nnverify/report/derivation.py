"""Derivations: one unit's rows (symbolic, substituted, result) and the outputs' closed forms.

The rows of a derivation are printed by :class:`~nnverify.report.printer.LatexPrinter` from
the SymPy model's own trees (:mod:`nnverify.symbolic`, SYMBOLIC mode for the rows, BINARY or
DECIMAL for the closed forms); the numbers come from the certified evaluation
(:mod:`nnverify.certified`). Nothing here evaluates the network itself, except the first
layer's weighted sums, which are sums of products of exact rationals (checked against their
enclosures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy

from nnverify.certified import CertifiedPass, Enclosure
from nnverify.model import Activation, Network
from nnverify.modes import Mode
from nnverify.rationals import weight_rationals
from nnverify.report.layout import break_terms, estimate_width
from nnverify.report.numbers import Number, format_number
from nnverify.report.printer import LatexPrinter, SymbolTable

__all__ = [
    "Derivation",
    "unit_rows",
    "softmax_sum_rows",
    "softmax_sum_symbol",
    "closed_form_rows",
    "symbol_table",
    "enclosed",
    "output_name",
    "ROW_BUDGET",
    "math_block",
    "matrix",
    "fitted_matrix",
    "fmt_value",
    "exact_weights",
]

# Widths in digit widths (see layout.estimate_width): the text block is about 96 digits wide.
ROW_BUDGET = 74.0  # one display line after "&= "
_INNER_BUDGET = 40.0  # widest inner sum left inside a closed form before it gets a name


def enclosed(enc: Enclosure, digits: int) -> Number:
    """The enclosure's value to ``digits`` figures, fewer if the ball does not certify them all."""
    for d in range(digits, 0, -1):
        lo, hi = format_number(enc.lower, d), format_number(enc.upper, d)
        if lo.latex == hi.latex:
            return Number(lo.latex, lo.negative, lo.exact and hi.exact and enc.rad == 0)
    mid = format_number(enc.mid, 1)
    return Number(mid.latex, mid.negative, False)


def _rel(num: Number) -> str:
    return "=" if num.exact else r"\approx"


def exact_weights(network: Network, mode: Mode) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    """Per layer ``(W, b)`` as the exact rationals the oracle uses (binary when no text is kept)."""
    if mode is Mode.DECIMAL and not network.has_text:
        mode = Mode.BINARY
    return weight_rationals(network, mode)


def _sub(*indices: int) -> str:
    parts = [str(int(i)) for i in indices]
    return "".join(parts) if all(len(p) == 1 for p in parts) else ",".join(parts)


def output_name(k: int) -> str:
    return f"y_{{{k}}}"


def symbol_table(network: Network) -> SymbolTable:
    """Names (from integers) and print order of every symbol of the network's SymPy model."""
    from nnverify import symbolic as S

    table = SymbolTable()
    L = len(network.layers)
    for l, layer in enumerate(network.layers, start=1):
        for j in range(1, layer.n_out + 1):
            table.add(S.a_symbol(l, j), f"a^{{({l})}}_{{{j}}}", (0, l, j))
            name = output_name(j) if l == L else f"z^{{({l})}}_{{{j}}}"
            table.add(S.z_symbol(l, j), name, (1, l, j))
            table.add(S.b_symbol(l, j), f"b^{{({l})}}_{{{j}}}", (3, l, j))
            for i in range(1, layer.n_in + 1):
                table.add(S.w_symbol(l, i, j), f"w^{{({l})}}_{{{_sub(i, j)}}}", (2, l, i, j))
    for i in range(1, network.n_inputs + 1):
        table.add(S.x_symbol(i), f"x_{{{i}}}", (1, 0, i))
    for l, layer in enumerate(network.layers, start=1):
        if layer.activation is Activation.SOFTMAX:
            table.add(softmax_sum_symbol(l), f"S^{{({l})}}", (4, l))
    return table


def softmax_sum_symbol(l: int) -> sympy.Symbol:
    """The name ``S^{(l)}`` a report gives the softmax denominator of layer ``l``."""
    return sympy.Symbol(f"nnverify_report_S_{int(l)}", positive=True)


def _softmax_sum(l: int, n: int) -> sympy.Expr:
    """The softmax denominator as :func:`nnverify.symbolic.activation_expr` builds it."""
    from nnverify import symbolic as S

    return sympy.Add(*[sympy.exp(S.a_symbol(l, k)) for k in range(1, n + 1)])


def math_block(lhs: str, rows: Sequence[tuple[str, list[str]]], label: str | None) -> list[str]:
    """An ``align`` block ``lhs rel terms...`` over several rows; long rows broken between terms.

    Args:
        lhs: the left-hand side.
        rows: ``(relation, terms)`` per row; terms from :meth:`LatexPrinter.terms`.
        label: equation label for the last line (the only numbered one), or None.
    """
    out = [r"\begin{align}"]
    body: list[str] = []
    lhs_w = estimate_width(lhs)
    for k, (rel, terms) in enumerate(rows):
        first = ROW_BUDGET - (lhs_w if k == 0 else 0)
        for m, line in enumerate(break_terms(terms, ROW_BUDGET - 4, first_budget=first)):
            left = lhs if (k == 0 and m == 0) else ""
            prefix = f"&{rel} " if m == 0 else r"&\quad "
            body.append(f"{left} {prefix}{line}".strip())
    for n, line in enumerate(body):
        last = n == len(body) - 1
        tag = (f" \\label{{{label}}}" if label else "") if last else r" \nonumber"
        if label is None and last:
            tag = r" \nonumber"
        out.append(line + tag + ("" if last else r" \\"))
    out.append(r"\end{align}")
    return out


def matrix(values: Sequence[Sequence[str]]) -> str:
    rows = [" & ".join(r) for r in values]
    return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"


def _a_values(network: Network, cert: CertifiedPass, l: int, mode: Mode, digits: int) -> list[Number]:
    """Layer l's weighted sums for row 0, formatted.

    Layer 1 is a sum of products of exact rationals, so its exact value is known and ``=``
    can be claimed when the digits are exact (1.0*0.5 + 0.5*0.6 + 0.3 = 1.1 in decimal mode);
    it is checked against the certified enclosure. Deeper layers use the enclosures.
    """
    encs = cert.a[l - 1][0]
    if l != 1:
        return [enclosed(e, digits) for e in encs]
    W, b = exact_weights(network, mode)[0]
    x = cert.x_exact[0]
    out = []
    for j, enc in enumerate(encs):
        exact = sum((x[i] * W[i][j] for i in range(len(x))), Fraction(0)) + b[j]
        if not enc.contains(exact):
            raise ArithmeticError(f"a^(1)_{j + 1} = {exact} lies outside its certified enclosure")
        out.append(format_number(exact, digits))
    return out


@dataclass(frozen=True)
class Derivation:
    """One numbered derivation: ``lhs rel row_1``, ``rel row_2``, ... printed as an ``align``.

    Args:
        lhs: the left-hand side, e.g. ``a^{(1)}_{1}``.
        rows: ``(relation, terms)`` per row; the terms of a row are broken across lines
            between terms when the row is too wide.
        label: the equation label of the last line (``eq:a-1-1``).
    """

    lhs: str
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    label: str | None

    def latex(self) -> str:
        return "\n".join(math_block(self.lhs, [(r, list(t)) for r, t in self.rows], self.label))


def unit_rows(
    network: Network,
    cert: CertifiedPass,
    l: int,
    j: int,
    *,
    mode: Mode = Mode.BINARY,
    step_digits: int = 8,
    table: SymbolTable | None = None,
) -> tuple[Derivation, Derivation]:
    """The derivations of unit ``j`` of layer ``l`` (1-based) for input row 0 of ``cert``.

    The first is ``a^{(l)}_j``: symbolic, substituted, result; the second ``z^{(l)}_j`` (``y_j``
    on the output layer): ``h(a) = `` the activation's expression, substituted, result. Both
    rows of each are printed from the same SymPy tree of the symbolic model.

    Args:
        network: the network.
        cert: certified values; row 0 is the derived input.
        l: layer, 1-based.
        j: unit, 1-based.
        mode: the exact values substituted for the weights (BINARY or DECIMAL).
        step_digits: significant digits of the substituted numbers and results.
        table: the symbol table (built from the network when None).
    """
    from nnverify import symbolic as S

    table = table if table is not None else symbol_table(network)
    model = S.build_model(network, Mode.SYMBOLIC)
    d = step_digits
    L = len(network.layers)
    layer = network.layers[l - 1]
    W, b = exact_weights(network, mode)[l - 1]
    prev = ([fmt_value(q, d) for q in cert.x_exact[0]] if l == 1
            else [enclosed(e, d) for e in cert.z[l - 2][0]])
    a_vals = _a_values(network, cert, l, mode, d)
    z_val = enclosed(cert.z[l - 1][0][j - 1], d)
    fn = r"\sigma" if l == L else "h"
    a_expr, z_expr = model.unit(l, j)
    if layer.activation is Activation.SOFTMAX:  # the sum is derived once, as S^{(l)}
        z_expr = z_expr.xreplace({_softmax_sum(l, layer.n_out): softmax_sum_symbol(l)})
    values: dict[sympy.Symbol, Number] = {}
    for i in range(1, layer.n_in + 1):
        values[S.z_symbol(l - 1, i)] = prev[i - 1]
        values[S.w_symbol(l, i, j)] = format_number(W[i - 1][j - 1], d)
    values[S.b_symbol(l, j)] = format_number(b[j - 1], d)
    sym = LatexPrinter(table)
    sub = LatexPrinter(table, values)
    a_row = Derivation(
        f"a^{{({l})}}_{{{j}}}",
        (("=", tuple(sym.terms(a_expr))), ("=", tuple(sub.terms(a_expr))),
         (_rel(a_vals[j - 1]), (a_vals[j - 1].latex,))),
        f"eq:a-{l}-{j}",
    )
    a_sym = S.a_symbol(l, j)
    sub_z = LatexPrinter(table, {S.a_symbol(l, m): a_vals[m - 1] for m in range(1, layer.n_out + 1)})
    rows: list[tuple[str, tuple[str, ...]]] = []
    if z_expr == a_sym:  # identity: nothing to substitute
        rows.append(("=", (f"{fn}({table.names[a_sym]}) = {table.names[a_sym]}",)))
    else:
        rows.append(("=", (f"{fn}({table.names[a_sym]}) = {sym.doprint(z_expr)}",)))
        rows.append(("=", tuple(sub_z.terms(z_expr))))
    rows.append((_rel(z_val), (z_val.latex,)))
    z_name = output_name(j) if l == L else f"z^{{({l})}}_{{{j}}}"
    return a_row, Derivation(z_name, tuple(rows), f"eq:z-{l}-{j}")


def softmax_sum_rows(
    network: Network,
    cert: CertifiedPass,
    l: int,
    *,
    mode: Mode = Mode.BINARY,
    step_digits: int = 8,
    table: SymbolTable | None = None,
) -> Derivation:
    """``S^{(l)} = sum_k exp(a^{(l)}_k)``, symbolic and substituted: the softmax denominator.

    Args:
        network: the network; layer ``l`` must be a softmax layer.
        cert: certified values; row 0 is the derived input.
        l: layer, 1-based.
        mode: exact values (BINARY or DECIMAL).
        step_digits: significant digits of the substituted numbers.
        table: the symbol table (built from the network when None).
    """
    table = table if table is not None else symbol_table(network)
    n = network.layers[l - 1].n_out
    expr = _softmax_sum(l, n)
    a_vals = _a_values(network, cert, l, mode, step_digits)
    from nnverify import symbolic as S

    sub = LatexPrinter(table, {S.a_symbol(l, k): a_vals[k - 1] for k in range(1, n + 1)})
    return Derivation(
        table.names[softmax_sum_symbol(l)],
        (("=", tuple(LatexPrinter(table).terms(expr))), ("=", tuple(sub.terms(expr)))),
        None,
    )


def fmt_value(value: Fraction | Enclosure, digits: int) -> Number:
    return enclosed(value, digits) if isinstance(value, Enclosure) else format_number(value, digits)


def fitted_matrix(values: Sequence[Sequence[Fraction | Enclosure]], digits: int, budget: float,
                   ) -> tuple[str, list[Number]]:
    """A ``pmatrix`` with as many digits (down to 4) as fit ``budget``; also the numbers used."""
    for d in range(digits, min(digits, 4) - 1, -1):
        nums = [[fmt_value(v, d) for v in row] for row in values]
        text = matrix([[n.latex for n in row] for row in nums])
        if estimate_width(text) <= budget or d == min(digits, 4):
            return text, [n for row in nums for n in row]
    raise AssertionError("unreachable")


class _InlinePrinter(LatexPrinter):
    """Prints the layered model as closed forms: each unit symbol is replaced by its definition.

    Ordering is decided on the layered trees, where every term still carries its unit's
    symbol, so sums print in the book's order; the substitution happens as text. A sum whose
    inlined text is wider than ``budget`` is named ``t_k`` (numbered in reading order, innermost
    first) and its definition kept for a "where" list.
    """

    def __init__(self, table: SymbolTable, definitions: dict[sympy.Symbol, sympy.Expr],
                 budget: float) -> None:
        super().__init__(table)
        self.definitions = definitions
        self.budget = budget
        self.named: dict[sympy.Symbol, str] = {}
        self.inline: dict[sympy.Symbol, str] = {}
        self.where: list[tuple[str, list[str]]] = []

    def resolve(self, expr: sympy.Basic) -> sympy.Basic:
        """Follow symbol -> definition at the top (the root is broken into lines, not named)."""
        while isinstance(expr, sympy.Symbol) and expr in self.definitions:
            expr = self.definitions[expr]
        return expr

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        if expr not in self.definitions:
            return super()._print_Symbol(expr)
        if expr in self.named:
            return self.named[expr]
        if expr in self.inline:
            return self.inline[expr]
        body = self.definitions[expr]
        text = self._print(body)
        if isinstance(body, sympy.Add) and estimate_width(text) > self.budget:
            name = f"t_{{{len(self.where) + 1}}}"
            self.where.append((name, self.terms(body)))
            self.named[expr] = name
            return name
        self.inline[expr] = text
        return text

    def _precedence(self, expr: sympy.Basic) -> int:
        if isinstance(expr, sympy.Symbol) and expr in self.definitions and expr not in self.named:
            return self._precedence(self.definitions[expr])
        return super()._precedence(expr)


def closed_form_rows(network: Network, mode: Mode = Mode.BINARY, *, budget: float = _INNER_BUDGET,
                     ) -> tuple[list[list[str]], list[tuple[str, list[str]]]]:
    """The closed form of every output as printed terms, and the "where" definitions.

    Returns ``(outputs, where)``: ``outputs[k-1]`` is the list of terms of ``y_k`` (to be
    broken into lines), ``where`` the ``(t_k name, terms)`` of every named inner sum, in
    order of definition. Raises LimitError when a closed form is beyond the model's size limit.

    Args:
        network: the network.
        mode: BINARY or DECIMAL exact weights.
        budget: widest inner sum (digit widths) printed in place; wider sums are named.
    """
    from nnverify import symbolic as S

    model = S.build_model(network, mode)
    L = model.n_layers
    for k in range(1, network.n_outputs + 1):
        model.closed_form(k)  # the model's own size limit, with its one-line LimitError
    table = symbol_table(network)
    definitions: dict[sympy.Symbol, sympy.Expr] = {}
    for l in range(1, L + 1):
        layer = network.layers[l - 1]
        for j in range(1, layer.n_out + 1):
            definitions[S.a_symbol(l, j)] = model.a[l - 1][j - 1]
            z = model.z[l - 1][j - 1]
            if layer.activation is Activation.SOFTMAX:
                z = z.xreplace({_softmax_sum(l, layer.n_out): softmax_sum_symbol(l)})
                definitions[softmax_sum_symbol(l)] = _softmax_sum(l, layer.n_out)
            definitions[S.z_symbol(l, j)] = z
    printer = _InlinePrinter(table, definitions, budget)
    outputs = [printer.terms(printer.resolve(S.z_symbol(L, k))) for k in range(1, network.n_outputs + 1)]
    return outputs, printer.where
