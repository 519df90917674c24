"""Certified evaluation: ball arithmetic (python-flint ``arb``) that encloses the exact values.

:func:`certify` gives a :class:`CertifiedPass` of :class:`Enclosure` per unit; see
:mod:`nnverify.certified.certify` for the two routes. Importing this package imports
python-flint, not SymPy (the SymPy route loads on first use).
"""

from nnverify.certified.activations import BALL_ACTIVATIONS, activate_balls
from nnverify.certified.balls import TINY_EXPONENT, Enclosure, arf_to_fraction, ball
from nnverify.certified.certify import (
    MAX_PREC,
    MIN_PREC,
    SYMPY_ROUTE_MAX_PARAMS,
    CertifiedPass,
    certify,
    check_prec,
    choose_route,
)

__all__ = [
    "BALL_ACTIVATIONS",
    "CertifiedPass",
    "Enclosure",
    "MAX_PREC",
    "MIN_PREC",
    "SYMPY_ROUTE_MAX_PARAMS",
    "TINY_EXPONENT",
    "activate_balls",
    "arf_to_fraction",
    "ball",
    "certify",
    "check_prec",
    "choose_route",
]
