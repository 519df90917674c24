"""A check's results as arrays: verdicts decided on whole batches, kept in a few dozen bytes per output.

:func:`array_verdicts` decides every output of a batch at once from the fast path's
double-double enclosures (:class:`~nnverify.certified.ddouble.DD`), the float values and both
bounds, as :func:`~nnverify.verdicts.ball_verdict` does one by one: a tier says ``ok`` when the
farthest point of the enclosure is within its bound, ``failed`` / ``suspicious`` when the nearest
point is beyond it, and ``undecided`` otherwise — the caller then decides that row with ``arb``.
The distances are bounded rigorously (:meth:`~nnverify.certified.ddouble.DD.distance_bounds`)
and every bound is rounded up.

A bound that cannot tell any value of the output activation's range from the exact one (a
sigmoid bound of 1, the range cap) proves nothing: it only makes ``ok`` an output provably equal
to the exact value (``step(0)`` computed as 0); any other is ``failed`` (beyond the bound) or
``undecided`` (:func:`meaningless_bounds`).

:class:`ResultTable` holds a check's results as arrays and makes each
:class:`~nnverify.verdicts.OutputResult` on demand: ``report.results`` is one (a sequence).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from flint import arb, ctx

from nnverify.bounds.boxes import RANGES
from nnverify.certified import Enclosure
from nnverify.certified.ddouble import DD
from nnverify.model import Activation
from nnverify.status import Verdict
from nnverify.verdicts import OutputResult

__all__ = ["VERDICT_CODES", "ArrayVerdicts", "array_verdicts", "meaningless_bounds", "ulp_array", "ResultTable"]

#: Verdicts as the small integers stored in the arrays.
VERDICT_CODES = (Verdict.OK, Verdict.SUSPICIOUS, Verdict.FAILED, Verdict.UNDECIDED)
OK, SUSPICIOUS, FAILED, UNDECIDED = range(4)
_CODE = {v.value: i for i, v in enumerate(VERDICT_CODES)}


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
        wrong = ~np.isfinite(v)  # NaN or infinite: wrong, whatever the bound
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


#: The float fields of an OutputResult the table keeps as arrays.
_FLOATS = ("abs_error", "rel_error", "ulp", "bound_abs", "bound_ulp", "prob_bound_abs", "prob_bound_ulp")
_CODES = ("status", "prob_status", "sound_status")


class ResultTable(Sequence[OutputResult]):
    """The results of a check, row-major ``(input, output)``, kept as arrays.

    Outputs decided on the fast path keep their double-double enclosure (three floats); those
    decided with ``arb`` keep their :class:`OutputResult`. Indexing makes the result on demand;
    its ``exact`` is an :class:`~nnverify.certified.Enclosure` that, when asked for more
    certified digits than the fast enclosure holds, fetches the row's ``arb`` enclosures
    through ``refine`` (once per row).

    Args:
        values: ``(N, k)`` the outputs under test.
        refine: ``refine(rows)`` gives, per row asked, its ``k`` arb enclosures (for printing digits).
    """

    def __init__(self, values: np.ndarray, refine: Callable[[list[int]], list[list[Enclosure]]] | None = None
                 ) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        N, K = self.values.shape
        self.shape: tuple[int, int] = (int(N), int(K))
        self.floats = {f: np.full((N, K), np.nan) for f in _FLOATS}
        self.codes = {c: np.full((N, K), UNDECIDED, dtype=np.uint8) for c in _CODES}
        self.hi, self.lo, self.rad = np.zeros((N, K)), np.zeros((N, K)), np.full((N, K), np.inf)
        self.objects: dict[int, OutputResult] = {}
        self._refine = refine
        self._refined: dict[int, list[Enclosure]] = {}

    # -- filling -------------------------------------------------------------------------------
    def set_arrays(self, start: int, verdicts: ArrayVerdicts, y: DD) -> None:
        """Rows ``start:start + len`` decided (or not) on arrays, with their enclosures."""
        stop = start + y.hi.shape[0]
        for f in _FLOATS:
            self.floats[f][start:stop] = getattr(verdicts, f)
        for c in _CODES:
            self.codes[c][start:stop] = getattr(verdicts, c)
        self.hi[start:stop], self.lo[start:stop], self.rad[start:stop] = y.hi, y.lo, y.rad
        for i in range(start * self.shape[1], stop * self.shape[1]):
            self.objects.pop(i, None)

    def set_results(self, results: Sequence[OutputResult]) -> None:
        """Results decided one by one (with arb): kept as they are, and in the arrays."""
        K = self.shape[1]
        for r in results:
            i, k = r.input, r.output
            self.objects[i * K + k] = r
            for f in _FLOATS:
                value = getattr(r, f)
                self.floats[f][i, k] = math.inf if value is None else value
            for c in _CODES:
                word = getattr(r, c)
                self.codes[c][i, k] = _CODE[str(word if word is not None else r.status)]

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.shape[0] * self.shape[1])

    @overload
    def __getitem__(self, i: int) -> OutputResult: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[OutputResult, ...]: ...

    def __getitem__(self, i: int | slice) -> OutputResult | tuple[OutputResult, ...]:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"result {i} of {len(self)}")
        if i in self.objects:
            return self.objects[i]
        row, k = divmod(i, self.shape[1])
        f = {name: float(self.floats[name][row, k]) for name in _FLOATS}
        c = {name: VERDICT_CODES[int(self.codes[name][row, k])].value for name in _CODES}
        value = float(self.values[row, k])
        if row in self._refined:  # fetched for printing: the arb enclosure, and the distance to it
            exact = self._refined[row][k]
            if math.isfinite(value) and f["abs_error"] > 0:
                with ctx.workprec(128):
                    near = float((arb(value) - exact.as_ball()).abs_lower())
                scale = near / f["abs_error"]
                f["abs_error"], f["rel_error"], f["ulp"] = near, f["rel_error"] * scale, f["ulp"] * scale
        else:
            exact = self._enclosure(row, k)
        return OutputResult(
            input=row, output=k, exact=exact, value=value, abs_error=f["abs_error"], rel_error=f["rel_error"],
            ulp=f["ulp"], bound_abs=f["bound_abs"], bound_ulp=f["bound_ulp"], status=c["status"],
            prob_bound_abs=f["prob_bound_abs"], prob_bound_ulp=f["prob_bound_ulp"], prob_status=c["prob_status"],
            sound_status=c["sound_status"])

    def __iter__(self) -> Iterator[OutputResult]:
        return (self[i] for i in range(len(self)))

    def _enclosure(self, row: int, k: int) -> Enclosure:
        if not np.isfinite(self.rad[row, k]):  # not decided on the fast path: only arb knows
            return self.refined(row)[k]
        with ctx.workprec(160):
            ball = arb(float(self.hi[row, k])) + arb(float(self.lo[row, k])) + arb(0, float(self.rad[row, k]))
        finer = None if self._refine is None else (lambda: self.refined(row)[k])
        return Enclosure.from_ball(ball, finer)

    def refined(self, row: int) -> list[Enclosure]:
        """The row's arb enclosures (computed on first use, cached)."""
        if row not in self._refined:
            self.prefetch([row])
        return self._refined[row]

    def prefetch(self, rows: Sequence[int]) -> None:
        """Compute the arb enclosures of many rows in one go (before printing them all)."""
        todo = sorted({int(r) for r in rows} - set(self._refined))
        if todo and self._refine is not None:
            for r, encs in zip(todo, self._refine(todo)):
                self._refined[r] = encs

    def rows_needing_digits(self, digits: int) -> list[int]:
        """Rows whose fast enclosures are too wide to certify ``digits`` digits (arb rows excluded)."""
        with np.errstate(all="ignore"):
            wide = ~(self.rad <= np.abs(self.hi) * 10.0 ** (-digits - 1))
        flat = wide.reshape(-1)
        for i in self.objects:  # decided with arb: their enclosures already hold the digits
            flat[i] = False
        return [int(r) for r in np.flatnonzero(wide.any(axis=1))]

    def not_ok(self) -> np.ndarray:
        """The flat indices of the results that are not ``ok``, in order."""
        return np.flatnonzero(self.codes["status"].reshape(-1) != OK)

    # -- summaries, on the arrays ---------------------------------------------------------------
    def count(self, verdict: Verdict, field: str = "status") -> int:
        return int(np.count_nonzero(self.codes[field] == _CODE[verdict.value]))

    def argmax(self, key: np.ndarray) -> int:
        """The first flat index where ``key`` is largest (NaN counts as smallest)."""
        return int(np.argmax(np.where(np.isnan(key), -np.inf, key)))
