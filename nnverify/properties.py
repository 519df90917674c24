"""The property suite: named laws a forward pass must obey, run with Hypothesis.

Each property is checked on the implementation under test (nnverify's NumPy forward pass by
default, or a user's function, see :mod:`nnverify.impl`) against the exact model. Float
tolerances are never hand-picked: every "within bound" below uses the rigorous per-output
bound of :func:`nnverify.bounds.forward_error_bounds`, the distance any correct float
computation in the network's dtype may have from the exact value. When two float results
approximate the *same* exact value, they may differ by at most the sum of their two bounds
(triangle inequality); that is how batch consistency, hidden-unit permutation, sigmoid
symmetry and the softmax shift law get their tolerances. Differences of floats are compared
as exact rationals, so no extra rounding enters the comparison.

A single activation (sigmoid, softmax) is checked as the one-layer network ``W = I``,
``b = 0`` with that activation: ``x @ I + 0`` is exact, so the exact model and the bound of
that network are the exact model and a (slightly generous) bound of the activation itself.

The properties (``PROPERTIES``, in run order):

- ``agreement``: outputs within the derived bound of the certified exact values;
- ``sigmoid-range``: exact sigmoid strictly in (0, 1) (proved by SymPy); float in [0, 1],
  finite, no warnings, for all finite inputs including huge ones;
- ``identity-output``: ``y`` equals ``a^{(L)}`` — bitwise in floats, identically in the model;
- ``softmax-laws``: in [0, 1]; sums to 1 within bound; shift invariance; order preserving;
  no overflow for large logits; row-wise on batches;
- ``batch-consistency``: a batch gives the rows one-by-one calls give, within bound;
- ``hidden-permutation``: permuting a hidden layer's units with their weights leaves ``y``
  unchanged within bound;
- ``sigmoid-symmetry``: sigma(-a) = 1 - sigma(a) identically in the model, within bound in
  floats; sigma non-decreasing (within bound);
- ``worst-case``: ``hypothesis.target`` on the ULP error steers the search to the worst input;
  that input and its error are reported.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from nnverify.errors import UsageError
from nnverify.impl import CallFailure, ForwardUnderTest, ImplementationFailed, ImplementationHung
from nnverify.model import Activation, Layer, Network
from nnverify.strategies import finite_floats, inputs, weights

__all__ = [
    "PROPERTIES",
    "Property",
    "PROFILES",
    "PropertyResult",
    "SuiteConfig",
    "SuiteResult",
    "LawBroken",
    "property_names",
    "run_property",
    "run_suite",
]

#: Examples per property for each ``--profile``.
PROFILES = {"quick": 20, "ci": 60, "thorough": 1000}

#: Largest network written out in full in a counterexample (weights and biases).
_SHOW_WEIGHTS_UP_TO = 64


class LawBroken(Exception):
    """A law failed on one example: which law, and the data showing it (JSON-able)."""

    def __init__(self, law: str, message: str, **details: Any) -> None:
        super().__init__(f"{law}: {message}")
        self.law = law
        self.message = message
        self.details = details


# -- configuration and results ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SuiteConfig:
    """What the suite runs on.

    Args:
        network: the network (weights and activations) the implementation computes.
        impl: the forward pass under test (default: nnverify's own).
        random_networks: also draw random networks shaped like ``network`` (same depth and
            activations, random widths 1..``max_width`` and weights in [-2, 2]).
        min_value: smallest input value drawn.
        max_value: largest input value drawn.
        max_batch: most rows in a drawn batch.
        max_width: widest layer of a random network.
    """

    network: Network
    impl: ForwardUnderTest = field(default_factory=ForwardUnderTest)
    random_networks: bool = False
    min_value: float = -10.0
    max_value: float = 10.0
    max_batch: int = 4
    max_width: int = 5

    def __post_init__(self) -> None:
        if not (np.isfinite(self.min_value) and np.isfinite(self.max_value)) or self.min_value > self.max_value:
            raise UsageError(
                f"--low {self.min_value} --high {self.max_value}: need finite low <= high"
            )
        if self.max_batch < 2:
            raise UsageError(f"--max-batch {self.max_batch}: must be at least 2 (batch consistency needs 2 rows)")


@dataclass
class _Recorder:
    """Mutable per-property tally the Hypothesis test body writes into."""

    examples: int = 0
    worst: dict[str, Any] | None = None
    worst_key: float = -1.0
    tick: Callable[[], None] | None = None

    def example(self) -> None:
        self.examples += 1
        if self.tick is not None:
            self.tick()

    def observe(self, key: float, **info: Any) -> None:
        if key > self.worst_key:
            self.worst_key = float(key)
            self.worst = info


def _finite_json(value: Any) -> Any:
    """JSON has no inf or NaN: write them as the strings "inf", "-inf", "nan"."""
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


@dataclass(frozen=True)
class PropertyResult:
    """The verdict of one property.

    Args:
        name: the property's name (``--only NAME``).
        status: ``passed``, ``failed`` or ``skipped``.
        examples: test-case runs (shrinking included).
        reason: why it was skipped, or the one-line failure.
        counterexample: the shrunk failing case (JSON-able), when it failed.
        worst: the worst error seen (``{"ulp": ...}`` or ``{"of_bound": ...}`` plus where).
        seconds: wall time.
    """

    name: str
    status: str
    examples: int
    reason: str | None = None
    counterexample: dict[str, Any] | None = None
    worst: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def worst_text(self) -> str:
        if not self.worst:
            return "-"
        if "ulp" in self.worst:
            return f"{self.worst['ulp']:.3g} ulp"
        return f"{self.worst['of_bound']:.3g} of bound"

    def to_json(self) -> dict[str, Any]:
        return _finite_json({
            "name": self.name,
            "status": self.status,
            "examples": self.examples,
            "reason": self.reason,
            "counterexample": self.counterexample,
            "worst": self.worst,
            "seconds": round(self.seconds, 3),
        })


@dataclass(frozen=True)
class SuiteResult:
    """All property verdicts of one run."""

    results: tuple[PropertyResult, ...]
    seed: int
    max_examples: int
    implementation: str

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "implementation": self.implementation,
            "properties": [r.to_json() for r in self.results],
        }


# -- helpers ---------------------------------------------------------------------------------


def _floats(arr: np.ndarray) -> Any:
    return np.asarray(arr, dtype=np.float64).tolist()


def _network_json(network: Network) -> dict[str, Any]:
    doc: dict[str, Any] = {"describe": network.describe()}
    if network.n_params <= _SHOW_WEIGHTS_UP_TO:
        doc["weights"] = {k: _floats(v) for k, v in network.to_book_dict().items()}
        doc["activations"] = [a.value for a in network.activations]
    return doc


def _as_rows(x: np.ndarray) -> np.ndarray:
    return x[None, :] if x.ndim == 1 else x


def _exact(v: float | np.floating) -> Fraction:
    return Fraction(float(v))


def _activation_network(activation: Activation, k: int, dtype: np.dtype) -> Network:
    """The one-layer network ``y = h(x @ I + 0)``: its exact model is ``h`` itself."""
    return Network(
        (Layer(np.eye(k, dtype=dtype), np.zeros(k, dtype=dtype), activation),),
        name=f"{activation.value} (W = I, b = 0)",
    )


def _bounds(network: Network, x: np.ndarray) -> np.ndarray:
    """Rigorous per-output float error bounds ``(N, k)`` at inputs ``x`` (from nnverify.bounds)."""
    from nnverify.bounds import forward_error_bounds
    from nnverify.certified import certify

    rows = _as_rows(x)
    # The matrix route: no per-network SymPy compilation (random networks are all new).
    cp = certify(network, rows, route="matrix")
    return np.asarray(forward_error_bounds(network, rows, cp), dtype=np.float64)


def _run_impl(ctx: SuiteConfig, network: Network, x: np.ndarray) -> np.ndarray:
    """The implementation's ``y``; a fault becomes a broken law carrying the input."""
    try:
        return np.asarray(ctx.impl.run(network, x))
    except ImplementationFailed as exc:
        raise _fault(exc.failure, network, x) from None
    except ImplementationHung as exc:
        exc.failure_input = {"network": _network_json(network), "input": _floats(x)}  # type: ignore[attr-defined]
        raise


def _fault(failure: CallFailure, network: Network | None, x: np.ndarray) -> LawBroken:
    details: dict[str, Any] = {"failure": failure.to_json(), "input": _floats(x)}
    if network is not None:
        details["network"] = _network_json(network)
    law = {
        "raised": "the implementation must not raise",
        "not-numeric": "the implementation must return a numeric array",
        "wrong-shape": "the implementation must return shape (k,) for one input, (N, k) for a batch",
        "non-finite": "outputs must be finite (no NaN, no infinity)",
        "warning": "no floating-point warnings (overflow, invalid, divide by zero)",
    }.get(failure.kind, failure.kind)
    return LawBroken(law, failure.describe(), **details)


def _within(diff: Fraction, allowed: Fraction) -> bool:
    return abs(diff) <= allowed


def _ratio(diff: Fraction, allowed: Fraction) -> float:
    if allowed == 0:
        return 0.0 if diff == 0 else float("inf")
    return float(abs(diff) / allowed)


# -- strategies for the suite ----------------------------------------------------------------


def _network_strategy(ctx: SuiteConfig) -> st.SearchStrategy[Network]:
    if not ctx.random_networks:
        return st.just(ctx.network)
    acts = ctx.network.activations
    width = _integers(1, ctx.max_width)
    dtype = ctx.network.dtype

    @st.composite
    def build(draw: st.DrawFn) -> Network:
        sizes = tuple(draw(width) for _ in range(len(acts) + 1))
        return draw(weights(sizes, activations=acts, dtype=dtype))

    return build()


@functools.lru_cache(maxsize=256)
def _integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@functools.lru_cache(maxsize=256)
def _permutations(n: int) -> st.SearchStrategy[list[int]]:
    return st.permutations(range(n))


def _case(ctx: SuiteConfig, *, min_rows: int | None = None) -> st.SearchStrategy[tuple[Network, np.ndarray]]:
    """(network, x): x one input, or a batch of ``min_rows``..max_batch rows.

    Built with ``composite`` from shared strategies: a strategy created afresh on every draw
    (``flatmap``) costs Hypothesis more than the draw itself.
    """
    nets = _network_strategy(ctx)
    kw = dict(min_value=ctx.min_value, max_value=ctx.max_value)

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Network, np.ndarray]:
        net = draw(nets)
        if min_rows is None and draw(st.booleans()):
            return net, draw(inputs(net, **kw))
        return net, draw(inputs(net, batch=(min_rows or 1, ctx.max_batch), **kw))

    return build()


