"""Structural laws: identity output layer, batch consistency, hidden-unit permutation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from nnverify.model import Activation, Layer, Network
from nnverify.suite.cases import cases, integers, permutations
from nnverify.suite.config import SuiteConfig
from nnverify.suite.laws.base import (
    LawBroken,
    Property,
    Recorder,
    as_rows,
    batch_text,
    call_json,
    fault,
    floats,
    network_json,
    own_code_only,
    run_impl_many,
)
from nnverify.suite.laws.within import allowance, check_within, difference, output_bounds, shown
from nnverify.under_test import ImplementationFailed

__all__ = ["IdentityOutput", "BatchConsistency", "HiddenPermutation"]


class IdentityOutput(Property):
    """y equals a^(L): bitwise in floats, identically in the model (identity output layer)."""

    name = "identity-output"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        if ctx.network.activations[-1] is not Activation.IDENTITY:
            return f"the output activation is {ctx.network.activations[-1].value}, not identity"
        if own_code_only(ctx):
            return own_code_only(ctx)
        if not ctx.impl.exposes_a:
            return (f"{ctx.impl.label} follows the book's contract and returns only y, not a^(L); "
                    "agreement checks its y")
        return None

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        return cases(ctx)

    def setup(self, ctx: SuiteConfig) -> None:
        if not ctx.random_networks:
            self._check_model(ctx.network)

    def _check_model(self, network: Network) -> None:
        from nnverify.symbolic import a_symbol, build_model

        if network.n_params > 2000:  # the layered model of a big network is slow to build
            return
        model = build_model(network)
        L = len(network.layers)
        for k in range(network.n_outputs):
            expr = model.z[L - 1][k]
            if expr != a_symbol(L, k + 1):
                raise LawBroken("y_k = a^(L)_k identically in the model",
                                f"the model gives y{k + 1} = {expr}", network=network_json(network))

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        network, x = example
        if ctx.random_networks:
            self._check_model(network)
        try:
            a_list, z_list = ctx.impl.run_layers(network, np.asarray(x, dtype=network.dtype))
        except ImplementationFailed as exc:
            raise fault(exc.failure, network, x) from None
        a, y = a_list[-1], z_list[-1]
        # Bitwise: compare the bit patterns, so -0.0 vs 0.0 or a changed NaN payload would show.
        if a.shape != y.shape or not np.array_equal(a.view(np.uint8), y.view(np.uint8)):
            i = int(np.argmax((a != y).ravel())) if a.shape == y.shape else 0
            raise LawBroken("y equals a^(L) bitwise", f"y = {floats(y)} but a^(L) = {floats(a)} (entry {i + 1})",
                            network=network_json(network), input=floats(x))



class BatchConsistency(Property):
    """A batch gives the same rows as one-by-one calls, within bound (BLAS may block differently)."""

    name = "batch-consistency"

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        return cases(ctx, min_rows=2)

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        if ctx.impl.single_input:
            return (f"--single-input: {ctx.impl.label} takes one input at a time, so there is no batch to "
                    "compare with the rows (the other laws pass batches row by row)")
        return own_code_only(ctx)

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        network, X = example
        # The batch and every row in one exchange with the user's worker.
        Y, *rows = run_impl_many(ctx, [(network, X)] + [(network, X[r]) for r in range(X.shape[0])])
        B = output_bounds(network, X)
        for r in range(X.shape[0]):
            y_row = rows[r]
            for k in range(network.n_outputs):
                diff = difference(Y[r, k], y_row[k])
                allowed = allowance(B[r, k], B[r, k])
                check_within(rec, diff, allowed, lambda: LawBroken(
                    "a batch gives the rows one-by-one calls give (within bound)",
                    f"{batch_text(X, r)}, y{k + 1}: {float(Y[r, k])!r} in the batch but {float(y_row[k])!r} "
                    f"alone; they differ by {shown(diff)}, bound {shown(allowed)}",
                    network=network_json(network), call=call_json(ctx.impl.label, network, X, r + 1),
                    input=floats(X), row=r + 1, output=k + 1,
                ), input=floats(X[r]))


def _permuted(network: Network, l: int, perm: Sequence[int]) -> Network:
    """Layer ``l`` (1-based, hidden)'s units reordered by ``perm``, with W_l's columns, b_l and W_{l+1}'s rows."""
    p = np.asarray(perm)
    layers = list(network.layers)
    cur, nxt = layers[l - 1], layers[l]
    layers[l - 1] = Layer(cur.W[:, p], cur.b[p], cur.activation)
    layers[l] = Layer(nxt.W[p, :], nxt.b, nxt.activation)
    return Network(tuple(layers), name=f"{network.name} (layer {l} permuted)")


class HiddenPermutation(Property):
    """Permuting a hidden layer's units with their weights leaves y unchanged (within bound)."""

    name = "hidden-permutation"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        if len(ctx.network.layers) < 2:
            return "the network has no hidden layer"
        if not ctx.impl.takes_network:
            return (f"{ctx.impl.label} takes no network (it computes weights of its own), so it cannot be given "
                    "the permuted one")
        return own_code_only(ctx)

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        drawn = cases(ctx)

        @st.composite
        def build(draw: st.DrawFn) -> Any:
            case = draw(drawn)
            net = case[0]
            # Prefer layers with two or more units: a one-unit layer has nothing to permute.
            wide = [l for l in range(1, len(net.layers)) if net.layers[l - 1].n_out > 1] or [1]
            l = wide[draw(integers(0, len(wide) - 1))]
            perm = list(draw(permutations(net.layers[l - 1].n_out)))
            if perm == sorted(perm):  # the identity tests nothing: rotate it by one instead
                perm = perm[1:] + perm[:1]
            return case, l, perm

        return build()

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        (network, x), l, perm = example
        other = _permuted(network, l, perm)
        y, y2 = (as_rows(v) for v in run_impl_many(ctx, [(network, x), (other, x)]))
        # One bound serves both: it holds for every summation order of every sum, and the permuted
        # network computes the same sums (the same terms, layer l + 1's in another order) to the
        # same exact outputs, so every correct computation of it is one of the network itself.
        B = output_bounds(network, x)
        for r in range(y.shape[0]):
            for k in range(y.shape[1]):
                diff = difference(y2[r, k], y[r, k])
                allowed = allowance(B[r, k], B[r, k])
                check_within(rec, diff, allowed, lambda: LawBroken(
                    "permuting hidden units leaves y unchanged (within bound)",
                    f"layer {l} permuted by {[int(i) + 1 for i in perm]}: y{k + 1} of {batch_text(x, r)} moves "
                    f"from {float(y[r, k])!r} to {float(y2[r, k])!r}, by {shown(diff)}, "
                    f"bound {shown(allowed)}",
                    network=network_json(network), input=floats(x), layer=l,
                    call=call_json(ctx.impl.label, other, x, r + 1 if np.ndim(x) == 2 else None),
                    permutation=[int(i) + 1 for i in perm],
                ), input=floats(as_rows(x)[r]))
