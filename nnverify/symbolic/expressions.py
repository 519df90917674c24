"""Activations as SymPy expressions, one entry per :class:`~nnverify.model.Activation`.

sigmoid ``1/(1+exp(-a))``; softmax ``exp(a_j) / sum_i exp(a_i)``; relu ``Max(a, 0)``; step
``Piecewise((1, a > 0), (0, True))`` (step(0) = 0); tanh ``tanh(a)``; identity ``a``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy

from nnverify.model import Activation

__all__ = ["EXPRESSIONS", "sigmoid_expr", "sigma", "activation_expr"]


def sigmoid_expr(a: sympy.Expr) -> sympy.Expr:
    """``1 / (1 + exp(-a))``."""
    return 1 / (1 + sympy.exp(-a))


sigma = sigmoid_expr


def _softmax(a_syms: Sequence[sympy.Expr], j: int) -> sympy.Expr:
    return sympy.exp(a_syms[j - 1]) / sympy.Add(*[sympy.exp(t) for t in a_syms])


def _elementwise(h: Callable[[sympy.Expr], sympy.Expr]) -> Callable[[Sequence[sympy.Expr], int], sympy.Expr]:
    return lambda a_syms, j: h(a_syms[j - 1])


#: ``h(a_j)`` for unit j (1-based) of a layer whose weighted sums are ``a_syms``, per activation.
EXPRESSIONS: dict[Activation, Callable[[Sequence[sympy.Expr], int], sympy.Expr]] = {
    Activation.IDENTITY: _elementwise(lambda a: a),
    Activation.SIGMOID: _elementwise(sigmoid_expr),
    Activation.RELU: _elementwise(lambda a: sympy.Max(a, 0)),
    Activation.STEP: _elementwise(lambda a: sympy.Piecewise((1, a > 0), (0, True))),
    Activation.TANH: _elementwise(sympy.tanh),
    Activation.SOFTMAX: _softmax,
}


def activation_expr(activation: Activation | str, a_syms: Sequence[sympy.Expr], j: int) -> sympy.Expr:
    """``h(a_j)`` for unit j (1-based) of a layer whose weighted sums are ``a_syms``."""
    return EXPRESSIONS[Activation.parse(activation)](a_syms, j)
