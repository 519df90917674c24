"""The tightened sound bound and the probabilistic bound (nnverify.bounds.tiers), on ball arrays.

Soundness is checked against the exact values (arb enclosures, compared as rationals) for
forwards that are correct in every way the model allows, including the worst summation orders;
each check is shown able to fail (a bound shrunk below the truth is caught).
"""

from __future__ import annotations

import numpy as np
import pytest
from bounds_helpers import BROKEN, CORRECT, errors
from hypothesis import given, settings
from oracle_helpers import small_networks

from nnverify.bounds import forward_error_bounds, layer_error_bounds
from nnverify.bounds.interval_arrays import interval_bounds, interval_layer_bounds
from nnverify.bounds.probabilistic import azuma_lambda, check_confidence
from nnverify.bounds.tiers import error_bounds
from nnverify.certified import certify
from nnverify.certified.arrays import ball_pass
from nnverify.errors import UsageError
from nnverify.model import Layer, Network
from nnverify.weights import BOOK_X, book_network, load_network


def _bounds(net: Network, x: np.ndarray):  # type: ignore[no-untyped-def]
    cert = certify(net, x, route="matrix")
    return cert, error_bounds(net, ball_pass(cert))


@settings(max_examples=40, deadline=None)
@given(small_networks(hidden=("sigmoid", "tanh", "relu", "identity", "step")))
def test_every_correct_summation_order_is_within_the_sound_bound(case) -> None:  # type: ignore[no-untyped-def]
    net, x = case
    cert, b = _bounds(net, x)
    assert np.all(b.sound <= b.interval) and np.all(b.probabilistic <= b.sound)
    for name, fwd in CORRECT.items():
        with np.errstate(all="ignore"):
            y = fwd(net, x)
        if not np.isfinite(y).all():
            continue
        err = errors(cert, y)
        assert np.all(err <= b.sound), (name, float(np.max(err / b.sound)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_book_mnist_every_correct_forward_passes_both_tiers_and_broken_ones_are_flagged(dtype) -> None:  # type: ignore[no-untyped-def]
    net = load_network("book-mnist").astype(dtype)
    x = np.random.default_rng(0).uniform(0, 1, (12, 784)).astype(dtype)
    cert, b = _bounds(net, x)
    for name, fwd in CORRECT.items():
        err = errors(cert, fwd(net, x))
        assert np.all(err <= b.probabilistic), (name, float(np.max(err / b.probabilistic)))
    for name, fwd in BROKEN.items():
        err = errors(cert, fwd(net, x))
        assert np.any(err > b.probabilistic), name


def test_the_sound_tier_catches_what_it_can_on_book_mnist_float32() -> None:
    # the sound tier alone: everything but 4 significant digits per weight (0.56 of the bound)
    net = load_network("book-mnist")
    x = np.random.default_rng(0).uniform(0, 1, (12, 784)).astype(np.float32)
    cert, b = _bounds(net, x)
    caught = {name for name, fwd in BROKEN.items() if np.any(errors(cert, fwd(net, x)) > b.sound)}
    assert caught == set(BROKEN) - {"4 significant digits per weight"}


def test_sound_is_the_minimum_of_todays_bound_and_the_signed_one() -> None:
    net = load_network("book-mnist")
    x = np.random.default_rng(1).uniform(0, 1, (6, 784)).astype(np.float32)
    cert, b = _bounds(net, x)
    np.testing.assert_array_equal(b.sound, np.fmin(b.interval, b.linear))
    # the interval tier is today's output rule over the signed chain's errors: at most today's
    today = interval_bounds(net, ball_pass(cert))
    assert np.all(b.interval <= today * (1 + 1e-9)) and np.median(b.interval / today) < 0.5
    assert np.median(b.linear / today) < 0.2  # signed propagation: ~10x tighter here
    assert np.all(b.probabilistic <= b.sound)


def test_a_shrunk_bound_is_caught_by_the_worst_summation_order() -> None:
    # the soundness checks above can fail: 1/200 of the sound bound (1/10 of the probabilistic
    # one) is below the sorted sum's error
    net = load_network("book-mnist")
    x = np.random.default_rng(0).uniform(0, 1, (12, 784)).astype(np.float32)
    cert, b = _bounds(net, x)
    err = errors(cert, CORRECT["sorted positive-first"](net, x))
    assert np.any(err > b.sound / 200)
    assert np.any(err > b.probabilistic / 10)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "identity", "softmax"])
def test_vectorized_twin_agrees_with_the_arb_oracle(act: str) -> None:
    rng = np.random.default_rng(4)
    for dt in (np.float32, np.float64):
        layers = (Layer(rng.standard_normal((5, 7)).astype(dt), rng.standard_normal(7).astype(dt), "sigmoid"),
                  Layer(rng.standard_normal((7, 4)).astype(dt), rng.standard_normal(4).astype(dt), act))
        net = Network(layers)
        x = rng.standard_normal((3, 5)).astype(dt)
        cert = certify(net, x)
        arb_layers = layer_error_bounds(net, cert)
        vec_layers = interval_layer_bounds(net, ball_pass(cert))
        # the same rules: equal up to the float64 rounding, and the twin's exact hull of
        # sigma' = s(1 - s) over the box (arb's s * (1 - s) of a ball overestimates it a little);
        # softmax's sums are bounded with sum p = 1 instead of exactly: up to 1% looser
        looser = 1e-2 if act == "softmax" else 1e-9
        for (ea, ez), (va, vz) in zip(arb_layers, vec_layers):
            for vec, oracle in ((va, ea), (vz, ez)):
                assert np.all(vec <= oracle * (1 + looser)) and np.all(vec >= oracle * (1 - 1e-4))


