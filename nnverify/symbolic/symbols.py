"""Symbols of the SymPy model in the book's §3.4 notation, built from integers only.

LaTeX-ready names: ``x_1``, ``w^{(1)}_{12}``, ``w^{(1)}_{12,1}`` (a comma once an index has 2
digits; the book's order, next-layer unit first: see :func:`w_symbol`), ``b^{(l)}_j``,
``a^{(l)}_j``, ``z^{(l)}_j``, ``y_k``. Each symbol is made once (cached) and remembers its kind
and indices (:func:`symbol_info`).
"""

from __future__ import annotations

from functools import cache

import sympy

from nnverify.errors import UsageError
from nnverify.validate import is_int

__all__ = ["x_symbol", "w_symbol", "b_symbol", "a_symbol", "z_symbol", "y_symbol", "symbol_info"]

_SYMBOL_INFO: dict[sympy.Symbol, tuple[str, tuple[int, ...]]] = {}


def _index(*idx: int) -> str:
    for i in idx:
        if not is_int(i) or i < 1:
            raise UsageError(f"symbol index {i!r} must be a whole number >= 1 (indices are 1-based)")
    text = ",".join(map(str, idx)) if any(i >= 10 for i in idx) else "".join(map(str, idx))
    return text if len(text) == 1 else "{" + text + "}"


def _register(sym: sympy.Symbol, kind: str, idx: tuple[int, ...]) -> sympy.Symbol:
    _SYMBOL_INFO[sym] = (kind, idx)
    return sym


@cache
def x_symbol(i: int) -> sympy.Symbol:
    """``x_i``, the i-th input (1-based)."""
    return _register(sympy.Symbol(f"x_{_index(i)}", real=True), "x", (i,))


@cache
def w_symbol(l: int, i: int, j: int) -> sympy.Symbol:
    """The weight from unit i of layer l-1 to unit j of layer l, ``W^{(l)}[i-1, j-1]``.

    Its name is the book's ``w^{(l)}_{ji}``: next-layer unit first (fig. 3-16: ``w^{(1)}_{12}``
    is the weight from ``x_2`` to ``a^{(1)}_1``). The arguments keep the array's order.

    Args:
        l: layer, 1-based.
        i: the input (unit of layer l-1), 1-based: the row of ``W^{(l)}``.
        j: the unit of layer l, 1-based: the column of ``W^{(l)}``.
    """
    return _register(sympy.Symbol(f"w^{{({_index(l).strip('{}')})}}_{_index(j, i)}", real=True), "w", (l, i, j))


@cache
def b_symbol(l: int, j: int) -> sympy.Symbol:
    """``b^{(l)}_j``: the bias of unit j of layer l."""
    return _register(sympy.Symbol(f"b^{{({_index(l).strip('{}')})}}_{_index(j)}", real=True), "b", (l, j))


@cache
def a_symbol(l: int, j: int) -> sympy.Symbol:
    """``a^{(l)}_j``: the weighted sum of unit j of layer l."""
    return _register(sympy.Symbol(f"a^{{({_index(l).strip('{}')})}}_{_index(j)}", real=True), "a", (l, j))


@cache
def z_symbol(l: int, j: int) -> sympy.Symbol:
    """``z^{(l)}_j = h(a^{(l)}_j)``; ``z_symbol(0, i)`` is ``x_i``."""
    if l == 0:
        return x_symbol(j)
    return _register(sympy.Symbol(f"z^{{({_index(l).strip('{}')})}}_{_index(j)}", real=True), "z", (l, j))


@cache
def y_symbol(k: int) -> sympy.Symbol:
    """``y_k``, the k-th output."""
    return _register(sympy.Symbol(f"y_{_index(k)}", real=True), "y", (k,))


def symbol_info(sym: sympy.Symbol) -> tuple[str, tuple[int, ...]] | None:
    """``("w", (l, i, j))`` for a symbol made here (kinds x, w, b, a, z, y), else None."""
    return _SYMBOL_INFO.get(sym)

