"""Every fast enclosure contains the arb enclosure (checked exactly, arb at 4096 bits).

On random networks of every activation and both dtypes, and on hostile ones: subnormal weights,
pre-activations at the edge of exp's range, huge logits, step at exactly 0, weights near the
float32 maximum. An entry the fast arithmetic cannot enclose usefully must say so (an infinite
radius, so the caller escalates to arb) — never a ball that misses the exact value.
"""

from __future__ import annotations

import numpy as np
import pytest
from fast_helpers import uncontained_entries
from hypothesis import given, settings
from hypothesis import strategies as st

from nnverify.certified import certify
from nnverify.certified.fastpass import FastPass, fast_forward
from nnverify.model import Activation, Layer, Network

HIDDEN = ("sigmoid", "tanh", "relu", "step", "identity")
OUTPUT = ("identity", "sigmoid", "softmax", "tanh", "relu", "step")


@st.composite
def random_networks(draw: st.DrawFn) -> tuple[Network, np.ndarray]:
    """A random network of 1-3 layers (every activation, both dtypes), weights over many scales."""
    dt = draw(st.sampled_from([np.float32, np.float64]))
    n_layers = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 7)) for _ in range(n_layers + 1)]
    acts = [draw(st.sampled_from(HIDDEN)) for _ in range(n_layers - 1)] + [draw(st.sampled_from(OUTPUT))]
    spread = draw(st.sampled_from([0.0, 2.0, 8.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def values(shape: tuple[int, ...]) -> np.ndarray:
        v = rng.standard_normal(shape) * np.exp(rng.uniform(-spread, spread, shape))
        return v.astype(dt)

    layers = tuple(Layer(values((a, b)), values((b,)), act) for a, b, act in zip(sizes, sizes[1:], acts))
    return Network(layers, name="random"), values((draw(st.integers(1, 4)), sizes[0]))


def uncontained(network: Network, x: np.ndarray) -> list[str]:
    """Every entry (layer, a/z/y, row, unit) where the fast ball misses arb's ball at 256 bits —
    and still misses it at 4096 bits (arb's own radius, about 2^-256 relative, can be the wider one
    where a tiny value meets an exact one: a fast radius of 1e-322 beside a bias of 0.1)."""
    fp = fast_forward(network, x)
    bad = _uncontained_at(network, x, fp, 256)
    return _uncontained_at(network, x, fp, 4096) if bad else bad


def _uncontained_at(network: Network, x: np.ndarray, fp: object, prec: int) -> list[str]:
    assert isinstance(fp, FastPass)
    cert = certify(network, x, route="matrix", prec=prec)
    bad = []
    for l in range(len(network.layers)):
        for name, ours, ref in (("a", fp.balls.a[l], cert.balls_a[l]), ("z", fp.balls.z[l], cert.balls_z[l])):
            ref_ok = [[b if b.is_finite() else None for b in row] for row in ref]
            for i, j in _uncontained(ours.mid, ours.rad, ref_ok):
                bad.append(f"layer {l + 1} {name}[{i}][{j}]: {ours.mid[i, j]} ± {ours.rad[i, j]} vs {ref[i][j]}")
    ref_y = [[b if b.is_finite() else None for b in row] for row in cert.balls_z[-1]]
    for i, j in _uncontained(fp.y.hi, fp.y.rad, ref_y, fp.y.lo):
        bad.append(f"y[{i}][{j}]: {fp.y.hi[i, j]} + {fp.y.lo[i, j]} ± {fp.y.rad[i, j]} vs {ref_y[i][j]}")
    return bad


def _uncontained(mid: np.ndarray, rad: np.ndarray, ref: list[list[object]], lo: np.ndarray | None = None
                 ) -> list[tuple[int, int]]:
    keep = [[r for r in row] for row in ref]
    masked_rad = rad.copy()
    for i, row in enumerate(keep):
        for j, r in enumerate(row):
            if r is None:  # arb itself has nothing finite there: nothing to compare
                masked_rad[i, j] = np.inf
    filled = [[r if r is not None else 0 for r in row] for row in keep]
    return uncontained_entries(mid, masked_rad, filled, lo)  # type: ignore[arg-type]


@settings(max_examples=200)
@given(random_networks())
def test_fast_balls_contain_the_arb_balls_on_random_networks(case: tuple[Network, np.ndarray]) -> None:
    network, x = case
    assert uncontained(network, x) == []


def test_the_containment_check_can_fail() -> None:
    """A ball narrowed below the truth is reported (the check is not vacuous)."""
    net = Network((Layer(np.array([[0.1, 0.3]]), np.array([0.2, 0.1]), "sigmoid"),))
    x = np.array([[0.7]])
    cert = certify(net, x, route="matrix", prec=256)
    fp = fast_forward(net, x)
    assert uncontained_entries(fp.y.hi, fp.y.rad, cert.balls_z[-1], fp.y.lo) == []
    assert uncontained_entries(fp.y.hi, np.zeros_like(fp.y.rad), cert.balls_z[-1]) != []


def _net(dt: type, *layers: tuple[list[list[float]], list[float], str]) -> Network:
    return Network(tuple(Layer(np.array(W, dtype=dt), np.array(b, dtype=dt), a) for W, b, a in layers), "hostile")


F32_MAX = float(np.finfo(np.float32).max)

HOSTILE = {
    "subnormal weights f64": (_net(np.float64, ([[1.0]], [0.0], "sigmoid"), ([[1.0, 1.0, 1.0]], [0.0, 0, 0], "identity"),
                                   ([[5e-324], [5e-324], [5e-324]], [0.0], "identity")), [[0.0], [3.0]]),
    "subnormal weights f32": (_net(np.float32, ([[1e-45, 3e-45]], [1e-45, 0.0], "relu"),
                                   ([[1e-45], [2e-40]], [0.0], "identity")), [[1.0], [1e30]]),
    "pre-activations +-745": (_net(np.float64, ([[745.0, -745.0, 745.2, -709.8]], [0.0] * 4, "sigmoid"),),
                              [[1.0], [-1.0], [1.0000001]]),
    "pre-activations +-745 tanh": (_net(np.float64, ([[745.0, -745.0, 1e-30]], [0.0] * 3, "tanh"),), [[1.0], [-1.0]]),
    "huge logits f64": (_net(np.float64, ([[1e300, 0.0, -1e300]], [0.0, 0, 0], "softmax"),), [[1.0], [-1.0]]),
    "huge logits f32": (_net(np.float32, ([[3e38, 0.0, -3e38]], [0.0, 0, 0], "softmax"),), [[1.0], [1e-30]]),
    "step at exactly 0": (_net(np.float64, ([[1.0, 2.0]], [-0.5, -1.0], "step"), ([[1.0], [1.0]], [0.0], "identity")),
                          [[0.5], [0.25]]),
    "step at exactly 0 f32": (_net(np.float32, ([[1.0]], [-0.5], "step"),), [[0.5]]),
    "near float32 max": (_net(np.float32, ([[F32_MAX, -F32_MAX]], [0.0, F32_MAX], "identity"),
                              ([[1.0], [1.0]], [0.0], "sigmoid")), [[1.0], [-1.0], [0.0]]),
    "sigmoid(-3.5e38)": (_net(np.float64, ([[3.5e38]], [0.0], "sigmoid"),), [[-1.0], [1.0]]),
    "sigmoid of -1e6": (_net(np.float64, ([[1.0]], [0.0], "sigmoid"),), [[-1e6]]),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_fast_balls_contain_the_arb_balls_on_hostile_networks(name: str) -> None:
    network, x = HOSTILE[name]
    assert uncontained(network, np.array(x, dtype=network.dtype)) == []


def test_step_at_exactly_zero_is_left_to_arb() -> None:
    """``a = 0`` exactly: the float64 ball straddles 0, so step stays undecided (never guessed)."""
    network, x = HOSTILE["step at exactly 0 f32"]
    fp = fast_forward(network, np.array(x, dtype=np.float32))
    assert fp.y.rad[0, 0] > 0  # [0, 1]: the caller escalates
    assert network.layers[0].activation is Activation.STEP
