"""One unit of a wide first layer, derived in abbreviated form: the first and last terms of its sum.

A unit of the book's MNIST network sums 784 terms, one per pixel:
``a^{(1)}_1 = w^{(1)}_{1,1} x_1 + ... + w^{(1)}_{1,784} x_{784} + b^{(1)}_1``. The summary report
shows that sum with its first and last few terms, the numbers substituted for those, and the
certified value of the whole sum (the exact sum of the exact products, :func:`first_layer_sums`),
then ``z^{(1)}_1 = h(a^{(1)}_1)``. The rows are printed by the report's own printer from one
SymPy sum of the terms shown, so signs, order (weight before signal) and the ``=``/``\\approx``
rule are those of the full report; the omitted terms are one ``\\dots`` leaf.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import sympy
from flint import arb

from nnverify.certified import CertifiedPass
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.report.derivation import (
    Derivation,
    chain,
    exact_weights,
    softmax_sum_symbol,
    w_name,
    z_derivation,
)
from nnverify.report.numbers import Number, format_fixed
from nnverify.report.printer import LatexPrinter, SymbolTable

__all__ = ["abbreviated_unit", "shown_inputs", "nonzero_inputs", "KEEP_TERMS"]

#: Terms shown at each end of an abbreviated sum.
KEEP_TERMS = 3

#: The leaf that stands for the omitted terms.
_DOTS = sympy.Symbol("nnverify_report_dots")


def shown_inputs(n: int, keep: int = KEEP_TERMS) -> tuple[list[int], bool]:
    """The 1-based inputs whose terms are shown, and whether any are left out.

    Args:
        n: the terms of the sum (the layer's inputs).
        keep: terms shown at each end.
    """
    if n <= 2 * keep:
        return list(range(1, n + 1)), False
    return [*range(1, keep + 1), *range(n - keep + 1, n + 1)], True


def _weight_name(i: int, j: int, comma: bool) -> str:
    """The book's ``w^{(1)}_{ji}``, with a comma in every subscript once any index has two digits."""
    return f"w^{{(1)}}_{{{j},{i}}}" if comma else w_name(1, i, j)


def _table(network: Network, shown: Sequence[int], j: int) -> SymbolTable:
    from nnverify import symbolic as S

    layer = network.layers[0]
    comma = max(layer.n_in, layer.n_out) > 9
    table = SymbolTable()
    for i in shown:
        table.add(S.w_symbol(1, i, j), _weight_name(i, j, comma), (1, 1, i, j))
        table.add(S.x_symbol(i), f"x_{{{i}}}", (2, 0, i))
    table.add(_DOTS, r"\dots", (1, 1, shown[len(shown) // 2 - 1], j, 1))  # between the two ends
    table.add(S.b_symbol(1, j), f"b^{{(1)}}_{{{j}}}", (3, 1, j))
    for k in range(1, layer.n_out + 1):
        table.add(S.a_symbol(1, k), f"a^{{(1)}}_{{{k}}}", (0, 1, k))
    table.add(softmax_sum_symbol(1), "S^{(1)}", (4, 1))
    return table


def abbreviated_unit(
    network: Network,
    cert: CertifiedPass,
    a1_exact: Sequence[Fraction],
    *,
    mode: Mode,
    places: int = 8,
    j: int = 1,
    keep: int = KEEP_TERMS,
    softmax: Mapping[int, tuple[tuple[arb, ...], arb]] | None = None,
    words: Mapping[str, str] | None = None,
) -> tuple[Derivation, Derivation]:
    """``a^{(1)}_j`` with its first and last ``keep`` terms (symbolic, substituted, value), then ``z``.

    Args:
        network: the network.
        cert: certified values; row 0 is the derived input.
        a1_exact: the first layer's exact weighted sums of that input.
        mode: the exact weights substituted (BINARY or DECIMAL).
        places: decimals of the numbers, as NumPy prints them.
        j: the unit, 1-based.
        keep: terms shown at each end of the sum.
        softmax: per softmax layer, the balls of ``exp(a_k)`` and of their sum (a one-layer
            softmax network).
        words: the words of a case distinction (``if``, ``otherwise``).
    """
    from nnverify import symbolic as S

    layer = network.layers[0]
    if not 1 <= j <= layer.n_out:
        raise ValueError(f"unit {j}: layer 1 has units 1 to {layer.n_out}")
    shown, cut = shown_inputs(layer.n_in, keep)
    W, b = exact_weights(network, mode)[0]
    x = cert.x_exact[0]
    table = _table(network, shown, j)
    terms = [S.w_symbol(1, i, j) * S.x_symbol(i) for i in shown] + ([_DOTS] if cut else [])
    expr = sympy.Add(*terms, S.b_symbol(1, j))
    values: dict[sympy.Symbol, Number] = {S.b_symbol(1, j): format_fixed(b[j - 1], places)}
    for i in shown:
        values[S.w_symbol(1, i, j)] = format_fixed(W[i - 1][j - 1], places)
        values[S.x_symbol(i)] = format_fixed(x[i - 1], places)
    if cut:  # the omitted terms' numbers: "=" survives only if every one of them is exact too
        hidden = [i for i in range(1, layer.n_in + 1) if i not in set(shown)]
        exact = all(format_fixed(W[i - 1][j - 1], places).exact and format_fixed(x[i - 1], places).exact
                    for i in hidden)
        values[_DOTS] = Number(r"\dots", False, exact)
    a_vals = [format_fixed(q, places) for q in a1_exact]
    sub_rel, res_rel = chain(list(values.values()), a_vals[j - 1])
    a_row = Derivation(
        f"a^{{(1)}}_{{{j}}}",
        (("=", tuple(LatexPrinter(table).terms(expr))),
         (sub_rel, tuple(LatexPrinter(table, values).terms(expr))),
         (res_rel, (a_vals[j - 1].latex,))),
        f"eq:a-1-{j}",
    )
    a_syms = [S.a_symbol(1, k) for k in range(1, layer.n_out + 1)]
    z_expr = S.activation_expr(layer.activation, a_syms, j)
    z_row = z_derivation(network, cert, 1, j, z_expr, a_vals, places=places, table=table,
                         softmax=softmax, words=words)
    return a_row, z_row


def nonzero_inputs(cert: CertifiedPass) -> int:
    """How many of the derived input's values are not 0 (the terms that contribute).

    Args:
        cert: certified values; row 0 is the derived input.
    """
    return sum(1 for q in cert.x_exact[0] if q != 0)