# -- the properties --------------------------------------------------------------------------


class Property:
    """One named law. Subclasses set ``name``, a docstring, and implement the three hooks."""

    name: str = ""

    @property
    def summary(self) -> str:
        return (self.__doc__ or "").strip().splitlines()[0]

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        """Why the property does not apply to this configuration (None: it applies)."""
        return None

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        raise NotImplementedError

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        """Raise :class:`LawBroken` when the law fails on ``example``."""
        raise NotImplementedError

    def setup(self, ctx: SuiteConfig) -> None:
        """Once per run, before the examples (model-level laws)."""


def _check_agreement(ctx: SuiteConfig, network: Network, x: np.ndarray, rec: _Recorder, *, steer: bool) -> None:
    from nnverify.compare import check_outputs

    y = _run_impl(ctx, network, x)
    X, Y = _as_rows(x), _as_rows(y)
    report = check_outputs(network, X, Y, progress=False)
    worst = report.worst
    if steer:
        target(float(report.max_ulp), label="ulp error")
    rec.observe(
        float(report.max_ulp), ulp=float(report.max_ulp), input=_floats(X[worst.input]),
        output=worst.output + 1, exact=worst.exact.digits(20), observed=float(worst.value),
        bound_ulp=float(worst.bound_ulp), network=network.describe(),
    )
    if not report.ok:
        bad = next(r for r in report.results if not r.ok)
        raise LawBroken(
            "outputs within the derived bound of the exact values",
            f"y{bad.output + 1} of input row {bad.input + 1} is {float(bad.value)!r}; the exact value is "
            f"{bad.exact.digits(20)}, {bad.ulp:.3g} ulp away, bound {bad.bound_ulp:.3g} ulp "
            f"(status {bad.status})",
            network=_network_json(network), input=_floats(X[bad.input]), output=bad.output + 1,
            exact=bad.exact.digits(20), exact_radius=float(bad.exact.rad), observed=float(bad.value),
            ulp=float(bad.ulp),
            bound_ulp=float(bad.bound_ulp), abs_error=float(bad.abs_error),
        )


