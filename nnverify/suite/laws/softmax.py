"""The softmax laws: range, sum, shift invariance, order, no overflow, row by row."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from nnverify.model import Activation
from nnverify.suite.config import SuiteConfig
from nnverify.suite.laws.base import (
    LawBroken,
    Property,
    Recorder,
    activation_network,
    as_rows,
    exact_value,
    floats,
    run_activation,
)
from nnverify.suite.laws.within import allowance, check_within, difference, output_bounds, shown

__all__ = ["SoftmaxLaws"]


def _softmax_applies(ctx: SuiteConfig) -> str | None:
    if ctx.impl.softmax is not None:
        return None
    if ctx.impl.user_forward is not None:
        return (f"{ctx.impl.user_forward.spec} is a whole forward pass; give --impl-softmax FILE:softmax to "
                "test a softmax on its own")
    if ctx.impl.has_user_code:
        return "no --impl-softmax was given: this law would test only nnverify's own softmax"
    if ctx.network.activations[-1] is not Activation.SOFTMAX:
        return "the network has no softmax output and no --impl-softmax was given"
    return None


#: Softmax logits are drawn on a binary grid, ``m / 2**_GRID_BITS[dtype]`` with
#: ``|m / 2**bits| <= _LOGIT_MAX``, so that adding an integer shift up to ``_SHIFT_MAX`` is
#: exact in the dtype and the shifted logits have *exactly* the same softmax.
_GRID_BITS = {np.dtype(np.float32): 6, np.dtype(np.float64): 30}
_LOGIT_MAX = 2**14  # far beyond exp's overflow point (about 88.7 in float32, 709.8 in float64)
_SHIFT_MAX = 2**10


class SoftmaxLaws(Property):
    """Softmax in [0, 1], sums to 1, shift-invariant, order-preserving, no overflow, row-wise."""

    name = "softmax-laws"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        return _softmax_applies(ctx)

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        from hypothesis.extra import numpy as hnp

        dt = ctx.network.dtype
        bits = _GRID_BITS[dt]
        scale = 2.0**bits
        small = st.integers(-64 * 2**bits, 64 * 2**bits).map(lambda m: m / scale)
        large = st.integers(-_LOGIT_MAX * 2**bits, _LOGIT_MAX * 2**bits).map(lambda m: m / scale)
        shape = st.tuples(st.integers(1, ctx.max_batch), st.integers(1, 6))
        return st.tuples(
            hnp.arrays(dt, shape, elements=st.one_of(small, large)),
            st.integers(-_SHIFT_MAX, _SHIFT_MAX),
            st.booleans(),
        )

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        logits, c, one_row = example
        dt = ctx.network.dtype
        a = logits[0] if one_row else logits
        s = as_rows(run_activation(ctx, "softmax", a))
        X = as_rows(a)
        k = X.shape[1]
        net = activation_network(Activation.SOFTMAX, k, dt)
        from nnverify.compare import check_outputs
            # Row-wise: every row within bound of the exact softmax of that row alone.
        report = check_outputs(net, X, s, progress=False)
        if not report.ok:
            bad = next(r for r in report.results if not r.ok)
            raise LawBroken(
                "softmax row by row, within bound of the exact values",
                f"row {bad.input + 1}, y{bad.output + 1} = {float(bad.value)!r}; exact {bad.exact.digits(20)}, "
                f"{bad.ulp_text(report.dtype)} ulp away, bound {bad.bound_ulp:.3g} ulp",
                input=floats(a), row=bad.input + 1, output=bad.output + 1,
                exact=bad.exact.digits(20), exact_radius=float(bad.exact.rad), observed=float(bad.value),
            )
        B = output_bounds(net, X)
        for r in range(X.shape[0]):
            if not np.all((s[r] >= 0) & (s[r] <= 1)):
                raise LawBroken("softmax in [0, 1]", f"row {r + 1} is {floats(s[r])}", input=floats(a))
            total = sum((exact_value(v) for v in s[r]), Fraction(0))  # in [0, 1]: finite
            allowed = allowance(*B[r])
            check_within(rec, total - 1, allowed, lambda: LawBroken(
                "softmax sums to 1 within bound",
                f"row {r + 1} sums to 1 + {float(total - 1):.3g}, bound {shown(allowed)}",
                input=floats(a), row=r + 1), law="sum", input=floats(X[r]))
            for i in range(k):
                for j in range(k):
                    if X[r, i] < X[r, j]:
                        drop = exact_value(s[r, i]) - exact_value(s[r, j])
                        room = allowance(B[r, i], B[r, j])
                        if room is not None and drop > room:
                            raise LawBroken(
                                "softmax preserves order",
                                f"row {r + 1}: a{i + 1} = {float(X[r, i])!r} < a{j + 1} = {float(X[r, j])!r} but "
                                f"y{i + 1} = {float(s[r, i])!r} > y{j + 1} = {float(s[r, j])!r} beyond the bound",
                                input=floats(a), row=r + 1)
        # Shift invariance: a + c is exact on the grid, so exact softmax(a + c) = softmax(a).
        shifted = (X + dt.type(c)).astype(dt)
        if not all(exact_value(u) == exact_value(v) + c for u, v in zip(shifted.ravel(), X.ravel())):
            raise RuntimeError(f"internal: logits {floats(X)} + {c} is not exact in {dt}")
        s2 = as_rows(run_activation(ctx, "softmax", shifted[0] if one_row else shifted))
        B2 = output_bounds(net, shifted)
        for r in range(X.shape[0]):
            for i in range(k):
                diff = difference(s2[r, i], s[r, i])
                allowed = allowance(B[r, i], B2[r, i])
                check_within(rec, diff, allowed, lambda: LawBroken(
                    "softmax(a + c) = softmax(a) within bound",
                    f"row {r + 1}, c = {c}: y{i + 1} moves from {float(s[r, i])!r} to {float(s2[r, i])!r}, by "
                    f"{shown(diff)}, bound {shown(allowed)}",
                    input=floats(a), shift=c, row=r + 1), law="shift", input=floats(X[r]))
