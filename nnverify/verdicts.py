"""The verdict on one output: both tiers against the certified enclosure, in balls or exact rationals
— and for whole batches at once, on arrays.

See :mod:`nnverify.compare` for what each verdict means; :func:`ball_verdict` decides in ball
arithmetic (10x cheaper) and returns None when only :func:`exact_verdict` (exact rationals) can.

:func:`array_verdicts` decides every output of a batch at once from the fast path's
double-double enclosures (:class:`~nnverify.certified.ddouble.DD`), the float values and both
bounds, as :func:`ball_verdict` does one by one: a tier says ``ok`` when the farthest point of
the enclosure is within its bound, ``failed`` / ``suspicious`` when the nearest point is beyond
it, and ``undecided`` otherwise — the caller then decides that row with ``arb``. The distances
are bounded rigorously (:meth:`~nnverify.certified.ddouble.DD.distance_bounds`), every bound is
rounded up.

A bound that cannot tell any value of the output activation's range from the exact one (a
sigmoid bound of 1, the range cap) proves nothing: it only makes ``ok`` an output provably equal
to the exact value (``step(0)`` computed as 0); any other is ``failed`` (beyond the bound) or
``undecided`` (:func:`meaningless_bounds`, :func:`strict_ok` for one result).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, ctx

from nnverify.bounds import float_up, ulp_of
from nnverify.bounds.boxes import RANGES
from nnverify.certified import Enclosure
from nnverify.certified.arrays import down, up
from nnverify.certified.ddouble import DD
from nnverify.error_ranges import error_abs_range, error_ulp_range, error_ulp_text, float_or_inf, spans_binades
from nnverify.model import Activation
from nnverify.status import Verdict, json_float

__all__ = ["OutputResult", "ball_verdict", "exact_verdict", "PROBABILISTIC_MODEL", "VERDICT_CODES",
           "ArrayVerdicts", "array_verdicts", "error_abs_range", "error_ulp_range", "error_ulp_text",
           "meaningless_bounds", "proves_nothing", "spans_binades", "strict_ok", "ulp_array"]

#: The probabilistic tier's model, as reports and JSON state it.
PROBABILISTIC_MODEL = ("rounding errors of the weighted sums independent, mean zero, |delta| <= u "
                       "(Higham & Mary, SISC 2019; Ipsen & Zhou, SIMAX 2020); exp/tanh errors bounded, "
                       "not random; Azuma-Hoeffding")


@dataclass(frozen=True)
class OutputResult:
    """The verdict on one output ``y_k`` of one input row.

    Args:
        input: 0-based row of the batch.
        output: 0-based output index ``k - 1``.
        exact: enclosure of the exact value.
        value: the float result under test (as float64; float32 widens exactly).
        abs_error: distance from ``value`` to the enclosure (inf for NaN/inf values).
        rel_error: ``abs_error / |exact|`` (inf when the exact value is 0 and the error is not).
        ulp: ``abs_error`` in ulps of the dtype at the exact value.
        bound_abs: the sound bound plus the user tolerance, absolute.
        bound_ulp: the same in ulps.
        status: the verdict of both tiers: "ok", "suspicious", "failed" or "undecided".
        prob_bound_abs: the probabilistic bound plus the user tolerance, absolute (None: not computed).
        prob_bound_ulp: the same in ulps.
        prob_status: the probabilistic tier alone: "ok", "suspicious" (outside) or "undecided".
        sound_status: the sound tier alone: "ok", "failed" or "undecided" (None: the same as
            ``status``, for results made without the probabilistic tier).
    """

    input: int
    output: int
    exact: Enclosure
    value: float
    abs_error: float
    rel_error: float
    ulp: float
    bound_abs: float
    bound_ulp: float
    status: str
    prob_bound_abs: float | None = None
    prob_bound_ulp: float | None = None
    prob_status: str | None = None
    sound_status: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == Verdict.OK

    @property
    def sound_ok(self) -> bool:
        """Within the sound bound (``ok`` or ``suspicious``): no error is proved."""
        return (self.sound_status if self.sound_status is not None else self.status) == Verdict.OK

    def ulp_text(self, dtype: Any) -> str:
        """The error in ulps of ``dtype`` as printed: certified figures, or an interval (:func:`error_ulp_text`)."""
        return error_ulp_text(self, dtype)

    def to_json(self, digits: int = 20) -> dict[str, Any]:
        """JSON-ready dict; ``input`` and ``output`` are 1-based as everywhere users see them."""
        return {
            "input": self.input + 1,
            "output": self.output + 1,
            "exact": self.exact.digits(digits),
            "radius": float_up(self.exact.rad),
            "value": json_float(self.value),
            "abs_error": json_float(self.abs_error),
            "rel_error": json_float(self.rel_error),
            "ulp": json_float(self.ulp),
            "bound_abs": json_float(self.bound_abs),
            "bound_ulp": json_float(self.bound_ulp),
            "prob_bound_abs": None if self.prob_bound_abs is None else json_float(self.prob_bound_abs),
            "prob_bound_ulp": None if self.prob_bound_ulp is None else json_float(self.prob_bound_ulp),
            "status": str(self.status),
            "sound_status": None if self.sound_status is None else str(self.sound_status),
            "prob_status": None if self.prob_status is None else str(self.prob_status),
            "ok": self.ok,
        }


def overflow_threshold(dtype: Any) -> Fraction:
    """The smallest magnitude that rounds to infinity in ``dtype`` (round to nearest): the largest
    float plus half its ulp, ``2^(emax+1) - 2^(emax-p)``."""
    fi = np.finfo(np.dtype(dtype))
    emax, p = int(fi.maxexp) - 1, int(fi.nmant) + 1
    return Fraction(2) ** (emax + 1) - Fraction(2) ** (emax - p)


def _infinite_verdict(value: float, exact: Enclosure, total: Fraction | None, dtype: Any,
                      beyond: Verdict) -> Verdict:
    """A NaN or infinite output: NaN is never right; an infinity is wrong (``beyond``) unless a
    correct computation may overflow, which the rounding model leaves out: then ``undecided`` —
    when the bound is missing (a row beyond the float range) or when the exact value moved by
    the bound reaches the threshold of :func:`overflow_threshold`."""
    if math.isnan(value) or total is None:
        return beyond if math.isnan(value) else Verdict.UNDECIDED
    t = overflow_threshold(dtype)
    reach = exact.upper + total if value > 0 else total - exact.lower  # the farthest a correct result goes
    return Verdict.UNDECIDED if reach >= t else beyond


def _combine(sound: Verdict, prob: Verdict) -> Verdict:
    """Both tiers' verdict: failed and undecided of the sound tier first, then the probabilistic one."""
    if sound is not Verdict.OK:
        return sound
    return prob


