"""A check's results: kept as arrays, a few dozen bytes per output, summarised on the arrays.

:class:`ResultTable` holds the results of a check row-major and makes each
:class:`~nnverify.verdicts.OutputResult` on demand; :class:`CheckReport` (what
:func:`nnverify.compare.check` returns) has one as ``results`` (a sequence) and counts, finds the
worst and writes JSON on its arrays. Outputs decided on the fast path keep their double-double
enclosures; when printing asks for more certified digits than those hold, the row's ``arb``
enclosures are fetched (in batches) and shown with the distance to them.

An error (``abs_error``, ``rel_error``, ``ulp``) is the distance from the float to the nearest
point of the enclosure: a lower bound of the true error, within the enclosure's width of it.
What is printed to three digits is certified: :meth:`ResultTable.certify_errors` fetches the
``arb`` enclosures of the rows whose fast enclosure is too wide for that, and the worst and
tightest results are found among every candidate the widths leave (:meth:`CheckReport.worst`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, overload

import numpy as np
from flint import arb, ctx

from nnverify.bounds import ulp_of
from nnverify.bounds.probabilistic import DEFAULT_CONFIDENCE
from nnverify.certified import Enclosure
from nnverify.certified.ddouble import DD
from nnverify.display import report_html, report_latex
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.status import Verdict, json_float
from nnverify.verdicts import (
    OK,
    PROBABILISTIC_MODEL,
    UNDECIDED,
    VERDICT_CODES,
    ArrayVerdicts,
    OutputResult,
    ulp_array,
)

__all__ = ["STATUSES", "CheckReport", "ResultTable"]

#: The four verdicts, in the order they are counted.
STATUSES = (Verdict.OK.value, Verdict.SUSPICIOUS.value, Verdict.FAILED.value, Verdict.UNDECIDED.value)
_CODE = {v.value: i for i, v in enumerate(VERDICT_CODES)}


#: The float fields of an OutputResult the table keeps as arrays.
_FLOATS = ("abs_error", "rel_error", "ulp", "bound_abs", "bound_ulp", "prob_bound_abs", "prob_bound_ulp")
_CODES = ("status", "prob_status", "sound_status")
#: At most this many rows are re-measured with arb to find the worst or tightest result.
_MAX_CANDIDATE_ROWS = 64


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
        dtype: the dtype whose ulps the errors are counted in (needed to re-measure a fetched row).
    """

    def __init__(self, values: np.ndarray, refine: Callable[[list[int]], list[list[Enclosure]]] | None = None,
                 dtype: Any = None) -> None:
        self.dtype = None if dtype is None else np.dtype(dtype)
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
        first, last = start * self.shape[1], stop * self.shape[1]
        for i in [i for i in self.objects if first <= i < last]:  # (usually none: no loop per output)
            del self.objects[i]

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
            if math.isfinite(value):
                f.update(self._errors(value, exact, f))
        else:
            exact = self._enclosure(row, k)
        return OutputResult(
            input=row, output=k, exact=exact, value=value, abs_error=f["abs_error"], rel_error=f["rel_error"],
            ulp=f["ulp"], bound_abs=f["bound_abs"], bound_ulp=f["bound_ulp"], status=c["status"],
            prob_bound_abs=f["prob_bound_abs"], prob_bound_ulp=f["prob_bound_ulp"], prob_status=c["prob_status"],
            sound_status=c["sound_status"])

    def __iter__(self) -> Iterator[OutputResult]:
        return (self[i] for i in range(len(self)))

    def _errors(self, value: float, exact: Enclosure, f: dict[str, float]) -> dict[str, float]:
        """The distance from ``value`` to a fetched arb enclosure, absolute, relative and in ulps."""
        with ctx.workprec(128):
            near = float((arb(value) - exact.as_ball()).abs_lower())
        mid = exact.mid
        if self.dtype is not None:
            ulps = near / float(ulp_of(mid, self.dtype))
        else:  # (a table made without its dtype: the fast path's unit, when it measured one)
            ulps = f["ulp"] * (near / f["abs_error"]) if f["abs_error"] > 0 else math.nan
        if mid == 0:
            rel = 0.0 if near == 0 else math.inf
        else:  # (as rationals: an exact value of 1e-400 or 1e400 is beyond float64)
            try:
                rel = float(Fraction(near) / abs(mid))
            except OverflowError:
                rel = math.inf
        return {"abs_error": near, "rel_error": rel, "ulp": ulps}

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

    def error_upper_ulp(self) -> np.ndarray:
        """``(N, k)`` upper bounds of every error in ulps (a little generous): the distance plus the
        width of the fast enclosure, or the error itself where arb measured it."""
        f = self.floats
        with np.errstate(all="ignore"):
            unit = np.where(f["ulp"] > 0, f["abs_error"] / f["ulp"], np.nan)
            if self.dtype is not None:
                unit = ulp_array(self.hi, self.lo, self.dtype)
            upper = (f["ulp"] + 2 * self.rad / unit) * (1 + 2.0**-40)
        upper = np.where(np.isfinite(self.rad), upper, f["ulp"])
        flat = upper.reshape(-1)
        for i in self.objects:
            flat[i] = f["ulp"].reshape(-1)[i]
        return np.where(np.isnan(upper), np.inf, upper)

    @property
    def can_refine(self) -> bool:
        """Whether the rows' arb enclosures can be fetched (a table made by a check can)."""
        return self._refine is not None

    def uncertain(self, i: int, digits: int = 3) -> bool:
        """Whether result ``i``'s fast enclosure is too wide to certify ``digits`` digits of its error."""
        row, k = divmod(int(i), self.shape[1])
        if i in self.objects or row in self._refined or not math.isfinite(self.rad[row, k]):
            return False
        return not 2 * self.rad[row, k] <= 0.5 * 10.0**-digits * self.floats["abs_error"][row, k]

    def certify_errors(self, indices: Sequence[int] | np.ndarray, digits: int = 3) -> None:
        """Fetch the arb enclosures of the rows among ``indices`` (flat result indices) whose fast
        enclosure is too wide to certify ``digits`` significant digits of the error: wider than
        ``10**-digits / 2`` of it, or the float inside it (an error of 0 only to its width)."""
        K = self.shape[1]
        rows = sorted({int(i) // K for i in indices})
        if not rows or self._refine is None:
            return
        f = self.floats
        with np.errstate(all="ignore"):
            wide = ~(2 * self.rad[rows] <= 0.5 * 10.0**-digits * f["abs_error"][rows]) & np.isfinite(self.rad[rows])
        self.prefetch([r for r, w in zip(rows, wide.any(axis=1)) if w])

    def not_ok(self) -> np.ndarray:
        """The flat indices of the results that are not ``ok``, in order."""
        return np.flatnonzero(self.codes["status"].reshape(-1) != OK)

    # -- summaries, on the arrays ---------------------------------------------------------------
    def count(self, verdict: Verdict, field: str = "status") -> int:
        return int(np.count_nonzero(self.codes[field] == _CODE[verdict.value]))

    def argmax(self, key: np.ndarray) -> int:
        """The first flat index where ``key`` is largest (NaN counts as smallest)."""
        return int(np.argmax(np.where(np.isnan(key), -np.inf, key)))


def _median_ratio(bounds: np.ndarray, errors: np.ndarray) -> float:
    """median(bounds) / median(errors), inf when the median error is 0."""
    e, b = float(np.median(errors)), float(np.median(bounds))
    if not (math.isfinite(e) and math.isfinite(b)):
        return math.inf
    return b / e if e > 0 else math.inf


@dataclass(frozen=True, eq=False)
class CheckReport:
    """All verdicts of one check, with the inputs and outputs as compared.

    Args:
        network: the network checked.
        dtype: the dtype of the arithmetic (the network's); ULPs are of this dtype.
        mode: BINARY or DECIMAL (what "exact" means).
        x: ``(N, n)`` the inputs as used.
        y: ``(N, k)`` the observed outputs.
        results: one result per (input, output), row-major: a :class:`~nnverify.results.ResultTable`
            (any sequence of :class:`OutputResult` given here is turned into one).
        digits: significant digits of the exact values in :meth:`to_json`.
        prec: the starting precision in bits (undecided rows were raised from there).
        tolerance_ulp: the explicit user tolerance added to every bound.
        max_prec_used: the highest precision any row needed.
        confidence: the probability the probabilistic bound holds, per output.
        fast_rows: how many rows the fast route decided (the others were decided with arb).
    """

    network: Network
    dtype: np.dtype
    mode: Mode
    x: np.ndarray
    y: np.ndarray
    results: Sequence[OutputResult]
    digits: int = 20
    prec: int = 128
    tolerance_ulp: float = 0.0
    max_prec_used: int = 128
    confidence: float = DEFAULT_CONFIDENCE
    fast_rows: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.results, ResultTable):
            table = ResultTable(self.y, dtype=self.dtype)
            table.set_results(list(self.results))
            object.__setattr__(self, "results", table)

    @property
    def table(self) -> ResultTable:
        """The results as arrays (``table.floats["ulp"]``, ``table.codes["status"]``, ...)."""
        assert isinstance(self.results, ResultTable)
        return self.results

    def _repr_html_(self) -> str:  # Jupyter shows it: nnverify.display
        return report_html(self)

    def _repr_latex_(self) -> str:
        return report_latex(self)

    @property
    def ok(self) -> bool:
        """Every output ok in both tiers."""
        return self.table.count(Verdict.OK) == len(self.table)

    @property
    def sound_ok(self) -> bool:
        """Every output within its sound bound (``suspicious`` allowed): nothing proved wrong."""
        return self.table.count(Verdict.OK, "sound_status") == len(self.table)

    @property
    def max_ulp(self) -> float:
        """The largest error in ulps: the :attr:`worst` result's."""
        return float(self.worst.ulp)

    @property
    def worst(self) -> OutputResult:
        """The result farthest from its exact value in ulps (ties: the first), certified to three
        digits: among every output whose error may reach the largest one's, re-measured with arb."""
        return self._largest(relative_to_bound=False)

    @property
    def tightest(self) -> OutputResult:
        """The result closest to (or farthest beyond) its sound bound: largest ulp / bound_ulp."""
        return self._largest(relative_to_bound=True)

    def _largest(self, *, relative_to_bound: bool) -> OutputResult:
        """The result with the largest error in ulps (or error / bound): the candidates are the
        outputs whose upper bound reaches the largest lower bound; at most
        :data:`_MAX_CANDIDATE_ROWS` rows of them, the likeliest first, are re-measured with arb
        (more are left only when nearly every error is 0)."""
        table = self.table
        bound = table.floats["bound_ulp"].reshape(-1)

        def key(ulp: np.ndarray, at: np.ndarray | slice = slice(None)) -> np.ndarray:
            if not relative_to_bound:
                return ulp
            b = bound[at]
            with np.errstate(all="ignore"):
                return np.where(b > 0, ulp / b, np.inf)

        low, high = key(table.floats["ulp"].reshape(-1)), key(table.error_upper_ulp().reshape(-1))
        best = table.argmax(low)
        candidates = np.flatnonzero(~(high < low[best]))
        if table.can_refine and (len(candidates) > 1 or table.uncertain(best)):
            K = table.shape[1]
            likeliest = candidates[np.argsort(-np.nan_to_num(high[candidates], nan=np.inf), kind="stable")]
            rows = set(list(dict.fromkeys(int(i) // K for i in likeliest))[:_MAX_CANDIDATE_ROWS])
            table.prefetch(sorted(rows))
            picked = [int(i) for i in candidates if int(i) // K in rows]  # (in flat order: ties go first)
            if picked:
                measured = key(np.array([table[i].ulp for i in picked]), np.array(picked))
                best = picked[table.argmax(np.asarray(measured))]
        return table[best]

    def counts(self) -> dict[str, int]:
        """How many outputs got each verdict (``ok``, ``suspicious``, ``failed``, ``undecided``)."""
        return {s: self.table.count(Verdict(s)) for s in STATUSES}

    def median_ratios(self) -> dict[str, float]:
        """median bound / median error, for the sound and the probabilistic bound."""
        f = self.table.floats
        return {"sound": _median_ratio(f["bound_ulp"], f["ulp"]),
                "probabilistic": _median_ratio(f["prob_bound_ulp"], f["ulp"])}

    def to_json(self, *, results: bool = True) -> dict[str, Any]:
        """``{"ok", "results": [...], "max_ulp", ...}``; indices in it are 1-based.

        ``abs_error``, ``rel_error`` and ``ulp`` are distances to the nearest point of the exact
        value's enclosure: lower bounds of the errors, within twice its ``radius`` of them."""
        if results:  # first: the summaries then read the same re-measured rows as the list
            self.table.prefetch(self.table.rows_needing_digits(self.digits))  # arb rows in batches
        worst, tight = self.worst, self.tightest
        doc: dict[str, Any] = {
            "ok": self.ok,
            "sound_ok": self.sound_ok,
            "network": self.network.describe(),
            "dtype": str(self.dtype),
            "mode": self.mode.value,
            "n_inputs": int(self.x.shape[0]),
            "n_outputs": int(self.y.shape[1]),
            "prec": self.prec,
            "max_prec_used": self.max_prec_used,
            "tolerance_ulp": self.tolerance_ulp,
            "confidence": self.confidence,
            "probabilistic_model": PROBABILISTIC_MODEL,
            "counts": self.counts(),
            "median_bound_over_error": {k: json_float(v) for k, v in self.median_ratios().items()},
            "max_ulp": json_float(self.max_ulp),
            "max_bound_ulp": json_float(float(np.max(self.table.floats["bound_ulp"]))),
            "worst": worst.to_json(self.digits),
            "tightest": tight.to_json(self.digits),
        }
        if results:
            doc["results"] = [r.to_json(self.digits) for r in self.results]
        return doc
