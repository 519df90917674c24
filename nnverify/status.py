"""The closed vocabularies that travel between modules: verdicts, property statuses, routes, faults.

Each is a ``str`` enum whose ``.value`` is the word users see in text and JSON ("ok", "passed",
"matrix", "raised"), so ``Verdict.OK == "ok"`` and ``json.dumps`` writes the word. Also the one
place that turns non-finite floats into JSON-safe strings.
"""

from __future__ import annotations

import enum
import math
from typing import Any

__all__ = ["Verdict", "PropertyStatus", "Route", "FaultKind", "json_float", "json_safe"]


class _Word(str, enum.Enum):
    """A ``str`` enum that prints as its value."""

    def __str__(self) -> str:
        return str(self.value)


class Verdict(_Word):
    """The verdict on one output.

    ``OK``: within the sound bound and the probabilistic one; ``SUSPICIOUS``: within the sound
    bound (no proof of an error) but outside the probabilistic one (unlikely for a correct
    computation, under that bound's stated model); ``FAILED``: proved outside the sound bound;
    ``UNDECIDED``: the certified ball is too wide to tell.
    """

    OK = "ok"
    SUSPICIOUS = "suspicious"
    FAILED = "failed"
    UNDECIDED = "undecided"


class PropertyStatus(_Word):
    """The outcome of one law of the property suite."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Route(_Word):
    """How the certified evaluation computes its balls (see :mod:`nnverify.certified`)."""

    AUTO = "auto"
    SYMPY = "sympy"
    MATRIX = "matrix"

    @classmethod
    def parse(cls, value: Route | str) -> Route:
        from nnverify.errors import UsageError

        try:
            return cls(value)
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise UsageError(f"route {value!r} is unknown; expected one of {names}") from None


class FaultKind(_Word):
    """What an implementation under test did wrong in one call."""

    RAISED = "raised"
    TIMEOUT = "timeout"
    NOT_NUMERIC = "not-numeric"
    WRONG_SHAPE = "wrong-shape"
    NON_FINITE = "non-finite"
    WARNING = "warning"
    WRONG_DTYPE = "wrong-dtype"
    EXITED = "exited"
    FORKED = "forked"
    CRASHED = "crashed"


def json_float(v: float) -> float | str:
    """``v`` itself, or ``"nan"`` / ``"inf"`` / ``"-inf"``: JSON has no non-finite numbers."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float inside dicts, lists and tuples made a string."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return json_float(value)
    return value
