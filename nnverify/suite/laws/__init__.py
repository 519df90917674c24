"""The laws of the property suite, in run order (``PROPERTIES``)."""

from __future__ import annotations

from nnverify.errors import UsageError
from nnverify.suite.laws.agreement import Agreement, WorstCase
from nnverify.suite.laws.base import LawBroken, Property
from nnverify.suite.laws.sigmoid import SigmoidRange, SigmoidSymmetry
from nnverify.suite.laws.softmax import SoftmaxLaws
from nnverify.suite.laws.structure import BatchConsistency, HiddenPermutation, IdentityOutput

__all__ = ["PROPERTIES", "property_names", "get_property", "LawBroken", "Property"]

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


def get_property(name: str) -> Property:
    for p in PROPERTIES:
        if p.name == name:
            return p
    raise UsageError(f"unknown property {name!r}; expected one of {', '.join(property_names())}")

