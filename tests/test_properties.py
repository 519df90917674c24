"""The property suite: it passes correct forward passes and every property can fail.

These tests also dogfood the suite: nnverify's own forward pass is checked with the same
properties and strategies the users get.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnverify
from nnverify.model import Layer, Network
from nnverify.strategies import inputs, networks
from nnverify.suite import (
    PROPERTIES,
    LawBroken,
    SuiteConfig,
    property_names,
    run_property,
    run_suite,
)
from nnverify.suite.laws.structure import IdentityOutput
from nnverify.under_test import ForwardUnderTest, UserFunction, load_function

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
N = 25  # examples per property in these tests (the ci profile of the CLI runs more)


def _fn(spec: str, role: str = "forward") -> UserFunction:
    path, _, name = spec.partition(":")
    return load_function(f"{EXAMPLES / path}:{name}", role=role, timeout=10)


def _user(tmp_path: Path, body: str, name: str, role: str) -> UserFunction:
    path = tmp_path / f"{name}_{role}.py"
    path.write_text(textwrap.dedent(body))
    return load_function(f"{path}:{role}", role=role, timeout=10)


def test_every_property_is_named_documented_and_unique() -> None:
    names = property_names()
    assert names == ("agreement", "sigmoid-range", "identity-output", "softmax-laws", "batch-consistency",
                     "hidden-permutation", "sigmoid-symmetry", "worst-case")
    assert all(p.summary for p in PROPERTIES)


def test_nnverify_forward_passes_every_property_on_the_book_network() -> None:
    result = run_suite(SuiteConfig(nnverify.book_network()), max_examples=N)
    status = {r.name: r.status for r in result.results}
    assert result.ok, [r.reason for r in result.results if r.status == "failed"]
    assert status["softmax-laws"] == "skipped"  # no softmax in the book's network
    assert sum(s == "passed" for s in status.values()) == 7
    worst = next(r for r in result.results if r.name == "worst-case").worst
    assert worst is not None and 0 <= worst["ulp"] <= worst["bound_ulp"]


def test_nnverify_forward_passes_on_random_networks_with_softmax_output() -> None:
    net = nnverify.book_network().with_activations(["sigmoid", "tanh", "softmax"])
    result = run_suite(SuiteConfig(net, random_networks=True), max_examples=N)
    assert result.ok, [r.reason for r in result.results if r.status == "failed"]
    assert {r.name for r in result.results if r.status == "passed"} >= {"softmax-laws", "agreement"}


def test_a_float32_network_passes_with_float32_bounds() -> None:
    net = nnverify.book_network().astype("float32").with_activations(["sigmoid", "sigmoid", "softmax"])
    result = run_suite(SuiteConfig(net), max_examples=N)
    assert result.ok, [r.reason for r in result.results if r.status == "failed"]


# -- correct but different implementations must pass -----------------------------------------

CORRECT = [
    ("forward", "correct_sigmoid_tanh.py:forward"),
    ("forward", "correct_einsum.py:forward"),
    ("forward", "correct_summation_order.py:forward"),
    ("forward", "ch03_fixed.py:forward"),
    ("sigmoid", "correct_sigmoid_tanh.py:sigmoid"),
    ("softmax", "correct_einsum.py:softmax"),
]


@pytest.mark.parametrize("role, spec", CORRECT, ids=[s for _, s in CORRECT])
def test_a_correct_but_different_implementation_is_never_flagged(role: str, spec: str) -> None:
    fn = _fn(spec, role)
    impl = ForwardUnderTest(fn) if role == "forward" else ForwardUnderTest(**{role: fn})
    for random_networks in (False, True):
        result = run_suite(SuiteConfig(nnverify.book_network(), impl, random_networks=random_networks),
                           max_examples=N, seed=7)
        assert result.ok, [r.reason for r in result.results if r.status == "failed"]


# -- every property can fail -----------------------------------------------------------------

BROKEN = [
    # (property, how the implementation is given, spec, the law expected to break)
    ("agreement", "forward", "broken_sigmoid_sign.py:forward", "outputs within the derived bound"),
    ("agreement", "forward", "broken_transposed.py:forward", "outputs within the derived bound"),
    ("agreement", "forward", "broken_missing_bias.py:forward", "outputs within the derived bound"),
    ("agreement", "forward", "broken_float32.py:forward", "outputs within the derived bound"),
    ("agreement", "forward", "broken_plus_1e12.py:forward", "outputs within the derived bound"),
    ("agreement", "forward", "ch03_book.py:forward", "the implementation must not raise"),
    ("agreement", "sigmoid", "broken_sigmoid_sign.py:sigmoid", "outputs within the derived bound"),
    ("worst-case", "forward", "broken_plus_1e12.py:forward", "outputs within the derived bound"),
    ("hidden-permutation", "forward", "broken_transposed.py:forward", "permuting hidden units"),
    ("sigmoid-symmetry", "sigmoid", "broken_sigmoid_sign.py:sigmoid", "sigma non-decreasing"),
    ("sigmoid-range", "sigmoid", "ch03_fixed.py:sigmoid", "no floating-point warnings"),
    ("softmax-laws", "softmax", "broken_softmax_no_shift.py:softmax", "outputs must be finite"),
    ("softmax-laws", "softmax", "broken_softmax_1d.py:softmax", "softmax row by row"),
]


@pytest.mark.parametrize("prop, role, spec, law", BROKEN, ids=[f"{p}-{s}" for p, _, s, _ in BROKEN])
def test_a_broken_implementation_is_caught_with_a_readable_counterexample(
    prop: str, role: str, spec: str, law: str
) -> None:
    fn = _fn(spec, role)
    impl = ForwardUnderTest(fn) if role == "forward" else ForwardUnderTest(**{role: fn})
    res = run_property(prop, SuiteConfig(nnverify.book_network(), impl), max_examples=100)
    assert res.status == "failed"
    assert res.counterexample is not None and law in res.counterexample.law
    assert "input" in res.counterexample.details and res.reason and "\n" not in res.reason


def test_the_books_1d_softmax_fails_batch_consistency_inside_a_softmax_network() -> None:
    net = nnverify.book_network().with_activations(["sigmoid", "sigmoid", "softmax"])
    impl = ForwardUnderTest(softmax=_fn("broken_softmax_1d.py:softmax", "softmax"))
    res = run_property("batch-consistency", SuiteConfig(net, impl), max_examples=50)
    assert res.status == "failed" and "a batch gives the rows" in res.counterexample.law


def test_sigmoid_range_catches_a_value_above_one(tmp_path: Path) -> None:
    fn = _user(tmp_path, """
        import numpy as np
        def sigmoid(a):
            # 1 + 2**-52 where the true value rounds to 1
            return np.where(a > 40, 1 + 2.0**-52, 0.5 * (1 + np.tanh(a / 2)))
        """, "above", "sigmoid")
    res = run_property("sigmoid-range", SuiteConfig(nnverify.book_network(), ForwardUnderTest(sigmoid=fn)),
                       max_examples=100)
    assert res.status == "failed" and res.counterexample.law == "float sigmoid in [0, 1]"


def test_sigmoid_symmetry_catches_a_constant_offset(tmp_path: Path) -> None:
    fn = _user(tmp_path, """
        import numpy as np
        def sigmoid(a):
            return 0.5 * (1 + np.tanh(a / 2)) + 1e-12
        """, "offset", "sigmoid")
    res = run_property("sigmoid-symmetry", SuiteConfig(nnverify.book_network(), ForwardUnderTest(sigmoid=fn)),
                       max_examples=100)
    assert res.status == "failed"
    assert res.counterexample.law == "sigma(-a) = 1 - sigma(a) within bound"


def test_softmax_laws_catch_a_sum_off_by_more_than_the_bound(tmp_path: Path) -> None:
    fn = _user(tmp_path, """
        import numpy as np
        def softmax(a):
            e = np.exp(a - np.max(a, axis=-1, keepdims=True))
            return e / (np.sum(e, axis=-1, keepdims=True) * (1 + 1e-9))
        """, "sum", "softmax")
    res = run_property("softmax-laws", SuiteConfig(nnverify.book_network(), ForwardUnderTest(softmax=fn)),
                       max_examples=100)
    assert res.status == "failed"


class _NudgedIdentity(ForwardUnderTest):
    """nnverify's forward with an identity output that moves y one ulp up: bitwise different."""

    def run_layers(self, network: Network, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        a, z = super().run_layers(network, x)
        z[-1] = np.nextafter(z[-1], np.inf)
        return a, z


def test_identity_output_is_bitwise_and_catches_a_one_ulp_change() -> None:
    res = run_property("identity-output", SuiteConfig(nnverify.book_network(), _NudgedIdentity()), max_examples=10)
    assert res.status == "failed" and res.counterexample.law == "y equals a^(L) bitwise"


def test_identity_output_model_check_fails_for_a_sigmoid_output() -> None:
    net = nnverify.book_network().with_activations(["sigmoid", "sigmoid", "sigmoid"])
    with pytest.raises(LawBroken, match="identically in the model"):
        IdentityOutput()._check_model(net)


# -- skipping, determinism, faults -----------------------------------------------------------


def test_properties_that_do_not_apply_are_skipped_with_the_reason() -> None:
    one_layer = Network((Layer(np.eye(2), np.zeros(2), "identity"),))
    result = run_suite(SuiteConfig(one_layer), max_examples=5)
    reasons = {r.name: r.reason for r in result.results if r.status == "skipped"}
    assert reasons == {
        "sigmoid-range": "the network has no sigmoid layer and no --impl-sigmoid was given",
        "softmax-laws": "the network has no softmax output and no --impl-softmax was given",
        "hidden-permutation": "the network has no hidden layer",
        "sigmoid-symmetry": "the network has no sigmoid layer and no --impl-sigmoid was given",
    }


def _strip_time(doc: dict) -> dict:  # type: ignore[type-arg]
    for p in doc["properties"]:
        p.pop("seconds")
    return doc


def test_the_same_seed_gives_the_same_run_and_counterexample() -> None:
    impl = ForwardUnderTest(_fn("broken_float32.py:forward"))
    ctx = SuiteConfig(nnverify.book_network(), impl, random_networks=True)
    only = ["agreement"]
    first = _strip_time(run_suite(ctx, only=only, max_examples=15, seed=3).to_json())
    again = _strip_time(run_suite(ctx, only=only, max_examples=15, seed=3).to_json())
    assert first == again and not first["ok"]


def test_a_hang_stops_the_property_and_skips_the_rest() -> None:
    fn = load_function(f"{EXAMPLES}/user_errors.py:hangs", timeout=0.3)
    result = run_suite(SuiteConfig(nnverify.book_network(), ForwardUnderTest(fn)), max_examples=5)
    by_name = {r.name: r for r in result.results}
    assert by_name["agreement"].status == "failed"
    assert by_name["agreement"].counterexample.is_timeout
    assert by_name["batch-consistency"].reason == "not run: the implementation under test hung in agreement"


def test_a_users_whole_forward_pass_skips_the_single_activation_properties() -> None:
    impl = ForwardUnderTest(_fn("ch03_fixed.py:forward"))
    result = run_suite(SuiteConfig(nnverify.book_network(), impl), max_examples=5,
                       only=["sigmoid-range", "identity-output"])
    assert [r.status for r in result.results] == ["skipped", "skipped"]
    assert "returns only y, not a^(L)" in (result.results[1].reason or "")


# -- dogfooding: the project's own forward pass under the user-facing strategies -------------


@settings(max_examples=20)
@given(data=st.data(), net=networks(max_layers=3, max_width=4, activations=("sigmoid", "tanh", "relu"),
                                    output_activations=("identity", "sigmoid", "softmax")))
def test_nnverify_forward_agrees_with_the_certified_model_on_random_networks(
    data: st.DataObject, net: Network
) -> None:
    from nnverify.compare import check_outputs

    x = data.draw(inputs(net, batch=(1, 3), min_value=-5, max_value=5))
    report = check_outputs(net, x, nnverify.forward(net, x).y)
    assert report.ok, report.worst


def test_an_exception_inside_nnverify_is_reported_as_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import nnverify.compare

    def broken(*args: object, **kwargs: object) -> None:
        raise OverflowError("integer division result too large for a float")

    monkeypatch.setattr(nnverify.compare, "check_outputs", broken)
    res = run_property("agreement", SuiteConfig(nnverify.book_network()), max_examples=5)
    assert res.status == "failed"
    assert res.counterexample.law.startswith("internal error in nnverify")
    assert res.counterexample.message == "OverflowError: integer division result too large for a float"


def test_non_finite_numbers_become_strings_in_json() -> None:
    from nnverify.status import PropertyStatus
    from nnverify.suite import Counterexample, PropertyResult

    cex = Counterexample("a law", "broken", details={"ulp": float("inf"), "v": [float("nan")]})
    res = PropertyResult("agreement", PropertyStatus.FAILED, 1, "x", cex, {"of_bound": float("inf")})
    import json

    doc = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert doc["counterexample"] == {"law": "a law", "message": "broken", "ulp": "inf", "v": ["nan"]}
    assert doc["worst"] == {"of_bound": "inf"}


def test_the_progress_callback_is_called_once_per_example() -> None:
    ticks: list[str] = []
    result = run_suite(SuiteConfig(nnverify.book_network()), only=["agreement", "worst-case"], max_examples=7,
                       tick=ticks.append)
    assert ticks == ["agreement"] * 7 + ["worst-case"] * 7
    assert sum(r.examples for r in result.results) == 14
