"""The SymPy model of a network: every unit's ``a^{(l)}_j`` and ``z^{(l)}_j``, and closed forms.

The model is *layered*: ``a^{(l)}_j = sum_i w^{(l)}_{ji} z^{(l-1)}_i + b^{(l)}_j`` is written in
terms of the previous layer's ``z`` symbols (``z^{(0)}_i`` is ``x_i``) and ``z^{(l)}_j = h(a^{(l)}_j)``
in terms of the ``a`` symbols, so even 784-50-100-10 builds in about a second. A closed form
``y_k(x_1, ..., x_n)`` substitutes layer into layer on demand, after an estimate of its size:
a request too large raises :class:`~nnverify.errors.LimitError` instead of running for hours.

Weight modes (:class:`~nnverify.modes.Mode`): SYMBOLIC (symbols ``w^{(l)}_{ji}``, ``b^{(l)}_j``),
BINARY (the exact rational of each stored float, via ``float.as_integer_ratio``, never ``str``)
and DECIMAL (the rational the literal text says). Symbol names are built from integers only,
LaTeX-ready: ``x_1``, ``w^{(1)}_{12}``, ``w^{(1)}_{12,1}`` (a comma once an index has 2 digits;
the book's order, next-layer unit first: see :func:`w_symbol`).

Sums of up to 4 terms (the book network's) are ordinary, canonical SymPy sums, so ``==``
against an expression typed by hand works. Longer sums are built with ``evaluate=False`` in
the book's order (``x_1 w_11 + x_2 w_21 + ... + b``): SymPy's canonical re-sorting costs ~1 ms
for 8 terms and ~50 ms for 785, which is what made naive models of the MNIST network slow.
Printers order terms themselves, so both kinds print alike; compare long sums with
``(e1 - e2).expand() == 0``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from typing import Any

import sympy
from flint import arb

from nnverify.certified import _check_mode, ball, weight_rationals
from nnverify.errors import LimitError, UsageError
from nnverify.model import Activation, Network
from nnverify.modes import Mode

__all__ = [
    "Mode",
    "SymbolicModel",
    "build_model",
    "x_symbol",
    "w_symbol",
    "b_symbol",
    "a_symbol",
    "z_symbol",
    "y_symbol",
    "symbol_info",
    "sigma",
    "sigmoid_expr",
    "activation_expr",
    "compiled_model",
    "DEFAULT_MAX_OPS",
    "CANONICAL_MAX_TERMS",
]

#: Largest closed form (in expression-tree nodes) :meth:`SymbolicModel.closed_form` builds by default.
DEFAULT_MAX_OPS = 100_000
#: Longest weighted sum built as a canonical (evaluated) SymPy ``Add``; longer ones stay unevaluated.
CANONICAL_MAX_TERMS = 4

# ---------------------------------------------------------------------------------------------
# Symbols (book §3.4 notation), built from integers only

_SYMBOL_INFO: dict[sympy.Symbol, tuple[str, tuple[int, ...]]] = {}


def _index(*idx: int) -> str:
    for i in idx:
        if isinstance(i, bool) or not isinstance(i, int) or i < 1:
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


# ---------------------------------------------------------------------------------------------
# Activations as expressions


def sigmoid_expr(a: sympy.Expr) -> sympy.Expr:
    """``1 / (1 + exp(-a))``."""
    return 1 / (1 + sympy.exp(-a))


sigma = sigmoid_expr


def activation_expr(activation: Activation, a_syms: Sequence[sympy.Expr], j: int) -> sympy.Expr:
    """``h(a_j)`` for unit j (1-based) of a layer whose weighted sums are ``a_syms``.

    sigmoid ``1/(1+exp(-a))``; softmax ``exp(a_j) / sum_i exp(a_i)``; relu ``Max(a, 0)``;
    step ``Piecewise((1, a > 0), (0, True))`` (step(0) = 0); tanh ``tanh(a)``; identity ``a``.
    """
    activation = Activation.parse(activation)
    a = a_syms[j - 1]
    if activation is Activation.IDENTITY:
        return a
    if activation is Activation.SIGMOID:
        return sigmoid_expr(a)
    if activation is Activation.TANH:
        return sympy.tanh(a)
    if activation is Activation.RELU:
        return sympy.Max(a, 0)
    if activation is Activation.STEP:
        return sympy.Piecewise((1, a > 0), (0, True))
    if activation is Activation.SOFTMAX:
        return sympy.exp(a) / sympy.Add(*[sympy.exp(t) for t in a_syms])
    raise UsageError(f"no expression for activation {activation.value}")


# ---------------------------------------------------------------------------------------------
# The model


def _rational(q: Fraction) -> sympy.Rational:
    return sympy.Rational(q.numerator, q.denominator)


def _tree_size(expr: sympy.Basic) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


@dataclass(frozen=True, eq=False)
class SymbolicModel:
    """The layered SymPy model of a network (see the module text).

    Args:
        network: the network modelled.
        mode: SYMBOLIC, BINARY or DECIMAL weights.
        x: the input symbols ``x_1 .. x_n``.
        weights: per layer, ``W^{(l)}`` as a SymPy Matrix of Rationals or symbols.
        biases: per layer, ``b^{(l)}_j`` as Rationals or symbols.
        a: ``a[l-1][j-1]``, the weighted sum in terms of the previous layer's ``z`` symbols.
        z: ``z[l-1][j-1] = h(a^{(l)}_j)`` in terms of layer l's ``a`` symbols.
    """

    network: Network
    mode: Mode
    x: tuple[sympy.Symbol, ...]
    weights: tuple[sympy.Matrix, ...] = field(repr=False)
    biases: tuple[tuple[sympy.Expr, ...], ...] = field(repr=False)
    a: tuple[tuple[sympy.Expr, ...], ...] = field(repr=False)
    z: tuple[tuple[sympy.Expr, ...], ...] = field(repr=False)

    @property
    def n_layers(self) -> int:
        return len(self.a)

    def _check_unit(self, l: int, j: int) -> None:
        if isinstance(l, bool) or not isinstance(l, int) or not 1 <= l <= self.n_layers:
            raise UsageError(f"layer {l!r} does not exist; layers are 1 to {self.n_layers}")
        n = len(self.a[l - 1])
        if isinstance(j, bool) or not isinstance(j, int) or not 1 <= j <= n:
            raise UsageError(f"unit {j!r} of layer {l} does not exist; layer {l} has units 1 to {n}")

    def unit(self, l: int, j: int) -> tuple[sympy.Expr, sympy.Expr]:
        """``(a^{(l)}_j, z^{(l)}_j)``, layered (1-based ``l`` and ``j``)."""
        self._check_unit(l, j)
        return self.a[l - 1][j - 1], self.z[l - 1][j - 1]

    def output(self, k: int) -> sympy.Expr:
        """The layered definition of ``y_k = sigma(a^{(L)}_k)`` (1-based ``k``)."""
        self._check_output(k)
        return self.z[-1][k - 1]

    def _check_output(self, k: int) -> None:
        K = len(self.z[-1])
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= K:
            raise UsageError(f"output {k!r} does not exist; the network has outputs 1 to {K}")

    def layered_size(self, l: int, j: int) -> int:
        """The node count of unit (l, j)'s layered ``a`` and ``z`` together (what printing costs)."""
        a, z = self.unit(l, j)
        return _tree_size(a) + _tree_size(z)

    def expanded_size(self, l: int, j: int, *, what: str = "z") -> int:
        """The node count of the fully expanded ``a^{(l)}_j`` or ``z^{(l)}_j`` (no expansion done)."""
        self._check_unit(l, j)
        return self._sizes()[(what, l, j)]

    def _sizes(self) -> dict[tuple[str, int, int], int]:
        cache = self.__dict__.get("_size_cache")
        if cache is not None:
            return cache
        full: dict[sympy.Symbol, int] = {s: 1 for s in self.x}
        sizes: dict[tuple[str, int, int], int] = {}
        for l in range(1, self.n_layers + 1):
            for what, exprs, sym in (("a", self.a[l - 1], a_symbol), ("z", self.z[l - 1], z_symbol)):
                new = {}
                for j, expr in enumerate(exprs, start=1):
                    size = 0
                    for node in sympy.preorder_traversal(expr):
                        size += full.get(node, 1) if node.is_Symbol else 1
                    sizes[(what, l, j)] = size
                    new[sym(l, j)] = size
                full.update(new)
        object.__setattr__(self, "_size_cache", sizes)
        return sizes

    def closed_form(self, k: int, *, max_ops: int = DEFAULT_MAX_OPS) -> sympy.Expr:
        """``y_k(x_1, ..., x_n)``, every layer substituted in (1-based ``k``).

        Raises LimitError (naming ``--max-ops``) when the expanded tree would have more than
        ``max_ops`` nodes; the size is counted on the layered model first, nothing is built.
        """
        self._check_output(k)
        return self._expand("z", self.n_layers, k, max_ops, f"the closed form of y_{k}")

    def closed_unit(self, l: int, j: int, *, max_ops: int = DEFAULT_MAX_OPS) -> tuple[sympy.Expr, sympy.Expr]:
        """``(a^{(l)}_j, z^{(l)}_j)`` fully expanded in terms of ``x``, with the same limit."""
        self._check_unit(l, j)
        where = f"the closed form of unit a^({l})_{j}"
        return (self._expand("a", l, j, max_ops, where), self._expand("z", l, j, max_ops, where))

    def _expand(self, what: str, l: int, j: int, max_ops: int, where: str) -> sympy.Expr:
        if isinstance(max_ops, bool) or not isinstance(max_ops, int) or max_ops < 1:
            raise UsageError(f"max_ops {max_ops!r}: must be a whole number >= 1")
        size = self._sizes()[(what, l, j)]
        if size > max_ops:
            raise LimitError(
                f"{where} would have {size:,} expression nodes, above the limit of {max_ops:,}; "
                f"raise it with --max-ops {size} (max_ops={size} in Python), or use the layered "
                "model (nnverify derive --unit a1_1)"
            )
        # Substitute layer by layer, bottom up, only the units the target depends on.
        full: dict[sympy.Symbol, sympy.Expr] = {}
        for lay in range(1, l + 1):
            a_full = {a_symbol(lay, jj): e.xreplace(full) for jj, e in enumerate(self.a[lay - 1], 1)}
            if lay == l and what == "a":
                return a_full[a_symbol(l, j)]
            if lay == l:
                return self.z[l - 1][j - 1].xreplace(a_full)
            full = {z_symbol(lay, jj): e.xreplace(a_full) for jj, e in enumerate(self.z[lay - 1], 1)}
        raise AssertionError("unreachable")  # l >= 1 always returns in the loop

    def substitutions(self) -> dict[sympy.Symbol, sympy.Expr]:
        """``{w^{(l)}_{ij}: value, b^{(l)}_j: value}`` from this model's numbers (not SYMBOLIC)."""
        if self.mode is Mode.SYMBOLIC:
            raise UsageError("a symbolic model has no numbers to substitute; build it in binary or decimal mode")
        out: dict[sympy.Symbol, sympy.Expr] = {}
        for l, (W, b) in enumerate(zip(self.weights, self.biases), start=1):
            for i in range(W.rows):
                for j in range(W.cols):
                    out[w_symbol(l, i + 1, j + 1)] = W[i, j]
            for j, v in enumerate(b, start=1):
                out[b_symbol(l, j)] = v
        return out


