"""The full report's own sections: the network drawn, the forward pass unit by unit, closed forms.

Each function returns blocks (:mod:`nnverify.report.blocks`); the numbers come from the
:class:`~nnverify.report.compute.ReportData`, the words from the language table.
"""

from __future__ import annotations

from nnverify.errors import LimitError
from nnverify.model import Activation
from nnverify.modes import Mode
from nnverify.report.blocks import Block, Box, EqPart, Equation, Figure, Heading, Para, Text
from nnverify.report.certdigits import ball_fixed
from nnverify.report.compute import ReportData
from nnverify.report.derivation import (
    ROW_BUDGET,
    Derivation,
    closed_form_rows,
    exact_weights,
    matrix,
    output_name,
    softmax_rows,
    symbol_table,
    unit_rows,
    w_name,
)
from nnverify.report.diagram import is_dense, network_diagram
from nnverify.report.lang import Words
from nnverify.report.layout import estimate_width
from nnverify.report.numbers import Number, format_fixed, format_number
from nnverify.report.printer import SymbolTable, rational_latex

__all__ = ["network_section", "forward_section", "closed_form_section", "printer_words"]

#: Width of a display line in digit widths at each font size (text block about 96 at 10 pt).
_SIZES = (("normal", 1.0), ("footnotesize", 0.8), ("scriptsize", 0.7))


def printer_words(words: Words) -> dict[str, str]:
    """The words the printer writes inside math (a case distinction)."""
    return {"if": words.word("if"), "otherwise": words.word("otherwise")}


def network_section(data: ReportData, words: Words) -> list[Block]:
    """The network drawn with the derived input's values on every unit."""
    net = data.network
    c = data.cert
    x = [format_fixed(q, 4).latex for q in c.x_exact[0]]
    a = [[ball_fixed(v, 4).latex for v in layer[0]] for layer in c.balls_a]
    z = [[ball_fixed(v, 4).latex for v in layer[0]] for layer in c.balls_z]
    weights = exact_weights(net, data.derivation_mode)
    labels = [[[format_number(b[j] if i == 0 else W[i - 1][j], 4) for j in range(len(b))]
               for i in range(len(W) + 1)] for W, b in weights]
    out: list[Block] = [Heading(words.say("h_network")),
                        Para(words.say("network_intro", k=data.derive_row + 1))]
    for row in network_diagram(net, x, a, z, labels):
        out.append(Figure(row.tikz, row.svg, words.word("alt_network", name=net.name)))
    if is_dense(net):
        out.append(Para(words.say("dense_legend"), small=True))
    return out


def _vector(values: list[Number]) -> str:
    return matrix([[v.latex for v in values]])


def _symbolic_W(l: int, n_in: int, n_out: int) -> str:
    """``W^{(l)}`` with the book's index pattern: row i (input), column j holds ``w^{(l)}_{ji}``."""
    return matrix([[w_name(l, i, j) for j in range(1, n_out + 1)] for i in range(1, n_in + 1)])


def _fit(lines: list[str]) -> tuple[str, list[str]] | None:
    """The largest font size at which every line fits, or None."""
    for size, scale in _SIZES:
        if all(estimate_width(line) * scale <= ROW_BUDGET + 18 for line in lines):
            return size, lines
    return None


def _matrix_lines(name: str, rows: list[list[Number]]) -> list[str]:
    """``name &= (matrix)``; a matrix too wide even in the smallest size is split by columns."""
    rel = _rel([v for r in rows for v in r])
    whole = f"{name} &{rel} {matrix([[v.latex for v in r] for r in rows])}"
    if _fit([whole]) is not None:
        return [whole]
    n = len(rows[0])
    half = (n + 1) // 2
    left = matrix([[v.latex for v in r[:half]] for r in rows])
    right = matrix([[v.latex for v in r[half:]] for r in rows])
    return [f"{name} &{rel} \\left({left} \\;\\middle|\\; {right}\\right)"]


def _matrix_form(data: ReportData, l: int, words: Words) -> Equation | None:
    """``A = X W + B`` with the book's symbolic ``W``, the numbers, ``A`` and ``Z``."""
    net, places = data.network, data.settings.step_digits
    layer = net.layers[l - 1]
    if layer.n_in == 1 and layer.n_out == 1:
        return None  # a 1x1 "matrix" form repeats the unit's derivation: no (0.63)(2)+(-1)
    L = len(net.layers)
    W, b = exact_weights(net, data.derivation_mode)[l - 1]
    c = data.cert
    prev = ([format_fixed(q, places) for q in c.x_exact[0]] if l == 1
            else [ball_fixed(v, places) for v in c.balls_z[l - 2][0]])
    a_nums = ([format_fixed(q, places) for q in data.a1_exact] if l == 1
              else [ball_fixed(v, places) for v in c.balls_a[l - 1][0]])
    z_nums = [ball_fixed(v, places) for v in c.balls_z[l - 1][0]]
    prev_name = "X" if l == 1 else f"Z^{{({l - 1})}}"
    out_name = "Y" if l == L else f"Z^{{({l})}}"
    fn = r"\sigma" if l == L else "h"
    W_nums = [[format_fixed(q, places) for q in row] for row in W]
    b_nums = [format_fixed(q, places) for q in b]
    used = prev + b_nums + [n for r in W_nums for n in r]
    pattern = f"W^{{({l})}} &= {_symbolic_W(l, layer.n_in, layer.n_out)}"
    lines = [f"A^{{({l})}} &= {prev_name} W^{{({l})}} + B^{{({l})}}"]
    together = f"{_vector(prev)} {matrix([[v.latex for v in r] for r in W_nums])} + {_vector(b_nums)}"
    if estimate_width(together) <= ROW_BUDGET:
        lines.append(f"&{_rel(used)} {together}")
        lines.append(f"&{_rel(used + a_nums)} {_vector(a_nums)}")
    else:  # each matrix on its own line, every digit kept
        for name, rows in ((prev_name, [prev]), (f"W^{{({l})}}", W_nums), (f"B^{{({l})}}", [b_nums])):
            lines += _matrix_lines(name, rows)
        lines.append(f"A^{{({l})}} &{_rel(used + a_nums)} {_vector(a_nums)}")
    z_line = f"{out_name} &= {fn}(A^{{({l})}}) {_rel(z_nums)} {_vector(z_nums)}"
    fitted = _fit([pattern, *lines, z_line])
    size = fitted[0] if fitted is not None else "scriptsize"
    return Equation((EqPart((pattern,), None), EqPart(tuple(lines), f"eq:A-{l}"),
                     EqPart((z_line,), f"eq:Z-{l}")), size=size)