class Agreement(Property):
    """Outputs lie within the derived bound of the certified exact values."""

    name = "agreement"

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        return _case(ctx)

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        network, x = example
        _check_agreement(ctx, network, x, rec, steer=False)


class WorstCase(Property):
    """hypothesis.target() on the ULP error drives the search to the worst input; reports it."""

    name = "worst-case"

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        nets = _network_strategy(ctx)

        @st.composite
        def build(draw: st.DrawFn) -> Any:
            net = draw(nets)
            return net, draw(inputs(net, min_value=ctx.min_value, max_value=ctx.max_value))

        return build()

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        network, x = example
        _check_agreement(ctx, network, x, rec, steer=True)


def _sigmoid_impl_label(ctx: SuiteConfig) -> str:
    return ctx.impl.sigmoid.spec if ctx.impl.sigmoid is not None else "nnverify sigmoid"


def _run_activation(ctx: SuiteConfig, which: str, a: np.ndarray) -> np.ndarray:
    try:
        return ctx.impl.run_sigmoid(a) if which == "sigmoid" else ctx.impl.run_softmax(a)
    except ImplementationFailed as exc:
        raise _fault(exc.failure, None, a) from None
    except ImplementationHung as exc:
        exc.failure_input = {"input": _floats(a)}  # type: ignore[attr-defined]
        raise