def _tiers(near: Any, far: Any, total: Any, prob_total: Any) -> tuple[Verdict, Verdict]:
    """(sound, probabilistic) verdicts from the nearest and farthest distance to the enclosure."""
    sound = Verdict.OK if far <= total else (Verdict.FAILED if near > total else Verdict.UNDECIDED)
    prob = Verdict.OK if far <= prob_total else (Verdict.SUSPICIOUS if near > prob_total else Verdict.UNDECIDED)
    return sound, prob


def _with_tolerance(bound: float, tolerance: float, unit: float) -> float:
    if not tolerance:
        return bound
    return math.nextafter(bound + tolerance * unit, math.inf)  # rounded up


def ball_verdict(row: int, k: int, exact: Enclosure, y_ball: arb, prec: int, value: float,
                 bound_abs: float, prob_abs: float, tolerance_ulp: Fraction,
                 dtype: np.dtype) -> OutputResult | None:
    """The verdicts decided in ball arithmetic (10x cheaper than rationals), or None when the
    balls cannot decide them and :func:`exact_verdict` must compare exact rationals."""
    if not (math.isfinite(value) and math.isfinite(bound_abs) and math.isfinite(prob_abs)):
        return None
    if tolerance_ulp and spans_binades(exact, dtype):  # the tolerance's ulp is not known: exact_verdict
        return None
    mid = exact.mid
    unit_f = float(ulp_of(mid, dtype))  # a power of two, exactly a float (>= the smallest subnormal)
    total = _with_tolerance(bound_abs, float(tolerance_ulp), unit_f)
    prob_total = _with_tolerance(prob_abs, float(tolerance_ulp), unit_f)
    with ctx.workprec(prec):
        d = arb(value) - y_ball  # encloses value - e for every e in the enclosure
        upper, lower = d.abs_upper(), d.abs_lower()
    sound, prob = _tiers(lower, upper, total, prob_total)
    if Verdict.UNDECIDED in (sound, prob):
        return None
    near = float(lower)  # distance to the nearest point of the ball (0 inside), to ~prec bits
    mid_f = abs(float(mid))
    if mid_f != 0:
        rel = near / mid_f
    else:  # 0, or below the float range (a softmax output of 1e-400)
        rel = 0.0 if near == 0 else (math.inf if mid == 0 else float_or_inf(Fraction(near) / abs(mid)))
    return OutputResult(
        input=row, output=k, exact=exact, value=value, abs_error=near, rel_error=rel,
        ulp=near / unit_f, bound_abs=total, bound_ulp=math.nextafter(total / unit_f, math.inf),
        status=_combine(sound, prob).value, prob_bound_abs=prob_total,
        prob_bound_ulp=math.nextafter(prob_total / unit_f, math.inf), prob_status=prob.value,
        sound_status=sound.value,
    )


