"""The verdict on one output: both tiers against the certified enclosure, in balls or exact rationals.

See :mod:`nnverify.compare` for what each verdict means; :func:`ball_verdict` decides in ball
arithmetic (10x cheaper) and returns None when only :func:`exact_verdict` (exact rationals) can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, ctx

from nnverify.bounds import float_up, ulp_of
from nnverify.certified import Enclosure
from nnverify.status import Verdict, json_float

__all__ = ["OutputResult", "ball_verdict", "exact_verdict", "PROBABILISTIC_MODEL"]

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


def _to_float(q: Fraction) -> float:
    """``q`` as a float, ``inf`` beyond the float range (a relative error near a value of 1e-400)."""
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


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
        rel = 0.0 if near == 0 else (math.inf if mid == 0 else _to_float(Fraction(near) / abs(mid)))
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
    if near is None or far is None:  # NaN or infinite: wrong, whatever the bound
        sound, prob = Verdict.FAILED, Verdict.SUSPICIOUS
    else:
        # no finite bound: the value cannot be verified, only refuted
        sound, prob = _tiers(near, far, total if total is not None else Fraction(-1),
                             prob_total if prob_total is not None else Fraction(-1))
        if total is None:
            sound = Verdict.UNDECIDED
        if prob_total is None:
            prob = Verdict.UNDECIDED
    if near is None:
        abs_err = rel_err = ulps = math.inf
    else:
        abs_err = float(near)
        ulps = _to_float(near / unit)
        rel_err = _to_float(near / abs(mid)) if mid != 0 else (0.0 if near == 0 else math.inf)
    return OutputResult(
        input=row, output=k, exact=exact, value=value, abs_error=abs_err, rel_error=rel_err, ulp=ulps,
        bound_abs=float_up(total) if total is not None else math.inf,
        bound_ulp=float_up(total / unit) if total is not None else math.inf,
        status=_combine(sound, prob).value,
        prob_bound_abs=float_up(prob_total) if prob_total is not None else math.inf,
        prob_bound_ulp=float_up(prob_total / unit) if prob_total is not None else math.inf,
        prob_status=prob.value, sound_status=sound.value,
    )
