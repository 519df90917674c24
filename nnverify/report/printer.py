"""Our LaTeX printer for SymPy expression trees: one tree, three rows.

SymPy's own printer reorders terms, prints ``exp`` as ``e^{...}``, never breaks lines and
passes symbol names through verbatim. This printer

- prints each symbol by looking it up in a :class:`SymbolTable` whose LaTeX names are built
  from integers (``w^{(2)}_{31}``); a symbol it does not know is an error, never text;
- orders the terms of a sum and the factors of a product by the table's ranks (inputs, then
  weights, then biases), so the symbolic row, the substituted row and every other row printed
  from the same tree list the same terms in the same order;
- substitutes numbers for symbols *at the leaves* (``values``), so a substituted row has the
  tree's exact operators and layout; substituted negatives are parenthesised and adjacent
  numbers are joined by ``\\cdot``;
- prints ``exp`` as ``\\exp(...)``, exact rationals exactly (a dyadic as ``p/2^{e}``).

Extend it by adding a ``_print_<Class>`` method: dispatch walks the class's MRO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from nnverify.report.numbers import Number, format_number, plain_digits

__all__ = ["SymbolTable", "LatexPrinter", "rational_latex"]

# Precedence levels: a child binding weaker than its parent is parenthesised.
_PREC_ADD, _PREC_MUL, _PREC_POW, _PREC_ATOM = 10, 20, 30, 40

#: Most significant digits a terminating decimal may have before it is printed as a fraction.
_MAX_EXACT_DECIMAL_DIGITS = 16


@dataclass
class SymbolTable:
    """LaTeX names (built from integers) and ordering ranks for the symbols a printer may meet.

    Args:
        names: symbol -> LaTeX math name, e.g. ``w^{(1)}_{21}``.
        ranks: symbol -> sort key; terms and factors are printed in increasing rank.
    """

    names: dict[sympy.Symbol, str] = field(default_factory=dict)
    ranks: dict[sympy.Symbol, tuple[int, ...]] = field(default_factory=dict)

    def add(self, symbol: sympy.Symbol, latex: str, rank: tuple[int, ...]) -> None:
        """Register ``symbol`` with its LaTeX name and rank (the caller builds both from ints)."""
        self.names[symbol] = latex
        self.ranks[symbol] = rank

    def rank(self, symbol: sympy.Basic) -> tuple[int, ...]:
        return self.ranks.get(symbol, (99,))


def _index(*indices: int) -> str:
    """Subscript for 1-based indices: ``21`` when all are one digit, else ``2,13``."""
    parts = [str(int(i)) for i in indices]
    return "".join(parts) if all(len(p) == 1 for p in parts) else ",".join(parts)


def rational_latex(q: Fraction) -> str:
    """An exact rational as LaTeX, exactly: ``3``, ``0.05``, ``\\frac{3602879701896397}{2^{55}}``.

    Terminating decimals with few digits print positionally; dyadic rationals (every binary
    float) as ``p/2^e``; anything else as ``p/q``. Negative values get a leading ``-``.
    """
    sign = "-" if q < 0 else ""
    q = abs(q)
    p, d = q.numerator, q.denominator
    if d == 1:
        return f"{sign}{p}"
    twos = fives = 0
    rest = d
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest == 1:
        places = max(twos, fives)
        digits = p * (10**places // d)
        if len(str(digits).strip("0")) <= _MAX_EXACT_DECIMAL_DIGITS:
            return sign + plain_digits(digits, -places)
        if fives == 0:
            return f"{sign}\\frac{{{p}}}{{2^{{{twos}}}}}"
    return f"{sign}\\frac{{{p}}}{{{d}}}"


class LatexPrinter:
    """Print SymPy trees as LaTeX math with our notation, ordering and number formatting.

    Args:
        table: names and ranks of every symbol that may occur (anything else is an error).
        values: optional substitution, symbol -> formatted number, applied at the leaves.
        float_digits: significant figures for any SymPy ``Float`` met in the tree.
        words: the words of a case distinction, ``{"if": ..., "otherwise": ...}`` (the
            report's language).

    A substituted negative never meets a minus sign: ``exp(-a)`` at ``a = -0.855`` prints
    ``\\exp(0.855)`` and ``x + b`` at ``b = -0.2`` prints ``x - 0.2``.
    """

    def __init__(
        self,
        table: SymbolTable,
        values: Mapping[sympy.Symbol, Number] | None = None,
        *,
        float_digits: int = 17,
        words: Mapping[str, str] | None = None,
    ) -> None:
        self.table = table
        self.values = dict(values or {})
        self.float_digits = float_digits
        self.words = {"if": "if", "otherwise": "otherwise", **(words or {})}

    # -- entry points ----------------------------------------------------------------
    def doprint(self, expr: sympy.Basic) -> str:
        """``expr`` as one LaTeX math string."""
        return self._print(sympy.sympify(expr))

    def terms(self, expr: sympy.Basic) -> list[str]:
        """The top-level terms of ``expr`` in print order, each with its sign: ``["a", "+ b", "- c"]``.

        A document breaks a long row between these pieces; joined with spaces they equal
        :meth:`doprint`.
        """
        expr = sympy.sympify(expr)
        if not isinstance(expr, sympy.Add):
            return [self._print(expr)]
        out: list[str] = []
        for k, term in enumerate(self._ordered_terms(expr)):
            leaf = self._leading_negative(term)
            if leaf is not None:  # "+ (-0.2) x" reads "- 0.2 x"
                s = self._with_negated(leaf, term)
                out.append("-" + s if k == 0 else "- " + s)
                continue
            s = self._print(term)
            if k == 0:
                out.append(s)
            elif s.startswith("-"):
                out.append("- " + s[1:].lstrip())
            else:
                out.append("+ " + s)
        return out

    # -- substituted negatives -------------------------------------------------------
    def _leading_negative(self, expr: sympy.Basic) -> sympy.Symbol | None:
        """The substituted negative leaf a term starts with (``b``, or ``w`` of ``w x``), if any."""
        if isinstance(expr, sympy.Symbol):
            num = self.values.get(expr)
            return expr if num is not None and num.negative else None
        if isinstance(expr, sympy.Mul):
            coeff, factors = expr.as_coeff_mul()
            first = sorted(factors, key=self._key)[0] if factors else None
            if coeff == 1 and isinstance(first, sympy.Symbol):
                num = self.values.get(first)
                return first if num is not None and num.negative else None
        return None

    def _with_negated(self, leaf: sympy.Symbol, expr: sympy.Basic) -> str:
        """``expr`` printed with the number at ``leaf`` negated (the caller adds the minus)."""
        saved = self.values[leaf]
        self.values[leaf] = saved.negated()
        try:
            return self._print(expr)
        finally:
            self.values[leaf] = saved

    # -- dispatch --------------------------------------------------------------------
    def _print(self, expr: sympy.Basic) -> str:
        for cls in type(expr).__mro__:
            method = getattr(self, f"_print_{cls.__name__}", None)
            if method is not None:
                text: str = method(expr)
                return text
        raise TypeError(f"no LaTeX form for {type(expr).__name__}; add a _print_{type(expr).__name__}")

    def _precedence(self, expr: sympy.Basic) -> int:
        if isinstance(expr, sympy.Add):
            return _PREC_ADD
        if isinstance(expr, sympy.Mul):
            return _PREC_ADD if expr.could_extract_minus_sign() else _PREC_MUL
        if isinstance(expr, sympy.Rational):
            return _PREC_ADD if expr < 0 or expr.q != 1 else _PREC_ATOM
        if isinstance(expr, sympy.Pow):
            return _PREC_POW
        if isinstance(expr, sympy.Symbol) and expr in self.values:
            return _PREC_ATOM  # substituted negatives carry their own parentheses
        return _PREC_ATOM

    def _wrap(self, expr: sympy.Basic, level: int) -> str:
        s = self._print(expr)
        if self._precedence(expr) < level:
            return _paren(s)
        return s

    # -- ordering ----------------------------------------------------------------------
    def _key(self, expr: sympy.Basic) -> tuple[int, ...]:
        # Sorted stably by this key: ties keep the tree's own order (the book's order in trees
        # built unevaluated, SymPy's canonical order otherwise), so printing is deterministic.
        syms = [s for s in expr.free_symbols]
        if not syms:
            # The "1" of 1 + exp(-a) reads first; a numeric bias term reads last.
            return (0,) if isinstance(expr, sympy.Integer) else (9,)
        return (1,) + min(self.table.rank(s) for s in syms)

    def _ordered_terms(self, expr: sympy.Add) -> list[sympy.Basic]:
        return sorted(expr.args, key=self._key)

    # -- atoms -------------------------------------------------------------------------
    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        if expr in self.values:
            num = self.values[expr]
            return _paren(num.latex) if num.negative else num.latex
        try:
            return self.table.names[expr]
        except KeyError:
            raise KeyError(
                f"symbol {expr.name!r} has no LaTeX name in the table; names are built from "
                "indices, never from symbol text"
            ) from None

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return rational_latex(Fraction(int(expr.p), int(expr.q)))

    def _print_Float(self, expr: sympy.Float) -> str:
        return format_number(Fraction(float(expr)), self.float_digits).latex

    def _print_Exp1(self, expr: sympy.Basic) -> str:
        return r"\mathrm{e}"

    def _print_BooleanTrue(self, expr: sympy.Basic) -> str:
        return f"\\text{{{self.words['otherwise']}}}"

    # -- operators -----------------------------------------------------------------------
    def _print_Add(self, expr: sympy.Add) -> str:
        return " ".join(self.terms(expr))

    def _print_Mul(self, expr: sympy.Mul) -> str:
        coeff, factors = expr.as_coeff_mul()
        if coeff < 0:
            positive = sympy.Mul(-coeff, *factors, evaluate=False) if coeff != -1 else (
                sympy.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0])
            leaf = self._leading_negative(positive)
            if leaf is not None:  # -(-0.855) is 0.855: no double negative
                return self._with_negated(leaf, positive)
        sign = ""
        if coeff < 0:
            sign, coeff = "-", -coeff
        num: list[sympy.Basic] = []
        den: list[sympy.Basic] = []
        for f in sorted(factors, key=self._key):
            if isinstance(f, sympy.Pow) and f.exp.is_Rational and f.exp < 0:
                den.append(f.base if f.exp == -1 else sympy.Pow(f.base, -f.exp, evaluate=False))
            else:
                num.append(f)
        num_parts = [self._wrap(f, _PREC_MUL) for f in num]
        if den:
            den_s = _join_factors([self._wrap(f, _PREC_MUL) if len(den) > 1 else self._print(f)
                                   for f in den])
            coeff_s = self._print(coeff)
            if not num_parts and "\\frac" in coeff_s:
                return f"{sign}{coeff_s} \\cdot \\frac{{1}}{{{den_s}}}"
            top_parts = ([coeff_s] if coeff != 1 else []) + num_parts
            top = _join_factors(top_parts) if top_parts else "1"
            return f"{sign}\\frac{{{top}}}{{{den_s}}}"
        parts = ([self._print(coeff)] if coeff != 1 else []) + num_parts
        if not parts:
            parts = ["1"]
        return sign + _join_factors(parts)

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, e = expr.base, expr.exp
        if e.is_Rational and e < 0:
            inner = base if e == -1 else sympy.Pow(base, -e, evaluate=False)
            return f"\\frac{{1}}{{{self._print(inner)}}}"
        if e == sympy.Rational(1, 2):
            return f"\\sqrt{{{self._print(base)}}}"
        b = self._print(base)
        substituted = isinstance(base, sympy.Symbol) and base in self.values
        if not substituted and (
            self._precedence(base) < _PREC_ATOM or isinstance(base, sympy.Function) or "^" in b
        ):
            b = _paren(b)
        return f"{b}^{{{self._print(e)}}}"

    # -- functions -----------------------------------------------------------------------
    def _call(self, name: str, *args: sympy.Basic) -> str:
        inner = ", ".join(self._argument(a) for a in args)
        return name + _paren(inner)

    def _argument(self, expr: sympy.Basic) -> str:
        """A function argument: the call's own parentheses suffice for a substituted negative."""
        if isinstance(expr, sympy.Symbol) and expr in self.values:
            latex: str = self.values[expr].latex
            return latex
        return self._print(expr)

    def _print_exp(self, expr: sympy.Basic) -> str:
        return self._call(r"\exp", *expr.args)

    def _print_tanh(self, expr: sympy.Basic) -> str:
        return self._call(r"\tanh", *expr.args)

    def _print_log(self, expr: sympy.Basic) -> str:
        return self._call(r"\ln", *expr.args)

    def _print_Max(self, expr: sympy.Basic) -> str:
        return self._call(r"\max", *sorted(expr.args, key=self._key))

    def _print_Min(self, expr: sympy.Basic) -> str:
        return self._call(r"\min", *sorted(expr.args, key=self._key))

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        rows = []
        for piece in expr.args:
            if piece.cond is sympy.true:
                cond = f"\\text{{{self.words['otherwise']}}}"
            else:
                cond = f"\\text{{{self.words['if']} }} {self._print(piece.cond)}"
            rows.append(f"{self._print(piece.expr)} & {cond}")
        return "\\begin{cases} " + " \\\\ ".join(rows) + " \\end{cases}"

    def _relation(self, op: str, expr: sympy.Basic) -> str:
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_StrictGreaterThan(self, expr: sympy.Basic) -> str:
        return self._relation(">", expr)

    def _print_GreaterThan(self, expr: sympy.Basic) -> str:
        return self._relation(r"\ge", expr)

    def _print_StrictLessThan(self, expr: sympy.Basic) -> str:
        return self._relation("<", expr)

    def _print_LessThan(self, expr: sympy.Basic) -> str:
        return self._relation(r"\le", expr)


def _paren(s: str) -> str:
    """Parentheses that grow with their content when it holds a fraction."""
    if "\\frac" in s or "\\begin" in s:
        return f"\\left({s}\\right)"
    return f"({s})"


def _join_factors(parts: list[str]) -> str:
    """Juxtapose factors, with ``\\cdot`` where two numbers would otherwise run together."""
    out = parts[0] if parts else ""
    for p in parts[1:]:
        if p[:1].isdigit() or p.startswith(("(", "\\left(", "\\frac", "-")):
            out += " \\cdot " + p
        else:
            out += " " + p
    return out
