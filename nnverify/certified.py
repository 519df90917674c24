"""Certified evaluation: ball arithmetic (python-flint ``arb``) that encloses the exact values.

Every number the exact model uses becomes a ball that contains it: a binary float (or any
dyadic rational that fits a float64) becomes an *exact* ball of radius 0; a non-dyadic rational
(the decimal ``1/10``) becomes a tiny ball around it. From there every ``arb`` operation,
``exp`` included, returns a ball that contains the exact result, so the outputs are
enclosures ``[lower, upper]`` guaranteed to hold the exact ``y_k``.

Two routes compute the same enclosures:

- ``"sympy"`` compiles the SymPy model's own expression trees (:mod:`nnverify.symbolic`) into
  ball operations and evaluates them unit by unit: what is certified is the SymPy model itself;
- ``"matrix"`` evaluates layer by layer with ``arb_mat`` products, ``A = [Z 1] @ [W; b]``: the
  same mathematics, hundreds of times faster on big networks.

``"auto"`` takes the SymPy route for small networks and the matrix route for big ones; tests
check both give overlapping enclosures.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
from flint import arb, arb_mat, ctx, fmpq

from nnverify.errors import UsageError
from nnverify.exact import parse_literal
from nnverify.inputs import Inputs
from nnverify.model import Activation, Network
from nnverify.modes import Mode
from nnverify.numeric import check_inputs

__all__ = [
    "Enclosure",
    "CertifiedPass",
    "certify",
    "ball",
    "ROUTES",
    "MIN_PREC",
    "MAX_PREC",
    "SYMPY_ROUTE_MAX_PARAMS",
    "TINY_EXPONENT",
]

#: Routes :func:`certify` accepts.
ROUTES = ("auto", "sympy", "matrix")
#: Precision limits in bits. Below 16 bits balls are useless; above the cap a run is a mistake.
MIN_PREC, MAX_PREC = 16, 1 << 16
#: Magnitudes below ``2**TINY_EXPONENT`` are enclosed as ``[0, 2**TINY_EXPONENT]`` (see
#: :meth:`Enclosure.from_ball`): 2**-1074 is the smallest float64, so nothing is lost.
TINY_EXPONENT = -4096
#: ``route="auto"`` compiles the SymPy model for networks up to this many parameters.
SYMPY_ROUTE_MAX_PARAMS = 2000


# ---------------------------------------------------------------------------------------------
# Exact rationals <-> balls


def ball(q: Fraction | int | float) -> arb:
    """A ball containing the rational ``q``: exact (radius 0) when ``q`` is a float64 value.

    Uses the current ``flint.ctx.prec`` for a non-dyadic ``q`` (e.g. 1/10), which then gets a
    radius of about ``2**-prec`` relative; ``arb(p) / arb(q)`` would do the same, never better.
    """
    if isinstance(q, float):
        return arb(q)  # arb(float) is exact
    q = Fraction(q)
    try:
        f = float(q)
    except OverflowError:
        f = float("nan")
    if f == f and Fraction(f) == q:
        return arb(f)
    return arb(fmpq(q.numerator, q.denominator))


def _arf_to_fraction(x: arb) -> Fraction:
    """The exact value of an exact ``arb`` (a midpoint or a radius): man * 2**exp."""
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)


@dataclass(frozen=True)
class Enclosure:
    """A closed interval ``[lower, upper]`` guaranteed to contain the exact value.

    Args:
        lower: exact rational lower end.
        upper: exact rational upper end (``>= lower``).

    Example:
        >>> e = Enclosure(Fraction(1, 3), Fraction(1, 2))
        >>> e.contains(0.4), e.mid
        (True, Fraction(5, 12))
    """

    lower: Fraction
    upper: Fraction

    def __post_init__(self) -> None:
        if not self.lower <= self.upper:
            raise UsageError(f"enclosure [{self.lower}, {self.upper}] is empty; need lower <= upper")

    @classmethod
    def from_ball(cls, x: arb) -> Enclosure:
        """The exact interval ``[mid - rad, mid + rad]`` of a finite ``arb``.

        A ball entirely below ``2**TINY_EXPONENT`` in magnitude (e.g. ``sigmoid(-1e6)``, about
        ``10**-434294``) becomes the wider enclosure ``[0, 2**TINY_EXPONENT]`` (or its mirror):
        still guaranteed, far below any float's resolution, and spares rationals with millions
        of digits.
        """
        if not x.is_finite():
            raise ArithmeticError(f"ball {x} is not finite; it encloses nothing useful")
        man, exp = x.abs_upper().man_exp()
        if int(man) != 0 and int(man).bit_length() + int(exp) < TINY_EXPONENT:
            tiny = Fraction(1, 1 << -TINY_EXPONENT)
            if x >= 0:
                return cls(Fraction(0), tiny)
            if x <= 0:
                return cls(-tiny, Fraction(0))
            return cls(-tiny, tiny)
        mid, rad = _arf_to_fraction(x.mid()), _arf_to_fraction(x.rad())
        return cls(mid - rad, mid + rad)

    @property
    def mid(self) -> Fraction:
        return (self.lower + self.upper) / 2

    @property
    def rad(self) -> Fraction:
        return (self.upper - self.lower) / 2

    def contains(self, q: Fraction | float | int) -> bool:
        """True when ``q`` (a rational, or a float taken as its exact value) lies in the interval."""
        if isinstance(q, (float, np.floating)):
            if not np.isfinite(q):
                return False
            q = Fraction(float(q))
        return self.lower <= Fraction(q) <= self.upper

    def digits(self, d: int = 20) -> str:
        """The midpoint to ``d`` significant decimal digits (round half even), e.g. ``"0.31682707641102976546"``.

        Exact values with fewer digits print shorter (``"0.5"``). Small or large magnitudes print
        in scientific notation (``"1.2345e-10"``). These are the midpoint's digits: every one is
        the exact value's too when ``rad`` is well below half a unit in the last place (128-bit
        balls carry about 35 correct digits; :func:`certify` takes ``prec`` for more).
        """
        if not isinstance(d, int) or d < 1:
            raise UsageError(f"digits {d!r}: must be a positive whole number")
        m = self.mid
        if m == 0:
            return "0"
        with localcontext() as c:
            c.prec, c.rounding = d, ROUND_HALF_EVEN
            c.Emax, c.Emin = 10**9, -(10**9)
            value = Decimal(m.numerator) / Decimal(m.denominator)
        e = value.adjusted()
        if -5 <= e < d:
            text = format(value, "f")
        else:
            text = format(value, "e")
        return text

    def __float__(self) -> float:
        """The float64 nearest the midpoint."""
        return float(self.mid)


# ---------------------------------------------------------------------------------------------
# The certified pass


@dataclass(frozen=True, eq=False)
class CertifiedPass:
    """Enclosures of every unit for a batch of inputs, in the book's names.

    ``a[l-1][row][j-1]`` encloses ``a^{(l)}_j`` and ``z[l-1][row][j-1]`` encloses ``z^{(l)}_j``
    for input ``row``; ``y[row][k-1]`` encloses ``y_k``. The raw balls are in ``balls_a`` and
    ``balls_z`` (same indexing) for further ball arithmetic.

    Args:
        network: the network evaluated.
        mode: BINARY or DECIMAL.
        prec: working precision in bits.
        route: "sympy" or "matrix", the route that computed the balls.
        x: the inputs as floats ``(N, n)`` in the network's dtype, as NumPy sees them.
        x_text: the exact rationals used instead of ``x`` (decimal mode with literal text), or None.
        balls_a: weighted sums as balls.
        balls_z: activations as balls.
    """

    network: Network
    mode: Mode
    prec: int
    route: str
    x: np.ndarray = field(repr=False)
    x_text: tuple[tuple[Fraction, ...], ...] | None = field(repr=False)
    balls_a: tuple[list[list[arb]], ...] = field(repr=False)
    balls_z: tuple[list[list[arb]], ...] = field(repr=False)

    @cached_property
    def x_exact(self) -> tuple[tuple[Fraction, ...], ...]:
        """The exact inputs the model used, ``x_exact[row][i-1]``."""
        if self.x_text is not None:
            return self.x_text
        return tuple(tuple(Fraction(v) for v in row) for row in self.x.astype(np.float64).tolist())

    @cached_property
    def a(self) -> tuple[list[list[Enclosure]], ...]:
        return tuple([[Enclosure.from_ball(v) for v in row] for row in layer] for layer in self.balls_a)

    @cached_property
    def z(self) -> tuple[list[list[Enclosure]], ...]:
        return tuple([[Enclosure.from_ball(v) for v in row] for row in layer] for layer in self.balls_z)

    @cached_property
    def y(self) -> list[list[Enclosure]]:
        return [[Enclosure.from_ball(v) for v in row] for row in self.balls_z[-1]]

    @property
    def n_rows(self) -> int:
        return int(self.x.shape[0])


# ---------------------------------------------------------------------------------------------
# Activations on balls (the same conventions as nnverify.numeric: step(0) = 0)

def _step(v: arb) -> arb:
    if v > 0:
        return arb(1)
    if v <= 0:
        return arb(0)
    return arb(0.5, 0.5)  # the sign is not decided at this precision: step is 0 or 1


def _relu(v: arb) -> arb:
    if v >= 0:
        return v
    if v <= 0:
        return arb(0)
    return arb.max(v, arb(0))


def _sigmoid(v: arb) -> arb:
    return 1 / (1 + (-v).exp())


def _softmax(row: list[arb]) -> list[arb]:
    # Shifting by an exact constant changes nothing mathematically; it keeps exp's arguments
    # small so the balls stay tight relative to the result.
    shift = arb(max(v.mid() for v in row))
    e = [(v - shift).exp() for v in row]
    total = e[0]
    for t in e[1:]:
        total = total + t
    return [t / total for t in e]


_ELEMENTWISE: dict[Activation, Callable[[arb], arb]] = {
    Activation.IDENTITY: lambda v: v,
    Activation.SIGMOID: _sigmoid,
    Activation.TANH: lambda v: v.tanh(),
    Activation.RELU: _relu,
    Activation.STEP: _step,
}


def activate_balls(activation: Activation, row: list[arb]) -> list[arb]:
    """``h`` applied to one row of balls (softmax over the whole row)."""
    if activation is Activation.SOFTMAX:
        return _softmax(row)
    h = _ELEMENTWISE[activation]
    return [h(v) for v in row]


# ---------------------------------------------------------------------------------------------
# Inputs and weights as exact numbers


def _check_mode(network: Network, mode: Mode | str) -> Mode:
    mode = Mode.parse(mode)
    if mode is Mode.SYMBOLIC:
        raise UsageError(
            "mode symbolic has symbols for the weights and cannot be evaluated; use binary or decimal"
        )
    if mode is Mode.DECIMAL and not network.has_text:
        raise UsageError(
            f"mode decimal needs the literal text of every weight, but {network.name} has none "
            "(it was read from a binary file such as NPZ or pickle); use --mode binary, or a JSON "
            "weights file"
        )
    return mode


def input_rationals(
    network: Network, x: Any, mode: Mode
) -> tuple[np.ndarray, tuple[tuple[Fraction, ...], ...] | None]:
    """The inputs as the float array NumPy sees ``(N, n)`` and the exact rationals the model uses.

    Binary mode (and any input without literal text): the exact value of each float after the
    cast to the network's dtype; the second item is then None (the floats *are* the exact
    values). Decimal mode with an :class:`Inputs` that kept its text: the rationals the text says.
    """
    if isinstance(x, Inputs):
        floats = x.as_dtype(network.dtype)
        if floats.shape[1] != network.n_inputs:
            check_inputs(network, floats)  # raises the one-line width error
        if mode is Mode.DECIMAL and x.text is not None:
            try:
                exact = tuple(tuple(parse_literal(t) for t in row) for row in x.text)
            except ValueError as exc:  # Inputs built by hand with bad text
                raise UsageError(f"{x.source}: {exc}") from None
            return floats, exact
        return floats, None
    floats = check_inputs(network, x)
    if floats.ndim == 1:
        floats = floats[None, :]
    return floats, None


def weight_rationals(network: Network, mode: Mode) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    """Per layer ``(W, b)`` as exact rationals for ``mode`` (BINARY or DECIMAL)."""
    out = []
    for layer in network.layers:
        if mode is Mode.DECIMAL:
            assert layer.W_text is not None and layer.b_text is not None  # checked by _check_mode
            W = [[parse_literal(t) for t in row] for row in layer.W_text]
            b = [parse_literal(t) for t in layer.b_text]
        else:
            W = [[Fraction(v) for v in row] for row in layer.W.astype(np.float64).tolist()]
            b = [Fraction(v) for v in layer.b.astype(np.float64).tolist()]
        out.append((W, b))
    return out


# Augmented weight matrices [W; b] as arb_mat, per network, mode and precision (decimal balls
# depend on the precision). Weak keys: a network's cache goes when the network does.
_WEIGHT_CACHE: weakref.WeakKeyDictionary[Network, dict[tuple[Mode, int], list[arb_mat]]] = (
    weakref.WeakKeyDictionary()
)


def _augmented_weights(network: Network, mode: Mode, prec: int) -> list[arb_mat]:
    per_net = _WEIGHT_CACHE.setdefault(network, {})
    key = (mode, prec if mode is Mode.DECIMAL else 0)
    if key not in per_net:
        mats = []
        if mode is Mode.BINARY:
            for layer in network.layers:
                rows = layer.W.astype(np.float64).tolist() + [layer.b.astype(np.float64).tolist()]
                mats.append(arb_mat(rows))  # floats convert exactly
        else:
            for W, b in weight_rationals(network, mode):
                mats.append(arb_mat([[ball(q) for q in row] for row in W] + [[ball(q) for q in b]]))
        per_net[key] = mats
    return per_net[key]


# ---------------------------------------------------------------------------------------------
# Routes


def _matrix_route(
    network: Network, rows: Sequence[Sequence[Any]], mode: Mode, prec: int
) -> tuple[list[list[list[arb]]], list[list[list[arb]]]]:
    mats = _augmented_weights(network, mode, prec)
    one = arb(1)
    z_rows: list[list[Any]] = [list(r) for r in rows]  # floats or balls
    all_a, all_z = [], []
    n_rows = len(z_rows)
    for layer, Waug in zip(network.layers, mats):
        Z = arb_mat([r + [one] for r in z_rows]) if z_rows[0] and isinstance(z_rows[0][0], arb) \
            else arb_mat([r + [1.0] for r in z_rows])
        flat = (Z * Waug).entries()
        m = layer.n_out
        a_rows = [flat[r * m:(r + 1) * m] for r in range(n_rows)]
        z_rows = [activate_balls(layer.activation, r) for r in a_rows]
        all_a.append(a_rows)
        all_z.append(z_rows)
    return all_a, all_z


def _sympy_route(
    network: Network, rows: Sequence[Sequence[Any]], mode: Mode, prec: int
) -> tuple[list[list[list[arb]]], list[list[list[arb]]]]:
    from nnverify.symbolic import compiled_model

    program = compiled_model(network, mode, prec)
    all_a: list[list[list[arb]]] = [[] for _ in network.layers]
    all_z: list[list[list[arb]]] = [[] for _ in network.layers]
    for r in rows:
        a_layers, z_layers = program([v if isinstance(v, arb) else ball(v) for v in r])
        for l, (a_row, z_row) in enumerate(zip(a_layers, z_layers)):
            all_a[l].append(a_row)
            all_z[l].append(z_row)
    return all_a, all_z


def check_prec(prec: int) -> int:
    """Validate a working precision in bits."""
    if isinstance(prec, bool) or not isinstance(prec, (int, np.integer)) or not MIN_PREC <= prec <= MAX_PREC:
        raise UsageError(f"precision {prec!r} bits: must be a whole number from {MIN_PREC} to {MAX_PREC}")
    return int(prec)


def choose_route(network: Network, route: str) -> str:
    """Resolve ``route`` ("auto" picks "sympy" for small networks, else "matrix")."""
    if route not in ROUTES:
        raise UsageError(f"route {route!r} is unknown; expected one of {', '.join(ROUTES)}")
    if route == "auto":
        return "sympy" if network.n_params <= SYMPY_ROUTE_MAX_PARAMS else "matrix"
    return route


def certify(
    network: Network,
    x: np.ndarray | Inputs,
    *,
    mode: Mode | str = Mode.BINARY,
    prec: int = 128,
    route: str = "auto",
) -> CertifiedPass:
    """Enclose every unit of ``network`` at the inputs ``x`` with balls of ``prec`` bits.

    Args:
        network: the network.
        x: one input ``(n,)`` or a batch ``(N, n)`` (cast to the network's dtype first, as the
            NumPy forward pass does; the exact rationals of those floats are used), or an
            :class:`~nnverify.inputs.Inputs` (decimal mode uses its literal text when it has one).
        mode: BINARY (exact value of each stored float) or DECIMAL (the literal text).
        prec: working precision in bits (>= 16; default 128).
        route: "sympy" (compile the SymPy model), "matrix" (arb_mat layer by layer) or "auto".

    Example:
        >>> from nnverify.weights import book_network, BOOK_X
        >>> certify(book_network(), BOOK_X).y[0][0].digits(20)
        '0.31682707641102976546'
    """
    if not isinstance(network, Network):
        raise UsageError(f"network is a {type(network).__name__}; expected an nnverify Network")
    mode = _check_mode(network, mode)
    prec = check_prec(prec)
    chosen = choose_route(network, route)
    floats, exact = input_rationals(network, x, mode)
    with ctx.workprec(prec):
        rows: list[list[Any]]
        if exact is None:
            rows = floats.astype(np.float64).tolist()  # floats become exact balls
        else:
            rows = [[ball(q) for q in row] for row in exact]
        run = _sympy_route if chosen == "sympy" else _matrix_route
        all_a, all_z = run(network, rows, mode, prec)
    return CertifiedPass(network, mode, prec, chosen, floats, exact, tuple(all_a), tuple(all_z))
