"""What every law shares: the broken-law exception, the tally, the base class, the calls under test.

Float tolerances are never hand-picked: every "within bound" uses the rigorous per-output bound
of :func:`nnverify.bounds.forward_error_bounds` (see :mod:`nnverify.suite.within`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from nnverify.model import Activation, Layer, Network
from nnverify.status import FaultKind
from nnverify.suite.config import SuiteConfig
from nnverify.suite.results import Counterexample
from nnverify.under_test import CallFailure, ImplementationFailed, ImplementationHung

__all__ = ["LawBroken", "HungOnCase", "Recorder", "Property", "floats", "network_json", "as_rows", "exact_value",
           "activation_network", "run_impl", "run_impl_many", "own_code_only", "run_activation", "fault",
           "call_json", "batch_text", "SHOW_WEIGHTS_UP_TO"]

#: Largest network written out in full in a counterexample (weights and biases).
SHOW_WEIGHTS_UP_TO = 64


class LawBroken(Exception):
    """A law failed on one example: which law, and the data showing it (JSON-able details)."""

    def __init__(
        self, law: str, message: str, *, network: dict[str, Any] | None = None,
        failure: CallFailure | None = None, call: dict[str, Any] | None = None, **details: Any,
    ) -> None:
        super().__init__(f"{law}: {message}")
        self.counterexample = Counterexample(law, message, network, failure, details, call)


class HungOnCase(BaseException):
    """The implementation under test timed out on a case (a BaseException: Hypothesis must not
    shrink by re-running a call that takes ``timeout`` seconds)."""

    def __init__(self, failure: CallFailure, **details: Any) -> None:
        network = details.pop("network", None)
        call = details.pop("call", None)
        super().__init__(failure.describe())
        self.counterexample = Counterexample(
            _FAULT_LAWS.get(failure.kind, "the implementation must return within --impl-timeout"),
            failure.describe(), network, failure, details, call)

#: The law each kind of fault breaks.
_FAULT_LAWS = {
    FaultKind.RAISED: "the implementation must not raise",
    FaultKind.NOT_NUMERIC: "the implementation must return a numeric array",
    FaultKind.WRONG_SHAPE: "the implementation must return shape (k,) for one input, (N, k) for a batch",
    FaultKind.NON_FINITE: "outputs must be finite (no NaN, no infinity)",
    FaultKind.WARNING: "no floating-point warnings (overflow, invalid, divide by zero)",
    FaultKind.TIMEOUT: "the implementation must return within --impl-timeout",
    FaultKind.WRONG_DTYPE: "the implementation must return the network's dtype (--strict-dtype)",
    FaultKind.EXITED: "the implementation must return, not exit",
    FaultKind.FORKED: "the implementation must not start processes",
    FaultKind.CRASHED: "the implementation must not end or break the process it runs in",
}


@dataclass
class Recorder:
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



def floats(arr: np.ndarray) -> Any:
    return np.asarray(arr, dtype=np.float64).tolist()


def network_json(network: Network) -> dict[str, Any]:
    doc: dict[str, Any] = {"describe": network.describe()}
    if network.n_params <= SHOW_WEIGHTS_UP_TO:
        doc["weights"] = {k: floats(v) for k, v in network.to_book_dict().items()}
        doc["activations"] = [a.value for a in network.activations]
    return doc


def as_rows(x: np.ndarray) -> np.ndarray:
    return x[None, :] if x.ndim == 1 else x


def exact_value(v: float | np.floating) -> Fraction:
    return Fraction(float(v))


def activation_network(activation: Activation, k: int, dtype: np.dtype) -> Network:
    """The one-layer network ``y = h(x @ I + 0)``: its exact model is ``h`` itself."""
    return Network(
        (Layer(np.eye(k, dtype=dtype), np.zeros(k, dtype=dtype), activation),),
        name=f"{activation.value} (W = I, b = 0)",
    )



def call_json(function: str, network: Network | None, x: np.ndarray, row: int | None = None) -> dict[str, Any]:
    """One call of the implementation exactly as it was made: every value of ``x``, its shape and dtype.

    Args:
        function: the implementation's label (its spec).
        network: the network it was called with (None for an activation).
        x: the argument exactly as passed (one input, a batch, or an activation's ``a``).
        row: the row (1-based) of a batch the law looked at, if one.
    """
    x = np.asarray(x)
    return {"function": function, "x": floats(x), "shape": list(x.shape), "dtype": str(x.dtype),
            "row": row, "network": None if network is None else network.describe()}


def batch_text(x: np.ndarray, row: int) -> str:
    """``row 2 in a batch of 3`` for a batch, ``one input`` for a single input (row 0-based)."""
    return f"row {row + 1} in a batch of {x.shape[0]}" if np.ndim(x) == 2 else "one input"


def own_code_only(ctx: SuiteConfig) -> str | None:
    """Why a forward-level law would test only nnverify's own code (None: it runs the user's).

    Given only ``--impl-softmax`` on a network without softmax, the forward pass is nnverify's
    alone: reporting it as "passed" would be about nnverify, not the user's code.
    """
    impl = ctx.impl
    if not impl.has_user_code or impl.uses_user_code(ctx.network):
        return None
    given = ", ".join(f"--impl-{f.role} {f.spec}" for f in impl.functions)
    roles = " or ".join(sorted({f.role for f in impl.functions}))
    return (f"the network has no {roles} layer, so its forward pass never calls {given}: this law would test "
            "only nnverify's own forward (the activation's own laws test your function)")


def run_impl(ctx: SuiteConfig, network: Network, x: np.ndarray) -> np.ndarray:
    """The implementation's ``y``; a fault becomes a broken law carrying the input."""
    return run_impl_many(ctx, [(network, x)])[0]


