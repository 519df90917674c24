"""Certified evaluation: reference digits, enclosures, both routes, and an independent mpmath check."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import arb
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle_helpers import mp_forward, mp_to_fraction, small_networks

from nnverify.certified import Enclosure, ball, certify
from nnverify.errors import InputsError, UsageError
from nnverify.inputs import parse_x
from nnverify.model import Layer, Network
from nnverify.modes import Mode
from nnverify.weights import BOOK_X, book_network

# the book network's exact values (docs/ARCHITECTURE.md): independent references, 20 significant digits.
BINARY = ("0.31682707641102976546", "0.69627908986196680381")
DECIMAL = ("0.31682707641102974743", "0.69627908986196678148")


def _overlaps_reference(enc: Enclosure, ref: str) -> bool:
    """The 20-digit reference stands for [ref - half a unit in the last place, ref + half]."""
    q, half = Fraction(ref), Fraction(1, 2 * 10**20)  # every reference lies in [0.1, 1)
    return enc.lower <= q + half and q - half <= enc.upper


@pytest.mark.parametrize("route", ["sympy", "matrix"])
@pytest.mark.parametrize(
    ("mode", "x", "reference"),
    [(Mode.BINARY, BOOK_X, BINARY), (Mode.DECIMAL, parse_x("1.0,0.5"), DECIMAL)],
    ids=["binary", "decimal"],
)
def test_book_network_encloses_the_reference_digits(route, mode, x, reference):
    p = certify(book_network(), x, mode=mode, route=route)
    assert p.route == route
    for k, ref in enumerate(reference):
        enc = p.y[0][k]
        assert enc.digits(20) == ref
        assert _overlaps_reference(enc, ref)
        assert enc.rad < Fraction(1, 10**35)  # 128 bits: far tighter than 20 digits


def test_decimal_mode_has_exact_weighted_sums_of_the_book():
    p = certify(book_network(), parse_x("1.0,0.5"), mode=Mode.DECIMAL)
    for enc, q in zip(p.a[0][0], [Fraction(3, 10), Fraction(7, 10), Fraction(11, 10)]):
        assert enc.contains(q) and enc.rad < Fraction(1, 10**35)


def test_binary_inputs_and_weights_are_the_exact_values_of_the_floats():
    # The exact model uses the float nearest 0.1, not 1/10: a1_1 = 0.1*1.0 + 0.2*0.5 + 0.1 exactly.
    p = certify(book_network(), BOOK_X, mode=Mode.BINARY)
    expected = Fraction(0.1) * 1 + Fraction(0.2) * Fraction(0.5) + Fraction(0.1)
    assert p.a[0][0][0].contains(expected)
    assert p.a[0][0][0].rad == 0  # dyadic arithmetic is exact in a ball


def test_float32_inputs_are_cast_to_the_network_dtype_first():
    net = book_network().astype(np.float32)
    p = certify(net, np.array([0.1, 0.5]))
    assert p.x.dtype == np.float32
    assert p.x_exact[0][0] == Fraction(float(np.float32(0.1)))


def test_ball_is_exact_for_floats_and_encloses_other_rationals():
    assert ball(0.1).rad() == 0 and ball(Fraction(0.1)).rad() == 0
    tenth = Enclosure.from_ball(ball(Fraction(1, 10)))
    assert tenth.contains(Fraction(1, 10)) and tenth.rad > 0


@pytest.mark.parametrize(
    ("lower", "upper", "d", "text"),
    [
        (Fraction(1, 3), Fraction(1, 3), 5, "0.33333"),
        (Fraction(1, 2), Fraction(1, 2), 20, "0.5"),
        (Fraction(-2, 3), Fraction(-2, 3), 3, "-0.667"),
        (Fraction(1, 3 * 10**12), Fraction(1, 3 * 10**12), 4, "3.333e-13"),
        (Fraction(12345678), Fraction(12345678), 3, "1.23e+7"),
        (Fraction(0), Fraction(0), 5, "0"),
    ],
)
def test_enclosure_digits(lower, upper, d, text):
    assert Enclosure(lower, upper).digits(d) == text


def test_enclosure_contains_float_exactly_and_rejects_nan():
    e = Enclosure(Fraction(1, 10), Fraction(1, 10))
    assert not e.contains(0.1)  # the float 0.1 is not 1/10
    assert e.contains(Fraction(1, 10))
    assert not e.contains(float("nan"))
    assert float(Enclosure(Fraction(0), Fraction(1))) == 0.5


def test_empty_enclosure_is_refused():
    with pytest.raises(UsageError, match="empty"):
        Enclosure(Fraction(1), Fraction(0))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "symbolic"}, UsageError, "cannot be evaluated"),
        ({"mode": "hex"}, UsageError, "unknown mode"),
        ({"prec": 8}, UsageError, "precision 8 bits"),
        ({"route": "fast"}, UsageError, "route 'fast'"),
    ],
)
def test_certify_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        certify(book_network(), BOOK_X, **kwargs)


def test_decimal_mode_without_literal_text_says_how_to_fix():
    net = Network((Layer(np.eye(2), np.zeros(2), "identity"),))
    with pytest.raises(UsageError, match="--mode binary"):
        certify(net, np.ones(2), mode=Mode.DECIMAL)


def test_wrong_input_width_is_an_inputs_error():
    with pytest.raises(InputsError, match="takes 2"):
        certify(book_network(), np.ones(3))


@pytest.mark.parametrize("route", ["sympy", "matrix"])
def test_step_at_exactly_zero_is_zero_and_relu_clips(route):
    net = Network((Layer(np.array([[1.0, -1.0]]), np.zeros(2), "step"),))
    p = certify(net, np.array([[0.0], [1.0], [-1.0]]), route=route)
    assert [[e.mid for e in row] for row in p.y] == [[0, 0], [1, 0], [0, 1]]
    net = Network((Layer(np.array([[1.0, -1.0]]), np.zeros(2), "relu"),))
    p = certify(net, np.array([[2.5]]), route=route)
    assert [e.mid for e in p.y[0]] == [Fraction(5, 2), 0]


@settings(max_examples=25)
@given(small_networks(hidden=("sigmoid", "tanh", "relu", "identity", "step")))
def test_sympy_and_matrix_routes_give_overlapping_enclosures(case):
    net, x = case
    ps, pm = certify(net, x, route="sympy"), certify(net, x, route="matrix")
    for l in range(len(net.layers)):
        for rs, rm in zip(ps.balls_z[l], pm.balls_z[l]):
            for bs, bm in zip(rs, rm):
                assert bs.overlaps(bm)


@settings(max_examples=25)
@given(small_networks())
def test_enclosures_agree_with_mpmath_at_200_digits(case):
    net, x = case
    p = certify(net, x, route="matrix")
    ref = mp_forward(net, x, dps=200)
    for row_enc, row_ref in zip(p.y, ref):
        for enc, r in zip(row_enc, row_ref):
            q = mp_to_fraction(r)
            # mpmath's own rounding at 200 digits, relative, plus cancellation in the sums
            slack = abs(q) * Fraction(1, 10**180) + Fraction(1, 10**180)
            assert enc.lower - slack <= q <= enc.upper + slack


@pytest.mark.parametrize("route", ["sympy", "matrix"])
def test_astronomically_small_values_keep_their_certified_digits(route):
    # sigmoid(-1e6) = 3.2968...e-434295: kept as the ball itself, never clamped to a stand-in.
    net = Network((Layer(np.array([[1.0]]), np.array([0.0]), "sigmoid"),))
    enc = certify(net, np.array([-1e6]), route=route).y[0][0]
    assert enc.digits(20) == "3.2968314780885585790e-434295"
    assert enc.rad_text().endswith("e-434333")  # 38 digits below the value (the routes differ in the first)
    assert enc.lower > 0 and not enc.contains(0.0)
    assert float(enc) == 0.0 and enc.rad_upper() == 5e-324


def test_digits_are_only_the_certified_ones():
    # a ball of radius 0.01 around 0.31682 certifies "0.32" and no more
    wide = Enclosure.from_ball(arb(0.31682) + arb(0, 0.01))
    assert wide.digits(20) == "0.3"
    # the old midpoint printing would have shown twenty digits here
    assert Enclosure(Fraction(1, 3) - Fraction(1, 10**12), Fraction(1, 3) + Fraction(1, 10**12)).digits(20) \
        == "0.33333333333"
    assert Enclosure(Fraction(0), Fraction(1, 10**5)).digits(20) == "[0, 0.00001]"
    assert Enclosure(Fraction(-1), Fraction(1)).digits(3) == "[-1, 1]"


@st.composite
def decimal_networks(draw: st.DrawFn) -> tuple[Network, list[list[Fraction]]]:
    """Identity/relu networks whose weights are decimal literals, with decimal inputs."""
    sizes = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(2, 4)))]
    lit = st.builds(lambda m, e: f"{m}e{e}", st.integers(-999, 999), st.integers(-4, 1))
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        W_text = tuple(tuple(draw(lit) for _ in range(b)) for _ in range(a))
        b_text = tuple(draw(lit) for _ in range(b))
        W = np.array([[float(t) for t in row] for row in W_text])
        layers.append(Layer(W, np.array([float(t) for t in b_text]),
                            draw(st.sampled_from(["identity", "relu"])), W_text, b_text))
    x_text = [draw(lit) for _ in range(sizes[0])]
    return Network(tuple(layers)), x_text


def _exact_forward(net: Network, x: list[Fraction]) -> list[Fraction]:
    z = x
    for layer in net.layers:
        W = [[Fraction(t) for t in row] for row in layer.W_text]
        a = [sum((z[i] * W[i][j] for i in range(len(z))), Fraction(0)) + Fraction(layer.b_text[j])
             for j in range(layer.n_out)]
        z = a if layer.activation.value == "identity" else [max(v, Fraction(0)) for v in a]
    return z


@given(decimal_networks())
def test_decimal_mode_encloses_the_exact_rational_result(case):
    net, x_text = case
    exact = _exact_forward(net, [Fraction(t) for t in x_text])
    for route in ("sympy", "matrix"):
        p = certify(net, parse_x(",".join(x_text)), mode=Mode.DECIMAL, route=route)
        for enc, q in zip(p.y[0], exact):
            assert enc.contains(q)
            assert enc.rad <= abs(q) * Fraction(1, 2**100) + Fraction(1, 2**100)


def test_importing_the_oracle_loads_no_sympy_until_the_sympy_route_is_used():
    import subprocess
    import sys

    code = (
        "import sys, nnverify, nnverify.numeric, nnverify.compare, nnverify.bounds\n"
        "assert 'sympy' not in sys.modules, 'sympy imported'\n"
        "from nnverify.weights import book_network, BOOK_X\n"
        "nnverify.certify(book_network(), BOOK_X, route='matrix')\n"
        "assert 'sympy' not in sys.modules\n"
        "nnverify.certify(book_network(), BOOK_X, route='sympy')\n"
        "assert 'sympy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_padding_for_the_block_product_gives_the_same_or_tighter_balls():
    """arb_mat's block algorithm (taken once every dimension reaches 121) on the padded product:
    the same balls for exact inputs, never wider for ball inputs."""
    from flint import arb_mat, ctx

    from nnverify.certified.matrix import _product, padded_shape

    rng = np.random.default_rng(4)
    W = arb_mat((rng.standard_normal((130, 45))).tolist())
    assert padded_shape(130, 130, 45) == (130, 121) and padded_shape(10, 130, 45) is None
    assert padded_shape(200, 101, 10) is None  # 14x the work: not worth it
    with ctx.workprec(128):
        for rows in (rng.random((125, 129)).tolist(),
                     [[1 / (1 + arb(v).exp()) for v in r] for r in rng.standard_normal((125, 129)).tolist()]):
            one = arb(1) if isinstance(rows[0][0], arb) else 1.0
            classical = (arb_mat([r + [one] for r in rows]) * W).entries()
            padded = _product(rows, W, {}, "k")
            assert len(padded) == len(classical)
            for p, c in zip(padded, classical):
                assert c.contains(p)
                if isinstance(rows[0][0], float):
                    assert p.mid() == c.mid() and p.rad() == c.rad()


def test_an_enclosure_asks_for_a_tighter_one_only_when_its_digits_run_out():
    from flint import ctx

    calls = []

    def finer():
        calls.append(1)
        with ctx.workprec(128):
            return Enclosure.from_ball(arb("0.31682707641102976546") + arb(0, 1e-30))

    coarse = Enclosure.from_ball(arb(0.316827076411029) + arb(0, 1e-13), finer)
    assert coarse.digits(10) == "0.3168270764" and calls == []  # certified by the coarse ball
    assert coarse.digits(20) == "0.31682707641102976546" and calls == [1]
    assert coarse.rad_text() == "1.1e-30"  # the radius that goes with the digits shown (rounded up)
    assert coarse.lower < Fraction(31682707641102976546, 10**20) < coarse.upper  # still the coarse ends
    coarse.digits(20)
    assert calls == [1]  # asked once
