"""Hypothesis strategies the laws draw from: (network, x) cases, built from shared strategies."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st

from nnverify.model import Network
from nnverify.strategies import inputs, weights
from nnverify.suite.config import SuiteConfig

__all__ = ["cases", "network_strategy", "integers", "permutations"]


def network_strategy(ctx: SuiteConfig) -> st.SearchStrategy[Network]:
    if not ctx.random_networks:
        return st.just(ctx.network)
    acts = ctx.network.activations
    width = integers(1, ctx.max_width)
    dtype = ctx.network.dtype

    @st.composite
    def build(draw: st.DrawFn) -> Network:
        sizes = tuple(draw(width) for _ in range(len(acts) + 1))
        return draw(weights(sizes, activations=acts, dtype=dtype))

    return build()


@functools.lru_cache(maxsize=256)
def integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@functools.lru_cache(maxsize=256)
def permutations(n: int) -> st.SearchStrategy[list[int]]:
    return st.permutations(range(n))


def cases(ctx: SuiteConfig, *, min_rows: int | None = None) -> st.SearchStrategy[tuple[Network, np.ndarray]]:
    """(network, x): x one input, or a batch of ``min_rows``..max_batch rows.

    Built with ``composite`` from shared strategies: a strategy created afresh on every draw
    (``flatmap``) costs Hypothesis more than the draw itself.
    """
    nets = network_strategy(ctx)
    lo, hi = ctx.min_value, ctx.max_value

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Network, np.ndarray]:
        net = draw(nets)
        if min_rows is None and draw(st.booleans()):
            return net, draw(inputs(net, min_value=lo, max_value=hi))
        return net, draw(inputs(net, batch=(min_rows or 1, ctx.max_batch), min_value=lo, max_value=hi))

    return build()

