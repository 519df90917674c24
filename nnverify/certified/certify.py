"""Certified evaluation: enclosures of every unit's exact value, by ball arithmetic (python-flint ``arb``).

Every number the exact model uses becomes a ball that contains it (:mod:`.balls`); from there
every ``arb`` operation, ``exp`` included, returns a ball that contains the exact result, so the
outputs are enclosures ``[lower, upper]`` guaranteed to hold the exact ``y_k``.

Two routes compute the same enclosures:

- ``sympy`` compiles the SymPy model's own expression trees into ball operations and
  evaluates them unit by unit (:mod:`.compiler`): what is certified is the SymPy model itself;
- ``matrix`` evaluates layer by layer with ``arb_mat`` products, ``A = [Z 1] @ [W; b]``
  (:mod:`.matrix`): the same mathematics, hundreds of times faster on big networks.

``auto`` takes the SymPy route for small networks and the matrix route for big ones; tests
check both give overlapping enclosures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
from flint import arb, ctx

from nnverify.certified.balls import Enclosure, ball
from nnverify.certified.matrix import matrix_route
from nnverify.inputs import Inputs, input_rationals
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.rationals import check_exact_mode
from nnverify.status import Route
from nnverify.validate import check_int, check_network

__all__ = ["CertifiedPass", "certify", "check_prec", "choose_route", "MIN_PREC", "MAX_PREC",
           "SYMPY_ROUTE_MAX_PARAMS"]

#: Precision limits in bits. Below 16 bits balls are useless; above the cap a run is a mistake.
MIN_PREC, MAX_PREC = 16, 1 << 16
#: ``route="auto"`` compiles the SymPy model for networks up to this many parameters.
SYMPY_ROUTE_MAX_PARAMS = 2000


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
        route: SYMPY or MATRIX, the route that computed the balls.
        x: the inputs as floats ``(N, n)`` in the network's dtype, as NumPy sees them.
        x_text: the exact rationals used instead of ``x`` (decimal mode with literal text), or None.
        balls_a: weighted sums as balls.
        balls_z: activations as balls.
    """

    network: Network
    mode: Mode
    prec: int
    route: Route
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



def check_prec(prec: object) -> int:
    """Validate a working precision in bits."""
    return check_int("precision", prec, MIN_PREC, MAX_PREC, unit=" bits")


def choose_route(network: Network, route: Route | str) -> Route:
    """Resolve ``route`` (AUTO picks SYMPY for small networks, else MATRIX)."""
    chosen = Route.parse(route)
    if chosen is Route.AUTO:
        return Route.SYMPY if network.n_params <= SYMPY_ROUTE_MAX_PARAMS else Route.MATRIX
    return chosen


def certify(
    network: Network,
    x: np.ndarray | Inputs,
    *,
    mode: Mode | str = Mode.BINARY,
    prec: int = 128,
    route: Route | str = Route.AUTO,
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
    check_network(network)
    mode = check_exact_mode(network, mode)
    prec = check_prec(prec)
    chosen = choose_route(network, route)
    floats, exact = input_rationals(network, x, mode)
    with ctx.workprec(prec):
        rows: list[list[Any]]
        if exact is None:
            rows = floats.astype(np.float64).tolist()  # floats become exact balls
        else:
            rows = [[ball(q) for q in row] for row in exact]
        if chosen is Route.SYMPY:
            from nnverify.certified.compiler import sympy_route  # imports SymPy: only when used

            all_a, all_z = sympy_route(network, rows, mode, prec)
        else:
            all_a, all_z = matrix_route(network, rows, mode, prec)
    return CertifiedPass(network, mode, prec, chosen, floats, exact, tuple(all_a), tuple(all_z))
