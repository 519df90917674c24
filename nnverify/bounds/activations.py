"""Per activation: a bound on ``|ĥ(â) - h(a)|`` given ``|â - a| <= e``, one function per entry.

``|ĥ(â) - h(a)| <= |ĥ(â) - h(â)| + L e`` where ``L`` is the largest ``|h'|`` on
``[a - e, a + e]`` (mean value theorem, taken over that interval in ball arithmetic, so no
first-order approximation) and the first term is the evaluation error the rounding model states
(:class:`~nnverify.bounds.rounding.RoundingModel`); see :mod:`nnverify.bounds` for each rule.
Every result is an exact ball at an upper bound (radius 0), rounded outward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flint import arb

from nnverify.bounds.rounding import ModelConstants
from nnverify.bounds.ulps import gamma
from nnverify.certified import arf_to_fraction, ball
from nnverify.certified.activations import sigmoid_ball
from nnverify.model import Activation

__all__ = ["BallConstants", "ERROR_BOUNDS", "activation_errors", "upper"]

#: Rows of balls: ``[row][unit]``.
Rows = list[list[arb]]


#: [0, 1] and [-1, 1] as balls (the ranges of sigmoid and tanh).
_UNIT = arb(0.5, 0.5)
_PM1 = arb(0, 1)


def upper(x: arb) -> arb:
    """An exact ball at the upper end of ``x`` (drops the radius, rounding outward)."""
    return x.upper()


def _cap(err: arb, cap: arb) -> arb:
    """The smaller of two upper bounds (the cap when ``err`` blew up to inf/NaN)."""
    return cap if (not err.is_finite() or cap < err) else err


@dataclass(frozen=True)
class BallConstants:
    """The rounding model's constants as exact upper-bound balls, for one dtype and output width.

    Args:
        u: unit roundoff.
        c_rel_u: ``c_rel u``, sigmoid's relative evaluation error.
        c_abs_tiny: ``c_abs u`` plus one underflow, sigmoid's absolute evaluation error.
        two_k_u: ``2 k u``, tanh's relative evaluation error.
        tiny: the smallest subnormal.
        k_tiny: ``k`` underflows plus one (per softmax term, and tanh's subnormal results).
        phi: ``-log(1 - 2ku)``, bounds ``|log(1 + theta)|`` for exp's relative error theta.
        gamma_sum: ``gamma_{K-1}`` for the softmax sum of K terms.
    """

    u: arb
    c_rel_u: arb
    c_abs_tiny: arb
    two_k_u: arb
    tiny: arb
    k_tiny: arb
    phi: arb
    gamma_sum: arb

    @classmethod
    def of(cls, c: ModelConstants, n_outputs: int) -> BallConstants:
        """The balls for constants ``c`` (call under the bound's working precision)."""
        return cls(
            u=upper(ball(c.u)),
            c_rel_u=upper(ball(c.c_rel * c.u)),
            c_abs_tiny=upper(ball(c.c_abs * c.u + c.tiny)),
            two_k_u=upper(ball(2 * c.k * c.u)),
            tiny=upper(ball(c.tiny)),
            k_tiny=upper(ball(c.k * c.tiny + c.tiny)),
            phi=upper(-(1 - ball(2 * c.k * c.u)).log()),
            gamma_sum=upper(ball(gamma(max(n_outputs - 1, 0), c.u))),
        )


def _identity(a_rows: Rows, z_rows: Rows, e_rows: Rows, c: BallConstants) -> Rows:
    return e_rows  # 1-Lipschitz and evaluated exactly (relu too)


def _step(a_rows: Rows, z_rows: Rows, e_rows: Rows, c: BallConstants) -> Rows:
    # exact unless [a - e, a + e] straddles 0: then the computed step may be the other value
    zero = arb(0)
    out = []
    for a_row, e_row in zip(a_rows, e_rows):
        row = []
        for a, e in zip(a_row, e_row):
            wide = a + arb(0, e)
            row.append(zero if (wide > 0 or wide <= 0) else arb(1))
        out.append(row)
    return out


def _sigmoid(a_rows: Rows, z_rows: Rows, e_rows: Rows, c: BallConstants) -> Rows:
    quarter, half = arb(1) / 4, arb(1) / 2
    out = []
    for a_row, e_row in zip(a_rows, e_rows):
        row = []
        for a, e in zip(a_row, e_row):
            wide = a + arb(0, e)  # every â the computation may have seen
            s = sigmoid_ball(wide)
            # sigmoid is in [0, 1] (arb's ball of a wide argument may stick out, or be inf)
            s = s.intersection(_UNIT) if s.is_finite() else _UNIT
            L = s * (1 - s)
            L = quarter if not (L < quarter) else upper(L)
            # each correct sigmoid errs relatively (1/(1+exp(-a)), exp(a)/(1+exp(a))) or
            # absolutely (0.5*(1+tanh(a/2))): the larger of the two, plus an underflow
            err = upper(L * e + arb.max(c.c_rel_u * upper(s) + c.tiny, c.c_abs_tiny))
            # A computed sigmoid lies in [0, 1], so it is never farther than max(s, 1 - s),
            # which is at least 1/2: only then is the cap worth computing.
            row.append(err if err < half else _cap(err, upper(arb.max(s, 1 - s))))
        out.append(row)
    return out


def _tanh(a_rows: Rows, z_rows: Rows, e_rows: Rows, c: BallConstants) -> Rows:
    one = arb(1)
    out = []
    for a_row, e_row in zip(a_rows, e_rows):
        row = []
        for a, e in zip(a_row, e_row):
            wide = a + arb(0, e)
            t = wide.tanh()
            # tanh is in [-1, 1]: arb's ball of a wide argument is not clamped (an error of 233
            # was seen where the cap allows 2)
            t = t.intersection(_PM1) if t.is_finite() else _PM1
            L = 1 - t * t
            L = one if not (L < one) else upper(L)
            # k ulps of a result v: at most 2 k u |v| + k tiny (an ulp is below 2 u |v| or is tiny)
            err = upper(L * e + c.two_k_u * t.abs_upper() + c.k_tiny)
            # a computed tanh is in [-1, 1]: never farther than 1 + |tanh| (>= 1)
            row.append(err if err < one else _cap(err, upper(1 + t.abs_upper())))
        out.append(row)
    return out


def _softmax_row(a_row: list[arb], z_row: list[arb], e_row: list[arb], c: BallConstants) -> list[arb]:
    K = len(a_row)
    half = arb(1) / 2
    if not all(e.is_finite() for e in e_row):
        return [arb.max(p, 1 - p).abs_upper() for p in z_row]  # only the range cap is left
    top = max((upper(a + e) for a, e in zip(a_row, e_row)), key=arf_to_fraction)
    # each exp argument is off by e_i + the shift's rounding u|â_i - c| + exp's own error
    r = [upper(e + c.u * upper(top - (a - e).lower()) + c.phi) for a, e in zip(a_row, e_row)]
    hi_sum, lo_sum = arb(0), arb(0)
    for p, ri in zip(z_row, r):
        hi_sum += p * ri.exp()
        lo_sum += p * (-ri).exp()
    hi_sum, lo_sum = upper(hi_sum), lo_sum.lower()
    up_fac = (1 + c.u) ** 2 / (1 - c.gamma_sum)
    down_fac = (1 - c.u) ** 2 / (1 + c.gamma_sum)
    row = []
    for p, ri in zip(z_row, r):
        r_hi = ri.exp() / lo_sum * up_fac
        r_lo = (-ri).exp() / hi_sum * down_fac
        rel = upper(arb.max(r_hi - 1, 1 - r_lo))
        err = upper(p.abs_upper() * rel + (K + 3) * c.k_tiny)
        # a computed softmax is in [0, 1]: never farther than max(p, 1 - p) (>= 1/2)
        row.append(err if err < half else _cap(err, upper(arb.max(p, 1 - p))))
    return row


def _softmax(a_rows: Rows, z_rows: Rows, e_rows: Rows, c: BallConstants) -> Rows:
    return [_softmax_row(a, z, e, c) for a, z, e in zip(a_rows, z_rows, e_rows)]


#: Per activation: ``(a_rows, z_rows, e_rows, constants) -> bound rows`` on ``|ĥ(â) - h(a)|``.
ERROR_BOUNDS: dict[Activation, Callable[[Rows, Rows, Rows, BallConstants], Rows]] = {
    Activation.IDENTITY: _identity,
    Activation.RELU: _identity,
    Activation.STEP: _step,
    Activation.SIGMOID: _sigmoid,
    Activation.TANH: _tanh,
    Activation.SOFTMAX: _softmax,
}


def activation_errors(activation: Activation, a_rows: Rows, z_rows: Rows, e_rows: Rows, c: BallConstants) -> Rows:
    """Per unit: a bound on ``|ĥ(â) - h(a)|`` given ``|â - a| <= e`` (rows of exact upper-bound balls)."""
    return ERROR_BOUNDS[activation](a_rows, z_rows, e_rows, c)