def _sigmoid_applies(ctx: SuiteConfig) -> str | None:
    if ctx.impl.user_forward is not None and ctx.impl.sigmoid is None:
        return (f"{ctx.impl.user_forward.spec} is a whole forward pass; give --impl-sigmoid FILE:sigmoid "
                "to test its sigmoid on its own")
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

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        import sympy

        from nnverify.symbolic import sigma

        a = example
        s = _run_activation(ctx, "sigmoid", a)
        for i, (ai, si) in enumerate(zip(a.tolist(), s.tolist())):
            q = sympy.Rational(*_exact(ai).as_integer_ratio())
            exact = sigma(q)
            # 0 < sigma < 1 reduces to exp(-a) > 0 and exp(-a)/(1+exp(-a)) > 0: SymPy proves both.
            if exact.is_positive is not True or sympy.together(1 - exact).is_positive is not True:
                raise LawBroken("exact sigmoid strictly inside (0, 1)",
                                f"SymPy could not prove 0 < sigma({ai!r}) < 1 in the model", input=_floats(a))
            if not 0.0 <= si <= 1.0:
                raise LawBroken(
                    "float sigmoid in [0, 1]",
                    f"{_sigmoid_impl_label(ctx)}({ai!r}) = {si!r}, outside [0, 1]",
                    input=_floats(a), index=i + 1, observed=si,
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

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        a = np.asarray(example)
        dt = ctx.network.dtype
        net = _activation_network(Activation.SIGMOID, 1, dt)
        both = np.concatenate([a, -a])
        s = _run_activation(ctx, "sigmoid", both)
        B = _bounds(net, both[:, None])[:, 0]
        n = len(a)
        label = _sigmoid_impl_label(ctx)
        for i in range(n):
            diff = _exact(s[n + i]) - (1 - _exact(s[i]))
            allowed = _exact(B[i]) + _exact(B[n + i])
            rec.observe(_ratio(diff, allowed), of_bound=_ratio(diff, allowed), input=float(a[i]), law="symmetry")
            if not _within(diff, allowed):
                raise LawBroken(
                    "sigma(-a) = 1 - sigma(a) within bound",
                    f"{label}({float(-a[i])!r}) = {float(s[n + i])!r} but "
                    f"1 - {label}({float(a[i])!r}) = {float(1 - _exact(s[i]))!r}; "
                    f"they differ by {float(abs(diff)):.3g}, bound {float(allowed):.3g}",
                    input=_floats(a), a=float(a[i]),
                )
        order = np.argsort(both, kind="stable")
        for lo, hi in zip(order[:-1], order[1:]):
            drop = _exact(s[lo]) - _exact(s[hi])
            allowed = _exact(B[lo]) + _exact(B[hi])
            if drop > 0:
                rec.observe(_ratio(drop, allowed), of_bound=_ratio(drop, allowed), input=float(both[lo]),
                            law="monotonicity")
            if drop > allowed:
                raise LawBroken(
                    "sigma non-decreasing",
                    f"{label}({float(both[lo])!r}) = {float(s[lo])!r} > "
                    f"{label}({float(both[hi])!r}) = {float(s[hi])!r} by "
                    f"{float(drop):.3g}, more than the bound {float(allowed):.3g}",
                    input=_floats(a), a=[float(both[lo]), float(both[hi])],
                )


class IdentityOutput(Property):
    """y equals a^(L): bitwise in floats, identically in the model (identity output layer)."""

    name = "identity-output"

    def skip_reason(self, ctx: SuiteConfig) -> str | None:
        if ctx.network.activations[-1] is not Activation.IDENTITY:
            return f"the output activation is {ctx.network.activations[-1].value}, not identity"
        if not ctx.impl.exposes_a:
            return (f"{ctx.impl.label} follows the book's contract and returns only y, not a^(L); "
                    "agreement checks its y")
        return None

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        return _case(ctx)

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
                                f"the model gives y{k + 1} = {expr}", network=_network_json(network))

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        network, x = example
        if ctx.random_networks:
            self._check_model(network)
        try:
            a_list, z_list = ctx.impl.run_layers(network, np.asarray(x, dtype=network.dtype))
        except ImplementationFailed as exc:
            raise _fault(exc.failure, network, x) from None
        a, y = a_list[-1], z_list[-1]
        # Bitwise: compare the bit patterns, so -0.0 vs 0.0 or a changed NaN payload would show.
        if a.shape != y.shape or not np.array_equal(a.view(np.uint8), y.view(np.uint8)):
            i = int(np.argmax((a != y).ravel())) if a.shape == y.shape else 0
            raise LawBroken("y equals a^(L) bitwise", f"y = {_floats(y)} but a^(L) = {_floats(a)} (entry {i + 1})",
                            network=_network_json(network), input=_floats(x))