def exact_verdict(row: int, k: int, exact: Enclosure, value: float, bound_abs: float, prob_abs: float,
            tolerance_ulp: Fraction, dtype: np.dtype) -> OutputResult:
    """The verdicts by exact rational comparison (see the module text)."""
    mid = exact.mid
    unit = ulp_of(mid, dtype)
    if math.isfinite(value):
        v = Fraction(value)
        near: Fraction | None = max(exact.lower - v, v - exact.upper, Fraction(0))
        far = max(abs(v - exact.lower), abs(v - exact.upper))
    else:
        near = far = None
    totals = []
    for b in (bound_abs, prob_abs):
        totals.append(Fraction(b) + tolerance_ulp * unit if math.isfinite(b) else None)
    total, prob_total = totals
    if near is None or far is None:  # NaN, or infinite: wrong unless a correct computation may overflow
        sound = _infinite_verdict(value, exact, total, dtype, Verdict.FAILED)
        prob = _infinite_verdict(value, exact, prob_total, dtype, Verdict.SUSPICIOUS)
    else:
        # no finite bound: the value cannot be verified, only refuted
        sound, prob = _tiers(near, far, total if total is not None else Fraction(-1),
                             prob_total if prob_total is not None else Fraction(-1))
        exact_value = far == 0  # the value is the exact value itself: within any bound, even one not computed
        if total is None:
            sound = Verdict.OK if exact_value else Verdict.UNDECIDED
        if prob_total is None:
            prob = Verdict.OK if exact_value else Verdict.UNDECIDED
        if tolerance_ulp and not exact_value and spans_binades(exact, dtype):
            # the tolerance, in ulps of the exact value, is known only to a factor of 2: undecided,
            # so a higher precision narrows the ball to one side of the power of two
            sound = prob = Verdict.UNDECIDED
    if near is None:
        abs_err = rel_err = ulps = math.inf
    else:
        abs_err = float(near)
        ulps = float_or_inf(near / unit)
        rel_err = float_or_inf(near / abs(mid)) if mid != 0 else (0.0 if near == 0 else math.inf)
    return OutputResult(
        input=row, output=k, exact=exact, value=value, abs_error=abs_err, rel_error=rel_err, ulp=ulps,
        bound_abs=float_up(total) if total is not None else math.inf,
        bound_ulp=float_up(total / unit) if total is not None else math.inf,
        status=_combine(sound, prob).value,
        prob_bound_abs=float_up(prob_total) if prob_total is not None else math.inf,
        prob_bound_ulp=float_up(prob_total / unit) if prob_total is not None else math.inf,
        prob_status=prob.value, sound_status=sound.value,
    )


# ----------------------------------------------------------------------------------------------
# The same verdicts for whole batches, on arrays (the fast path)

#: Verdicts as the small integers stored in arrays.
VERDICT_CODES = (Verdict.OK, Verdict.SUSPICIOUS, Verdict.FAILED, Verdict.UNDECIDED)
OK, SUSPICIOUS, FAILED, UNDECIDED = range(4)


def _up(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.nextafter(x, np.inf))


