"""The suite's results: one verdict per property, a typed counterexample, the whole run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nnverify.display import suite_html, suite_latex
from nnverify.status import FaultKind, PropertyStatus, json_safe
from nnverify.under_test import CallFailure

__all__ = ["PropertyResult", "SuiteResult", "Counterexample"]

#: Details a law may report, in the order they are shown (anything else goes to ``extra``).
_SHOWN = ("input", "output", "exact", "observed", "ulp", "bound_ulp", "row", "layer", "permutation", "shift")


@dataclass(frozen=True)
class Counterexample:
    """The shrunk case on which a law failed.

    Args:
        law: the law broken, one line ("outputs within the derived bound of the exact values").
        message: what happened, one line.
        network: the network the case ran on (``{"describe", "weights", "activations"}``; weights only
            for small networks), or None.
        failure: the fault of the implementation under test, when the law broken is "it must not
            raise / hang / return NaN ...".
        details: the case's numbers, JSON-able: ``input``, ``output`` (1-based), ``exact``,
            ``exact_radius``, ``observed``, ``ulp``, ``bound_ulp``, ``row``, ``layer``, ... as the law gives.
        call: the call of the implementation that showed it, exactly as it was made: ``function``,
            ``x`` (every value, as passed), ``shape``, ``dtype``, ``row`` (1-based, in a batch), ``network``.
        case: the whole example, JSON-able, for ``nnverify test --replay`` (see :mod:`.replay`).
    """

    law: str
    message: str
    network: Mapping[str, Any] | None = None
    failure: CallFailure | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    call: Mapping[str, Any] | None = None
    case: Any = None

    @property
    def is_timeout(self) -> bool:
        """The implementation hung or ended its worker: later properties are not worth running on it."""
        return self.failure is not None and self.failure.kind is FaultKind.TIMEOUT

    @property
    def worst_text(self) -> str:
        """The failure's own error for the table: ``1.8e+04 ulp``, ``3.2 of bound``, or the fault's kind."""
        d = self.details
        if isinstance(d.get("ulp_text"), str):  # certified: 3 figures, or an interval
            return f"{d['ulp_text']} ulp"
        if isinstance(d.get("ulp"), (int, float)):
            return f"{d['ulp']:.3g} ulp"
        if isinstance(d.get("of_bound"), (int, float)):
            return f"{d['of_bound']:.3g} of bound"
        if self.failure is not None:
            return str(self.failure.kind)
        return "-"

    def shown(self) -> list[tuple[str, Any]]:
        """The details worth showing, in a fixed order: ``[(name, value), ...]``."""
        return [(k, self.details[k]) for k in _SHOWN if k in self.details]

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"law": self.law, "message": self.message}
        doc.update(self.details)
        if self.network is not None:
            doc["network"] = dict(self.network)
        if self.failure is not None:
            doc["failure"] = self.failure.to_json()
        if self.call is not None:
            doc["call"] = dict(self.call)
        if self.case is not None:
            doc["case"] = self.case
        return doc


@dataclass(frozen=True)
class PropertyResult:
    """The verdict of one property.

    Args:
        name: the property's name (``--only NAME``).
        status: passed, failed or skipped.
        examples: test-case runs (shrinking included).
        reason: why it was skipped, or the one-line failure.
        counterexample: the shrunk failing case, when it failed.
        worst: the worst error seen (``{"ulp": ...}`` or ``{"of_bound": ...}`` plus where).
        seconds: wall time.
        others: further distinct counterexamples (another law or fault), up to ``--max-failures``.
    """

    name: str
    status: PropertyStatus
    examples: int
    reason: str | None = None
    counterexample: Counterexample | None = None
    worst: dict[str, Any] | None = None
    seconds: float = 0.0
    others: tuple[Counterexample, ...] = ()

    @property
    def counterexamples(self) -> tuple[Counterexample, ...]:
        return (() if self.counterexample is None else (self.counterexample,)) + self.others

    @property
    def worst_text(self) -> str:
        if self.status is PropertyStatus.FAILED and self.counterexample is not None:
            return self.counterexample.worst_text
        if not self.worst:
            return "-"
        if isinstance(self.worst.get("ulp_text"), str):
            return f"{self.worst['ulp_text']} ulp"
        if "ulp" in self.worst:
            return f"{self.worst['ulp']:.3g} ulp"
        return f"{self.worst['of_bound']:.3g} of bound"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json_safe({
            "name": self.name,
            "status": self.status.value,
            "examples": self.examples,
            "reason": self.reason,
            "counterexample": None if self.counterexample is None else self.counterexample.to_json(),
            "counterexamples": [c.to_json() for c in self.counterexamples],
            "worst": self.worst,
            "seconds": round(self.seconds, 3),
        })
        return doc


@dataclass(frozen=True)
class SuiteResult:
    """All property verdicts of one run.

    Args:
        results: one per property, in run order.
        seed: the Hypothesis seed.
        max_examples: examples per property.
        implementation: what was tested (its spec, or "nnverify forward").
        notes: what the user should hear once (a ``(1, k)`` result taken as ``(k,)``, a dtype warning).
    """

    results: tuple[PropertyResult, ...]
    seed: int
    max_examples: int
    implementation: str
    notes: tuple[str, ...] = ()


    def _repr_html_(self) -> str:  # Jupyter shows it: nnverify.display
        return suite_html(self)

    def _repr_latex_(self) -> str:
        return suite_latex(self)

    @property
    def ok(self) -> bool:
        return all(r.status is not PropertyStatus.FAILED for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "implementation": self.implementation,
            "notes": list(self.notes),
            "properties": [r.to_json() for r in self.results],
        }