def _softmax_applies(ctx: SuiteConfig) -> str | None:
    if ctx.impl.softmax is not None:
        return None
    if ctx.impl.user_forward is not None:
        return (f"{ctx.impl.user_forward.spec} is a whole forward pass; give --impl-softmax FILE:softmax to "
                "test a softmax on its own")
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

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        logits, c, one_row = example
        dt = ctx.network.dtype
        a = logits[0] if one_row else logits
        s = _as_rows(_run_activation(ctx, "softmax", a))
        X = _as_rows(a)
        k = X.shape[1]
        net = _activation_network(Activation.SOFTMAX, k, dt)
        from nnverify.compare import check_outputs

        # Row-wise: every row within bound of the exact softmax of that row alone.
        report = check_outputs(net, X, s, progress=False)
        if not report.ok:
            bad = next(r for r in report.results if not r.ok)
            raise LawBroken(
                "softmax row by row, within bound of the exact values",
                f"row {bad.input + 1}, y{bad.output + 1} = {float(bad.value)!r}; exact {bad.exact.digits(20)}, "
                f"{bad.ulp:.3g} ulp away, bound {bad.bound_ulp:.3g} ulp",
                input=_floats(a), row=bad.input + 1, output=bad.output + 1,
                exact=bad.exact.digits(20), exact_radius=float(bad.exact.rad), observed=float(bad.value),
            )
        B = _bounds(net, X)
        for r in range(X.shape[0]):
            if not np.all((s[r] >= 0) & (s[r] <= 1)):
                raise LawBroken("softmax in [0, 1]", f"row {r + 1} is {_floats(s[r])}", input=_floats(a))
            total = sum((_exact(v) for v in s[r]), Fraction(0))
            allowed = sum((_exact(v) for v in B[r]), Fraction(0))
            rec.observe(_ratio(total - 1, allowed), of_bound=_ratio(total - 1, allowed), law="sum",
                        input=_floats(X[r]))
            if not _within(total - 1, allowed):
                raise LawBroken("softmax sums to 1 within bound",
                                f"row {r + 1} sums to 1 + {float(total - 1):.3g}, bound {float(allowed):.3g}",
                                input=_floats(a), row=r + 1)
            for i in range(k):
                for j in range(k):
                    if X[r, i] < X[r, j]:
                        drop = _exact(s[r, i]) - _exact(s[r, j])
                        if drop > _exact(B[r, i]) + _exact(B[r, j]):
                            raise LawBroken(
                                "softmax preserves order",
                                f"row {r + 1}: a{i + 1} = {float(X[r, i])!r} < a{j + 1} = {float(X[r, j])!r} but "
                                f"y{i + 1} = {float(s[r, i])!r} > y{j + 1} = {float(s[r, j])!r} beyond the bound",
                                input=_floats(a), row=r + 1)
        # Shift invariance: a + c is exact on the grid, so exact softmax(a + c) = softmax(a).
        shifted = (X + dt.type(c)).astype(dt)
        if not all(_exact(u) == _exact(v) + c for u, v in zip(shifted.ravel(), X.ravel())):
            raise RuntimeError(f"internal: logits {_floats(X)} + {c} is not exact in {dt}")
        s2 = _as_rows(_run_activation(ctx, "softmax", shifted[0] if one_row else shifted))
        B2 = _bounds(net, shifted)
        for r in range(X.shape[0]):
            for i in range(k):
                diff = _exact(s2[r, i]) - _exact(s[r, i])
                allowed = _exact(B[r, i]) + _exact(B2[r, i])
                rec.observe(_ratio(diff, allowed), of_bound=_ratio(diff, allowed), law="shift",
                            input=_floats(X[r]))
                if not _within(diff, allowed):
                    raise LawBroken(
                        "softmax(a + c) = softmax(a) within bound",
                        f"row {r + 1}, c = {c}: y{i + 1} moves from {float(s[r, i])!r} to {float(s2[r, i])!r}, by "
                        f"{float(abs(diff)):.3g}, bound {float(allowed):.3g}",
                        input=_floats(a), shift=c, row=r + 1)