def _cache(network: Network, name: str) -> dict[Any, Any]:
    """A private per-network cache stored on the network itself.

    A model refers to its network, so a WeakKeyDictionary keyed by the network would keep
    every network alive forever; a cache on the network is a cycle the GC frees with it.
    """
    attr = f"_nnverify_{name}_cache"
    cache = network.__dict__.get(attr)
    if cache is None:
        cache = {}
        object.__setattr__(network, attr, cache)  # frozen dataclass: private, not part of equality
    return cache



def build_model(network: Network, mode: Mode | str = Mode.BINARY) -> SymbolicModel:
    """The layered SymPy model of ``network`` with ``mode`` weights (cached per network and mode).

    Args:
        network: the network.
        mode: SYMBOLIC, BINARY (default) or DECIMAL (needs the weights' literal text).

    Example:
        >>> from nnverify.weights import book_network
        >>> build_model(book_network(), Mode.DECIMAL).a[0][0]
        x_1/10 + x_2/5 + 1/10
    """
    if not isinstance(network, Network):
        raise UsageError(f"network is a {type(network).__name__}; expected an nnverify Network")
    mode = Mode.parse(mode)
    if mode is not Mode.SYMBOLIC:
        mode = _check_mode(network, mode)
    per_net = _cache(network, "model")
    if mode in per_net:
        return per_net[mode]
    xs = tuple(x_symbol(i) for i in range(1, network.n_inputs + 1))
    numbers = None if mode is Mode.SYMBOLIC else weight_rationals(network, mode)
    weights, biases, a_layers, z_layers = [], [], [], []
    prev: Sequence[sympy.Symbol] = xs
    for l, layer in enumerate(network.layers, start=1):
        n, m = layer.n_in, layer.n_out
        # Zero and one are decided on the exact numbers (or symbols) before SymPy sees them:
        # comparing 39,200 SymPy Rationals with 0 and 1 alone took most of a second.
        if numbers is None:
            W_rows = [[w_symbol(l, i, j) for j in range(1, m + 1)] for i in range(1, n + 1)]
            b = [b_symbol(l, j) for j in range(1, m + 1)]
            W_vals: list[list[Any]] = W_rows
            b_vals: list[Any] = b
        else:
            W_vals, b_vals = numbers[l - 1]
            W_rows = [[_rational(q) for q in row] for row in W_vals]
            b = [_rational(q) for q in b_vals]
        a_list = []
        for j in range(m):
            terms = []
            for i in range(n):
                q, w = W_vals[i][j], W_rows[i][j]
                if numbers is None:
                    terms.append(sympy.Mul(prev[i], w, evaluate=n < CANONICAL_MAX_TERMS))
                elif q == 1:
                    terms.append(prev[i])
                elif q != 0:  # an exactly-zero weight contributes nothing
                    # (Rational, Symbol) is already Mul's canonical form: build it directly,
                    # 5x faster than Mul(w, z) for the 39,200 terms of the MNIST network.
                    terms.append(sympy.Mul._from_args((w, prev[i])))
            if b_vals[j] != 0:
                terms.append(b[j])
            if not terms:
                a_list.append(sympy.Integer(0))
            elif len(terms) == 1:
                a_list.append(terms[0])
            else:
                a_list.append(sympy.Add(*terms, evaluate=len(terms) <= CANONICAL_MAX_TERMS))
        a_syms = [a_symbol(l, j) for j in range(1, m + 1)]
        z_list = [activation_expr(layer.activation, a_syms, j) for j in range(1, m + 1)]
        weights.append(sympy.Matrix(W_rows))
        biases.append(tuple(b))
        a_layers.append(tuple(a_list))
        z_layers.append(tuple(z_list))
        prev = [z_symbol(l, j) for j in range(1, m + 1)]
    model = SymbolicModel(network, mode, xs, tuple(weights), tuple(biases), tuple(a_layers), tuple(z_layers))
    per_net[mode] = model
    return model


# ---------------------------------------------------------------------------------------------
# Compiling the model to ball arithmetic

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
                return method(expr)
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
    per_net = _cache(network, "program")
    key = (mode, prec)
    if key in per_net:
        return per_net[key]
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
