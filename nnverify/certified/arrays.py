"""Ball arrays: enclosures of many exact values at once, as float64 midpoints and radii.

A :class:`BallArray` says: each exact value lies in the real interval ``[mid - rad, mid + rad]``
(``rad >= 0``, ``inf`` when nothing is known). It is what vectorized code (bounds, fast
certified paths) works with; :func:`from_arb` makes one, rigorously, from ``arb`` balls, and
:class:`BallPass` holds one for every layer's ``a`` and ``z``.

Outward rounding in NumPy: every float operation here is correctly rounded to nearest (IEEE
binary64, no flush-to-zero), so the exact result of one operation lies strictly within one ulp
of the computed one and :func:`up` of it (at least ``nextafter(x, +inf)``) is an upper bound —
for normal and subnormal results alike. A radius is always rounded up that way after each step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import arb

from nnverify.certified.certify import CertifiedPass

__all__ = ["BallArray", "BallPass", "from_arb", "ball_pass", "up", "down"]


#: ``2**-52``: for a float of magnitude in ``[2**e, 2**(e+1))`` the gap to its neighbours is at
#: most ``2**(e-52)``, so adding ``|x| 2**-52`` moves ``x`` at least one float up.
_STEP = 2.0**-52
_TINY = 2.0**-1074
_ONE_UP = 1.0 + 2.0**-52
_ONE_DOWN = 1.0 - 2.0**-52
_MAX = float(np.finfo(np.float64).max)
#: Below this many entries ``np.nextafter`` itself is quicker (per-call overhead).
_SMALL = 1024


def up(x: np.ndarray) -> np.ndarray:
    """A float64 ``>= nextafter(x, +inf)`` for each entry: an upper bound of the exact result of the
    one rounded operation that gave ``x`` (three times cheaper than ``np.nextafter``).

    ``fl(x + (|x| 2**-52 + 2**-1074))``: the exact sum is at least one gap above ``x`` (for
    subnormals and 0 the addition of ``2**-1074`` is exact), so rounding to nearest cannot fall
    below the next float; ``+-inf`` and NaN stay what ``nextafter`` makes of them
    (``up(-inf) = -DBL_MAX``, ``up(inf) = inf``, NaN stays NaN).
    """
    if type(x) is np.ndarray and x.size < _SMALL:  # a few numbers: one call beats five
        small: np.ndarray = np.nextafter(x, np.inf)
        return small
    xs = np.asarray(x, dtype=np.float64)
    if xs.size < _SMALL:  # (and never empty below)
        return np.asarray(np.nextafter(xs, np.inf))
    if xs.min() >= 0.0:  # every entry nonnegative (and no NaN): two passes instead of six
        # x (1 + 2**-52) is at least x + gap exactly, so it rounds to at least the next float;
        # below 2**-1022 that product may round back to x, and adding 2**-1074 is then exact
        pos = xs * _ONE_UP
        pos += _TINY
        return pos
    out = np.abs(xs)
    out *= _STEP
    np.minimum(out, 1e300, out=out)  # keeps -inf + out at -inf (then raised to -DBL_MAX), not NaN
    out += _TINY
    with np.errstate(over="ignore", invalid="ignore"):
        out += xs
    np.maximum(out, -_MAX, out=out)
    return out


def down(x: np.ndarray) -> np.ndarray:
    """A float64 ``<= nextafter(x, -inf)`` for each entry: a lower bound of the exact result of one
    rounded operation (the mirror of :func:`up`; ``down(inf) = DBL_MAX``, ``down(-inf) = -inf``).

    For ``x >= 0``: ``fl(fl(x (1 - 2**-52)) - 2**-1074)``: for normal ``x`` the exact product is
    at least one gap below ``x``, so it rounds to at most the float below; for subnormals and 0
    the subtraction is exact. Four passes over the array instead of the mirror's nine.
    """
    xs = np.asarray(x, dtype=np.float64)
    if xs.size >= _SMALL and xs.min() >= 0.0:  # (no NaN either)
        pos = xs * _ONE_DOWN
        pos -= _TINY
        np.minimum(pos, _MAX, out=pos)  # down(inf) = DBL_MAX, as nextafter
        return pos
    return np.asarray(-up(-xs))


@dataclass(frozen=True, eq=False)
class BallArray:
    """Exact values enclosed as ``[mid - rad, mid + rad]`` (real intervals), elementwise.

    Args:
        mid: float64 midpoints.
        rad: float64 radii, same shape, ``>= 0`` (``inf`` allowed).
    """

    mid: np.ndarray
    rad: np.ndarray

    def __post_init__(self) -> None:
        if self.mid.shape != self.rad.shape:
            raise ValueError(f"mid has shape {self.mid.shape} but rad has {self.rad.shape}")
        if self.mid.dtype != np.float64 or self.rad.dtype != np.float64:
            raise ValueError("a BallArray holds float64 midpoints and radii")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.mid.shape)

    def upper(self) -> np.ndarray:
        """An upper bound of every exact value (rounded up)."""
        return np.asarray(up(self.mid + self.rad))

    def lower(self) -> np.ndarray:
        """A lower bound of every exact value (rounded down)."""
        return np.asarray(down(self.mid - self.rad))

    def abs_upper(self) -> np.ndarray:
        """An upper bound of every exact value's magnitude (rounded up)."""
        return np.asarray(up(np.abs(self.mid) + self.rad))

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Elementwise: is the float ``values`` (taken exactly) inside the enclosure?"""
        v = np.asarray(values, dtype=np.float64)
        return np.asarray((v >= self.lower()) & (v <= self.upper()))


def from_arb(rows: list[list[arb]]) -> BallArray:
    """A BallArray ``(N, m)`` enclosing rows of ``arb`` balls (each entry's radius rounded up).

    ``float(x)`` is the ball's midpoint converted with some rounding: off by less than one ulp
    of the result (``np.spacing``, which also covers a midpoint below the float range), and
    ``float(x.rad())`` may round down (or to 0 below the range): one step up covers it.
    """
    mids = np.array([[float(v) for v in row] for row in rows], dtype=np.float64).reshape(len(rows), -1)
    rads = np.array([[float(v.rad()) for v in row] for row in rows], dtype=np.float64).reshape(mids.shape)
    with np.errstate(all="ignore"):
        rad = up(up(rads) + np.spacing(np.abs(mids)))
        bad = ~(np.isfinite(mids) & np.isfinite(rad))
    if bad.any():
        mids[bad], rad[bad] = 0.0, np.inf
    return BallArray(np.ascontiguousarray(mids), np.ascontiguousarray(rad))


@dataclass(frozen=True, eq=False)
class BallPass:
    """Enclosures of every unit for a batch, as ball arrays: the vectorized twin of a :class:`CertifiedPass`.

    Args:
        x: ``(N, n)`` the exact inputs as float64 (binary mode: the floats the computation sees).
        a: per layer, the ``(N, units)`` enclosures of ``a^{(l)}``.
        z: per layer, the ``(N, units)`` enclosures of ``z^{(l)}``.
    """

    x: np.ndarray
    a: tuple[BallArray, ...]
    z: tuple[BallArray, ...]

    @property
    def y(self) -> BallArray:
        return self.z[-1]


def ball_pass(certified: CertifiedPass) -> BallPass:
    """The ball arrays of a (binary-mode) certified pass."""
    return BallPass(
        np.asarray(certified.x, dtype=np.float64),
        tuple(from_arb(rows) for rows in certified.balls_a),
        tuple(from_arb(rows) for rows in certified.balls_z),
    )