def _rel(nums: list[Number]) -> str:
    if any(n.interval for n in nums):
        return r"\in" if len(nums) == 1 else r"\approx"
    return "=" if all(n.exact for n in nums) else r"\approx"


def _unit_equations(data: ReportData, l: int, units: tuple[int, ...], table: SymbolTable,
                    words: Words) -> list[Block]:
    net, places = data.network, data.settings.step_digits
    kw = dict(mode=data.derivation_mode, places=places, table=table,
              a1_exact=data.a1_exact if l == 1 else None, softmax=data.softmax,
              words=printer_words(words))
    rows = [unit_rows(net, data.cert, l, j, **kw) for j in units]  # type: ignore[arg-type]

    def part(d: Derivation) -> EqPart:
        return EqPart(tuple(d.lines()), d.label)

    if net.layers[l - 1].activation is not Activation.SOFTMAX:
        return [Equation((part(a), part(z))) for a, z in rows]
    # Every y_j needs every a_k: the a's, each exp(a_k), their sum S, then the outputs.
    every = [unit_rows(net, data.cert, l, k, **kw)[0]  # type: ignore[arg-type]
             for k in range(1, net.layers[l - 1].n_out + 1)]
    exps, s_row = softmax_rows(net, data.cert, l, data.softmax, places=places, table=table,
                               a1_exact=data.a1_exact if l == 1 else None)
    out: list[Block] = [Equation(tuple(part(a) for a in every))]
    out.append(Para(words.say("softmax_steps", l=l)))
    out.append(Equation(tuple(part(e) for e in exps)))
    out.append(Equation((part(s_row),)))
    out.append(Equation(tuple(part(z) for _, z in rows)))
    return out


def _binary_box(data: ReportData, words: Words) -> Box | None:
    """Binary mode: one line on why a stored 0.1 is not 1/10 (only when a weight shows it)."""
    if data.derivation_mode is not Mode.BINARY:
        return None
    for W, b in exact_weights(data.network, Mode.BINARY):
        for q in [v for row in W for v in row] + list(b):
            shown = format_fixed(q, data.settings.step_digits)
            if not shown.exact:
                return Box(words.say("binary_box", shown=shown.latex, exact=rational_latex(q),
                                     digits=format_number(q, 30).latex))
    return None


def forward_section(data: ReportData, words: Words) -> list[Block]:
    """Notation, the input, then per layer the matrix form and the chosen units' derivations."""
    net = data.network
    table = symbol_table(net)
    places = data.settings.step_digits
    out: list[Block] = [Heading(words.say("h_forward")), Para(words.say("notation", d=places))]
    if data.derivation_mode is Mode.DECIMAL and data.settings.check_mode() is Mode.BINARY:
        out.append(Para(words.say("decimal_note")))
    box = _binary_box(data, words)
    if box is not None:
        out.append(box)
    xs = [format_fixed(q, places) for q in data.cert.x_exact[0]]
    out.append(Equation((EqPart((f"X &{_rel(xs)} {_vector(xs)}",), None),)))
    chosen = dict(data.units)
    for l, layer in enumerate(net.layers, start=1):
        out.append(Heading(words.say("h_layer", l=l, act=layer.activation.value), level=2))
        eq = _matrix_form(data, l, words)
        if eq is not None:
            out.append(eq)
        units = chosen.get(l, ())
        if units:
            out += _unit_equations(data, l, units, table, words)
        else:
            out.append(Para(words.say("units_skipped", l=l)))
    return out


def closed_form_section(data: ReportData, words: Words) -> tuple[list[Block], bool]:
    """The outputs as closed forms in the inputs; False when they are too large to print."""
    net, mode = data.network, data.derivation_mode
    out: list[Block] = [Heading(words.say("h_closed"))]
    try:
        outputs, where = closed_form_rows(net, mode, words=printer_words(words))
    except LimitError as exc:
        out.append(Para(words.say("closed_too_big", why=str(exc))))
        return out, False
    out.append(Para(words.say("closed_binary" if mode is Mode.BINARY else "closed_decimal")
                    + (words.say("closed_where") if where else ())))
    lines = []
    for k, terms in enumerate(outputs, start=1):
        d = Derivation(output_name(k), (("=", tuple(terms)),), f"eq:y-{k}")
        lines.append(EqPart(tuple(d.lines()), d.label))
    out.append(Equation(tuple(lines), breakable=True))
    if where:
        out.append(Para((Text(words.word("where")),)))
        parts = [EqPart(tuple(Derivation(name, (("=", tuple(t)),), None).lines()), None)
                 for name, t in where]
        out.append(Equation(tuple(parts), breakable=True))
    return out, True