def run_impl_many(ctx: SuiteConfig, cases: list[tuple[Network, np.ndarray]]) -> list[np.ndarray]:
    """``y`` for every ``(network, x)``, in one exchange with the user's worker; a fault names its call."""
    try:
        return [np.asarray(y) for y in ctx.impl.run_many(cases)]
    except (ImplementationFailed, ImplementationHung) as exc:
        network, x = cases[min(exc.case or 0, len(cases) - 1)]
        if exc.row is not None:  # --single-input: that row was the call
            x = np.asarray(x)[exc.row]
        if isinstance(exc, ImplementationFailed):
            raise fault(exc.failure, network, x, ctx.impl.label) from None
        raise HungOnCase(exc.failure, network=network_json(network), input=floats(x),
                         call=call_json(ctx.impl.label, network, x)) from None


def fault(failure: CallFailure, network: Network | None, x: np.ndarray, label: str | None = None) -> LawBroken:
    """The broken law of a fault of the implementation under test, with the call it failed on."""
    return LawBroken(_FAULT_LAWS[failure.kind], failure.describe(), failure=failure, input=floats(x),
                     network=None if network is None else network_json(network),
                     call=call_json(label or failure.function, network, x))




def run_activation(ctx: SuiteConfig, which: str, a: np.ndarray) -> np.ndarray:
    try:
        return ctx.impl.run_sigmoid(a) if which == "sigmoid" else ctx.impl.run_softmax(a)
    except ImplementationFailed as exc:
        raise fault(exc.failure, None, a) from None
    except ImplementationHung as exc:
        raise HungOnCase(exc.failure, input=floats(a), call=call_json(exc.failure.function, None, a)) from None



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

    def check(self, ctx: SuiteConfig, example: Any, rec: Recorder) -> None:
        """Raise :class:`LawBroken` when the law fails on ``example``."""
        raise NotImplementedError

    def setup(self, ctx: SuiteConfig) -> None:
        """Once per run, before the examples (model-level laws)."""