def ulp_array(hi: np.ndarray, lo: np.ndarray, dtype: Any) -> np.ndarray:
    """The spacing of ``dtype`` floats at each midpoint ``hi + lo`` (subnormal spacing near 0), as
    :func:`~nnverify.bounds.ulp_of` gives it one value at a time.

    Args:
        hi: leading parts (float64).
        lo: trailing parts (``|lo| <= u |hi|``).
        dtype: float32 or float64.
    """
    fi = np.finfo(np.dtype(dtype))
    p, emin = int(fi.nmant) + 1, int(fi.minexp)
    m, e = np.frexp(np.abs(hi))  # |hi| = m 2**e with m in [0.5, 1)
    e = e - 1  # floor(log2 |hi|)
    below = (m == 0.5) & (np.sign(lo) * np.sign(hi) < 0)  # hi a power of two, the midpoint just under it
    e = np.where(below, e - 1, e)
    e = np.where(hi == 0, emin, np.maximum(e, emin))
    return np.asarray(np.ldexp(1.0, e - p + 1))


def meaningless_bounds(y: DD, bound: np.ndarray, activation: Activation) -> np.ndarray:
    """Where ``bound`` is so large that every value of the activation's range is within it of every
    point of the enclosure ``y`` (decided on the safe side: the enclosure's ends rounded inward),
    or where it is not finite: such a bound can only make ``ok`` an output equal to the exact value."""
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(bound)
        if activation in RANGES:
            low, high = RANGES[activation]
            lo = np.nextafter(np.nextafter(y.hi + y.lo, np.inf) - y.rad, np.inf)
            hi = np.nextafter(np.nextafter(y.hi + y.lo, -np.inf) + y.rad, -np.inf)
            span = np.nextafter(np.maximum(hi - low, high - lo), -np.inf)
            bad |= bound >= span
    return np.asarray(bad)


@dataclass(frozen=True, eq=False)
class ArrayVerdicts:
    """What every :class:`OutputResult` of a batch ``(N, k)`` holds, as arrays.

    ``status``, ``prob_status`` and ``sound_status`` are codes into :data:`VERDICT_CODES`.
    """

    abs_error: np.ndarray
    rel_error: np.ndarray
    ulp: np.ndarray
    bound_abs: np.ndarray
    bound_ulp: np.ndarray
    prob_bound_abs: np.ndarray
    prob_bound_ulp: np.ndarray
    status: np.ndarray
    prob_status: np.ndarray
    sound_status: np.ndarray

    def undecided_rows(self) -> np.ndarray:
        """The rows with an output either tier left undecided (0-based in the batch)."""
        bad = (self.sound_status == UNDECIDED) | (self.prob_status == UNDECIDED)
        return np.flatnonzero(bad.any(axis=1))


def _tier(near: np.ndarray, far: np.ndarray, total: np.ndarray, beyond: int, meaningless: np.ndarray) -> np.ndarray:
    ok_within = np.where(meaningless, 0.0, total)  # a bound that proves nothing: ok only if equal
    return np.where(far <= ok_within, OK, np.where(near > total, beyond, UNDECIDED))


