"""Public Hypothesis strategies for networks and their inputs.

Plural nouns, keyword-only ``min_*``/``max_*`` bounds, arguments checked when the strategy is
*created* (a bad bound fails at once, not at the first draw). Every generated float is finite
and lies inside the stated bounds; floats shrink toward 0 and networks toward fewer, narrower
layers, so a failing case comes back small.

This module imports Hypothesis; ``import nnverify`` does not import it. Use it as
``from nnverify.strategies import networks, inputs``.

Example (a user's own pytest test)::

    from hypothesis import given, strategies as st
    from nnverify.strategies import networks, inputs

    @given(data=st.data(), net=networks(max_layers=3, max_width=4))
    def test_my_forward_keeps_the_shape(data, net):
        x = data.draw(inputs(net, batch=3))
        assert my_forward(net.to_book_dict(), x).shape == (3, net.n_outputs)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from nnverify.errors import UsageError
from nnverify.model import Activation, Layer, Network
from nnverify.validate import check_dtype

__all__ = [
    "StrategyArgumentError",
    "networks",
    "weights",
    "inputs",
    "logits",
    "finite_floats",
]

#: Widest layer a strategy will build by default; wider is allowed up to this hard cap.
MAX_WIDTH_CAP = 4096
#: Most layers a strategy will build.
MAX_LAYERS_CAP = 64


class StrategyArgumentError(UsageError, InvalidArgument):
    """A strategy was called with arguments that cannot work (one line: value, rule, fix).

    It is both an :class:`nnverify.errors.UsageError` and Hypothesis's ``InvalidArgument``.
    """


# -- argument checks -------------------------------------------------------------------------


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise StrategyArgumentError(f"{name}={value!r} is not an integer; give an int in [{low}, {high}]")
    if not low <= int(value) <= high:
        raise StrategyArgumentError(f"{name}={value} is outside [{low}, {high}]; give an int in that range")
    return int(value)


def _check_order(lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    if lo > hi:
        raise StrategyArgumentError(
            f"{lo_name}={lo!r} is greater than {hi_name}={hi!r}; need {lo_name} <= {hi_name} "
            f"(swap them)"
        )


def _check_dtype(dtype: object) -> np.dtype[Any]:
    return check_dtype(dtype, error=StrategyArgumentError)


def _check_float(name: str, value: object, dtype: np.dtype) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise StrategyArgumentError(f"{name}={value!r} is not a number; give a finite float")
    v = float(value)
    biggest = float(np.finfo(dtype).max)
    if not math.isfinite(v) or abs(v) > biggest:
        raise StrategyArgumentError(
            f"{name}={value!r} is not a finite {dtype} value; give a number within +-{biggest:.4g}"
        )
    return v


def _check_activations(name: str, acts: object, *, allow_softmax: bool) -> tuple[Activation, ...]:
    if isinstance(acts, (str, Activation)):
        acts = (acts,)
    try:
        parsed = tuple(Activation.parse(a) for a in acts)  # type: ignore[attr-defined]
    except TypeError:
        raise StrategyArgumentError(
            f"{name}={acts!r} is not a sequence of activations; give e.g. ('sigmoid', 'tanh')"
        ) from None
    except UsageError as exc:
        raise StrategyArgumentError(f"{name}: {exc}") from None
    if not parsed:
        raise StrategyArgumentError(f"{name} is empty; give at least one activation")
    if not allow_softmax and Activation.SOFTMAX in parsed:
        raise StrategyArgumentError(
            f"{name} contains softmax, which is allowed only on the output layer; "
            "put it in output_activations"
        )
    return parsed


def _inward(value: float, dtype: np.dtype, *, up: bool) -> float:
    """``value`` rounded into ``dtype`` upward (a lower end) or downward (an upper end)."""
    f = dtype.type(value)
    if up and float(f) < value:
        f = np.nextafter(f, dtype.type(np.inf))
    elif not up and float(f) > value:
        f = np.nextafter(f, dtype.type(-np.inf))
    return float(f)


def finite_floats(
    *, min_value: float | None = None, max_value: float | None = None, dtype: object = np.float64
) -> st.SearchStrategy[float]:
    """Finite floats of ``dtype`` in ``[min_value, max_value]`` (default: every finite value).

    Args:
        min_value: smallest value (inclusive); default the dtype's most negative finite value.
        max_value: largest value (inclusive); default the dtype's largest finite value.
        dtype: float32 or float64; every value drawn is exactly representable in it.

    Values are Python floats (float32 values widen losslessly) and shrink toward 0.
    """
    dt = _check_dtype(dtype)
    big = float(np.finfo(dt).max)
    lo = -big if min_value is None else _check_float("min_value", min_value, dt)
    hi = big if max_value is None else _check_float("max_value", max_value, dt)
    _check_order("min_value", lo, "max_value", hi)
    lo, hi = _inward(lo, dt, up=True), _inward(hi, dt, up=False)
    if lo > hi:
        raise StrategyArgumentError(
            f"no {dt} value lies in [{min_value!r}, {max_value!r}]; widen the interval"
        )
    return _floats(lo, hi, 32 if dt == np.float32 else 64)


# Strategies are immutable, so equal arguments can share one object. Sharing matters: a
# strategy built afresh inside flatmap/composite on every draw costs Hypothesis far more than
# the draw itself (tens of seconds while shrinking a random network).
@functools.lru_cache(maxsize=1024)
def _floats(lo: float, hi: float, width: Literal[32, 64]) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, width=width)


@functools.lru_cache(maxsize=4096)
def _arrays(shape: tuple[int, ...], elements: st.SearchStrategy[float], dt: np.dtype) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(dtype=dt, shape=shape, elements=elements)


@functools.lru_cache(maxsize=1024)
def _rows(lo: int, hi: int, n: int, elements: st.SearchStrategy[float], dt: np.dtype) -> st.SearchStrategy[np.ndarray]:
    return st.integers(lo, hi).flatmap(lambda N: _arrays((N, n), elements, dt))


# -- networks --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _layers_for(
    sizes: tuple[int, ...], acts: tuple[Activation, ...], dt: np.dtype, elements: st.SearchStrategy[float]
) -> st.SearchStrategy[tuple[Layer, ...]]:
    return st.tuples(*(
        st.builds(Layer, _arrays((sizes[l], sizes[l + 1]), elements, dt), _arrays((sizes[l + 1],), elements, dt),
                  st.just(acts[l]))
        for l in range(len(acts))
    ))


def weights(
    sizes: Sequence[int],
    *,
    activations: Sequence[Activation | str] | None = None,
    dtype: object = np.float64,
    min_weight: float = -2.0,
    max_weight: float = 2.0,
) -> st.SearchStrategy[Network]:
    """Networks of one fixed architecture with random weights and biases.

    Args:
        sizes: units per layer, input first, e.g. ``(2, 3, 2, 2)`` for the book's network.
        activations: one per layer (default: sigmoid on hidden layers, identity on the output).
        dtype: float32 or float64.
        min_weight: smallest weight or bias.
        max_weight: largest weight or bias.

    Example:
        >>> net = weights((2, 3, 2, 2)).example()  # doctest: +SKIP
    """
    try:
        sizes_t = tuple(sizes)
    except TypeError:
        raise StrategyArgumentError(f"sizes={sizes!r} is not a sequence; give e.g. (2, 3, 2, 2)") from None
    if len(sizes_t) < 2:
        raise StrategyArgumentError(
            f"sizes={sizes_t!r} has {len(sizes_t)} entries; give the input width and at least one layer"
        )
    sizes_t = tuple(_check_int(f"sizes[{i}]", s, 1, MAX_WIDTH_CAP) for i, s in enumerate(sizes_t))
    n_layers = len(sizes_t) - 1
    if activations is None:
        acts = (Activation.SIGMOID,) * (n_layers - 1) + (Activation.IDENTITY,)
    else:
        acts = _check_activations("activations", activations, allow_softmax=True)
        if len(acts) != n_layers:
            raise StrategyArgumentError(
                f"activations has {len(acts)} entries but sizes={sizes_t!r} makes {n_layers} layers; "
                "give one activation per layer"
            )
        if Activation.SOFTMAX in acts[:-1]:
            raise StrategyArgumentError(
                "activations puts softmax on a hidden layer; softmax is allowed only on the output layer"
            )
    dt = _check_dtype(dtype)
    elements = finite_floats(min_value=min_weight, max_value=max_weight, dtype=dt)
    return _networks_of(_layers_for(sizes_t, acts, dt, elements))


@functools.lru_cache(maxsize=1024)
def _networks_of(layers: st.SearchStrategy[tuple[Layer, ...]]) -> st.SearchStrategy[Network]:
    return layers.map(lambda ls: Network(ls, name="random"))


def networks(
    *,
    min_layers: int = 1,
    max_layers: int = 3,
    min_width: int = 1,
    max_width: int = 4,
    activations: Sequence[Activation | str] = ("sigmoid",),
    output_activations: Sequence[Activation | str] = ("identity",),
    dtype: object = np.float64,
    min_weight: float = -2.0,
    max_weight: float = 2.0,
) -> st.SearchStrategy[Network]:
    """Random feed-forward networks: random depth, widths, activations and weights.

    Args:
        min_layers: fewest layers (weight matrices), at least 1.
        max_layers: most layers.
        min_width: narrowest layer (input width included), at least 1.
        max_width: widest layer.
        activations: hidden-layer activations to draw from (softmax not allowed).
        output_activations: output-layer activations to draw from.
        dtype: float32 or float64.
        min_weight: smallest weight or bias.
        max_weight: largest weight or bias.

    Shrinks toward one layer of width ``min_width`` with zero weights.
    """
    lo_l = _check_int("min_layers", min_layers, 1, MAX_LAYERS_CAP)
    hi_l = _check_int("max_layers", max_layers, 1, MAX_LAYERS_CAP)
    _check_order("min_layers", lo_l, "max_layers", hi_l)
    lo_w = _check_int("min_width", min_width, 1, MAX_WIDTH_CAP)
    hi_w = _check_int("max_width", max_width, 1, MAX_WIDTH_CAP)
    _check_order("min_width", lo_w, "max_width", hi_w)
    hidden = _check_activations("activations", activations, allow_softmax=False)
    outputs = _check_activations("output_activations", output_activations, allow_softmax=True)
    dt = _check_dtype(dtype)
    elements = finite_floats(min_value=min_weight, max_value=max_weight, dtype=dt)

    @st.composite
    def build(draw: st.DrawFn) -> Network:
        n_layers = draw(st.integers(lo_l, hi_l))
        sizes = tuple(draw(st.integers(lo_w, hi_w)) for _ in range(n_layers + 1))
        acts = tuple(draw(st.sampled_from(hidden)) for _ in range(n_layers - 1))
        acts += (draw(st.sampled_from(outputs)),)
        return Network(draw(_layers_for(sizes, acts, dt, elements)), name="random")

    return build()


# -- inputs ----------------------------------------------------------------------------------


def _check_batch(batch: object) -> tuple[int, int] | None:
    if batch is None:
        return None
    if isinstance(batch, tuple):
        if len(batch) != 2:
            raise StrategyArgumentError(f"batch={batch!r}; give None, a row count N, or (min_rows, max_rows)")
        lo = _check_int("batch[0]", batch[0], 1, 1_000_000)
        hi = _check_int("batch[1]", batch[1], 1, 1_000_000)
        _check_order("batch[0]", lo, "batch[1]", hi)
        return lo, hi
    n = _check_int("batch", batch, 1, 1_000_000)
    return n, n


def inputs(
    network: Network,
    *,
    min_value: float = -10.0,
    max_value: float = 10.0,
    batch: int | tuple[int, int] | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """Inputs for ``network`` in its dtype: one input ``(n,)`` or a batch ``(N, n)``.

    Args:
        network: the network the inputs are for (its input width and dtype).
        min_value: smallest input value.
        max_value: largest input value.
        batch: None for one input of shape (n,); an int N for (N, n); (lo, hi) for a random N.
    """
    if not isinstance(network, Network):
        raise StrategyArgumentError(
            f"network={type(network).__name__} is not an nnverify Network; load one with "
            "nnverify.load_network or draw one from networks()"
        )
    dt = network.dtype
    elements = finite_floats(min_value=min_value, max_value=max_value, dtype=dt)
    rows = _check_batch(batch)
    n = network.n_inputs
    if rows is None:
        return _arrays((n,), elements, dt)
    lo, hi = rows
    return _rows(lo, hi, n, elements, dt)


def logits(
    *,
    min_width: int = 1,
    max_width: int = 6,
    min_value: float = -50.0,
    max_value: float = 50.0,
    batch: int | tuple[int, int] | None = None,
    dtype: object = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of logits for a softmax: ``(k,)`` or a batch ``(N, k)``.

    Args:
        min_width: fewest logits per row.
        max_width: most logits per row.
        min_value: smallest logit.
        max_value: largest logit.
        batch: None for one row of shape (k,); an int N for (N, k); (lo, hi) for a random N.
        dtype: float32 or float64.
    """
    lo_w = _check_int("min_width", min_width, 1, MAX_WIDTH_CAP)
    hi_w = _check_int("max_width", max_width, 1, MAX_WIDTH_CAP)
    _check_order("min_width", lo_w, "max_width", hi_w)
    dt = _check_dtype(dtype)
    elements = finite_floats(min_value=min_value, max_value=max_value, dtype=dt)
    rows = _check_batch(batch)

    @st.composite
    def build(draw: st.DrawFn) -> np.ndarray:
        k = draw(st.integers(lo_w, hi_w))
        if rows is None:
            return draw(_arrays((k,), elements, dt))
        N = draw(st.integers(rows[0], rows[1]))
        return draw(_arrays((N, k), elements, dt))

    return build()
