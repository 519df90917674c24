"""The weight modes of the exact model, kept free of SymPy so the certified matrix route needs none."""

from __future__ import annotations

import enum

from nnverify.errors import UsageError

__all__ = ["Mode"]


class Mode(enum.Enum):
    """Which exact numbers stand for the weights (and inputs) in the exact model.

    - ``SYMBOLIC``: weights and biases are symbols ``w^{(l)}_{ij}``, ``b^{(l)}_j``;
    - ``BINARY``: the exact rational value of each stored float (the default for verification);
    - ``DECIMAL``: the rational the literal text says ("0.1" = 1/10); needs the text.
    """

    SYMBOLIC = "symbolic"
    BINARY = "binary"
    DECIMAL = "decimal"

    @classmethod
    def parse(cls, value: Mode | str) -> Mode:
        """Return the mode named ``value`` (case-insensitive), or raise a one-line error."""
        if isinstance(value, Mode):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        names = ", ".join(m.value for m in cls)
        raise UsageError(f"unknown mode {value!r}; expected one of {names}")
