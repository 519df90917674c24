"""The NumPy forward pass and its activation functions, including the conventions at kinks."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnverify import book_network, forward
from nnverify.errors import InputsError
from nnverify.numeric import relu, sigmoid, softmax, step, tanh
from nnverify.weights import load_network

FLOAT64 = st.floats(allow_nan=False, allow_infinity=False, width=64)
FLOAT32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


def test_book_network_reproduces_the_books_printed_numbers() -> None:
    fp = forward(book_network(), np.array([1.0, 0.5]))
    rounded = [np.round(v, 8).tolist() for v in (fp.a[0], fp.z[0], fp.z[1], fp.y)]
    assert rounded == [
        [0.3, 0.7, 1.1],
        [0.57444252, 0.66818777, 0.75026011],
        [0.62624937, 0.7710107],
        [0.31682708, 0.69627909],
    ]


def test_identity_output_is_the_weighted_sum_itself() -> None:
    fp = forward(book_network(), np.array([1.0, 0.5]))
    assert fp.y is fp.a[-1]


@given(FLOAT64)
def test_sigmoid_equals_the_naive_formula_bit_for_bit_where_that_does_not_overflow(a: float) -> None:
    arr = np.array([a])
    with np.errstate(over="ignore"):
        e = np.exp(-arr)
    if np.isfinite(e[0]):
        assert sigmoid(arr)[0] == (1 / (1 + e))[0]


@given(st.one_of(FLOAT64.map(np.float64), FLOAT32.map(np.float32)))
def test_sigmoid_is_in_the_unit_interval_without_warnings_for_any_finite_input(a: np.floating) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            s = sigmoid(np.array([a]))
    assert s.dtype == np.asarray(a).dtype
    assert 0.0 <= s[0] <= 1.0


@pytest.mark.parametrize(
    ("dtype", "values"),
    [(np.float32, [-89.0, -100.0, -104.0, -200.0]), (np.float64, [-710.0, -745.0, -1000.0])],
)
def test_sigmoid_tail_is_accurate_where_the_naive_formula_overflows(dtype: type, values: list) -> None:
    a = np.array(values, dtype=dtype)
    with np.errstate(all="raise", under="ignore"):
        s = sigmoid(a)
    with np.errstate(under="ignore"):
        expected = np.exp(a)  # sigmoid(a) = e^a (1 - e^a + ...) and e^a < u here
    assert np.array_equal(s, expected)
    assert sigmoid(np.array([1000.0], dtype=dtype))[0] == 1.0


def test_step_at_zero_is_zero_as_in_the_book() -> None:
    assert step(np.array([-1.0, 0.0, -0.0, 1e-300])).tolist() == [0.0, 0.0, 0.0, 1.0]


def test_relu_and_tanh_are_elementwise() -> None:
    assert relu(np.array([-2.0, 0.0, 3.0])).tolist() == [0.0, 0.0, 3.0]
    assert tanh(np.array([0.0]))[0] == 0.0


def test_softmax_shifts_by_the_row_maximum_and_works_row_by_row() -> None:
    logits = np.array([[1000.0, 1001.0, 1002.0], [0.0, 1.0, 2.0]])
    with np.errstate(all="raise", under="ignore"):
        y = softmax(logits)
    assert np.array_equal(y[0], y[1])  # shift invariance is exact after the max shift
    assert np.array_equal(softmax(logits[1]), y[1])
    # exact softmax of (0, 1, 2): e^k / (1 + e + e^2); the float result is within a few ulps
    assert np.argmax(y[0]) == 2 and 0.66 < y[0, 2] < 0.67


def test_batch_rows_agree_with_row_by_row_within_the_dot_product_bound() -> None:
    """Layer by layer, a batch and single rows differ only by summation order (BLAS blocking).

    From the same inputs z, each weighted sum computed in any order is within
    gamma_{n+1} * (|z| @ |W| + |b|) of the exact value, so two orders differ by at most twice that.
    """
    net = load_network("book-mnist")
    rng = np.random.default_rng(3)
    X = rng.random((64, 784)).astype(np.float32)
    batch = forward(net, X)
    u = np.finfo(np.float32).eps / 2
    z_prev = X
    for l, layer in enumerate(net.layers):
        n = layer.n_in + 1
        gamma = n * u / (1 - n * u)
        bound = 2 * gamma * (np.abs(z_prev).astype(np.float64) @ np.abs(layer.W).astype(np.float64) + np.abs(layer.b))
        for i in range(0, 64, 7):
            row = z_prev[i] @ layer.W + layer.b
            assert np.all(np.abs(row.astype(np.float64) - batch.a[l][i]) <= bound[i])
        z_prev = batch.z[l]
    one = forward(net, X[5])
    assert one.y.shape == (10,) and one.y.dtype == np.float32


def test_exact_book_values_sit_within_a_few_ulps_of_numpy() -> None:
    """the book network's exact values (docs/ARCHITECTURE.md): exact-binary y1 = 0.31682707641102976546..., NumPy is +0.74 ulp from it."""
    y = forward(book_network(), np.array([1.0, 0.5])).y
    exact = [Fraction("0.31682707641102976546"), Fraction("0.69627908986196680381")]
    for value, ref in zip(y, exact):
        ulps = abs(Fraction(float(value)) - ref) / Fraction(float(np.spacing(value)))
        assert ulps < 2


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.array([1.0, 2.0, 3.0]), "input has 3 values per row but the network takes 2"),
        (np.array([[1.0, np.nan]]), "inputs must be finite"),
        (np.zeros((1, 1, 2)), "expected one input (2,) or a batch (N, 2)"),
        (np.zeros((0, 2)), "the input batch is empty"),
        (np.array(["a", "b"]), "expected numbers"),
    ],
)
def test_bad_inputs_are_refused(x: np.ndarray, message: str) -> None:
    with pytest.raises(InputsError) as info:
        forward(book_network(), x)
    assert message in str(info.value)


def test_forward_casts_to_the_requested_dtype() -> None:
    fp = forward(book_network(), [1.0, 0.5], dtype="float32")
    assert fp.y.dtype == np.float32 and fp.a[0].dtype == np.float32


def test_importing_the_numpy_path_does_not_import_sympy() -> None:
    import subprocess
    import sys

    code = "import sys, nnverify, nnverify.numeric, nnverify.weights; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
