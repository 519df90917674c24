"""The network model: construction, validation and derived networks."""

from __future__ import annotations

import numpy as np
import pytest

from nnverify import Activation, Layer, Network, NetworkError, UsageError, book_network


def _layer(n_in: int, n_out: int, act: str = "sigmoid", dtype: type = np.float64) -> Layer:
    return Layer(np.ones((n_in, n_out), dtype=dtype), np.zeros(n_out, dtype=dtype), act)


def test_book_network_has_the_books_shape_and_activations() -> None:
    net = book_network()
    assert net.sizes == (2, 3, 2, 2)
    assert net.activations == (Activation.SIGMOID, Activation.SIGMOID, Activation.IDENTITY)
    assert net.dtype == np.float64
    assert net.layers[0].W_text == (("0.1", "0.3", "0.5"), ("0.2", "0.4", "0.6"))
    assert net.has_text


def test_weights_are_read_only_copies() -> None:
    W = np.ones((2, 2))
    layer = Layer(W, np.zeros(2), "identity")
    W[0, 0] = 5.0
    assert layer.W[0, 0] == 1.0
    with pytest.raises(ValueError):
        layer.W[0, 0] = 3.0


def test_float32_is_kept_as_given() -> None:
    net = Network((_layer(3, 2, dtype=np.float32),))
    assert net.dtype == np.float32
    assert net.astype("float64").dtype == np.float64
    assert net.astype(np.float32) is net


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ((), "the network has no layers"),
        ((_layer(2, 3), _layer(4, 2)), "W2 (layer 2) has shape (4, 2) but layer 1 outputs 3 units (W1 has shape (2, 3)); expected W2 of shape (3, k)"),
        ((_layer(2, 3, "softmax"), _layer(3, 2)), "layer 1 is a hidden layer with softmax"),
        ((_layer(2, 3), _layer(3, 2, dtype=np.float32)), "mixed dtypes"),
        ((Layer(np.ones(3), np.zeros(3)),), "W1 (layer 1) is 1-D with shape (3,); expected a 2-D array"),
        ((Layer(np.ones((2, 2, 2)), np.zeros(2)),), "W1 (layer 1) is 3-D"),
        ((Layer(np.ones((2, 2)), np.zeros(())),), "b1 (layer 1) is 0-D"),
        ((Layer(np.ones((2, 2)), np.zeros(3)),), "b1 has shape (3,) but W1 has shape (2, 2)"),
        ((Layer(np.array([[1.0, np.nan]]), np.zeros(2)),), "W1[0, 1] (layer 1) is"),
        ((Layer(np.ones((1, 2)), np.array([0.0, np.inf])),), "b1[1] (layer 1) is"),
        ((Layer(np.ones((2, 2), dtype=np.int64), np.zeros(2, dtype=np.int64)),), "dtype int64; expected float32 or float64"),
        ((Layer(np.ones((2, 2), dtype=np.float16), np.zeros(2, dtype=np.float16)),), "dtype float16"),
        ((Layer(np.ones((0, 2)), np.zeros(2)),), "must not be empty"),
    ],
)
def test_invalid_networks_are_refused_with_a_message_naming_the_rule(layers: tuple, message: str) -> None:
    with pytest.raises(NetworkError) as info:
        Network(layers)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_activation_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError, match="unknown activation 'sigmoidd'; expected one of identity, sigmoid, relu, step, tanh, softmax"):
        Activation.parse("sigmoidd")


def test_with_activations_needs_one_per_layer() -> None:
    net = book_network()
    assert net.with_activations(["relu", "tanh", "softmax"]).activations[-1] is Activation.SOFTMAX
    with pytest.raises(UsageError, match="2 activations given"):
        net.with_activations(["relu", "tanh"])


def test_book_dict_matches_the_books_names() -> None:
    d = book_network().to_book_dict()
    assert sorted(d) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert d["W2"].shape == (3, 2)
