"""The property suite and the two tiers: a suspicious output breaks the agreement laws, with a
message that says so, unless ``--sound-only``; the tolerance laws use the tighter sound bound."""

from __future__ import annotations

import numpy as np
import pytest

import nnverify
import nnverify.compare as compare
from nnverify.bounds.interval_arrays import interval_bounds
from nnverify.bounds.tiers import OutputBounds, error_bounds
from nnverify.cli import main
from nnverify.suite import SuiteConfig, run_property
from nnverify.suite.laws.agreement import Agreement, WorstCase


@pytest.fixture
def strict_probabilistic_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A probabilistic bound shrunk to a millionth: every correct output becomes suspicious."""

    def shrunk(*args, **kwargs):  # type: ignore[no-untyped-def]
        b = error_bounds(*args, **kwargs)
        return OutputBounds(b.interval, b.linear, b.sound, b.probabilistic * 1e-6, b.confidence)

    monkeypatch.setattr(compare, "error_bounds", shrunk)


@pytest.mark.parametrize("law", [Agreement(), WorstCase()], ids=["agreement", "worst-case"])
def test_a_suspicious_output_breaks_the_agreement_laws_with_a_clear_message(law, strict_probabilistic_bound) -> None:  # type: ignore[no-untyped-def]
    res = run_property(law, SuiteConfig(nnverify.book_network()), max_examples=10)
    assert res.status == "failed" and res.counterexample is not None
    assert "suspicious (probabilistic)" in res.counterexample.message
    assert "within the sound bound" in res.counterexample.message and "--sound-only" in res.counterexample.message
    assert res.counterexample.details["status"] == "suspicious"


@pytest.mark.parametrize("law", [Agreement(), WorstCase()], ids=["agreement", "worst-case"])
def test_sound_only_accepts_suspicious_outputs(law, strict_probabilistic_bound) -> None:  # type: ignore[no-untyped-def]
    res = run_property(law, SuiteConfig(nnverify.book_network(), sound_only=True), max_examples=10)
    assert res.status == "passed"


def test_without_the_shrinking_the_same_runs_pass() -> None:
    for law in (Agreement(), WorstCase()):
        assert run_property(law, SuiteConfig(nnverify.book_network()), max_examples=10).status == "passed"


def test_nnverify_test_sound_only_on_the_command_line(capsys, strict_probabilistic_bound) -> None:  # type: ignore[no-untyped-def]
    code = main(["test", "--only", "agreement", "--examples", "10"])
    out = capsys.readouterr().out
    assert code == 1 and "suspicious (probabilistic)" in out
    assert main(["test", "--only", "agreement", "--examples", "10", "--sound-only"]) == 0
    out = capsys.readouterr().out
    assert "passed" in out


def test_the_tolerance_laws_use_the_sound_tier() -> None:
    from nnverify.certified import certify
    from nnverify.certified.arrays import ball_pass
    from nnverify.suite.laws.within import output_bounds

    net = nnverify.load_network("book-mnist")
    x = np.random.default_rng(0).uniform(0, 1, (3, 784)).astype(np.float32)
    from nnverify.compare import reference_balls

    b = error_bounds(net, ball_pass(certify(net, x, route="matrix")))
    # the same BallPass check uses (here the fast float64 balls), then the sound tier of it
    np.testing.assert_array_equal(output_bounds(net, x), error_bounds(net, reference_balls(net, x)).sound)
    np.testing.assert_allclose(output_bounds(net, x), b.sound, rtol=1e-8)  # wider balls, barely wider bounds
    assert np.all(b.sound < interval_bounds(net, ball_pass(certify(net, x, route="matrix"))))
