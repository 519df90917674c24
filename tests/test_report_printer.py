"""Golden strings for the report's small pieces: numbers, escaping, the printer, one unit's rows."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import sympy

from nnverify.certified import certify
from nnverify.errors import LimitError
from nnverify.inputs import parse_x
from nnverify.model import Layer, Network
from nnverify.modes import Mode
from nnverify.report.derivation import closed_form_rows, softmax_rows, symbol_table, unit_rows
from nnverify.report.escape import escape_text
from nnverify.report.layout import break_terms, estimate_width
from nnverify.report.numbers import format_number
from nnverify.report.printer import LatexPrinter, SymbolTable, rational_latex
from nnverify.symbolic import a_symbol, b_symbol, w_symbol, x_symbol
from nnverify.weights import BOOK_X, book_network

# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "latex", "exact"),
    [
        (0, 8, "0", True),
        (1.0, 8, "1", True),
        (0.5, 8, "0.5", True),
        (0.1, 8, "0.1", False),  # the float 0.1 is not 1/10
        (Fraction(1, 10), 8, "0.1", True),
        (0.5744425168116590, 8, "0.57444252", False),
        (1.2140269588, 8, "1.214027", False),  # trailing zero trimmed, not 1.2140270
        (1e-4, 8, r"1 \times 10^{-4}", False),  # never 0.000
        (Fraction(1, 10**4), 3, r"1 \times 10^{-4}", True),
        (-0.0001234, 8, r"-1.234 \times 10^{-4}", False),
        (0.001, 3, "0.001", False),
        (Fraction(9999, 10**7), 3, "0.001", False),  # rounds up across the boundary: positional
        (999999.99, 8, "999999.99", False),
        (123456789, 4, r"1.235 \times 10^{8}", False),
        (Fraction(25, 10), 1, "2", False),  # half to even
        (Fraction(35, 10), 1, "4", False),
        (Fraction(-1, 3), 5, "-0.33333", False),
        (1e-300, 2, r"1 \times 10^{-300}", False),
    ],
)
def test_format_number_gives_significant_figures_and_scientific_notation(value, digits, latex, exact):
    n = format_number(value, digits)
    assert (n.latex, n.exact, n.negative) == (latex, exact, latex.startswith("-"))


def test_format_number_refuses_zero_digits():
    with pytest.raises(ValueError, match="at least 1"):
        format_number(1.0, 0)


@pytest.mark.parametrize(
    ("q", "latex"),
    [
        (Fraction(3), "3"),
        (Fraction(1, 20), "0.05"),
        (Fraction(-7, 3), r"-\frac{7}{3}"),
        (Fraction(0.1), r"\frac{3602879701896397}{2^{55}}"),  # the float 0.1, exactly
        (Fraction(0.5), "0.5"),
        (Fraction(1, 2**60), r"\frac{1}{2^{60}}"),
    ],
)
def test_rational_latex_is_exact(q, latex):
    assert rational_latex(q) == latex


# -- escaping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("plain text 123", "plain text 123"),
        (r"\input{/etc/passwd}", r"\textbackslash{}input\{/etc/passwd\}"),
        ("$x$", r"\texttt{\char36}x\texttt{\char36}"),
        ("a & b # c % d", r"a \& b \# c \% d"),
        ("x^2_i ~", r"x\texttt{\char94}2\texttt{\char95}i \texttt{\char126}"),
        ("--x", "-{}-{}x"),
        ("it's ''q''", "it'{}s '{}'{}q'{}'{}"),
        ("<|>", r"\texttt{\char60}\texttt{\char124}\texttt{\char62}"),
        ("tab\there\nnewline", "tab here newline"),
        ("深度", "[U+6DF1][U+5EA6]"),
        ("\\\\", r"\textbackslash{}\textbackslash{}"),
    ],
)
def test_escape_text_makes_every_special_character_literal(text, latex):
    assert escape_text(text) == latex


def test_escaped_text_has_no_unescaped_special_character():
    nasty = "".join(chr(c) for c in range(0, 256))
    out = escape_text(nasty)
    # After removing the commands we emit, no TeX special character may remain.
    for cmd in (r"\textbackslash{}", r"\{", r"\}", r"\&", r"\#", r"\%", "-{}", "'{}"):
        out = out.replace(cmd, "")
    out = out.replace(r"\texttt{\char", "").replace("}", "")
    for ch in "\\{$&#^_~%":
        assert ch not in out


# -- the printer --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table() -> SymbolTable:
    return symbol_table(book_network())


def test_printer_prints_exp_as_exp_and_sigmoid_as_a_fraction(table):
    a = a_symbol(1, 1)
    assert LatexPrinter(table).doprint(1 / (1 + sympy.exp(-a))) == r"\frac{1}{1 + \exp(-a^{(1)}_{1})}"


@pytest.mark.parametrize(
    ("expr", "latex"),
    [
        (lambda a, b: sympy.Max(a, 0), r"\max(0, a^{(1)}_{1})"),
        (lambda a, b: sympy.tanh(a), r"\tanh(a^{(1)}_{1})"),
        (lambda a, b: sympy.Piecewise((1, a > 0), (0, True)),
         r"\begin{cases} 1 & \text{if } a^{(1)}_{1} > 0 \\ 0 & \text{otherwise} \end{cases}"),
        (lambda a, b: sympy.exp(a) / (sympy.exp(a) + sympy.exp(b)),
         r"\frac{\exp(a^{(1)}_{1})}{\exp(a^{(1)}_{1}) + \exp(a^{(1)}_{2})}"),
        (lambda a, b: (a + b) ** 2, r"(a^{(1)}_{1} + a^{(1)}_{2})^{2}"),
        (lambda a, b: a**2, r"(a^{(1)}_{1})^{2}"),
        (lambda a, b: a - 2 * b, r"a^{(1)}_{1} - 2 a^{(1)}_{2}"),
    ],
)
def test_printer_golden_strings(table, expr, latex):
    assert LatexPrinter(table).doprint(expr(a_symbol(1, 1), a_symbol(1, 2))) == latex


def test_printer_refuses_symbols_without_an_integer_built_name(table):
    evil = sympy.Symbol(r"\input{/etc/passwd}")
    with pytest.raises(KeyError, match="no LaTeX name"):
        LatexPrinter(table).doprint(evil + 1)


def test_substituted_negatives_are_parenthesised_and_never_meet_a_minus(table):
    a = w_symbol(1, 1, 1) * x_symbol(1) + b_symbol(1, 1)
    values = {x_symbol(1): format_number(-2.0), w_symbol(1, 1, 1): format_number(-0.25),
              b_symbol(1, 1): format_number(-1e-4)}
    # Weight before signal; a leading negative needs no parentheses; "+ (-1e-4)" reads "- 1e-4".
    assert LatexPrinter(table, values).doprint(a) == r"-0.25 \cdot (-2) - 1 \times 10^{-4}"
    values[w_symbol(1, 1, 1)] = format_number(0.25)
    assert LatexPrinter(table, values).doprint(a) == r"0.25 \cdot (-2) - 1 \times 10^{-4}"
    s = 1 / (1 + sympy.exp(-a_symbol(1, 1)))
    got = LatexPrinter(table, {a_symbol(1, 1): format_number(-0.855)}).doprint(s)
    assert got == r"\frac{1}{1 + \exp(0.855)}"  # not exp(-(-0.855))
    got = LatexPrinter(table, {a_symbol(1, 1): format_number(0.855)}).doprint(s)
    assert got == r"\frac{1}{1 + \exp(-0.855)}"


def test_symbolic_and_substituted_rows_list_the_same_terms_in_the_same_order(table):
    # Built deliberately out of the book's order: the printer restores w x, in input order, then b.
    a = sympy.Add(b_symbol(1, 2), w_symbol(1, 2, 2) * x_symbol(2), x_symbol(1) * w_symbol(1, 1, 2))
    sym = LatexPrinter(table).terms(a)
    values = {s: format_number(v) for s, v in
              ((x_symbol(1), 1.0), (x_symbol(2), 0.5), (w_symbol(1, 1, 2), 0.3),
               (w_symbol(1, 2, 2), 0.4), (b_symbol(1, 2), 0.2))}
    sub = LatexPrinter(table, values).terms(a)
    assert sym == ["w^{(1)}_{21} x_{1}", "+ w^{(1)}_{22} x_{2}", "+ b^{(1)}_{2}"]
    assert sub == [r"0.3 \cdot 1", r"+ 0.4 \cdot 0.5", "+ 0.2"]


# -- one unit's three rows (the book network) -----------------------------------------------------


@pytest.fixture(scope="module")
def book_cert():
    return certify(book_network(), BOOK_X)


def test_unit_a11_rows_follow_the_book_weight_before_signal_binary_mode(book_cert):
    a_row, z_row = unit_rows(book_network(), book_cert, 1, 1)
    # Binary mode: the stored 0.1 is not 1/10, so the substituted row is already rounded.
    assert a_row.lines() == [
        r"a^{(1)}_{1} &= w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2} + b^{(1)}_{1}",
        r"&\approx 0.1 \cdot 1 + 0.2 \cdot 0.5 + 0.1",
        r"&\approx 0.3",
    ]
    assert a_row.label == "eq:a-1-1"
    assert z_row.lines() == [
        r"z^{(1)}_{1} &= h(a^{(1)}_{1}) = \frac{1}{1 + \exp(-a^{(1)}_{1})}",
        r"&\approx \frac{1}{1 + \exp(-0.3)}",
        r"&\approx 0.57444252",
    ]


def test_unit_rows_in_decimal_mode_are_exact_until_the_rounded_result():
    net = book_network()
    cert = certify(net, parse_x("1.0,0.5"), mode=Mode.DECIMAL)
    a_row, z_row = unit_rows(net, cert, 1, 3, mode=Mode.DECIMAL)
    assert [rel for rel, _ in a_row.rows] == ["=", "=", "="]
    assert a_row.rows[-1] == ("=", ("1.1",))  # 0.5*1.0 + 0.6*0.5 + 0.3 = 11/10 exactly
    assert [rel for rel, _ in z_row.rows] == ["=", "=", r"\approx"]  # 1/(1+exp(-1.1)) is not exact


def test_output_unit_of_identity_layer_has_no_substituted_row(book_cert):
    _, y_row = unit_rows(book_network(), book_cert, 3, 2)
    assert y_row.lhs == "y_{2}"
    assert y_row.rows == (("=", (r"\sigma(a^{(3)}_{2}) = a^{(3)}_{2}",)), (r"\approx", ("0.69627909",)))


def test_unit_rows_with_negative_inputs_weights_and_tiny_values():
    net = Network((Layer(np.array([[-0.5], [2.0]]), np.array([-1e-4]), "sigmoid"),))
    cert = certify(net, np.array([-1.0, 0.5]))
    a_row, z_row = unit_rows(net, cert, 1, 1)
    assert a_row.rows[1] == (r"\approx", (r"-0.5 \cdot (-1)", r"+ 2 \cdot 0.5", "- 0.0001"))  # as NumPy prints -1e-4
    assert a_row.rows[2] == (r"\approx", ("1.4999",))
    assert z_row.rows[1] == (r"\approx", (r"\frac{1}{1 + \exp(-1.4999)}",))


def test_a_negative_weighted_sum_gives_no_double_negative():
    net = Network((Layer(np.array([[-0.855]]), np.array([0.0]), "sigmoid"),))
    _, z_row = unit_rows(net, certify(net, np.array([1.0])), 1, 1)
    assert z_row.rows[1] == (r"\approx", (r"\frac{1}{1 + \exp(0.855)}",))


# -- layout -------------------------------------------------------------------------------------


def test_break_terms_keeps_every_line_within_the_budget():
    terms = ["x_{1} w^{(1)}_{11}"] + [f"+ x_{{{i}}} w^{{(1)}}_{{{i}1}}" for i in range(2, 10)]
    lines = break_terms(terms, 30)
    assert len(lines) > 1
    assert " ".join(lines) == " ".join(terms)
    assert all(estimate_width(line) <= 30 for line in lines)


def test_estimate_width_counts_a_fraction_as_its_wider_part():
    assert estimate_width(r"\frac{1}{1 + \exp(-0.3)}") == pytest.approx(
        estimate_width(r"1 + \exp(-0.3)") + 0.6
    )


def test_closed_form_prints_sums_in_the_books_order_and_names_wide_inner_sums():
    outputs, where = closed_form_rows(book_network(), Mode.DECIMAL)
    sig = r"\frac{{1}}{{1 + \exp(-{})}}"
    assert outputs[0] == [rf"0.1 \cdot {sig.format('t_{1}')}", rf"+ 0.2 \cdot {sig.format('t_{2}')}", "+ 0.1"]
    a1 = [r"(0.1 x_{1} + 0.2 x_{2} + 0.1)", r"(0.3 x_{1} + 0.4 x_{2} + 0.2)", r"(0.5 x_{1} + 0.6 x_{2} + 0.3)"]
    # t_1 is a^{(2)}_1 = sum_i z^{(1)}_i w^{(2)}_{i1} + b^{(2)}_1 with W2[:, 0] = (0.1, 0.2, 0.3), b2 = 0.1
    assert where[0] == ("t_{1}", [rf"0.1 \cdot {sig.format(a1[0])}", rf"+ 0.2 \cdot {sig.format(a1[1])}",
                                  rf"+ 0.3 \cdot {sig.format(a1[2])}", "+ 0.1"])
    assert [name for name, _ in where] == ["t_{1}", "t_{2}"]


def test_closed_form_in_binary_mode_names_the_first_layer_sums_first_and_fits():
    outputs, where = closed_form_rows(book_network(), Mode.BINARY, budget=40)
    assert where[0] == ("t_{1}", [r"\frac{3602879701896397}{2^{55}} x_{1}",
                                  r"+ \frac{3602879701896397}{2^{54}} x_{2}",
                                  r"+ \frac{3602879701896397}{2^{55}}"])  # 0.1 x_1 + 0.2 x_2 + 0.1
    assert len(where) == 5  # three first-layer sums, two second-layer sums
    for _, terms in where:
        assert all(estimate_width(t) <= 40 for t in terms)


def test_closed_form_refuses_beyond_the_models_size_limit(monkeypatch):
    import nnverify.symbolic as S

    monkeypatch.setattr(S, "DEFAULT_MAX_OPS", 10)
    monkeypatch.setattr(S.SymbolicModel.closed_form, "__kwdefaults__", {"max_ops": 10})
    with pytest.raises(LimitError, match="--max-ops"):
        closed_form_rows(book_network(), Mode.BINARY)


def test_softmax_is_derived_completely_each_exp_and_their_sum_with_values():
    from nnverify.report.compute import _softmax_balls

    net = Network((Layer(np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.0, 0.25]), "softmax"),))
    cert = certify(net, np.array([1.0, 0.5]))
    soft = _softmax_balls(net, cert)
    a_row, y_row = unit_rows(net, cert, 1, 2, softmax=soft)
    assert a_row.rows[1:] == (("=", (r"-1 \cdot 1", r"+ 2 \cdot 0.5", "+ 0.25")), ("=", ("0.25",)))
    assert y_row.rows == (
        ("=", (r"\sigma(a^{(1)}_{2}) = \frac{\exp(a^{(1)}_{2})}{S^{(1)}}",)),
        (r"\approx", (r"\frac{\exp(0.25)}{4.77436837}",)),  # S rounded: the row is rounded
        (r"\approx", ("0.26894142",)),  # exp(0.25)/(exp(1.25)+exp(0.25)) = 1/(1+e)
    )
    exps, s_row = softmax_rows(net, cert, 1, soft)
    # exp(1.25) = 3.490342957..., exp(0.25) = 1.284025416..., S = 4.774368374... (mpmath)
    assert [e.rows for e in exps] == [
        (("=", (r"\exp(1.25)",)), (r"\approx", ("3.49034296",))),
        (("=", (r"\exp(0.25)",)), (r"\approx", ("1.28402542",))),
    ]
    assert (s_row.lhs, s_row.rows[0]) == ("S^{(1)}", ("=", (r"\exp(a^{(1)}_{1})", r"+ \exp(a^{(1)}_{2})")))
    assert s_row.rows[1] == (r"\approx", ("3.49034296", "+ 1.28402542"))
    assert s_row.rows[2] == (r"\approx", ("4.77436837",))


@pytest.mark.parametrize(
    ("activation", "symbolic", "substituted", "result"),
    [
        ("relu", r"h(a^{(1)}_{1}) = \max(0, a^{(1)}_{1})", r"\max(0, -0.5)", ("=", ("0",))),
        ("tanh", r"h(a^{(1)}_{1}) = \tanh(a^{(1)}_{1})", r"\tanh(-0.5)", (r"\approx", ("-0.46211716",))),
        ("step", r"h(a^{(1)}_{1}) = \begin{cases} 1 & \text{if } a^{(1)}_{1} > 0 \\ 0 & \text{otherwise} \end{cases}",
         r"\begin{cases} 1 & \text{if } (-0.5) > 0 \\ 0 & \text{otherwise} \end{cases}", ("=", ("0",))),
    ],
)
def test_hidden_activation_rows(activation, symbolic, substituted, result):
    net = Network((Layer(np.array([[-1.0]]), np.array([0.5]), activation),
                   Layer(np.array([[1.0]]), np.array([0.0]), "identity")))
    cert = certify(net, np.array([1.0]))
    _, z_row = unit_rows(net, cert, 1, 1)
    assert z_row.rows == (("=", (symbolic,)), ("=", (substituted,)), result)


# -- diagram and plots --------------------------------------------------------------------------


def _labels(net):
    return [[[format_number(float(ly.b[j]) if i == 0 else float(ly.W[i - 1, j]), 4)
              for j in range(ly.n_out)] for i in range(ly.n_in + 1)] for ly in net.layers]


def test_book_diagram_labels_every_edge_in_the_books_notation_with_bias_units_on_top():
    from nnverify.report.diagram import is_dense, network_diagram

    net = book_network()
    rows = network_diagram(net, ["1", "0.5"], [["0.3", "0.7", "1.1"], ["0.5", "1.2"], ["0.3", "0.7"]],
                           [["0.57", "0.67", "0.75"], ["0.63", "0.77"], ["0.3", "0.7"]], _labels(net))
    assert not is_dense(net) and len(rows) == 1
    tikz = rows[0].tikz
    assert tikz.count(r"\node[wlabel]") == 9 + 8 + 6  # (inputs + bias unit) x units, per layer
    # W1[0][1] = 0.3 is the weight from x_1 to a^{(1)}_2: the book's w^{(1)}_{21}
    assert r"{$w^{(1)}_{21} \approx 0.3$}" in tikz and r"{$b^{(3)}_{2} \approx 0.2$}" in tikz
    assert r"{$a^{(1)}_{1} \to z^{(1)}_{1}$\\$0.3 \to 0.57$}" in tikz
    assert tikz.count(r"\node[bias]") == 3
    # the bias unit sits above every unit of its column
    ys = {m.group(1): float(m.group(2)) for m in re.finditer(r"\((u0-\d)\) at \([\d.-]+,([\d.-]+)\)", tikz)}
    assert ys["u0-0"] > ys["u0-1"] > ys["u0-2"]
    # labels and units are drawn over the edges: the edges are on the background layer
    assert tikz.index(r"\begin{pgfonlayer}{background}") < tikz.index(r"\draw") < tikz.index(r"\end{pgfonlayer}")
    assert r"\resizebox" not in tikz


def test_labels_of_negative_weights_read_as_signs_and_never_overlap():
    from nnverify.report.diagram import network_diagram

    net = Network((Layer(np.array([[-0.2857, 0.5], [0.25, -1.0]]), np.array([-0.5, 0.0]), "sigmoid"),))
    row = network_diagram(net, ["1", "2"], [["0", "0"]], [["0.5", "0.5"]], _labels(net))[0]
    assert r"w^{(1)}_{11} \approx {-}0.2857" in row.tikz  # "-0.2857", not "- 0.2857"
    assert r"w^{(1)}_{22} = {-}1" in row.tikz
    boxes = []
    for m in re.finditer(r"\\node\[wlabel\] at \(([\d.-]+),([\d.-]+)\)", row.tikz):
        boxes.append((float(m.group(1)), float(m.group(2))))
    for n, (x, y) in enumerate(boxes):
        for x2, y2 in boxes[n + 1:]:
            assert abs(x - x2) > 0.6 or abs(y - y2) > 0.3, "two weight labels on top of each other"


def test_deep_networks_are_split_into_rows_and_dense_layers_shaded():
    from nnverify.report.diagram import is_dense, network_diagram

    deep = Network(tuple(Layer(np.full((2, 2), -0.5), np.zeros(2), "sigmoid") for _ in range(8)))
    rows = network_diagram(deep, ["1", "1"], [["0", "0"]] * 8, [["0.5", "0.5"]] * 8, _labels(deep))
    assert not is_dense(deep) and len(rows) == 3  # 8 layers in rows of at most 3: never shrunk
    assert all(r"\resizebox" not in r.tikz and "scale=" not in r.tikz for r in rows)
    wide = Network((Layer(np.full((4, 4), -0.5), np.zeros(4), "sigmoid"),))
    assert is_dense(wide)
    row = network_diagram(wide, ["1"] * 4, [["0"] * 4], [["0.5"] * 4], _labels(wide))[0]
    assert r"\node[wlabel]" not in row.tikz and "draw=blue!70!black" in row.tikz


@pytest.mark.parametrize(
    ("values", "edges", "counts"),
    [
        ([0.0, 0.05, 0.25, 0.31, 1.15], [k / 10 for k in range(13)], [2, 0, 1, 1] + [0] * 7 + [1]),
        ([0.0, 0.0], [0.0, 0.1, 0.2, 0.3, 0.4], [2, 0, 0, 0]),
        ([45.1, 3.0, 10.0], [0.0, 2.0, 4.0, 6.0] + [2.0 * k for k in range(4, 24)],
         [0, 1, 0, 0, 0, 1] + [0] * 16 + [1]),
    ],
)
def test_histogram_bins_use_a_round_width_and_count_every_value(values, edges, counts):
    from nnverify.report.plots import histogram_bins

    got_edges, got_counts = histogram_bins(values)
    assert got_edges == edges and got_counts == counts
    assert sum(got_counts) == len(values)


@pytest.mark.parametrize(("value", "latex"), [(float("inf"), r"\infty"), (float("-inf"), r"-\infty"),
                                              (float("nan"), r"\mathrm{NaN}")])
def test_format_number_prints_non_finite_floats(value, latex):
    assert format_number(value).latex == latex
