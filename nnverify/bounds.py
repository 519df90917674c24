"""Rigorous forward-error bounds from the standard rounding model, and ULP distances.

The bound answers: how far may ANY correct float computation of the network in its dtype be
from the exact value? It is derived, not tuned (DESIGN.md §4), layer by layer:

1. **Weighted sum.** ``a_j = sum_i z_i w_ij + b_j`` computed from inputs ``ẑ_i`` that are
   themselves off by at most ``e_i``: in any summation order, with or without FMA, blocked or
   pairwise (``np.dot``, ``@``, ``einsum``, a Python loop), the standard model
   ``fl(x op y) = (x op y)(1 + d), |d| <= u`` gives
   ``|â_j - a_j| <= gamma_{n+1} * (sum_i (|z_i| + e_i)|w_ij| + |b_j|) + sum_i e_i |w_ij|``
   with ``gamma_m = m u / (1 - m u)`` (n products and n additions: at most n + 1 roundings
   on any term).
2. **Activation.** ``|ĥ(â) - h(a)| <= |ĥ(â) - h(â)| + L e_a`` where ``L`` is the largest
   ``|h'|`` on ``[a - e_a, a + e_a]`` (mean value theorem, taken over that interval in ball
   arithmetic, so no first-order approximation) and the first term is the evaluation error
   stated in :class:`RoundingModel`:

   - sigmoid: ``c_rel u h + c_abs u`` — ``c_rel`` covers ``1/(1+exp(-a))`` and
     ``exp(a)/(1+exp(a))``; the absolute ``c_abs u`` covers ``0.5*(1+tanh(a/2))``, whose error
     is absolute (for very negative ``a`` its *relative* error is 100%), and every underflow;
   - tanh: ``2 k u |tanh|``; relu, identity: exact; step: exact unless the interval
     ``[a - e_a, a + e_a]`` straddles 0 (then the bound is 1, honestly);
   - softmax ``exp(a_k - c) / sum_i exp(a_i - c)`` with ``c = max a`` or ``c = 0``: each
     ``exp`` argument is off by ``e_i + u|â_i - c|`` (the shift's rounding — this is why the
     error grows with ``|a_k - max a|``) plus ``exp``'s own ``k`` ulps; the ratio of the
     perturbed softmax to the exact one is enclosed exactly, times the sum's ``gamma_{K-1}``
     and two roundings for the division (covers multiplying by the reciprocal).
3. **Range caps.** A computed sigmoid or softmax lies in [0, 1] and a computed tanh in
   [-1, 1], so no bound exceeds the distance from the exact value to the far end of that range
   (keeps bounds finite where the derivation above explodes, e.g. huge float32 logits).

Every constant and every step is computed in ball arithmetic and rounded up, so the bound
is never below the true worst case of the model. The one assumption not proved here is the
accuracy of the dtype's ``exp``/``tanh`` (``k`` ulps, :class:`RoundingModel`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, arb_mat, ctx

from nnverify.certified import CertifiedPass, Enclosure, _arf_to_fraction, certify
from nnverify.errors import UsageError
from nnverify.model import FLOAT_DTYPES, Activation, Network
from nnverify.modes import Mode

__all__ = [
    "RoundingModel",
    "DEFAULT_ROUNDING",
    "unit_roundoff",
    "ulp",
    "ulp_of",
    "ulp_distance",
    "gamma",
    "forward_error_bounds",
    "layer_error_bounds",
    "float_up",
]

#: Working precision of the bound's own arithmetic: ample, since every step rounds outward.
_BOUND_PREC = 64


def _dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise UsageError(f"dtype {dt} is not supported; expected float32 or float64")
    return dt


def _format(dtype: Any) -> tuple[int, int]:
    """(precision p in bits incl. the hidden one, minimum normal exponent emin)."""
    fi = np.finfo(_dtype(dtype))
    return int(fi.nmant) + 1, int(fi.minexp)


def unit_roundoff(dtype: Any) -> Fraction:
    """``u = 2**-p``: 2**-53 for float64, 2**-24 for float32 (round to nearest)."""
    p, _ = _format(dtype)
    return Fraction(1, 1 << p)


def _floor_log2(q: Fraction) -> int:
    n, d = abs(q.numerator), q.denominator
    e = n.bit_length() - d.bit_length()
    # Now 2**(e-1) < n/d < 2**(e+1); settle which side of 2**e.
    if (n << -e if e < 0 else n) < (d << e if e > 0 else d):
        e -= 1
    return e


def ulp_of(q: Fraction, dtype: Any) -> Fraction:
    """The spacing of ``dtype`` floats at the exact value ``q`` (subnormal spacing near 0)."""
    p, emin = _format(dtype)
    e = emin if q == 0 else max(_floor_log2(Fraction(q)), emin)
    return Fraction(2) ** (e - p + 1)


def ulp(value: float, dtype: Any) -> float:
    """The spacing of ``dtype`` floats at ``value``: ``ulp(1.0, float64) == 2**-52``."""
    if not math.isfinite(float(value)):
        return math.nan
    return float(ulp_of(Fraction(float(value)), dtype))


def ulp_distance(value: float, exact: Enclosure, dtype: Any) -> float:
    """``|value - exact|`` in ulps of ``dtype`` at the exact value; 0 when ``value`` is in the ball.

    The distance is to the nearest point of the enclosure (a lower bound on the true error,
    equal to it to the ball's width); NaN or infinite ``value`` gives ``inf``.
    """
    v = float(value)
    if not math.isfinite(v):
        return math.inf
    q = Fraction(v)
    dist = max(exact.lower - q, q - exact.upper, Fraction(0))
    return float(dist / ulp_of(exact.mid, dtype))


def gamma(m: int, u: Fraction) -> Fraction:
    """``gamma_m = m u / (1 - m u)``, the bound on m successive roundings; infinite if m u >= 1."""
    if m * u >= 1:
        return Fraction(10**300)
    return m * u / (1 - m * u)


def float_up(q: Fraction) -> float:
    """The smallest float64 ``>= q``."""
    try:
        f = float(q)
    except OverflowError:
        return math.inf
    if Fraction(f) < q:
        f = math.nextafter(f, math.inf)
    return f


@dataclass(frozen=True)
class RoundingModel:
    """The assumptions behind :func:`forward_error_bounds`, stated once.

    Args:
        func_ulps: accuracy of the dtype's ``exp`` and ``tanh``, in ulps of the result, keyed
            by dtype name. Measured on this machine against mpmath at 200 bits (NumPy 2.4,
            AVX-512): float64 exp 0.67, tanh 1.09; float32 exp 2.19, tanh 1.32 (NumPy's
            AVX-512 float32 exp is documented at 2.52 ulp). Defaults: 2 and 4 ulps.
    """

    func_ulps: tuple[tuple[str, float], ...] = (("float64", 2.0), ("float32", 4.0))

    def k(self, dtype: Any) -> Fraction:
        name = str(_dtype(dtype))
        for key, value in self.func_ulps:
            if key == name:
                return Fraction(value)
        raise UsageError(f"the rounding model states no exp accuracy for {name}")

    def constants(self, dtype: Any) -> dict[str, Fraction]:
        """The derived constants (exact rationals) for ``dtype``: u, k, sigmoid's c_rel, c_abs."""
        u, k = unit_roundoff(dtype), self.k(dtype)
        e = 2 * k * u  # k ulps of a result v is at most 2 k u |v| relative
        # Denominator 1 + exp(.) in either form: relative error <= e + u + e u.
        den = e + u + e * u
        # naive 1/(1+exp(-a)): (1+u)/(1-den) - 1; exp(a)/(1+exp(a)): (1+e)(1+u)/(1-den) - 1 (larger).
        c_rel = ((1 + e) * (1 + u) / (1 - den) - 1) / u
        # 0.5*(1 + tanh(a/2)): tanh off by 2 k u (|tanh| <= 1), the add by u|1+T'| <= 2u(1+e);
        # halving is exact. Total (k u + u (1 + e)), absolute.
        c_abs = k + 1 + e
        return {"u": u, "k": k, "c_rel": c_rel, "c_abs": c_abs}


DEFAULT_ROUNDING = RoundingModel()


def _tiny(dtype: Any) -> Fraction:
    """The smallest subnormal: the absolute error any underflow may add per operation."""
    p, emin = _format(dtype)
    return Fraction(2) ** (emin - p + 1)


def _b(q: Fraction) -> arb:
    """A ball containing ``q`` (at the bound's working precision)."""
    from nnverify.certified import ball

    return ball(q)


def _upper(x: arb) -> arb:
    """An exact ball at the upper end of ``x`` (drops the radius, rounding outward)."""
    return x.upper()


def _cap(err: arb, cap: arb) -> arb:
    """The smaller of two upper bounds (the cap when ``err`` blew up to inf/NaN)."""
    return cap if (not err.is_finite() or cap < err) else err


def _activation_errors(
    activation: Activation,
    a_rows: list[list[arb]],
    z_rows: list[list[arb]],
    e_rows: list[list[arb]],
    c: dict[str, arb],
) -> list[list[arb]]:
    """Per unit: a bound on |ĥ(â) - h(a)| given |â - a| <= e."""
    zero = arb(0)
    out: list[list[arb]] = []
    if activation in (Activation.IDENTITY, Activation.RELU):
        return e_rows  # both are 1-Lipschitz and evaluated exactly
    if activation is Activation.STEP:
        for a_row, e_row in zip(a_rows, e_rows):
            row = []
            for a, e in zip(a_row, e_row):
                wide = a + arb(0, e)
                row.append(zero if (wide > 0 or wide <= 0) else arb(1))
            out.append(row)
        return out
    if activation is Activation.SIGMOID:
        quarter, half = arb(1) / 4, arb(1) / 2
        for a_row, e_row in zip(a_rows, e_rows):
            row = []
            for a, e in zip(a_row, e_row):
                wide = a + arb(0, e)  # every â the computation may have seen
                s = 1 / (1 + (-wide).exp())
                if not s.is_finite():  # |wide| beyond arb's exp range: sigmoid is still in [0, 1]
                    s = arb(0.5, 0.5)
                L = s * (1 - s)
                L = quarter if not (L < quarter) else _upper(L)
                err = _upper(L * e + c["c_rel_u"] * _upper(s) + c["c_abs_tiny"])
                # A computed sigmoid lies in [0, 1], so it is never farther than max(s, 1 - s),
                # which is at least 1/2: only then is the cap worth computing.
                row.append(err if err < half else _cap(err, _upper(arb.max(s, 1 - s))))
            out.append(row)
        return out
    if activation is Activation.TANH:
        one = arb(1)
        for a_row, e_row in zip(a_rows, e_rows):
            row = []
            for a, e in zip(a_row, e_row):
                wide = a + arb(0, e)
                t = wide.tanh()
                if not t.is_finite():
                    t = arb(0, 1)
                L = 1 - t * t
                L = one if not (L < one) else _upper(L)
                err = _upper(L * e + c["two_k_u"] * t.abs_upper() + c["tiny"])
                # a computed tanh is in [-1, 1]: never farther than 1 + |tanh| (>= 1)
                row.append(err if err < one else _cap(err, _upper(1 + t.abs_upper())))
            out.append(row)
        return out
    if activation is Activation.SOFTMAX:
        half = arb(1) / 2
        for a_row, z_row, e_row in zip(a_rows, z_rows, e_rows):
            K = len(a_row)
            if not all(e.is_finite() for e in e_row):
                out.append([arb.max(p, 1 - p).abs_upper() for p in z_row])  # only the range cap is left
                continue
            top = max((_upper(a + e) for a, e in zip(a_row, e_row)), key=lambda v: _arf_to_fraction(v))
            r = []
            for a, e in zip(a_row, e_row):
                shift_err = c["u"] * _upper(top - (a - e).lower())  # |fl(â_i - c) - (â_i - c)|
                r.append(_upper(e + shift_err + c["phi"]))
            hi_sum, lo_sum = arb(0), arb(0)
            for p, ri in zip(z_row, r):
                hi_sum += p * ri.exp()
                lo_sum += p * (-ri).exp()
            hi_sum, lo_sum = _upper(hi_sum), lo_sum.lower()
            g = c["gamma_sum"][K]
            up_fac = (1 + c["u"]) ** 2 / (1 - g)
            down_fac = (1 - c["u"]) ** 2 / (1 + g)
            row = []
            for p, ri in zip(z_row, r):
                r_hi = ri.exp() / lo_sum * up_fac
                r_lo = (-ri).exp() / hi_sum * down_fac
                rel = _upper(arb.max(r_hi - 1, 1 - r_lo))
                err = _upper(p.abs_upper() * rel + (K + 3) * c["k_tiny"])
                # a computed softmax is in [0, 1]: never farther than max(p, 1 - p) (>= 1/2)
                row.append(err if err < half else _cap(err, _upper(arb.max(p, 1 - p))))
            out.append(row)
        return out
    raise UsageError(f"no error bound is derived for activation {activation.value}")


def layer_error_bounds(
    network: Network, certified: CertifiedPass, model: RoundingModel = DEFAULT_ROUNDING
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per layer ``(e_a, e_z)``, each ``(N, units)`` float64, rounded up: bounds on ``|â - a|``
    and ``|ẑ - z|`` for any correct float computation in ``network.dtype`` (binary mode).

    Args:
        network: the network (its dtype is the arithmetic's).
        certified: a BINARY-mode pass of this network.
        model: the accuracy assumed of exp/tanh.
    """
    balls = _layer_error_balls(network, certified, model)
    return tuple((_to_float_up(ea), _to_float_up(ez)) for ea, ez in balls)


def _to_float_up(rows: list[list[arb]]) -> np.ndarray:
    def one(v: arb) -> float:
        return float_up(_arf_to_fraction(_upper(v))) if v.is_finite() else math.inf

    return np.array([[one(v) for v in row] for row in rows], dtype=np.float64)


def _layer_error_balls(
    network: Network, certified: CertifiedPass, model: RoundingModel
) -> list[tuple[list[list[arb]], list[list[arb]]]]:
    if certified.mode is not Mode.BINARY:
        raise UsageError("layer error bounds need a binary-mode pass (the floats the computation sees)")
    if certified.network is not network:
        raise UsageError("the certified pass was computed for another network")
    dt = network.dtype
    consts = model.constants(dt)
    u = consts["u"]
    result = []
    with ctx.workprec(_BOUND_PREC):
        tiny = _tiny(dt)
        K_out = network.n_outputs
        c = {
            "u": _upper(_b(u)),
            "c_rel_u": _upper(_b(consts["c_rel"] * u)),
            "c_abs_u": _upper(_b(consts["c_abs"] * u)),
            "two_k_u": _upper(_b(2 * consts["k"] * u)),
            "tiny": _upper(_b(tiny)),
            "c_abs_tiny": _upper(_b(consts["c_abs"] * u + tiny)),
            "k_tiny": _upper(_b(consts["k"] * tiny + tiny)),
            # -log(1 - 2ku) bounds |log(1 + theta)| for exp's relative error theta.
            "phi": _upper(-(1 - _b(2 * consts["k"] * u)).log()),
            "gamma_sum": {K_out: _upper(_b(gamma(max(K_out - 1, 0), u)))},
        }
        N = certified.n_rows
        x = certified.x.astype(np.float64)
        prev_abs: list[list[Any]] = np.abs(x).tolist()  # exact inputs: no error yet
        prev_err: list[list[arb]] | None = None
        for l, layer in enumerate(network.layers):
            n = layer.n_in
            g = _upper(_b(gamma(n + 1, u)))
            absW = arb_mat(np.abs(layer.W.astype(np.float64)).tolist()
                           + [np.abs(layer.b.astype(np.float64)).tolist()])
            if prev_err is None:
                T = arb_mat([row + [1.0] for row in prev_abs]) * absW
                flat = T.entries()
                m = layer.n_out
                e_a = [[_upper(g * v) for v in flat[r * m:(r + 1) * m]] for r in range(N)]
            else:
                one, zero = arb(1), arb(0)
                T = arb_mat([[zi + ei for zi, ei in zip(zr, er)] + [one]
                             for zr, er in zip(prev_abs, prev_err)]) * absW
                S = arb_mat([er + [zero] for er in prev_err]) * absW
                ft, fs = T.entries(), S.entries()
                m = layer.n_out
                e_a = [[_upper(g * ft[r * m + j] + fs[r * m + j]) for j in range(m)] for r in range(N)]
            e_z = _activation_errors(layer.activation, certified.balls_a[l], certified.balls_z[l], e_a, c)
            result.append((e_a, e_z))
            prev_abs = [[v.abs_upper() for v in row] for row in certified.balls_z[l]]
            prev_err = e_z
    return result


def forward_error_bounds(
    network: Network,
    x: np.ndarray,
    certified: CertifiedPass,
    model: RoundingModel = DEFAULT_ROUNDING,
) -> np.ndarray:
    """``(N, k)`` float64 bounds, rounded up, on ``|y_float - y_exact|`` for any correct float
    computation of ``network`` in its dtype at the inputs ``x`` (see the module text).

    In decimal mode the exact values are those of the literal text while the computation
    sees the stored floats: the bound adds ``|y_binary - y_decimal|`` (enclosed, rounded up),
    the representation error, to the rounding bound.

    Args:
        network: the network; ``network.dtype`` is the arithmetic's dtype.
        x: the inputs ``(N, n)`` as the computation sees them (floats of the network's dtype).
        certified: the certified pass at those inputs (binary or decimal mode).
        model: the stated accuracy of exp/tanh.
    """
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if x.shape != certified.x.shape:
        raise UsageError(f"inputs have shape {x.shape} but the certified pass has {certified.x.shape}")
    if certified.mode is Mode.BINARY:
        binary = certified
    else:
        binary = certify(network, certified.x, mode=Mode.BINARY, prec=certified.prec, route=certified.route)
    e_y = _layer_error_balls(network, binary, model)[-1][1]
    if certified.mode is not Mode.BINARY:
        with ctx.workprec(_BOUND_PREC):
            e_y = [[_upper(e + (yb - yd).abs_upper()) for e, yb, yd in zip(er, br, dr)]
                   for er, br, dr in zip(e_y, binary.balls_z[-1], certified.balls_z[-1])]
    return _to_float_up(e_y)
