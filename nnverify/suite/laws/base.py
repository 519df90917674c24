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
           "activation_network", "run_impl", "run_activation", "fault", "SHOW_WEIGHTS_UP_TO"]

#: Largest network written out in full in a counterexample (weights and biases).
SHOW_WEIGHTS_UP_TO = 64


class LawBroken(Exception):
    """A law failed on one example: which law, and the data showing it (JSON-able details)."""

    def __init__(
        self, law: str, message: str, *, network: dict[str, Any] | None = None,
        failure: CallFailure | None = None, **details: Any,
    ) -> None:
        super().__init__(f"{law}: {message}")
        self.counterexample = Counterexample(law, message, network, failure, details)


class HungOnCase(BaseException):
    """The implementation under test timed out on a case (a BaseException: Hypothesis must not
    shrink by re-running a call that takes ``timeout`` seconds)."""

    def __init__(self, failure: CallFailure, **details: Any) -> None:
        network = details.pop("network", None)
        super().__init__(failure.describe())
        self.counterexample = Counterexample(
            "the implementation must return within --impl-timeout", failure.describe(), network, failure, details)

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



def run_impl(ctx: SuiteConfig, network: Network, x: np.ndarray) -> np.ndarray:
    """The implementation's ``y``; a fault becomes a broken law carrying the input."""
    try:
        return np.asarray(ctx.impl.run(network, x))
    except ImplementationFailed as exc:
        raise fault(exc.failure, network, x) from None
    except ImplementationHung as exc:
        raise HungOnCase(exc.failure, network=network_json(network), input=floats(x)) from None


def fault(failure: CallFailure, network: Network | None, x: np.ndarray) -> LawBroken:
    """The broken law of a fault of the implementation under test, with the case it failed on."""
    return LawBroken(_FAULT_LAWS[failure.kind], failure.describe(), failure=failure, input=floats(x),
                     network=None if network is None else network_json(network))




def run_activation(ctx: SuiteConfig, which: str, a: np.ndarray) -> np.ndarray:
    try:
        return ctx.impl.run_sigmoid(a) if which == "sigmoid" else ctx.impl.run_softmax(a)
    except ImplementationFailed as exc:
        raise fault(exc.failure, None, a) from None
    except ImplementationHung as exc:
        raise HungOnCase(exc.failure, input=floats(a)) from None



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

