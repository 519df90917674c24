"""The derived error bound: ULP arithmetic, and that it accepts every correct float forward
pass while rejecting broken ones (the bound is never below a measured error)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from oracle_helpers import CORRECT_VARIANTS, make_forward, sig_tanh, small_networks

from nnverify.bounds import (
    DEFAULT_ROUNDING,
    float_up,
    forward_error_bounds,
    gamma,
    layer_error_bounds,
    ulp,
    ulp_distance,
    ulp_of,
    unit_roundoff,
)
from nnverify.certified import Enclosure, certify
from nnverify.compare import check_outputs
from nnverify.errors import UsageError
from nnverify.model import Layer, Network
from nnverify.numeric import forward
from nnverify.weights import BOOK_X, book_network, load_network


@pytest.mark.parametrize(
    ("dtype", "u"), [(np.float64, Fraction(1, 2**53)), (np.float32, Fraction(1, 2**24))]
)
def test_unit_roundoff(dtype, u):
    assert unit_roundoff(dtype) == u


@pytest.mark.parametrize(
    ("value", "dtype", "expected"),
    [
        (1.0, np.float64, 2.0**-52),
        (0.75, np.float64, 2.0**-53),
        (-2.0, np.float64, 2.0**-51),
        (0.0, np.float64, 2.0**-1074),
        (1e-310, np.float64, 2.0**-1074),
        (1.0, np.float32, 2.0**-23),
        (0.0, np.float32, 2.0**-149),
        (0.1, np.float64, float(np.spacing(0.1))),
    ],
)
def test_ulp_is_the_spacing_at_the_value(value, dtype, expected):
    assert ulp(value, dtype) == expected


def test_ulp_of_an_exact_value_just_below_a_power_of_two_uses_the_lower_binade():
    q = Fraction(1) - Fraction(1, 10**30)
    assert ulp_of(q, np.float64) == Fraction(1, 2**53)


def test_ulp_distance_is_zero_inside_the_ball_and_counts_ulps_outside():
    enc = Enclosure(Fraction(1), Fraction(1))
    assert ulp_distance(1.0, enc, np.float64) == 0
    assert ulp_distance(1.0 + 2**-52, enc, np.float64) == 1
    assert ulp_distance(math.nan, enc, np.float64) == math.inf


def test_gamma_and_float_up():
    u = Fraction(1, 2**53)
    assert gamma(2, u) == 2 * u / (1 - 2 * u)
    assert float_up(Fraction(1, 10)) >= 0.1 and Fraction(float_up(Fraction(1, 10))) >= Fraction(1, 10)
    assert Fraction(float_up(Fraction(1, 3))) > Fraction(1, 3)
    assert float_up(Fraction(1, 2)) == 0.5


def test_rounding_model_constants_are_stated_and_derived():
    c = DEFAULT_ROUNDING.constants(np.float64)
    assert c.k == 2  # exp/tanh within 2 ulps of float64 assumed
    assert 10 <= c.c_rel < 10.001  # (4k + 2) u + O(u^2) for exp(a)/(1+exp(a))
    assert 3 <= c.c_abs < 3.001  # (k + 1) u for 0.5*(1+tanh(a/2))
    assert DEFAULT_ROUNDING.constants(np.float32).k == 4


def test_book_network_bound_covers_numpy_and_is_within_100x_of_its_error():
    net = book_network()
    cert = certify(net, BOOK_X)
    bounds = forward_error_bounds(net, BOOK_X, cert)
    y = forward(net, BOOK_X).y
    for k in range(2):
        err = ulp_distance(y[k], cert.y[0][k], np.float64)
        bound = bounds[0, k] / ulp(float(cert.y[0][k]), np.float64)
        assert 0.3 < err < bound <= 100 * err  # measured here: 0.74 vs 9.9, 0.41 vs 11.2


def test_layer_bounds_grow_through_the_layers_and_need_a_binary_pass():
    net = book_network()
    per_layer = layer_error_bounds(net, certify(net, BOOK_X))
    assert len(per_layer) == 3
    assert per_layer[0][0].max() < per_layer[1][0].max()
    from nnverify.inputs import parse_x

    with pytest.raises(UsageError, match="binary-mode"):
        layer_error_bounds(net, certify(net, parse_x("1.0,0.5"), mode="decimal"))


@settings(max_examples=30)
@given(small_networks(hidden=("sigmoid", "tanh", "relu", "identity")))
def test_every_correct_float_variant_is_within_the_bound(case):
    net, x = case
    for name, impl in CORRECT_VARIANTS.items():
        with np.errstate(all="ignore"):
            y = impl(net, x)
        if not np.isfinite(y).all():
            continue  # e.g. softmax without the max shift overflows: not a correct computation
        report = check_outputs(net, x, y, progress=False)
        assert report.ok, (name, report.tightest)


def test_sigmoid_via_tanh_has_absolute_not_relative_error_and_still_passes():
    net = Network((Layer(np.array([[1.0]]), np.array([0.0]), "sigmoid"),))
    x = np.array([[-30.0], [-33.0], [-36.0], [5.0]])
    y = make_forward(sigmoid=sig_tanh)(net, x)
    report = check_outputs(net, x, y, progress=False)
    assert max(r.rel_error for r in report.results) > 1e-3  # 100%-ish relative errors
    assert report.ok


@pytest.mark.parametrize("spread", [1.0, 40.0, 200.0])
def test_softmax_with_large_logit_spread_passes_for_every_variant(spread):
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 6)) * spread
    net = Network((Layer(W, rng.standard_normal(6), "softmax"),))
    x = rng.standard_normal((8, 4))
    for name, impl in CORRECT_VARIANTS.items():
        with np.errstate(all="ignore"):
            y = impl(net, x)
        if np.isfinite(y).all():
            assert check_outputs(net, x, y, progress=False).ok, name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_book_mnist_variants_pass_in_both_dtypes(dtype):
    net = load_network("book-mnist").astype(dtype)
    x = np.random.default_rng(0).uniform(0, 1, (12, 784)).astype(dtype)
    for name in ("dot+naive sigmoid", "einsum+tanh sigmoid"):
        y = CORRECT_VARIANTS[name](net, x)
        assert check_outputs(net, x, y, progress=False).ok, name


BROKEN = {
    "adds 1e-12 to the outputs": lambda net, x: forward(net, x).y + 1e-12,
    "rounds a through float32": make_forward(inner_dtype=np.float32),
    "sigmoid with the wrong sign": make_forward(sigmoid=lambda a: 1 / (1 + np.exp(a))),
    "forgets the bias": make_forward(bias=False),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_forward_passes_are_rejected_on_the_book_network(name):
    net = book_network()
    y = BROKEN[name](net, np.atleast_2d(BOOK_X))
    report = check_outputs(net, BOOK_X, y, progress=False)
    assert not report.ok
    assert report.counts()["failed"] >= 1


@pytest.mark.parametrize("x", [1e10, -1e10, 3e7])
def test_extreme_float32_magnitudes_keep_bounds_finite_and_pass(x):
    # a = x * 1e10 is off by up to ~1e13: far beyond any exp argument, so only the range
    # caps (sigmoid and softmax lie in [0, 1]) bound what follows.
    f32 = np.float32
    net = Network((
        Layer(np.array([[1e10, -1e10]], dtype=f32), np.array([0.5, 0.5], dtype=f32), "sigmoid"),
        Layer(np.array([[1.0, 2.0], [3.0, -1.0]], dtype=f32), np.zeros(2, dtype=f32), "relu"),
        Layer(np.array([[1.0, 2.0], [3.0, -1.0]], dtype=f32), np.zeros(2, dtype=f32), "softmax"),
    ))
    xs = np.array([[x]], dtype=f32)
    bounds = forward_error_bounds(net, xs, certify(net, xs))
    assert np.isfinite(bounds).all()
    assert check_outputs(net, xs, forward(net, xs).y, progress=False).ok
