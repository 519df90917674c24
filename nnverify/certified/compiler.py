"""The SymPy route: the SymPy model's own expression trees compiled to ball operations.

What this route certifies is the SymPy model itself (:mod:`nnverify.symbolic`): each node class
becomes a closure over an environment of balls, so every ``a`` and ``z`` is evaluated from the
very expression the derivation prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import sympy
from flint import arb

from nnverify.certified.balls import ball
from nnverify.errors import UsageError
from nnverify.model import Network, network_cache
from nnverify.modes import Mode
from nnverify.symbolic import a_symbol, build_model, z_symbol

__all__ = ["compiled_model", "sympy_route"]

_Fn = Callable[[dict[sympy.Symbol, arb]], arb]


class _BallCompiler:
    """Turns a SymPy expression into a closure over an environment of balls, by node class.

    Dispatch follows the class's MRO (``_compile_Add``, ``_compile_Rational`` ...), as SymPy's
    printers do; an unknown node is an error, never a silent float.
    """

    def compile(self, expr: sympy.Basic) -> _Fn:
        for cls in type(expr).__mro__:
            method = getattr(self, f"_compile_{cls.__name__}", None)
            if method is not None:
                fn: _Fn = method(expr)
                return fn
        raise UsageError(f"cannot evaluate {type(expr).__name__} nodes ({expr}) in ball arithmetic")

    def _compile_Symbol(self, expr: sympy.Symbol) -> _Fn:
        return lambda env: env[expr]

    def _compile_Rational(self, expr: sympy.Rational) -> _Fn:
        value = ball(Fraction(int(expr.p), int(expr.q)))  # exact for dyadic rationals
        return lambda env: value

    def _compile_Add(self, expr: sympy.Add) -> _Fn:
        fs = [self.compile(t) for t in expr.args]
        first, rest = fs[0], fs[1:]

        def add(env: dict[sympy.Symbol, arb]) -> arb:
            acc = first(env)
            for f in rest:
                acc = acc + f(env)
            return acc

        return add

    def _compile_Mul(self, expr: sympy.Mul) -> _Fn:
        fs = [self.compile(t) for t in expr.args]
        first, rest = fs[0], fs[1:]

        def mul(env: dict[sympy.Symbol, arb]) -> arb:
            acc = first(env)
            for f in rest:
                acc = acc * f(env)
            return acc

        return mul

    def _compile_Pow(self, expr: sympy.Pow) -> _Fn:
        base, e = self.compile(expr.base), expr.exp
        if e.is_Integer:
            n = int(e)
            if n == -1:
                return lambda env: 1 / base(env)
            if n >= 0:
                return lambda env: base(env) ** n
            return lambda env: 1 / base(env) ** (-n)
        if e == sympy.S.Half:
            return lambda env: base(env).sqrt()
        raise UsageError(f"cannot evaluate the power {expr} in ball arithmetic")

    def _compile_exp(self, expr: sympy.Expr) -> _Fn:
        f = self.compile(expr.args[0])
        return lambda env: f(env).exp()

    def _compile_tanh(self, expr: sympy.Expr) -> _Fn:
        f = self.compile(expr.args[0])
        return lambda env: f(env).tanh()

    def _compile_Max(self, expr: sympy.Expr) -> _Fn:
        fs = [self.compile(t) for t in expr.args]

        def mx(env: dict[sympy.Symbol, arb]) -> arb:
            acc = fs[0](env)
            for f in fs[1:]:
                acc = arb.max(acc, f(env))
            return acc

        return mx

    def _compile_Piecewise(self, expr: sympy.Piecewise) -> _Fn:
        branches = [(self.compile(e), self._condition(c)) for e, c in expr.args]

        def piecewise(env: dict[sympy.Symbol, arb]) -> arb:
            result = None
            for value, cond in branches:
                verdict = cond(env)
                if verdict is False:
                    continue
                v = value(env)
                result = v if result is None else result.union(v)
                if verdict is True:
                    return result
            if result is None:
                raise UsageError(f"no branch of {expr} applies")
            return result

        return piecewise

    def _condition(self, cond: sympy.Basic) -> Callable[[dict[sympy.Symbol, arb]], bool | None]:
        """True / False when the ball decides the condition, None when it does not."""
        if cond is sympy.true:
            return lambda env: True
        if cond is sympy.false:
            return lambda env: False
        if isinstance(cond, (sympy.StrictGreaterThan, sympy.GreaterThan,
                             sympy.StrictLessThan, sympy.LessThan)):
            diff = self.compile(cond.lhs - cond.rhs)
            strict = isinstance(cond, (sympy.StrictGreaterThan, sympy.StrictLessThan))
            sign = 1 if isinstance(cond, (sympy.StrictGreaterThan, sympy.GreaterThan)) else -1

            def decide(env: dict[sympy.Symbol, arb]) -> bool | None:
                d = diff(env) * sign
                if (d > 0) if strict else (d >= 0):
                    return True
                if (d <= 0) if strict else (d < 0):
                    return False
                return None

            return decide
        raise UsageError(f"cannot decide the condition {cond} in ball arithmetic")


_Program = Callable[[list[arb]], tuple[list[list[arb]], list[list[arb]]]]


def compiled_model(network: Network, mode: Mode, prec: int) -> _Program:
    """The SymPy model of ``network`` compiled to ball operations at ``prec`` bits.

    The returned function maps one input row of balls to ``(a_layers, z_layers)`` of balls,
    evaluating the model's own expressions unit by unit (call it under ``ctx.workprec(prec)``).
    """
    per_net = network_cache(network, "program")
    key = (mode, prec)
    if key in per_net:
        cached: _Program = per_net[key]
        return cached
    model = build_model(network, mode)
    comp = _BallCompiler()
    layers = []
    for l in range(1, model.n_layers + 1):
        a_fns = [comp.compile(e) for e in model.a[l - 1]]
        z_fns = [comp.compile(e) for e in model.z[l - 1]]
        a_syms = [a_symbol(l, j) for j in range(1, len(a_fns) + 1)]
        z_syms = [z_symbol(l, j) for j in range(1, len(z_fns) + 1)]
        layers.append((a_fns, z_fns, a_syms, z_syms))
    x_syms = model.x

    def program(row: list[arb]) -> tuple[list[list[arb]], list[list[arb]]]:
        env: dict[sympy.Symbol, arb] = dict(zip(x_syms, row))
        a_out, z_out = [], []
        for a_fns, z_fns, a_syms, z_syms in layers:
            a_vals = [f(env) for f in a_fns]
            env.update(zip(a_syms, a_vals))
            z_vals = [f(env) for f in z_fns]
            env.update(zip(z_syms, z_vals))
            a_out.append(a_vals)
            z_out.append(z_vals)
        return a_out, z_out

    per_net[key] = program
    return program


def sympy_route(
    network: Network, rows: Sequence[Sequence[Any]], mode: Mode, prec: int
) -> tuple[list[list[list[arb]]], list[list[list[arb]]]]:
    """Balls of every ``a`` and ``z`` for the input ``rows``, from the compiled model (under ``ctx.workprec(prec)``)."""
    program = compiled_model(network, mode, prec)
    all_a: list[list[list[arb]]] = [[] for _ in network.layers]
    all_z: list[list[list[arb]]] = [[] for _ in network.layers]
    for r in rows:
        a_layers, z_layers = program([v if isinstance(v, arb) else ball(v) for v in r])
        for l, (a_row, z_row) in enumerate(zip(a_layers, z_layers)):
            all_a[l].append(a_row)
            all_z[l].append(z_row)
    return all_a, all_z
