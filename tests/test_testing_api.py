"""nnverify.testing and the ways in from Python: the book's dict, classes, bound methods, specs."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import nnverify
from nnverify.errors import NetworkError
from nnverify.model import Network
from nnverify.testing import (
    ForwardIncorrect,
    assert_forward_correct,
    check_forward,
    forward_inputs,
    run_nnverify_suite,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

import broken_plus_1e12  # noqa: E402
import ch03_fixed  # noqa: E402
import class_params  # noqa: E402
import keras_like  # noqa: E402

MNIST_PICKLE = ROOT / "nnverify" / "data" / "sample_weight.pkl"


def test_a_correct_forward_passes_and_returns_the_report() -> None:
    report = assert_forward_correct(ch03_fixed.forward)
    assert report.ok and len(report.results) == 2


def test_a_broken_forward_raises_an_assertion_naming_output_exact_value_and_call() -> None:
    with pytest.raises(ForwardIncorrect) as info:
        assert_forward_correct(broken_plus_1e12.forward, inputs=[[0.0, 0.0], [1.0, 2.0]])
    text = str(info.value)
    assert text.startswith("broken_plus_1e12.forward: 4 of 4 outputs are not within the derived bound")
    assert "y1 of row 1 in a batch of 2 is 0.3080685345262333; exact 0.30806853452523328581" in text
    assert "the call: x of shape (2, 2) float64 = [[0.0, 0.0], [1.0, 2.0]]" in text
    assert isinstance(info.value, AssertionError) and not info.value.report.ok


@pytest.mark.parametrize("forward", [class_params.Net, class_params.net.predict, keras_like.predict,
                                     f"{EXAMPLES}/ch03_fixed.py:forward", f"{EXAMPLES}/class_params.py:Net.predict"],
                         ids=["class", "bound-method", "(1, k) result", "spec, isolated", "Class.method spec"])
def test_the_shapes_code_comes_in(forward: object) -> None:
    assert assert_forward_correct(forward, inputs=[[1.0, 0.5], [-3.0, 2.0]]).ok
    assert assert_forward_correct(forward, inputs=[1.0, 0.5]).ok


def test_a_dict_network_goes_in_directly() -> None:
    with open(MNIST_PICKLE, "rb") as f:  # the book's own file, as the book's readers load it
        params = pickle.load(f)
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    report = assert_forward_correct(
        lambda network, x: nnverify.forward(Network.from_book_dict(network, activations=["sigmoid", "sigmoid",
                                                                                          "softmax"]), x).y,
        network=params, activations=["sigmoid", "sigmoid", "softmax"], inputs=x)
    assert report.ok and report.dtype == np.float32


def test_load_network_takes_the_books_dict_instead_of_a_file_name_too_long_error() -> None:
    with open(MNIST_PICKLE, "rb") as f:
        params = pickle.load(f)
    net = nnverify.load_network(params, activations=["sigmoid", "sigmoid", "softmax"])
    assert net.sizes == (784, 50, 100, 10) and net.dtype == np.float32
    assert nnverify.load_network(net) is net
    book = nnverify.book_network()
    again = nnverify.load_network(book.to_book_dict())
    assert all(np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b) for a, b in zip(again.layers, book.layers))
    assert again.activations == book.activations  # the book's default: sigmoid..., identity


BAD_DICTS = [
    ({"W1": [[1.0]]}, "key b1 is missing from the book's dict"),
    ({"W1": [[1.0]], "b1": [0.0], "w2": [[1.0]]}, "unexpected key 'w2' in the book's dict"),
    ({}, "the book's dict is empty"),
    ({"W1": [["a"]], "b1": [0.0]}, "W1 has dtype <U1; expected float32 or float64 numbers"),
    ({"W1": [[1.0, 2.0]], "b1": [0.0]}, "b1 has shape (1,) but W1 has shape (1, 2)"),
    ({"W1": [[float("nan")]], "b1": [0.0]}, "every weight and bias must be finite"),
]


@pytest.mark.parametrize("params, message", BAD_DICTS, ids=[m for _, m in BAD_DICTS])
def test_a_bad_dict_is_a_one_line_error(params: dict[str, object], message: str) -> None:
    with pytest.raises(NetworkError) as info:
        Network.from_book_dict(params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_from_book_dict_keeps_float32_and_round_trips() -> None:
    net = nnverify.book_network().astype("float32")
    again = Network.from_book_dict(net.to_book_dict(), activations=net.activations)
    assert again.dtype == np.float32 and again.describe().endswith("sigmoid -> sigmoid -> identity")


@settings(max_examples=15, deadline=200)  # Hypothesis' own default deadline: the oracle is warm before the first example
@given(x=forward_inputs("book", batch=(1, 4)))
def test_the_given_recipe_works_with_the_default_deadline(x: np.ndarray) -> None:
    assert_forward_correct(ch03_fixed.forward, network="book", inputs=x)


def test_an_unbound_method_is_refused_with_what_to_give_instead() -> None:
    from nnverify.under_test import ImplementationError

    with pytest.raises(ImplementationError, match=r"Net.predict is a method of class Net; give the class \(Net\) "
                       r"or an instance's method \(Net\(\).predict\)"):
        check_forward(class_params.Net.predict)


def test_check_forward_returns_the_report_without_raising() -> None:
    report = check_forward(broken_plus_1e12.forward)
    assert not report.ok and report.counts()["failed"] == 2


def test_run_nnverify_suite_gives_the_verdicts_as_data() -> None:
    result = run_nnverify_suite(broken_plus_1e12.forward, examples=10, only=["agreement", "batch-consistency"])
    assert not result.ok
    assert [r.status for r in result.results] == ["failed", "passed"]


def test_isolate_needs_a_spec() -> None:
    from nnverify.errors import UsageError

    with pytest.raises(UsageError, match="a Python object cannot be sent to the worker process"):
        check_forward(ch03_fixed.forward, isolate=True)