class BatchConsistency(Property):
    """A batch gives the same rows as one-by-one calls, within bound (BLAS may block differently)."""

    name = "batch-consistency"

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        return _case(ctx, min_rows=2)

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        network, X = example
        Y = _run_impl(ctx, network, X)
        B = _bounds(network, X)
        for r in range(X.shape[0]):
            y_row = _run_impl(ctx, network, X[r])
            for k in range(network.n_outputs):
                diff = _exact(Y[r, k]) - _exact(y_row[k])
                allowed = 2 * _exact(B[r, k])
                rec.observe(_ratio(diff, allowed), of_bound=_ratio(diff, allowed), input=_floats(X[r]))
                if not _within(diff, allowed):
                    raise LawBroken(
                        "a batch gives the rows one-by-one calls give (within bound)",
                        f"row {r + 1}, y{k + 1}: {float(Y[r, k])!r} in the batch but {float(y_row[k])!r} alone; "
                        f"they differ by {float(abs(diff)):.3g}, bound {float(allowed):.3g}",
                        network=_network_json(network), input=_floats(X), row=r + 1, output=k + 1,
                    )


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
        return None

    def strategy(self, ctx: SuiteConfig) -> st.SearchStrategy[Any]:
        cases = _case(ctx)

        @st.composite
        def build(draw: st.DrawFn) -> Any:
            case = draw(cases)
            net = case[0]
            # Prefer layers with two or more units: a one-unit layer has nothing to permute.
            wide = [l for l in range(1, len(net.layers)) if net.layers[l - 1].n_out > 1] or [1]
            l = wide[draw(_integers(0, len(wide) - 1))]
            perm = list(draw(_permutations(net.layers[l - 1].n_out)))
            if perm == sorted(perm):  # the identity tests nothing: rotate it by one instead
                perm = perm[1:] + perm[:1]
            return case, l, perm

        return build()

    def check(self, ctx: SuiteConfig, example: Any, rec: _Recorder) -> None:
        (network, x), l, perm = example
        other = _permuted(network, l, perm)
        y, y2 = _as_rows(_run_impl(ctx, network, x)), _as_rows(_run_impl(ctx, other, x))
        B, B2 = _bounds(network, x), _bounds(other, x)
        for r in range(y.shape[0]):
            for k in range(y.shape[1]):
                diff = _exact(y2[r, k]) - _exact(y[r, k])
                allowed = _exact(B[r, k]) + _exact(B2[r, k])
                rec.observe(_ratio(diff, allowed), of_bound=_ratio(diff, allowed), input=_floats(_as_rows(x)[r]))
                if not _within(diff, allowed):
                    raise LawBroken(
                        "permuting hidden units leaves y unchanged (within bound)",
                        f"layer {l} permuted by {[int(i) + 1 for i in perm]}: y{k + 1} of row {r + 1} moves "
                        f"from {float(y[r, k])!r} to {float(y2[r, k])!r}, by {float(abs(diff)):.3g}, "
                        f"bound {float(allowed):.3g}",
                        network=_network_json(network), input=_floats(x), layer=l,
                        permutation=[int(i) + 1 for i in perm],
                    )