def array_verdicts(y: DD, values: np.ndarray, sound: np.ndarray, prob: np.ndarray, tolerance_ulp: float,
                   dtype: Any, activation: Activation) -> ArrayVerdicts:
    """Both tiers' verdicts for every output of a batch at once (see the module text).

    Args:
        y: ``(N, k)`` enclosures of the exact outputs.
        values: ``(N, k)`` the float outputs under test (taken exactly as float64).
        sound: ``(N, k)`` sound bounds, rounded up.
        prob: ``(N, k)`` probabilistic bounds, rounded up.
        tolerance_ulp: the user's extra tolerance in ulps of the dtype at the exact value.
        dtype: the arithmetic's dtype (the ulps are its).
        activation: the output layer's activation (its range decides when a bound says nothing).
    """
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        near, far = y.distance_bounds(v)
        unit = ulp_array(y.hi, y.lo, dtype)
        total = np.asarray(sound, dtype=np.float64)
        prob_total = np.asarray(prob, dtype=np.float64)
        if tolerance_ulp:
            extra = _up(unit * float(tolerance_ulp))
            total, prob_total = _up(total + extra), _up(prob_total + extra)
            # the ulp must be the exact value's: where the ball spans a power of two, arb decides
            spans = ulp_array(y.hi - y.rad, np.zeros_like(y.hi), dtype) != ulp_array(y.hi + y.rad, y.lo, dtype)
            total, prob_total = np.where(spans, np.nan, total), np.where(spans, np.nan, prob_total)
        never_ok = meaningless_bounds(y, total, activation) | ~np.isfinite(total)
        sound_s = _tier(near, far, np.where(np.isfinite(total), total, -1.0), FAILED, never_ok)
        sound_s = np.where(np.isfinite(total), sound_s, UNDECIDED)  # no finite bound: not even refuted here
        prob_never = meaningless_bounds(y, prob_total, activation) | ~np.isfinite(prob_total)
        prob_s = _tier(near, far, np.where(np.isfinite(prob_total), prob_total, -1.0), SUSPICIOUS, prob_never)
        prob_s = np.where(np.isfinite(prob_total), prob_s, UNDECIDED)
        # NaN or infinite: wrong, unless a correct computation might overflow (then the exact rule decides)
        big = float(np.finfo(np.dtype(dtype)).max) * (1 - 2.0**-20)
        may_overflow = np.isinf(v) & ~(np.abs(y.hi) + y.rad + np.where(np.isfinite(total), total, np.inf) < big)
        sound_s = np.where(may_overflow, UNDECIDED, sound_s)
        wrong = ~np.isfinite(v) & ~may_overflow
        sound_s, prob_s = np.where(wrong, FAILED, sound_s), np.where(wrong, SUSPICIOUS, prob_s)
        status = np.where(sound_s == OK, prob_s, sound_s)
        abs_error = np.where(wrong, np.inf, near)
        mid = np.abs(y.hi + y.lo)
        rel = np.where(abs_error == 0, 0.0, abs_error / mid)
        bound_abs = np.where(np.isfinite(total), total, np.inf)
        prob_abs = np.where(np.isfinite(prob_total), prob_total, np.inf)
        return ArrayVerdicts(abs_error, np.where(np.isnan(rel), np.inf, rel), abs_error / unit, bound_abs,
                             _up(bound_abs / unit), prob_abs, _up(prob_abs / unit), status.astype(np.uint8),
                             prob_s.astype(np.uint8), sound_s.astype(np.uint8))


def _range_span(r: OutputResult, activation: Activation) -> float:
    """The farthest a value of the activation's range can be from a point of ``r``'s enclosure
    (the inner ends, rounded inward: "proves nothing" is then decided on the safe side)."""
    low, high = RANGES[activation]
    lo, hi = float(up(np.float64(float(r.exact.lower)))), float(down(np.float64(float(r.exact.upper))))
    return float(down(np.float64(max(hi - low, high - lo))))


def proves_nothing(r: OutputResult, activation: Activation) -> bool:
    """Whether ``r``'s sound bound is not finite or as wide as the activation's range (a sigmoid
    bound of 1): then only a value provably equal to the exact one can be ``ok``."""
    if not math.isfinite(r.bound_abs):
        return True
    return activation in RANGES and r.bound_abs >= _range_span(r, activation)


def strict_ok(r: OutputResult, activation: Activation) -> OutputResult:
    """``r`` with ``ok`` turned ``undecided`` where its bound proves nothing (the module text) and the
    value is not provably the exact value itself."""
    if activation not in RANGES or r.status not in (Verdict.OK, Verdict.SUSPICIOUS) or not math.isfinite(r.bound_abs):
        return r
    if r.exact.is_point() and r.exact.contains(r.value):
        return r  # equal to the exact value: ok under any bound
    span = _range_span(r, activation)
    sound_bad = r.bound_abs >= span
    prob_bad = r.prob_bound_abs is not None and r.prob_bound_abs >= span
    if not (sound_bad or prob_bad):
        return r
    und = Verdict.UNDECIDED.value
    sound = und if sound_bad and r.sound_status in (None, Verdict.OK) else r.sound_status
    prob = und if prob_bad and r.prob_status == Verdict.OK else r.prob_status
    status = und if (sound_bad or r.status == Verdict.OK) else r.status
    return dataclasses.replace(r, status=status, sound_status=sound, prob_status=prob)
