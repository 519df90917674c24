"""The SymPy model of a network: every unit's ``a^{(l)}_j`` and ``z^{(l)}_j``, and closed forms.

The model is *layered*: ``a^{(l)}_j = sum_i w^{(l)}_{ji} z^{(l-1)}_i + b^{(l)}_j`` is written in
terms of the previous layer's ``z`` symbols (``z^{(0)}_i`` is ``x_i``) and ``z^{(l)}_j = h(a^{(l)}_j)``
in terms of the ``a`` symbols, so even 784-50-100-10 builds in about a second. A closed form
``y_k(x_1, ..., x_n)`` substitutes layer into layer on demand, after an estimate of its size:
a request too large raises :class:`~nnverify.errors.LimitError` instead of running for hours.

Weight modes (:class:`~nnverify.modes.Mode`): SYMBOLIC (symbols ``w^{(l)}_{ji}``, ``b^{(l)}_j``),
BINARY (the exact rational of each stored float, never ``str``) and DECIMAL (the rational the
literal text says).

Sums of up to 4 terms (the book network's) are ordinary, canonical SymPy sums, so ``==``
against an expression typed by hand works. Longer sums are built with ``evaluate=False`` in
the book's order (``x_1 w_11 + x_2 w_21 + ... + b``): SymPy's canonical re-sorting costs ~1 ms
for 8 terms and ~50 ms for 785, which is what made naive models of the MNIST network slow.
Printers order terms themselves, so both kinds print alike; compare long sums with
``(e1 - e2).expand() == 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy

from nnverify.errors import LimitError, UsageError
from nnverify.model import Network, network_cache
from nnverify.modes import Mode
from nnverify.rationals import check_exact_mode, weight_rationals
from nnverify.symbolic.expressions import activation_expr
from nnverify.symbolic.symbols import a_symbol, b_symbol, w_symbol, x_symbol, z_symbol
from nnverify.validate import check_network, is_int

__all__ = ["SymbolicModel", "build_model", "DEFAULT_MAX_OPS", "CANONICAL_MAX_TERMS", "MAX_CLOSED_DEPTH"]

#: Largest closed form (in expression-tree nodes) :meth:`SymbolicModel.closed_form` builds by default.
DEFAULT_MAX_OPS = 100_000
#: Deepest closed form (nesting levels) built: SymPy's printers and ``evalf`` recurse once per
#: level (several Python frames each), so a 60-layer chain (about 300 levels) exhausts the stack.
MAX_CLOSED_DEPTH = 200
#: Longest weighted sum built as a canonical (evaluated) SymPy ``Add``; longer ones stay unevaluated.
CANONICAL_MAX_TERMS = 4


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
        if not is_int(l) or not 1 <= l <= self.n_layers:
            raise UsageError(f"layer {l!r} does not exist; layers are 1 to {self.n_layers}")
        n = len(self.a[l - 1])
        if not is_int(j) or not 1 <= j <= n:
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
        if not is_int(k) or not 1 <= k <= K:
            raise UsageError(f"output {k!r} does not exist; the network has outputs 1 to {K}")

    def layered_size(self, l: int, j: int) -> int:
        """The node count of unit (l, j)'s layered ``a`` and ``z`` together (what printing costs)."""
        a, z = self.unit(l, j)
        return _tree_size(a) + _tree_size(z)

    def expanded_size(self, l: int, j: int, *, what: str = "z") -> int:
        """The node count of the fully expanded ``a^{(l)}_j`` or ``z^{(l)}_j`` (no expansion done)."""
        self._check_unit(l, j)
        return self._sizes()[(what, l, j)]

    def expanded_depth(self, l: int, j: int, *, what: str = "z") -> int:
        """The nesting depth of the fully expanded ``a^{(l)}_j`` or ``z^{(l)}_j`` (no expansion done)."""
        self._check_unit(l, j)
        return self._depths()[(what, l, j)]

    def _depths(self) -> dict[tuple[str, int, int], int]:
        cache: dict[tuple[str, int, int], int] | None = self.__dict__.get("_depth_cache")
        if cache is not None:
            return cache
        full: dict[sympy.Basic, int] = {s: 1 for s in self.x}

        def depth(e: sympy.Basic) -> int:  # each layered expression is shallow: recursion is safe
            if e.is_Symbol:
                return full.get(e, 1)
            return 1 + max((depth(arg) for arg in e.args), default=0)

        depths: dict[tuple[str, int, int], int] = {}
        for l in range(1, self.n_layers + 1):
            for what, exprs, sym in (("a", self.a[l - 1], a_symbol), ("z", self.z[l - 1], z_symbol)):
                new = {}
                for j, expr in enumerate(exprs, start=1):
                    depths[(what, l, j)] = new[sym(l, j)] = depth(expr)
                full.update(new)
        object.__setattr__(self, "_depth_cache", depths)
        return depths

    def _sizes(self) -> dict[tuple[str, int, int], int]:
        cache: dict[tuple[str, int, int], int] | None = self.__dict__.get("_size_cache")
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
        if not is_int(max_ops) or max_ops < 1:
            raise UsageError(f"max_ops {max_ops!r}: must be a whole number >= 1")
        size = self._sizes()[(what, l, j)]
        if size > max_ops:
            raise LimitError(
                f"{where} would have {size:,} expression nodes, above the limit of {max_ops:,}; "
                f"raise it with --max-ops {size} (max_ops={size} in Python), or use the layered "
                "model (nnverify derive --unit a1_1)"
            )
        depth = self._depths()[(what, l, j)]
        if depth > MAX_CLOSED_DEPTH:
            raise LimitError(
                f"{where} would nest {depth:,} levels deep, beyond the {MAX_CLOSED_DEPTH} that SymPy can "
                "print and evaluate (its printers recurse once per level); the layered model defines it "
                "(nnverify derive --unit a1_1 prints one unit at a time)"
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




def _weighted_sum(prev: Sequence[sympy.Symbol], W_rows: list[list[Any]], W_vals: list[list[Any]],
                  b: sympy.Expr, b_val: Any, j: int, *, symbolic: bool) -> sympy.Expr:
    """``a_j = sum_i z_i w_ij + b_j`` in the book's order; exact zeros dropped, exact ones elided."""
    n = len(prev)
    terms = []
    for i in range(n):
        q, w = W_vals[i][j], W_rows[i][j]
        if symbolic:
            terms.append(sympy.Mul(prev[i], w, evaluate=n < CANONICAL_MAX_TERMS))
        elif q == 1:
            terms.append(prev[i])
        elif q != 0:  # an exactly-zero weight contributes nothing
            # (Rational, Symbol) is already Mul's canonical form: build it directly,
            # 5x faster than Mul(w, z) for the 39,200 terms of the MNIST network.
            terms.append(sympy.Mul._from_args((w, prev[i])))
    if b_val != 0:
        terms.append(b)
    if not terms:
        return sympy.Integer(0)
    if len(terms) == 1:
        return terms[0]
    return sympy.Add(*terms, evaluate=len(terms) <= CANONICAL_MAX_TERMS)


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
    check_network(network)
    mode = Mode.parse(mode)
    if mode is not Mode.SYMBOLIC:
        mode = check_exact_mode(network, mode)
    per_net = network_cache(network, "model")
    if mode in per_net:
        cached: SymbolicModel = per_net[mode]
        return cached
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
        a_list = [_weighted_sum(prev, W_rows, W_vals, b[j], b_vals[j], j, symbolic=numbers is None)
                  for j in range(m)]
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

