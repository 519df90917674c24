"""The SymPy model of a network: symbols, activation expressions, the layered model, closed forms.

:func:`build_model` gives the layered :class:`SymbolicModel` (see :mod:`.model`); symbols in the
book's notation come from :mod:`.symbols`, activation expressions from :mod:`.expressions`.
Importing this package imports SymPy.
"""

from nnverify.modes import Mode
from nnverify.symbolic.expressions import EXPRESSIONS, activation_expr, sigma, sigmoid_expr
from nnverify.symbolic.model import CANONICAL_MAX_TERMS, DEFAULT_MAX_OPS, SymbolicModel, build_model
from nnverify.symbolic.symbols import (
    a_symbol,
    b_symbol,
    symbol_info,
    w_symbol,
    x_symbol,
    y_symbol,
    z_symbol,
)

__all__ = [
    "CANONICAL_MAX_TERMS",
    "DEFAULT_MAX_OPS",
    "EXPRESSIONS",
    "Mode",
    "SymbolicModel",
    "a_symbol",
    "activation_expr",
    "b_symbol",
    "build_model",
    "sigma",
    "sigmoid_expr",
    "symbol_info",
    "w_symbol",
    "x_symbol",
    "y_symbol",
    "z_symbol",
]