#: The suite, in run order.
PROPERTIES: tuple[Property, ...] = (
    Agreement(),
    SigmoidRange(),
    IdentityOutput(),
    SoftmaxLaws(),
    BatchConsistency(),
    HiddenPermutation(),
    SigmoidSymmetry(),
    WorstCase(),
)


def property_names() -> tuple[str, ...]:
    return tuple(p.name for p in PROPERTIES)


def _get(name: str) -> Property:
    for p in PROPERTIES:
        if p.name == name:
            return p
    raise UsageError(f"unknown property {name!r}; expected one of {', '.join(property_names())}")


# -- running ---------------------------------------------------------------------------------


def _counterexample(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, LawBroken):
        return {"law": exc.law, "message": exc.message, **exc.details}
    if isinstance(exc, ImplementationHung):
        doc = {"law": "the implementation must return within --impl-timeout", "message": exc.failure.describe(),
               "failure": exc.failure.to_json()}
        doc.update(getattr(exc, "failure_input", {}))
        return doc
    # Anything else escaping a check is an error inside nnverify; say so instead of hiding it.
    return {"law": "internal error", "message": f"{type(exc).__name__}: {exc}"}



@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Keep Hypothesis from mixing constants of "local" source files into the examples.

    Hypothesis (6.131+) draws, now and then, numbers it found in the source of modules loaded
    from under the working folder. Then the examples for one seed depended on the folder
    nnverify ran in and on which user files were imported earlier in the same process (a
    loaded ``--impl`` file changed the next run's examples). Same inputs and seed must give
    the same run, so the pool is empty while a property runs. This reaches into a private
    module: if it is not there, nothing is patched.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without that module
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    make = getattr(providers, "Constants", None)
    if original is None or make is None or not hasattr(cache, "cache"):
        yield
        return
    empty = make()
    providers._get_local_constants = lambda: empty
    cache.cache.clear()  # cached choices were computed with the old pool
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()

def run_property(
    prop: Property | str,
    ctx: SuiteConfig,
    *,
    max_examples: int = PROFILES["ci"],
    seed: int = 0,
    tick: Callable[[str], None] | None = None,
) -> PropertyResult:
    """Run one property under Hypothesis and return its verdict (never raises on a failure).

    Args:
        prop: the property or its name.
        ctx: what to test.
        max_examples: examples Hypothesis generates (shrinking runs come on top).
        seed: Hypothesis seed; the same seed gives the same examples and counterexample.
        tick: called with the property's name once per example (progress display).
    """
    if isinstance(prop, str):
        prop = _get(prop)
    if max_examples < 1:
        raise UsageError(f"--examples {max_examples}: must be at least 1")
    start = time.perf_counter()
    reason = prop.skip_reason(ctx)
    if reason is not None:
        return PropertyResult(prop.name, "skipped", 0, reason)
    name = prop.name
    rec = _Recorder(tick=(lambda: tick(name)) if tick is not None else None)
    failure: BaseException | None = None
    try:
        prop.setup(ctx)
    except LawBroken as exc:
        failure = exc
    if failure is None:
        strategy = prop.strategy(ctx)

        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=False,
            verbosity=Verbosity.quiet,
            report_multiple_bugs=False,
            print_blob=False,
            phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis_seed(seed)
        @given(strategy)
        def test(example: Any) -> None:
            rec.example()
            prop.check(ctx, example, rec)

        try:
            with _no_local_constants():
                test()
        except (LawBroken, ImplementationHung) as exc:
            failure = exc
        except HypothesisException as exc:  # e.g. Flaky: the law failed once, then not again
            failure = LawBroken("reproducible failure", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        except Exception as exc:  # raised by nnverify itself, not by the code under test
            first = (str(exc).splitlines() or [""])[0]
            failure = LawBroken("internal error in nnverify (a bug in nnverify, not in the code under test; "
                                "please report it)", f"{type(exc).__name__}: {first}")
    seconds = time.perf_counter() - start
    if failure is None:
        return PropertyResult(prop.name, "passed", rec.examples, worst=rec.worst, seconds=seconds)
    cex = _counterexample(failure)
    return PropertyResult(prop.name, "failed", rec.examples, f"{cex['law']}: {cex['message']}", cex,
                          rec.worst, seconds)


def run_suite(
    ctx: SuiteConfig,
    *,
    only: Sequence[str] | None = None,
    max_examples: int = PROFILES["ci"],
    seed: int = 0,
    tick: Callable[[str], None] | None = None,
) -> SuiteResult:
    """Run the named properties (default: all) and return every verdict.

    Args:
        ctx: what to test.
        only: property names to run (default: all, in ``PROPERTIES`` order).
        max_examples: examples per property.
        seed: Hypothesis seed, the same for every property.
        tick: called with the property's name once per example (progress display).

    A property that cannot apply is ``skipped`` with the reason. After the implementation
    under test hangs once, the properties after it are skipped rather than hang again.
    """
    names = list(only) if only else list(property_names())
    props = [_get(n) for n in names]
    results: list[PropertyResult] = []
    hung: str | None = None
    for prop in props:
        if hung is not None and prop.skip_reason(ctx) is None:
            results.append(PropertyResult(prop.name, "skipped", 0,
                                          f"not run: the implementation under test hung in {hung}"))
            continue
        res = run_property(prop, ctx, max_examples=max_examples, seed=seed, tick=tick)
        if res.counterexample and (res.counterexample.get("failure") or {}).get("kind") == "timeout":
            hung = prop.name
        results.append(res)
    return SuiteResult(tuple(results), seed, max_examples, ctx.impl.label)
