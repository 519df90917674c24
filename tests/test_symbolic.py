"""The SymPy model: symbols, the three weight modes, layered units, closed forms and their limit."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from nnverify.errors import LimitError, UsageError
from nnverify.model import Activation, Layer, Network
from nnverify.symbolic import (
    Mode,
    a_symbol,
    activation_expr,
    b_symbol,
    build_model,
    symbol_info,
    w_symbol,
    x_symbol,
    z_symbol,
)
from nnverify.weights import book_network, load_network

BINARY = ("0.31682707641102976546", "0.69627908986196680381")
DECIMAL = ("0.31682707641102974743", "0.69627908986196678148")


@pytest.mark.parametrize(
    ("sym", "name", "info"),
    [
        (x_symbol(1), "x_1", ("x", (1,))),
        (x_symbol(12), "x_{12}", ("x", (12,))),
        # The book's order: next-layer unit first (w^{(1)}_{32} is from x_2 to a^{(1)}_3).
        (w_symbol(1, 2, 3), "w^{(1)}_{32}", ("w", (1, 2, 3))),
        (w_symbol(2, 1, 12), "w^{(2)}_{12,1}", ("w", (2, 1, 12))),
        (b_symbol(3, 2), "b^{(3)}_2", ("b", (3, 2))),
        (a_symbol(1, 1), "a^{(1)}_1", ("a", (1, 1))),
        (z_symbol(2, 10), "z^{(2)}_{10}", ("z", (2, 10))),
        (z_symbol(0, 2), "x_2", ("x", (2,))),
    ],
)
def test_symbols_follow_the_book_and_know_their_indices(sym, name, info):
    assert sym.name == name and sym.is_real
    assert symbol_info(sym) == info


def test_symbol_names_are_latex_ready():
    assert sympy.latex(w_symbol(2, 1, 12)) == "w^{(2)}_{12,1}"
    assert sympy.latex(a_symbol(1, 3) + x_symbol(1)) == "a^{(1)}_3 + x_{1}"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_symbol_indices_are_one_based_integers(bad):
    with pytest.raises(UsageError, match="1-based"):
        x_symbol(bad)


@pytest.mark.parametrize(
    ("activation", "text"),
    [
        (Activation.IDENTITY, "a^{(1)}_1"),
        (Activation.SIGMOID, "1/(1 + exp(-a^{(1)}_1))"),
        (Activation.TANH, "tanh(a^{(1)}_1)"),
        (Activation.RELU, "Max(0, a^{(1)}_1)"),
        (Activation.STEP, "Piecewise((1, a^{(1)}_1 > 0), (0, True))"),
        (Activation.SOFTMAX, "exp(a^{(1)}_1)/(exp(a^{(1)}_1) + exp(a^{(1)}_2))"),
    ],
)
def test_activation_expressions(activation, text):
    assert str(activation_expr(activation, [a_symbol(1, 1), a_symbol(1, 2)], 1)) == text


def test_decimal_model_of_the_book_has_the_literal_weights():
    m = build_model(book_network(), Mode.DECIMAL)
    assert [str(e) for e in m.a[0]] == ["x_1/10 + x_2/5 + 1/10", "3*x_1/10 + 2*x_2/5 + 1/5",
                                        "x_1/2 + 3*x_2/5 + 3/10"]
    assert str(m.a[1][0]) == "z^{(1)}_1/10 + z^{(1)}_2/5 + 3*z^{(1)}_3/10 + 1/10"
    assert str(m.output(2)) == "a^{(3)}_2"
    assert m.weights[0][0, 0] == sympy.Rational(1, 10)


def test_binary_model_uses_the_exact_value_of_each_float_never_its_text():
    m = build_model(book_network(), Mode.BINARY)
    w = m.weights[0][0, 0]
    assert Fraction(int(w.p), int(w.q)) == Fraction(0.1) != Fraction(1, 10)
    assert m.biases[2][1] == sympy.Rational(*(0.2).as_integer_ratio())


def test_float32_model_uses_the_float32_values():
    m = build_model(book_network().astype(np.float32), Mode.BINARY)
    w = m.weights[0][0, 0]
    assert Fraction(int(w.p), int(w.q)) == Fraction(float(np.float32(0.1)))


def test_symbolic_model_is_the_general_formula():
    m = build_model(book_network(), Mode.SYMBOLIC)
    a, z = m.unit(1, 1)
    assert a == x_symbol(1) * w_symbol(1, 1, 1) + x_symbol(2) * w_symbol(1, 2, 1) + b_symbol(1, 1)
    assert str(z) == "1/(1 + exp(-a^{(1)}_1))"
    with pytest.raises(UsageError, match="no numbers"):
        m.substitutions()


def test_symbolic_closed_form_with_substitutions_equals_the_decimal_closed_form():
    sym = build_model(book_network(), Mode.SYMBOLIC)
    dec = build_model(book_network(), Mode.DECIMAL)
    subs = dec.substitutions()
    point = {x_symbol(1): sympy.Rational(1), x_symbol(2): sympy.Rational(1, 2)}
    lhs = sym.closed_form(1).xreplace(subs).xreplace(point).evalf(30)
    rhs = dec.closed_form(1).xreplace(point).evalf(30)
    assert abs(lhs - rhs) < sympy.Float("1e-28")


@pytest.mark.parametrize(("mode", "reference"), [(Mode.BINARY, BINARY), (Mode.DECIMAL, DECIMAL)])
def test_closed_form_of_the_book_evaluates_to_the_reference_digits(mode, reference):
    m = build_model(book_network(), mode)
    point = {x_symbol(1): sympy.Rational(1), x_symbol(2): sympy.Rational(1, 2)}
    for k, ref in enumerate(reference, start=1):
        value = m.closed_form(k).evalf(40, subs=point)
        assert sympy.Float(value, 40).round(20) == sympy.Float(ref, 40).round(20)
        assert abs(value - sympy.Float(ref, 40)) < sympy.Float("5.01e-21")


def test_closed_form_depends_only_on_the_inputs():
    m = build_model(book_network(), Mode.BINARY)
    assert m.closed_form(1).free_symbols == {x_symbol(1), x_symbol(2)}
    a, z = m.closed_unit(2, 1)
    assert a.free_symbols == z.free_symbols == {x_symbol(1), x_symbol(2)}


def test_unit_output_and_layer_indices_are_checked():
    m = build_model(book_network(), Mode.BINARY)
    with pytest.raises(UsageError, match="layers are 1 to 3"):
        m.unit(4, 1)
    with pytest.raises(UsageError, match="units 1 to 3"):
        m.unit(1, 4)
    with pytest.raises(UsageError, match="outputs 1 to 2"):
        m.output(0)


def test_decimal_mode_needs_literal_text():
    net = Network((Layer(np.eye(2), np.zeros(2), "identity"),))
    with pytest.raises(UsageError, match="literal text"):
        build_model(net, Mode.DECIMAL)


def test_book_mnist_layered_model_builds_and_a_full_expansion_is_refused_with_the_option():
    net = load_network("book-mnist")
    m = build_model(net, Mode.BINARY)
    assert len(m.a[0]) == 50 and len(m.a[0][0].args) == 785
    assert m.expanded_size(3, 1) > 10**6
    with pytest.raises(LimitError, match="--max-ops"):
        m.closed_form(1)


def test_closed_form_limit_is_the_node_count():
    m = build_model(book_network(), Mode.BINARY)
    size = m.expanded_size(3, 1)
    closed = m.closed_form(1, max_ops=size)
    assert 0 < sum(1 for _ in sympy.preorder_traversal(closed)) <= size  # the estimate bounds the tree
    assert closed.free_symbols == {x_symbol(1), x_symbol(2)}
    with pytest.raises(LimitError, match=f"--max-ops {size}"):
        m.closed_form(1, max_ops=size - 1)


def test_models_are_cached_per_network_and_mode():
    net = book_network()
    assert build_model(net) is build_model(net, "binary")
    assert build_model(net, Mode.DECIMAL) is not build_model(net)
