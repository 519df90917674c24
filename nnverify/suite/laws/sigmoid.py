"""The sigmoid's laws: range (exact and float), symmetry sigma(-a) = 1 - sigma(a), monotonicity."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from nnverify.model import Activation
from nnverify.strategies import finite_floats
from nnverify.suite.config import SuiteConfig
from nnverify.suite.laws.base import (
    LawBroken,
    Property,
    Recorder,
    activation_network,
    exact_value,
    floats,
    run_activation,
)
from nnverify.suite.laws.within import allowance, check_within, output_bounds, ratio, shown

__all__ = ["SigmoidRange", "SigmoidSymmetry"]


def _sigmoid_impl_label(ctx: SuiteConfig) -> str:
    return ctx.impl.sigmoid.spec if ctx.impl.sigmoid is not None else "nnverify sigmoid"




def _sigmoid_applies(ctx: SuiteConfig) -> str | None:
    if ctx.impl.user_forward is not None and ctx.impl.sigmoid is None:
        return (f"{ctx.impl.user_forward.spec} is a whole forward pass; give --impl-sigmoid FILE:sigmoid "
                "to test its sigmoid on its own")
    if ctx.impl.has_user_code and ctx.impl.sigmoid is None:
        return "no --impl-sigmoid was given: this law would test only nnverify's own sigmoid"
    if ctx.impl.sigmoid is None and Activation.SIGMOID not in ctx.network.activations:
        return "the network has no sigmoid layer and no --impl-sigmoid was given"
    return None


class SigmoidRange(Property):
    """Exact sigmoid strictly inside (0, 1); float sigmoid in [0, 1], finite, no warnings."""

    name = "sigmoid-range"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        return _sigmoid_applies(ctx)

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        from hypothesis.extra import numpy as hnp

        dt = ctx.network.dtype
        # Every finite value of the dtype, huge ones included.
        return hnp.arrays(dt, st.integers(1, 8), elements=finite_floats(dtype=dt))

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        import sympy

        from nnverify.symbolic import sigma

        a = example
        s = run_activation(ctx, "sigmoid", a)
        for i, (ai, si) in enumerate(zip(a.tolist(), s.tolist())):
            q = sympy.Rational(*exact_value(ai).as_integer_ratio())
            exact = sigma(q)
            # 0 < sigma < 1 reduces to exp(-a) > 0 and exp(-a)/(1+exp(-a)) > 0: SymPy proves both.
            if exact.is_positive is not True or sympy.together(1 - exact).is_positive is not True:
                raise LawBroken("exact sigmoid strictly inside (0, 1)",
                                f"SymPy could not prove 0 < sigma({ai!r}) < 1 in the model", input=floats(a))
            if not 0.0 <= si <= 1.0:
                raise LawBroken(
                    "float sigmoid in [0, 1]",
                    f"{_sigmoid_impl_label(ctx)}({ai!r}) = {si!r}, outside [0, 1]",
                    input=floats(a), index=i + 1, observed=si,
                )


class SigmoidSymmetry(Property):
    """sigma(-a) = 1 - sigma(a) exactly in the model and within bound in floats; sigma non-decreasing."""

    name = "sigmoid-symmetry"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        return _sigmoid_applies(ctx)

    def setup(self, ctx: SuiteConfig) -> None:
        import sympy

        from nnverify.symbolic import sigma

        a = sympy.Symbol("a", real=True)
        residue = sympy.simplify(sigma(-a) - (1 - sigma(a)))
        if residue != 0:
            raise LawBroken("sigma(-a) = 1 - sigma(a) identically in the model",
                            f"SymPy leaves sigma(-a) - (1 - sigma(a)) = {residue}")

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        from hypothesis.extra import numpy as hnp

        dt = ctx.network.dtype
        return hnp.arrays(dt, st.integers(1, 6),
                          elements=finite_floats(min_value=-800.0, max_value=800.0, dtype=dt))

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        a = np.asarray(example)
        dt = ctx.network.dtype
        net = activation_network(Activation.SIGMOID, 1, dt)
        both = np.concatenate([a, -a])
        s = run_activation(ctx, "sigmoid", both)
        B = output_bounds(net, both[:, None])[:, 0]
        n = len(a)
        label = _sigmoid_impl_label(ctx)
        for i in range(n):
            diff = exact_value(s[n + i]) - (1 - exact_value(s[i]))
            allowed = allowance(B[i], B[n + i])
            check_within(rec, diff, allowed, lambda: LawBroken(
                "sigma(-a) = 1 - sigma(a) within bound",
                f"{label}({float(-a[i])!r}) = {float(s[n + i])!r} but "
                f"1 - {label}({float(a[i])!r}) = {float(1 - exact_value(s[i]))!r}; "
                f"they differ by {shown(diff)}, bound {shown(allowed)}",
                input=floats(a), a=float(a[i]),
            ), input=float(a[i]), law="symmetry")
        order = np.argsort(both, kind="stable")
        for lo, hi in zip(order[:-1], order[1:]):
            drop = exact_value(s[lo]) - exact_value(s[hi])
            allowed = allowance(B[lo], B[hi])
            if allowed is None:
                continue
            if drop > 0:
                rec.observe(ratio(drop, allowed), of_bound=ratio(drop, allowed), input=float(both[lo]),
                            law="monotonicity")
            if drop > allowed:
                raise LawBroken(
                    "sigma non-decreasing",
                    f"{label}({float(both[lo])!r}) = {float(s[lo])!r} > "
                    f"{label}({float(both[hi])!r}) = {float(s[hi])!r} by "
                    f"{float(drop):.3g}, more than the bound {shown(allowed)}",
                    input=floats(a), a=[float(both[lo]), float(both[hi])],
                )

