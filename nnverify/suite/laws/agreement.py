"""Agreement and worst case: every output within the derived bounds of its certified exact value.

An output outside its sound bound (or undecided) breaks the law, as ever. One within the sound
bound but outside the probabilistic one (``suspicious``: a correct computation lands there with
probability below ``1 - confidence``, under that bound's model) breaks it too, with a message
that says so, as ``nnverify check`` exits 1 on it; ``SuiteConfig.sound_only`` (``nnverify test
--sound-only``) accepts it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis import target

from nnverify.model import Network
from nnverify.strategies import inputs
from nnverify.suite.cases import cases, network_strategy
from nnverify.suite.config import SuiteConfig
from nnverify.suite.laws.base import (
    LawBroken,
    Property,
    Recorder,
    as_rows,
    batch_text,
    call_json,
    floats,
    network_json,
    own_code_only,
    run_impl,
)

__all__ = ["Agreement", "WorstCase"]


def _check_agreement(ctx: SuiteConfig, network: Network, x: np.ndarray, rec: Recorder, *, steer: bool) -> None:
    from nnverify.compare import check_outputs
    y = run_impl(ctx, network, x)
    X, Y = as_rows(x), as_rows(y)
    report = check_outputs(network, X, Y, progress=False)
    worst = report.worst
    if steer:
        target(float(report.max_ulp), label="ulp error")
    rec.observe(
        float(report.max_ulp), ulp=float(report.max_ulp), ulp_text=worst.ulp_text(network.dtype),
        input=floats(X[worst.input]),
        output=worst.output + 1, exact=worst.exact.digits(20), observed=float(worst.value),
        bound_ulp=float(worst.bound_ulp), prob_bound_ulp=_prob(worst), network=network.describe(),
    )
    bad = next((r for r in report.results if not r.sound_ok), None)
    if bad is not None:
        raise LawBroken(
            "outputs within the derived bound of the exact values",
            f"y{bad.output + 1} of {batch_text(x, bad.input)} is {float(bad.value)!r}; the exact value is "
            f"{bad.exact.digits(20)}, {bad.ulp_text(network.dtype)} ulp away, bound {bad.bound_ulp:.3g} ulp "
            f"(status {bad.status})",
            **_details(ctx, network, x, bad),
        )
    bad = next((r for r in report.results if not r.ok), None)
    if bad is not None and not ctx.sound_only:
        raise LawBroken(
            "outputs within the probabilistic bound of the exact values",
            f"suspicious (probabilistic): y{bad.output + 1} of {batch_text(x, bad.input)} is {float(bad.value)!r}; "
            f"the exact value is {bad.exact.digits(20)}, {bad.ulp_text(network.dtype)} ulp away: within the "
            "sound bound "
            f"{bad.bound_ulp:.3g} ulp (no error is proved) but outside the probabilistic bound "
            f"{_prob(bad):.3g} ulp, where a correct computation lands with probability "
            f"< {1 - report.confidence:.2g} if its rounding errors are independent with mean zero "
            "(--sound-only accepts this)",
            **_details(ctx, network, x, bad),
        )


def _prob(r: Any) -> float:
    return float("inf") if r.prob_bound_ulp is None else float(r.prob_bound_ulp)


def _details(ctx: SuiteConfig, network: Network, x: np.ndarray, bad: Any) -> dict[str, Any]:
    X = as_rows(x)
    return dict(
        network=network_json(network),
        call=call_json(ctx.impl.label, network, x, bad.input + 1 if x.ndim == 2 else None),
        input=floats(X[bad.input]), output=bad.output + 1,
        exact=bad.exact.digits(20), exact_radius=float(bad.exact.rad), observed=float(bad.value),
        ulp=float(bad.ulp), ulp_text=bad.ulp_text(network.dtype), bound_ulp=float(bad.bound_ulp),
        prob_bound_ulp=_prob(bad),
        abs_error=float(bad.abs_error), status=str(bad.status),
    )


class Agreement(Property):
    """Outputs lie within the derived bound of the certified exact values."""

    name = "agreement"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        return own_code_only(ctx)

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        return cases(ctx)

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        network, x = example
        _check_agreement(ctx, network, x, rec, steer=False)


class WorstCase(Property):
    """hypothesis.target() on the ULP error drives the search to the worst input; reports it."""

    name = "worst-case"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        return own_code_only(ctx)

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        nets = network_strategy(ctx)

        @st.composite
        def build(draw: st.DrawFn) -> Any:
            net = draw(nets)
            return net, draw(inputs(net, min_value=ctx.min_value, max_value=ctx.max_value))

        return build()

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        network, x = example
        _check_agreement(ctx, network, x, rec, steer=True)

