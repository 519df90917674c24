"""Predicted classes, accuracy and certified predictions, from a check's enclosures and bounds.

Classes are 0-based as the book's ``np.argmax`` counts them (class 0 is output ``y_1``).

**Certified (sound tier).** With ``E_k = [lo_k, hi_k]`` the enclosure of the exact ``y_k`` and
``B_k`` the check's ``bound_abs`` (every correct float computation of ``y_k`` lies within
``B_k`` of ``y_k``), a row's prediction is certified when the exact argmax ``k*`` is decided
(``lo_k* > hi_j`` for every ``j != k*``), the float result's argmax is ``k*``, its outputs are
finite, and for **every** ``j != k*``::

    lo_k* - B_k* > hi_j + B_j

Then any correct float result ``ŷ`` has ``ŷ_k* >= y_k* - B_k* > y_j + B_j >= ŷ_j``: every
correct computation (any summation order, FMA or not) predicts ``k*``, strictly. This is
checked for every pair, not only for the top two outputs: the issue's rule "top-1/top-2
margin larger than the two outputs' combined bound" follows from it, but is not sound on its
own when the bounds differ across outputs (a third output with a wide bound can overtake the
top one). Comparisons are exact (rationals), so the verdict is rigorous, not rounded.

**Probabilistic tier.** When a check's results carry a probabilistic bound per output
(``prob_bound_abs``, a bound that holds with a stated probability under a model of
independent rounding errors), the same rule with those bounds gives ``prob_certified``. A
report without them (today's) gives None: not computed, never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.bounds import float_up
from nnverify.certified import Enclosure
from nnverify.certified.arrays import down, up
from nnverify.compare import CheckReport, OutputResult
from nnverify.errors import UsageError
from nnverify.labels import check_label_range, check_labels

__all__ = ["Prediction", "Predictions", "predictions", "looks_like_probabilities"]


@dataclass(frozen=True)
class Prediction:
    """The class one input row is given, and whether rounding could change it.

    Args:
        input: 0-based row.
        label: the row's label (0-based class), or None.
        predicted: argmax of the float forward, 0-based like ``np.argmax``.
        exact_predicted: the exact argmax when the enclosures decide it, else None.
        margin: enclosure of the exact top-1 minus top-2 output (``>= 0``).
        certified: the sound tier (see the module text).
        prob_certified: the probabilistic tier, or None when the check has no such bound.
    """

    input: int
    label: int | None
    predicted: int
    exact_predicted: int | None
    margin: Enclosure | None
    certified: bool
    prob_certified: bool | None = None

    @property
    def flipped(self) -> bool:
        """True when the float and the exact predictions are known to differ."""
        return self.exact_predicted is not None and self.predicted != self.exact_predicted

    def to_json(self, index: int | None = None) -> dict[str, Any]:
        """JSON-ready dict; ``input`` is 1-based like the check's results, classes 0-based.

        Args:
            index: the row's 0-based position in its source (a selection of digits), if any.
        """
        doc: dict[str, Any] = {"input": self.input + 1}
        if index is not None:
            doc["index"] = index
        doc.update({
            "label": self.label,
            "predicted": self.predicted,
            "exact_predicted": self.exact_predicted,
            "margin": None if self.margin is None else self.margin.digits(),
            "margin_radius": None if self.margin is None else float_up(self.margin.rad),
            "prediction_certified": self.certified,
            "prediction_prob_certified": self.prob_certified,
        })
        return doc


@dataclass(frozen=True)
class Predictions:
    """Every row's prediction, with the counts a reader of the book's §3.6 asks for.

    Args:
        rows: one :class:`Prediction` per input row, in order.
        accuracy: the fraction of rows whose float prediction equals the label (None without labels).
    """

    rows: tuple[Prediction, ...]
    accuracy: float | None

    @property
    def n_correct(self) -> int | None:
        if self.accuracy is None:
            return None
        return sum(p.predicted == p.label for p in self.rows)

    @property
    def n_certified(self) -> int:
        return sum(p.certified for p in self.rows)

    @property
    def n_prob_certified(self) -> int | None:
        """Rows certified by the probabilistic tier, or None when it was not computed."""
        if any(p.prob_certified is None for p in self.rows):
            return None
        return sum(bool(p.prob_certified) for p in self.rows)

    @property
    def not_certified(self) -> tuple[int, ...]:
        """0-based rows whose prediction is not certified (sound tier)."""
        return tuple(p.input for p in self.rows if not p.certified)

    @property
    def flipped(self) -> tuple[int, ...]:
        """0-based rows where the float and the exact predictions differ."""
        return tuple(p.input for p in self.rows if p.flipped)

    @property
    def smallest_margin(self) -> Prediction | None:
        """The row with the smallest exact top-1/top-2 margin (by its enclosure's upper end)."""
        known = [p for p in self.rows if p.margin is not None]
        return min(known, key=lambda p: p.margin.upper) if known else None  # type: ignore[union-attr]

    def to_json(self, index: np.ndarray | None = None) -> dict[str, Any]:
        """``{"accuracy": ..., "predictions": {"certified": n, "not_certified": [..], "flipped": [..], ...}}``.

        Inputs are 1-based as in the check's results; classes 0-based.

        Args:
            index: each row's 0-based position in its source (``Inputs.index``), or None.
        """
        def one(i: int) -> int:
            return i + 1
        small = self.smallest_margin
        idx = None if index is None else [int(v) for v in index]
        return {
            "accuracy": self.accuracy,
            "predictions": {
                "n": len(self.rows),
                "correct": self.n_correct,
                "certified": self.n_certified,
                "prob_certified": self.n_prob_certified,
                "not_certified": [one(i) for i in self.not_certified],
                "flipped": [one(i) for i in self.flipped],
                "smallest_margin": None if small is None else small.to_json(None if idx is None else idx[small.input]),
                "rows": [p.to_json(None if idx is None else idx[p.input]) for p in self.rows],
            },
        }


def looks_like_probabilities(y: np.ndarray, dtype: Any) -> bool:
    """True when every row of ``y`` lies in [0, 1] and sums to 1 within ``2 K u`` (K outputs, u the
    dtype's unit roundoff: what a correct softmax's sum is off by). Used for a hint only.

    Args:
        y: outputs ``(k,)`` or ``(N, k)``.
        dtype: the arithmetic's dtype.
    """
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    if y.shape[1] < 2 or not np.isfinite(y).all() or (y < 0).any() or (y > 1).any():
        return False
    u = float(np.finfo(np.dtype(dtype)).eps) / 2
    return bool((np.abs(y.sum(axis=1) - 1) <= 2 * y.shape[1] * u).all())


def _margin(lo: list[Fraction], hi: list[Fraction]) -> Enclosure:
    """Enclosure of (largest - second largest) of values in ``[lo_k, hi_k]``: order statistics
    are non-decreasing in every value, so each end comes from the ends of the enclosures."""
    slo, shi = sorted(lo), sorted(hi)
    return Enclosure(max(Fraction(0), slo[-1] - shi[-2]), shi[-1] - slo[-2])


def _separated(k: int, lo: list[Fraction], hi: list[Fraction], bounds: list[float] | None) -> bool:
    """``lo_k - B_k > hi_j + B_j`` for every ``j != k`` (B = 0 when ``bounds`` is None), exactly."""
    if bounds is not None and not all(math.isfinite(b) for b in bounds):
        return False
    B = [Fraction(0)] * len(lo) if bounds is None else [Fraction(b) for b in bounds]
    top = lo[k] - B[k]
    return all(top > hi[j] + B[j] for j in range(len(lo)) if j != k)


def _one(i: int, row: list[OutputResult], y: np.ndarray, label: int | None) -> Prediction:
    lo = [r.exact.lower for r in row]
    hi = [r.exact.upper for r in row]
    k = max(range(len(lo)), key=lambda j: lo[j])
    exact = k if _separated(k, lo, hi, None) else None
    predicted = int(np.argmax(y))
    sound = exact is not None and predicted == exact and bool(np.isfinite(y).all())
    prob_bounds = [getattr(r, "prob_bound_abs", None) for r in row]
    prob: bool | None = None
    if all(b is not None for b in prob_bounds):
        prob = sound and _separated(k, lo, hi, [float(b) for b in prob_bounds])  # type: ignore[arg-type]
    return Prediction(
        input=i,
        label=label,
        predicted=predicted,
        exact_predicted=exact,
        margin=_margin(lo, hi),
        certified=sound and _separated(k, lo, hi, [r.bound_abs for r in row]),
        prob_certified=prob,
    )


def _fast_predictions(report: CheckReport, labels: np.ndarray | None) -> dict[int, Prediction]:
    """The rows whose predictions the report's arrays certify outright, without a rational.

    For rows decided on the fast path (double-double balls ``hi + lo ± rad``), the ends of each
    enclosure are rounded outward to floats and every comparison of the module text is made on
    floats rounded against it (``down(lo_k - B_k) > up(hi_j + B_j)``): what holds there holds
    exactly. Rows where any test fails (or that arb decided) are left to the exact rule.
    """
    table = getattr(report, "table", None)
    if table is None or not hasattr(table, "hi"):
        return {}
    K = report.y.shape[1]
    on_arrays = np.ones(report.y.shape[0], dtype=bool)
    for i in table.objects:
        on_arrays[i // K] = False
    with np.errstate(all="ignore"):
        mid = table.hi + table.lo
        lo = down(down(mid) - table.rad)
        hi = up(up(mid) + table.rad)
        k = np.argmax(lo, axis=1)
        rows = np.arange(lo.shape[0])
        others = np.ones_like(lo, dtype=bool)
        others[rows, k] = False
        top_lo = lo[rows, k]
        exact = np.all(~others | (top_lo[:, None] > hi), axis=1)

        def separated(B: np.ndarray) -> np.ndarray:
            left = down(top_lo - B[rows, k])
            right = up(hi + B)
            return np.asarray(np.all(np.isfinite(B), axis=1) & np.all(~others | (left[:, None] > right), axis=1))

        y = np.asarray(report.y, dtype=np.float64)
        predicted = np.argmax(y, axis=1)
        sound = exact & (predicted == k) & np.all(np.isfinite(y), axis=1)
        certified = sound & separated(table.floats["bound_abs"])
        prob = sound & separated(table.floats["prob_bound_abs"])
        s_lo, s_hi = np.sort(lo, axis=1), np.sort(hi, axis=1)
        m_lo = np.maximum(down(s_lo[:, -1] - s_hi[:, -2]), 0.0)
        m_hi = up(s_hi[:, -1] - s_lo[:, -2])
    take = np.flatnonzero(on_arrays & certified & prob & np.isfinite(m_hi))
    return {int(i): Prediction(input=int(i), label=None if labels is None else int(labels[i]),
                               predicted=int(predicted[i]), exact_predicted=int(k[i]),
                               margin=Enclosure(Fraction(float(m_lo[i])), Fraction(float(m_hi[i]))),
                               certified=True, prob_certified=True)
            for i in take}


def predictions(report: CheckReport, labels: np.ndarray | None = None) -> Predictions:
    """Each row's predicted class, certified or not, and the accuracy against ``labels``.

    Args:
        report: a check of a network with at least two outputs (:func:`nnverify.compare.check`
            or :func:`~nnverify.compare.check_outputs`); its observed outputs are the float forward.
        labels: one 0-based class per row, or None.

    Example:
        >>> from nnverify import check, load_network
        >>> from nnverify.datasets import mnist_digits
        >>> d = mnist_digits(first=10)
        >>> p = predictions(check(load_network("book-mnist"), d.inputs(), progress=False), d.labels)
        >>> p.accuracy, p.n_certified, [r.predicted for r in p.rows]
        (1.0, 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    N, K = report.y.shape
    if K < 2:
        raise UsageError(f"{report.network.name} has {K} output; predicted classes need at least 2 outputs")
    if labels is not None:
        labels = check_labels(labels, N, "labels")
        check_label_range(labels, K, "labels")
    if len(report.results) != N * K:
        raise UsageError(f"the report has {len(report.results)} results for {N} x {K} outputs; "
                         "give a whole report from check() or check_outputs()")
    fast = _fast_predictions(report, labels)
    rows = []
    for i in range(N):
        if i in fast:
            rows.append(fast[i])
            continue
        row = list(report.results[i * K:(i + 1) * K])
        if any(r.input != i or r.output != k for k, r in enumerate(row)):
            raise UsageError("the report's results are not in row-major order; give a report from check()")
        rows.append(_one(i, row, report.y[i], None if labels is None else int(labels[i])))
    accuracy = None if labels is None else sum(p.predicted == p.label for p in rows) / N
    return Predictions(tuple(rows), accuracy)
