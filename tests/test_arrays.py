"""Ball arrays enclose what the arb balls enclose (checked exactly), and outward rounding rounds outward."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from flint import arb

from nnverify.certified import certify
from nnverify.certified.arrays import BallArray, ball_pass, down, from_arb, up
from nnverify.weights import BOOK_X, book_network, load_network


def _exact_contains(b: BallArray, lo: Fraction, hi: Fraction, idx: tuple[int, ...]) -> bool:
    m, r = Fraction(float(b.mid[idx])), Fraction(float(b.rad[idx]))
    return m - r <= lo and hi <= m + r


def test_ball_array_encloses_every_arb_ball_of_the_book_network() -> None:
    cert = certify(book_network(), BOOK_X)
    bp = ball_pass(cert)
    for layer_balls, layer_arr in zip(cert.a + cert.z, bp.a + bp.z):
        for j, enc in enumerate(layer_balls[0]):
            assert _exact_contains(layer_arr, enc.lower, enc.upper, (0, j))


def test_ball_array_encloses_non_dyadic_tiny_and_non_finite_balls() -> None:
    rows = [[arb("0.1"), arb(-1e6).exp(), arb(3) / 7, arb("nan")]]
    b = from_arb(rows)
    assert b.rad[0, 0] > 0 and b.rad[0, 2] > 0  # 0.1 and 3/7 are not floats
    assert b.mid[0, 1] == 0.0 and b.rad[0, 1] > 0  # 3.3e-434295 lies in [0 - 5e-324, 0 + 5e-324]
    assert np.isinf(b.rad[0, 3])
    third = Fraction(3, 7)
    assert _exact_contains(b, third, third, (0, 2))


def test_a_ball_array_that_is_too_narrow_is_caught() -> None:
    # the check above can fail: a radius of 0 around float(3/7) does not contain 3/7
    b = BallArray(np.array([[3 / 7]]), np.array([[0.0]]))
    assert not _exact_contains(b, Fraction(3, 7), Fraction(3, 7), (0, 0))


def test_up_is_an_upper_bound_of_one_rounded_sum_in_every_binade() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000) * np.exp2(rng.integers(-1070, 1000, 1000))
    y = rng.standard_normal(1000) * np.exp2(rng.integers(-1070, 1000, 1000))
    s = up(x + y)
    for a, b, c in zip(x.tolist(), y.tolist(), s.tolist()):
        if np.isfinite(c):
            assert Fraction(a) + Fraction(b) <= Fraction(c)


@pytest.mark.parametrize("signs", ["mixed", "nonnegative"])
def test_up_and_down_step_at_least_one_float_outward_on_large_arrays(signs: str) -> None:
    # large arrays take the arithmetic paths (small ones call np.nextafter): every binade,
    # subnormals, zeros of both signs, the largest float and the infinities
    rng = np.random.default_rng(1)
    x = rng.random(20_000) * np.exp2(rng.integers(-1075, 1024, 20_000))
    x[:8] = [0.0, -0.0, 5e-324, 2.0**-1022, np.nextafter(2.0**-1022, 0), 1.0, np.finfo(float).max, np.inf]
    if signs == "mixed":
        x *= rng.choice([-1.0, 1.0], x.size)
        x[8] = -np.inf
    with np.errstate(over="ignore"):
        assert np.all(up(x) >= np.nextafter(x, np.inf))
        assert np.all(down(x) <= np.nextafter(x, -np.inf))
        # and not far: at most a few floats (a bound that grew by a factor would still be sound,
        # but the signed bound's tightness rests on these steps being one or two gaps)
        finite = np.isfinite(x) & (np.abs(x) < 1e300)
        assert np.all(up(x)[finite] <= np.nextafter(np.nextafter(np.nextafter(x, np.inf), np.inf), np.inf)[finite])


@pytest.mark.slow
def test_ball_pass_of_the_mnist_network_has_one_array_per_layer() -> None:
    net = load_network("book-mnist")
    x = np.full((2, 784), 0.5, dtype=np.float32)
    bp = ball_pass(certify(net, x))
    assert [b.shape for b in bp.a] == [(2, 50), (2, 100), (2, 10)]
    # the arb radius is ~1e-38; what remains is the midpoint rounded to float64: within one ulp
    assert np.all(bp.y.rad <= 2 * np.spacing(np.abs(bp.y.mid)))
