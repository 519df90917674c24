"""nnverify.strategies: what they draw stays inside the stated bounds; bad bounds fail at once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import nnverify
from nnverify.errors import UsageError
from nnverify.model import Activation, Network
from nnverify.numeric import forward
from nnverify.strategies import StrategyArgumentError, finite_floats, inputs, logits, networks, weights


@given(net=networks(min_layers=2, max_layers=3, min_width=2, max_width=4, min_weight=-1.0, max_weight=1.0))
def test_networks_respect_depth_width_and_weight_bounds(net: Network) -> None:
    assert 2 <= len(net.layers) <= 3
    assert all(2 <= s <= 4 for s in net.sizes)
    for layer in net.layers:
        assert np.all(np.abs(layer.W) <= 1.0) and np.all(np.abs(layer.b) <= 1.0)
        assert np.all(np.isfinite(layer.W)) and np.all(np.isfinite(layer.b))
    assert net.activations[:-1] == (Activation.SIGMOID,) * (len(net.layers) - 1)
    assert net.activations[-1] is Activation.IDENTITY


@given(net=networks(activations=("tanh", "relu"), output_activations=("softmax",), dtype="float32"))
def test_networks_draw_from_the_given_activations_and_dtype(net: Network) -> None:
    assert set(net.activations[:-1]) <= {Activation.TANH, Activation.RELU}
    assert net.activations[-1] is Activation.SOFTMAX
    assert net.dtype == np.float32


@given(net=weights((2, 3, 2, 2)))
def test_weights_keep_the_architecture_and_the_books_activations(net: Network) -> None:
    assert net.sizes == (2, 3, 2, 2)
    assert net.activations == nnverify.book_network().activations


@given(data=st.data(), net=networks(max_layers=2))
def test_inputs_fit_the_network_and_run_through_forward(data: st.DataObject, net: Network) -> None:
    x = data.draw(inputs(net, min_value=-3.0, max_value=3.0, batch=(1, 4)))
    assert x.ndim == 2 and 1 <= x.shape[0] <= 4 and x.shape[1] == net.n_inputs
    assert x.dtype == net.dtype and np.all(np.abs(x) <= 3.0)
    assert forward(net, x).y.shape == (x.shape[0], net.n_outputs)


@given(x=inputs(nnverify.book_network()))
def test_inputs_without_batch_give_one_input(x: np.ndarray) -> None:
    assert x.shape == (2,)


@given(v=finite_floats(dtype="float32", min_value=0.1, max_value=0.2))
def test_float32_bounds_are_rounded_inward(v: float) -> None:
    # 0.1 is not a float32; the drawn values must still lie inside [0.1, 0.2].
    assert 0.1 <= v <= 0.2 and float(np.float32(v)) == v


@given(v=finite_floats())
def test_finite_floats_are_finite(v: float) -> None:
    assert np.isfinite(v)


@given(a=logits(batch=3, min_width=2, max_width=2))
def test_logits_have_the_requested_shape(a: np.ndarray) -> None:
    assert a.shape == (3, 2)


def test_a_network_shrinks_to_one_narrow_layer_with_zero_weights() -> None:
    from hypothesis import find

    net = find(networks(max_layers=4, max_width=5), lambda n: True)
    assert net.sizes == (1, 1)
    assert net.layers[0].W[0, 0] == 0 and net.layers[0].b[0] == 0


BAD = [
    (lambda: networks(min_layers=3, max_layers=1), "min_layers=3 is greater than max_layers=1"),
    (lambda: networks(min_layers=0), "min_layers=0 is outside [1, 64]"),
    (lambda: networks(min_width=2.5), "min_width=2.5 is not an integer"),
    (lambda: networks(activations=("softmax",)), "softmax, which is allowed only on the output layer"),
    (lambda: networks(activations=("sigmiod",)), "unknown activation 'sigmiod'"),
    (lambda: networks(activations=()), "activations is empty"),
    (lambda: networks(dtype="float16"), "dtype 'float16' is not supported"),
    (lambda: networks(min_weight=float("nan")), "min_weight" if False else "min_value=nan is not a finite"),
    (lambda: networks(min_weight=1.0, max_weight=-1.0), "min_value=1.0 is greater than max_value=-1.0"),
    (lambda: weights((2,)), "sizes=(2,) has 1 entries"),
    (lambda: weights((2, 0, 1)), "sizes[1]=0 is outside"),
    (lambda: weights((2, 3, 1), activations=("sigmoid",)), "activations has 1 entries"),
    (lambda: weights((2, 3, 1), activations=("softmax", "identity")), "softmax on a hidden layer"),
    (lambda: inputs("not a network"), "is not an nnverify Network"),  # type: ignore[arg-type]
    (lambda: inputs(nnverify.book_network(), batch=0), "batch=0 is outside"),
    (lambda: inputs(nnverify.book_network(), batch=(3, 1)), "batch[0]=3 is greater than batch[1]=1"),
    (lambda: inputs(nnverify.book_network(), min_value=1e400), "min_value=inf is not a finite"),
    (lambda: finite_floats(dtype="float32", min_value=0.1, max_value=0.1), "no float32 value lies in"),
]


@pytest.mark.parametrize("make, message", BAD, ids=[m for _, m in BAD])
def test_bad_arguments_fail_when_the_strategy_is_created(make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StrategyArgumentError) as info:
        make()
    assert message in str(info.value)
    assert isinstance(info.value, InvalidArgument) and isinstance(info.value, UsageError)
    assert "\n" not in str(info.value)


def test_import_nnverify_does_not_import_hypothesis() -> None:
    import subprocess
    import sys

    code = "import sys, nnverify, nnverify.numeric; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_readme_pytest_example_runs_and_can_fail() -> None:
    """The README's example of a user's own pytest test works as printed, and has teeth."""
    import importlib.util
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    code = re.search(r"```python\n(# test_my_forward\.py\n.*?)```", readme, re.S)
    assert code is not None
    for example, should_pass in (("ch03_fixed.py", True), ("broken_missing_bias.py", False)):
        spec = importlib.util.spec_from_file_location("my_code", root / "examples" / example)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        namespace: dict[str, object] = {"_user_forward": module.forward, "__name__": "readme_example"}
        exec(code.group(1).replace("from my_code import forward", "forward = _user_forward"), namespace)
        test = namespace["test_random_batches"]  # the README's @given test (tests/test_readme_pytest.py runs all)
        if should_pass:
            test()  # type: ignore[operator]
        else:
            from hypothesis import Phase, settings

            # Finding the failure is the point here; shrinking it would only cost time.
            with pytest.raises(AssertionError):
                settings(phases=(Phase.generate,))(test)()  # type: ignore[arg-type]
