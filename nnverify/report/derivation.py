"""Derivations: one unit's rows (symbolic, substituted, result), softmax's pieces, closed forms.

The rows of a derivation are printed by :class:`~nnverify.report.printer.LatexPrinter` from
the SymPy model's own trees (:mod:`nnverify.symbolic`, SYMBOLIC mode for the rows, BINARY or
DECIMAL for the closed forms); the numbers come from the certified balls
(:mod:`nnverify.report.certdigits`: only certified digits) and from exact rationals (inputs,
weights, the first layer's sums).

The ``=``/``\\approx`` rule: ``=`` joins exact things only. A substituted row is ``=`` when
every number in it is exact (decimal weights, 0.5), ``\\approx`` when one is rounded; the
result is ``=`` only when it and everything before it is exact; ``\\in`` an interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import sympy
from flint import arb

from nnverify.certified import CertifiedPass
from nnverify.model import Activation, Network
from nnverify.modes import Mode
from nnverify.rationals import weight_rationals
from nnverify.report.certdigits import ball_fixed
from nnverify.report.layout import break_terms, estimate_width
from nnverify.report.numbers import Number, format_fixed
from nnverify.report.printer import LatexPrinter, SymbolTable

__all__ = [
    "Derivation",
    "unit_rows",
    "z_derivation",
    "softmax_rows",
    "softmax_sum_symbol",
    "closed_form_rows",
    "symbol_table",
    "output_name",
    "w_name",
    "ROW_BUDGET",
    "math_lines",
    "matrix",
    "exact_weights",
    "chain",
]

# Widths in digit widths (see layout.estimate_width): the text block is about 96 digits wide.
ROW_BUDGET = 74.0  # one display line after "&= "
_INNER_BUDGET = 40.0  # widest inner sum left inside a closed form before it gets a name


def chain(substituted: Sequence[Number], result: Number) -> tuple[str, str]:
    """The relations of a substituted row and of the result after it (the module's rule)."""
    exact = all(n.exact for n in substituted)
    sub = "=" if exact else r"\approx"
    if result.interval:
        return sub, r"\in"
    return sub, ("=" if exact and result.exact else r"\approx")


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


def w_name(l: int, i: int, j: int) -> str:
    """The book's ``w^{(l)}_{ji}``: the weight from unit i (layer l-1) to unit j, ``W^{(l)}[i-1, j-1]``."""
    return f"w^{{({int(l)})}}_{{{_sub(j, i)}}}"


def symbol_table(network: Network) -> SymbolTable:
    """Names (from integers) and print order of every symbol of the network's SymPy model.

    Order: ``a`` first (activations of ``a``), then weights before signals (the book's
    ``w^{(1)}_{11} x_1``), terms in input order, the bias last.
    """
    from nnverify import symbolic as S

    table = SymbolTable()
    L = len(network.layers)
    for l, layer in enumerate(network.layers, start=1):
        for j in range(1, layer.n_out + 1):
            table.add(S.a_symbol(l, j), f"a^{{({l})}}_{{{j}}}", (0, l, j))
            name = output_name(j) if l == L else f"z^{{({l})}}_{{{j}}}"
            table.add(S.z_symbol(l, j), name, (2, l, j))
            table.add(S.b_symbol(l, j), f"b^{{({l})}}_{{{j}}}", (3, l, j))
            for i in range(1, layer.n_in + 1):
                table.add(S.w_symbol(l, i, j), w_name(l, i, j), (1, l, i, j))
    for i in range(1, network.n_inputs + 1):
        table.add(S.x_symbol(i), f"x_{{{i}}}", (2, 0, i))
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


def math_lines(lhs: str, rows: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Aligned display lines ``lhs &rel terms`` over several rows; long rows broken between terms.

    Args:
        lhs: the left-hand side.
        rows: ``(relation, terms)`` per row; terms from :meth:`LatexPrinter.terms`.
    """
    body: list[str] = []
    lhs_w = estimate_width(lhs)
    for k, (rel, terms) in enumerate(rows):
        first = ROW_BUDGET - (lhs_w if k == 0 else 0)
        for m, line in enumerate(break_terms(list(terms), ROW_BUDGET - 4, first_budget=first)):
            left = lhs if (k == 0 and m == 0) else ""
            prefix = f"&{rel} " if m == 0 else r"&\quad "
            body.append(f"{left} {prefix}{line}".strip())
    return body


def matrix(values: Sequence[Sequence[str]]) -> str:
    rows = [" & ".join(r) for r in values]
    return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"


@dataclass(frozen=True)
class Derivation:
    """One numbered derivation: ``lhs rel row_1``, ``rel row_2``, ... aligned.

    Args:
        lhs: the left-hand side, e.g. ``a^{(1)}_{1}``.
        rows: ``(relation, terms)`` per row; the terms of a row are broken across lines
            between terms when the row is too wide.
        label: the equation label of the last line (``eq:a-1-1``), or None.
    """

    lhs: str
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    label: str | None

    def lines(self) -> list[str]:
        """The display lines (no ``\\\\``, no labels: a renderer adds those)."""
        return math_lines(self.lhs, self.rows)


def _prev_values(network: Network, cert: CertifiedPass, l: int, places: int) -> list[Number]:
    if l == 1:
        return [format_fixed(q, places) for q in cert.x_exact[0]]
    return [ball_fixed(v, places) for v in cert.balls_z[l - 2][0]]


def _a_values(cert: CertifiedPass, l: int, places: int, a1_exact: Sequence[Fraction] | None) -> list[Number]:
    """Layer l's weighted sums: exact for layer 1 (sums of exact products), else the balls."""
    if l == 1 and a1_exact is not None:
        return [format_fixed(q, places) for q in a1_exact]
    return [ball_fixed(v, places) for v in cert.balls_a[l - 1][0]]


def _substitutions(l: int, j: int, n_in: int, prev: Sequence[Number], W: Sequence[Sequence[Fraction]],
                   b: Sequence[Fraction], places: int) -> dict[sympy.Symbol, Number]:
    """The numbers substituted into ``a^{(l)}_j``'s terms: the inputs, the weights ``w^{(l)}_{ji}``, the bias."""
    from nnverify import symbolic as S

    values: dict[sympy.Symbol, Number] = {}
    for i in range(1, n_in + 1):
        values[S.z_symbol(l - 1, i)] = prev[i - 1]
        values[S.w_symbol(l, i, j)] = format_fixed(W[i - 1][j - 1], places)
    values[S.b_symbol(l, j)] = format_fixed(b[j - 1], places)
    return values


def unit_rows(
    network: Network,
    cert: CertifiedPass,
    l: int,
    j: int,
    *,
    mode: Mode = Mode.BINARY,
    places: int = 8,
    table: SymbolTable | None = None,
    a1_exact: Sequence[Fraction] | None = None,
    softmax: Mapping[int, tuple[tuple[arb, ...], arb]] | None = None,
    words: Mapping[str, str] | None = None,
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
        places: decimals of the substituted numbers and results (as NumPy prints).
        table: the symbol table (built from the network when None).
        a1_exact: the first layer's exact sums (their digits can be exact); None: the balls.
        softmax: per softmax layer, the balls of ``exp(a_k)`` and of their sum ``S``.
        words: the words of a case distinction (``if``, ``otherwise``).
    """
    from nnverify.symbolic import build_model

    table = table if table is not None else symbol_table(network)
    model = build_model(network, Mode.SYMBOLIC)
    layer = network.layers[l - 1]
    W, b = exact_weights(network, mode)[l - 1]
    prev = _prev_values(network, cert, l, places)
    if l == 1 and a1_exact is None:  # sums of exact products: exact, checked against the balls
        from nnverify.report.compute import first_layer_sums

        a1_exact = first_layer_sums(network, cert, mode)
    a_vals = _a_values(cert, l, places, a1_exact)
    a_expr, z_expr = model.unit(l, j)
    values = _substitutions(l, j, layer.n_in, prev, W, b, places)
    sym = LatexPrinter(table, words=words)
    sub = LatexPrinter(table, values, words=words)
    sub_rel, res_rel = chain(list(values.values()), a_vals[j - 1])
    a_row = Derivation(
        f"a^{{({l})}}_{{{j}}}",
        (("=", tuple(sym.terms(a_expr))), (sub_rel, tuple(sub.terms(a_expr))),
         (res_rel, (a_vals[j - 1].latex,))),
        f"eq:a-{l}-{j}",
    )
    z_row = z_derivation(network, cert, l, j, z_expr, a_vals, places=places, table=table, softmax=softmax,
                   words=words)
    return a_row, z_row


def z_derivation(network: Network, cert: CertifiedPass, l: int, j: int, z_expr: sympy.Expr,
           a_vals: list[Number], *, places: int, table: SymbolTable,
           softmax: Mapping[int, tuple[tuple[arb, ...], arb]] | None,
           words: Mapping[str, str] | None) -> Derivation:
    """``z^{(l)}_j = h(a)``: the activation's expression, substituted, result (see unit_rows).

    Args:
        network: the network.
        cert: certified values; row 0 is the derived input.
        l: layer, 1-based.
        j: unit, 1-based.
        z_expr: the unit's ``h(a^{(l)}_j)`` from the symbolic model (in ``a`` symbols).
        a_vals: the printed weighted sums of layer ``l``.
        places: decimals of the numbers.
        table: names of every symbol in ``z_expr`` (``a``, and ``S`` for softmax).
        softmax: per softmax layer, the balls of ``exp(a_k)`` and of their sum.
        words: the words of a case distinction (``if``, ``otherwise``).
    """
    from nnverify import symbolic as S

    L = len(network.layers)
    layer = network.layers[l - 1]
    z_val = ball_fixed(cert.balls_z[l - 1][0][j - 1], places)
    sym = LatexPrinter(table, words=words)
    fn = r"\sigma" if l == L else "h"
    a_sym = S.a_symbol(l, j)
    z_values: dict[sympy.Symbol, Number] = {a_sym: a_vals[j - 1]}
    if layer.activation is Activation.SOFTMAX:  # the sum is derived once, as S^{(l)}
        z_expr = z_expr.xreplace({_softmax_sum(l, layer.n_out): softmax_sum_symbol(l)})
        if softmax is not None and l in softmax:
            z_values[softmax_sum_symbol(l)] = ball_fixed(softmax[l][1], places)
    rows: list[tuple[str, tuple[str, ...]]] = []
    if z_expr == a_sym:  # identity: nothing to substitute
        rows.append(("=", (f"{fn}({table.names[a_sym]}) = {table.names[a_sym]}",)))
        rows.append((a_vals[j - 1].relation, (a_vals[j - 1].latex,)))  # y = a, as printed above
    else:
        sub_z = LatexPrinter(table, z_values, words=words)
        z_sub_rel, z_res_rel = chain(list(z_values.values()), z_val)
        rows.append(("=", (f"{fn}({table.names[a_sym]}) = {sym.doprint(z_expr)}",)))
        rows.append((z_sub_rel, tuple(sub_z.terms(z_expr))))
        rows.append((z_res_rel, (z_val.latex,)))
    z_name = output_name(j) if l == L else f"z^{{({l})}}_{{{j}}}"
    return Derivation(z_name, tuple(rows), f"eq:z-{l}-{j}")


def softmax_rows(
    network: Network,
    cert: CertifiedPass,
    l: int,
    softmax: Mapping[int, tuple[tuple[arb, ...], arb]],
    *,
    places: int = 8,
    table: SymbolTable | None = None,
    a1_exact: Sequence[Fraction] | None = None,
) -> tuple[list[Derivation], Derivation]:
    """Softmax by hand: every ``exp(a^{(l)}_k)`` with its value, then ``S^{(l)}``, their sum.

    Args:
        network: the network; layer ``l`` must be a softmax layer.
        cert: certified values; row 0 is the derived input.
        l: layer, 1-based.
        softmax: per softmax layer, the balls of ``exp(a_k)`` and of their sum.
        places: decimals of the numbers.
        table: the symbol table (built from the network when None).
        a1_exact: the first layer's exact sums, when ``l`` is 1.
    """
    from nnverify import symbolic as S

    table = table if table is not None else symbol_table(network)
    n = network.layers[l - 1].n_out
    a_vals = _a_values(cert, l, places, a1_exact)
    exps, total = softmax[l]
    e_nums = [ball_fixed(e, places) for e in exps]
    sym = LatexPrinter(table)
    exp_rows = []
    for k in range(1, n + 1):
        sub = LatexPrinter(table, {S.a_symbol(l, k): a_vals[k - 1]})
        expr = sympy.exp(S.a_symbol(l, k))
        sub_rel, res_rel = chain([a_vals[k - 1]], e_nums[k - 1])
        exp_rows.append(Derivation(sym.doprint(expr), ((sub_rel, (sub.doprint(expr),)),
                                                       (res_rel, (e_nums[k - 1].latex,))),
                                   f"eq:e-{l}-{k}"))
    total_num = ball_fixed(total, places)
    e_terms = [e_nums[0].latex] + [
        ("- " + e.latex[1:]) if e.negative else ("+ " + e.latex) for e in e_nums[1:]
    ]
    sub_rel, res_rel = chain(e_nums, total_num)
    s_row = Derivation(
        table.names[softmax_sum_symbol(l)],
        (("=", tuple(sym.terms(_softmax_sum(l, n)))), (sub_rel, tuple(e_terms)),
         (res_rel, (total_num.latex,))),
        f"eq:S-{l}",
    )
    return exp_rows, s_row


class _InlinePrinter(LatexPrinter):
    """Prints the layered model as closed forms: each unit symbol is replaced by its definition.

    Ordering is decided on the layered trees, where every term still carries its unit's
    symbol, so sums print in the book's order; the substitution happens as text. A sum whose
    inlined text is wider than ``budget`` is named ``t_k`` (numbered in reading order, innermost
    first) and its definition kept for a "where" list.
    """

    def __init__(self, table: SymbolTable, definitions: dict[sympy.Symbol, sympy.Expr],
                 budget: float, *, words: Mapping[str, str] | None = None) -> None:
        super().__init__(table, words=words)
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
                     words: Mapping[str, str] | None = None,
                     ) -> tuple[list[list[str]], list[tuple[str, list[str]]]]:
    """The closed form of every output as printed terms, and the "where" definitions.

    Returns ``(outputs, where)``: ``outputs[k-1]`` is the list of terms of ``y_k`` (to be
    broken into lines), ``where`` the ``(t_k name, terms)`` of every named inner sum, in
    order of definition. Raises LimitError when a closed form is beyond the model's size limit.

    Args:
        network: the network.
        mode: BINARY or DECIMAL exact weights.
        budget: widest inner sum (digit widths) printed in place; wider sums are named.
        words: the words of a case distinction (``if``, ``otherwise``).
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
    printer = _InlinePrinter(table, definitions, budget, words=words)
    outputs = [printer.terms(printer.resolve(S.z_symbol(L, k))) for k in range(1, network.n_outputs + 1)]
    return outputs, printer.where
