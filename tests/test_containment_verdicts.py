"""The fast route gives the verdicts the arb route gives, and never a verdict arb could not prove.

Each check runs twice, side by side: once with the fast route forced (float64 / double-double
balls, array verdicts, arb only where undecided) and once with arb alone. On random networks of
every activation and both dtypes, and on the hostile ones, with correct outputs and outputs
pushed off by a few, a thousand and a million ulps, the verdicts must be identical.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_containment import HOSTILE, random_networks

from nnverify import compare
from nnverify.model import Layer, Network
from nnverify.numeric import forward


def _check(network: Network, x: np.ndarray, y: np.ndarray, fast: bool, monkeypatch: pytest.MonkeyPatch,
           **kw: object) -> compare.CheckReport:
    work = 0 if fast else 10**30
    monkeypatch.setattr(compare, "FAST_MIN_WORK", {"float32": work, "float64": work})
    return compare.check_outputs(network, x, y, progress=False, **kw)  # type: ignore[arg-type]


def _pushed(network: Network, x: np.ndarray, seed: int) -> np.ndarray:
    """nnverify's outputs, some of them moved by 0, 3, 1e3 or 1e6 ulps of the dtype."""
    with np.errstate(all="ignore"):
        y = forward(network, x).y.astype(np.float64)
        rng = np.random.default_rng(seed)
        ulps = rng.choice([0.0, 0.0, 3.0, -3.0, 1e3, -1e6], size=y.shape)
        eps = np.finfo(network.dtype).eps
        return (y + ulps * eps * np.maximum(np.abs(y), np.finfo(network.dtype).tiny)).astype(network.dtype)


def _same(network: Network, x: np.ndarray, y: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _check(network, x, y, True, monkeypatch)
    ref = _check(network, x, y, False, monkeypatch)
    f, r = fast.table.codes, ref.table.codes
    for field in ("status", "sound_status", "prob_status"):
        assert np.array_equal(f[field], r[field]), (field, f[field], r[field])
    assert fast.counts() == ref.counts()


@settings(max_examples=60)
@given(random_networks(), st.integers(0, 2**16))
def test_the_fast_route_gives_arbs_verdicts_on_random_networks(case: tuple[Network, np.ndarray], seed: int) -> None:
    network, x = case
    with pytest.MonkeyPatch.context() as mp:
        _same(network, x, _pushed(network, x, seed), mp)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_fast_route_gives_arbs_verdicts_on_hostile_networks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    network, x = HOSTILE[name]
    xs = np.array(x, dtype=network.dtype)
    _same(network, xs, _pushed(network, xs, 1), monkeypatch)


def test_undecided_outputs_escalate_to_arb(monkeypatch: pytest.MonkeyPatch) -> None:
    """``step`` at exactly 0: the float64 ball straddles 0, so arb decides that row (and gets it right)."""
    network, x = HOSTILE["step at exactly 0 f32"]
    xs = np.array(x * 4, dtype=np.float32) * np.array([[1], [2], [1], [3]], dtype=np.float32)
    report = _check(network, xs, forward(network, xs).y, True, monkeypatch)
    assert report.ok and report.fast_rows == 2  # rows 1 and 3 (a = 0 exactly) needed arb, the others did not


def test_a_bound_that_proves_nothing_never_gives_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    """sigmoid(-3.5e38): a value of -0.9 or 0.9 is not 'ok' however the bound came out."""
    network = Network((Layer(np.array([[3.5e38]]), np.array([0.0]), "sigmoid"),))
    x = np.array([[-1.0], [-1.0], [-1.0]])
    y = np.array([[0.0], [-0.9], [0.9]])
    for fast in (True, False):
        report = _check(network, x, y, fast, monkeypatch)
        status = [r.status for r in report.results]
        assert status[0] == "ok" and status[1] != "ok" and status[2] != "ok", (fast, status)


def test_a_range_cap_bound_is_not_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule on its own: a sigmoid output whose bound covers the whole range gets no 'ok' —
    unless it is the exact value itself."""
    from nnverify.certified.ddouble import DD
    from nnverify.model import Activation
    from nnverify.verdicts import UNDECIDED, array_verdicts

    y = DD(np.array([[0.3]]), np.zeros((1, 1)), np.zeros((1, 1)))
    for bound, want_ok in ((0.69, True), (0.71, False), (1.0, False)):
        v = array_verdicts(y, np.array([[0.25]]), np.array([[bound]]), np.array([[bound]]), 0.0, np.float64,
                           Activation.SIGMOID)
        assert (int(v.status[0, 0]) == 0) is want_ok
        if not want_ok:
            assert int(v.status[0, 0]) == UNDECIDED
    v = array_verdicts(y, np.array([[0.3]]), np.array([[1.0]]), np.array([[1.0]]), 0.0, np.float64,
                       Activation.SIGMOID)
    assert int(v.status[0, 0]) == 0  # the exact value itself
    v = array_verdicts(y, np.array([[0.25]]), np.array([[1.0]]), np.array([[1.0]]), 0.0, np.float64,
                       Activation.IDENTITY)
    assert int(v.status[0, 0]) == 0  # an identity output has no range: a finite bound is a bound