def test_book_network_no_worse_than_today_and_the_twin_is_todays() -> None:
    net = book_network()
    cert = certify(net, BOOK_X)
    b = error_bounds(net, ball_pass(cert))
    today = forward_error_bounds(net, BOOK_X, cert)
    np.testing.assert_allclose(interval_bounds(net, ball_pass(cert)), today, rtol=1e-9)
    assert np.all(b.sound <= today * (1 + 1e-9)) and np.all(b.interval <= today * (1 + 1e-9))


def test_deep_tanh_network_float32_linearisation_does_not_blow_up() -> None:
    rng = np.random.default_rng(1)
    net = Network(tuple(Layer((rng.standard_normal((16, 16)) / 4).astype(np.float32),
                              (rng.standard_normal(16) * 0.1).astype(np.float32), "tanh") for _ in range(20)))
    x = rng.uniform(-1, 1, (4, 16)).astype(np.float32)
    cert, b = _bounds(net, x)
    assert np.all(b.linear < 1e-3 * interval_bounds(net, ball_pass(cert)))
    err = errors(cert, CORRECT["sorted positive-first"](net, x))
    assert np.all(err <= b.sound)


def test_tanh_enclosure_is_clamped_so_the_activation_error_stays_within_its_range() -> None:
    # float32 tanh units fed by huge weights: the arb ball of tanh over the error interval was
    # [-233, 233]-wide; the error of a computed tanh is at most 1 + |tanh| <= 2
    rng = np.random.default_rng(2)
    net = Network((Layer((rng.standard_normal((4, 6)) * 3e4).astype(np.float32), np.zeros(6, np.float32), "tanh"),
                   Layer((rng.standard_normal((6, 6)) * 3e4).astype(np.float32), np.zeros(6, np.float32), "tanh"),
                   Layer(rng.standard_normal((6, 2)).astype(np.float32), np.zeros(2, np.float32), "identity")))
    x = rng.standard_normal((3, 4)).astype(np.float32)
    cert = certify(net, x)
    for (_, e_z), (_, v_z) in zip(layer_error_bounds(net, cert)[:2], interval_layer_bounds(net, ball_pass(cert))[:2]):
        assert np.all(e_z <= 2.0) and np.all(v_z <= 2.0)


def test_subnormal_products_get_an_underflow_term_in_every_tier() -> None:
    # issue 10's false alarm: every product 0.5 * 5e-324 rounds to 0, the exact sum is 1.5 * 2^-1074
    net = Network((Layer(np.array([[0.0]]), np.array([0.0]), "sigmoid"),
                   Layer(np.zeros((1, 3)), np.zeros(3), "sigmoid"),
                   Layer(np.full((3, 1), 5e-324), np.zeros(1), "identity")))
    x = np.array([[0.3]])
    cert, b = _bounds(net, x)
    err = errors(cert, CORRECT["matmul"](net, x))
    assert err[0, 0] == 1.5 * 5e-324 or err[0, 0] > 0
    for bound in (b.interval, b.linear, b.sound, b.probabilistic, forward_error_bounds(net, x, cert)):
        assert err[0, 0] <= bound[0, 0]


@pytest.mark.parametrize("bad", [0.0, 1.0, 0.3, -0.5, 1.5, float("nan"), float("inf"), "0.9", True])
def test_confidence_outside_its_range_is_a_clear_error(bad: object) -> None:
    with pytest.raises(UsageError, match=r"in \[0.5, 1\)"):
        check_confidence(bad)


def test_azuma_lambda_grows_slowly_with_the_confidence() -> None:
    assert 5.3 < azuma_lambda(1 - 1e-6) < 5.4  # sqrt(2 ln(2e6))
    assert azuma_lambda(0.5) < azuma_lambda(0.99) < azuma_lambda(1 - 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_box_is_tightened_where_it_pays_and_only_there(dtype, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from nnverify.bounds import tiers
    from nnverify.certified.fastpass import fast_forward

    net = load_network("book-mnist").astype(dtype)
    x = np.random.default_rng(5).uniform(0, 1, (64, 784)).astype(dtype)
    bp = fast_forward(net, x).balls
    default = error_bounds(net, bp).sound
    real_top, real_output = tiers._softmax_top, tiers._softmax_output

    def always(*args, **kwargs):  # type: ignore[no-untyped-def]
        return (*real_top(*args, **kwargs)[:2], True)

    monkeypatch.setattr(tiers, "_softmax_top", always)
    tightened = error_bounds(net, bp).sound
    monkeypatch.setattr(tiers, "_softmax_top", real_top)
    monkeypatch.setattr(tiers, "_softmax_output", lambda *a, **k: real_output(*a, **{**k, "tighten": False}))
    loose = error_bounds(net, bp).sound
    assert np.all(tightened <= loose)
    if dtype == np.float32:  # the probe asks for it, and it pays
        assert np.array_equal(default, tightened) and np.median(loose / tightened) > 1.01
    else:  # skipped, and skipping it loses nothing measurable
        assert np.array_equal(default, loose) and np.max(loose / tightened) < 1.001
