"""The report's predictions section: the book's §3.6 question on labelled inputs such as real digits.

For inputs with labels: the accuracy of the float forward (and, for the book's network on the
shipped digits, why it is not the book's ``Accuracy:0.9352``), a grid of the digits as
pictures with label, prediction and certified mark, the certified-prediction count, the
predictions that are not certified with their exact margins (certified digits only), flipped
ones, the smallest margin, and what the sound bound means at this size. Classes are 0-based
(``np.argmax``); outputs keep the book's 1-based ``y_k``, and the section says so.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from nnverify.bounds import float_up
from nnverify.compare import OutputResult
from nnverify.datasets import MNIST_DIGITS
from nnverify.predictions import Prediction, Predictions
from nnverify.report.blocks import Block, Cell, Figure, Heading, Inline, Math, Para, Table, Text
from nnverify.report.certdigits import enclosure_significant, outward
from nnverify.report.compute import ReportData
from nnverify.report.digits import MAX_GRID, DigitCell, digit_grid, digit_table
from nnverify.report.images import grey_pixels
from nnverify.report.lang import Words
from nnverify.report.numbers import format_bound, format_number
from nnverify.report.tables import MAX_TABLE_ROWS

__all__ = ["predictions_section", "image_shape", "MARGIN_DIGITS"]

#: Significant figures of an exact margin (fewer when its enclosure certifies fewer).
MARGIN_DIGITS = 6


def image_shape(n_inputs: int) -> tuple[int, int] | None:
    """``(side, side)`` when an input of ``n_inputs`` values reads as a square picture (side >= 8).

    Args:
        n_inputs: the values of one input (784 for MNIST: 28 x 28).
    """
    side = math.isqrt(n_inputs)
    return (side, side) if side >= 8 and side * side == n_inputs else None


def _rows_of(data: ReportData, i: int) -> list[OutputResult]:
    K = data.network.n_outputs
    return list(data.check.results[i * K:(i + 1) * K])


def _tag(data: ReportData, i: int) -> str:
    index = data.inputs.index
    return "" if index is None or _contiguous(index) else f"#{int(index[i])}"


def _contiguous(index: np.ndarray) -> bool:
    return bool((index == np.arange(len(index))).all())


def _grid(data: ReportData, p: Predictions, shape: tuple[int, int], words: Words) -> list[Block]:
    low, high = data.network.domain or (min(0.0, float(data.inputs.values.min())),
                                        max(1.0, float(data.inputs.values.max())))
    shown = p.rows[:MAX_GRID]
    cells = [DigitCell(grey_pixels(data.inputs.values[r.input], shape, low, high), r.input + 1, r.label,
                       r.predicted, r.certified, _tag(data, r.input)) for r in shown]
    tikz, svg = digit_grid(cells, alt=words.word("alt_digits", n=len(cells)))
    legend: list[Inline] = list(words.say("grid_legend", shown=len(cells)))
    if any(c.tag for c in cells):
        legend += words.say("grid_tags")
    if len(p.rows) > len(shown):
        legend += words.say("grid_more", shown=len(shown), n=len(p.rows))
    table = digit_table(cells, input_header=words.word("col_input"))
    out: list[Block] = [Figure(tikz, svg, words.word("alt_digits", n=len(cells)), fallback=table),
                        Para(tuple(legend), small=True)]
    if data.inputs.source == MNIST_DIGITS:
        out.append(Para(words.say("digits_credit"), small=True))
    return out


def _accuracy(data: ReportData, p: Predictions, words: Words) -> tuple[Inline, ...]:
    n = len(p.rows)
    said = words.say("accuracy", acc=f"{p.accuracy:.4g}", correct=p.n_correct or 0, n=n)
    if not data.book_mnist:
        return said
    score = data.digits_score
    if score is not None and n == score.total:
        return said + words.say("accuracy_book_all")
    if score is not None:
        return said + words.say("accuracy_book_some", all=f"{score.accuracy:.4g}",
                                correct_all=score.correct, total_all=score.total)
    return said + words.say("accuracy_book_other", n=n)


def _certified(data: ReportData, p: Predictions, words: Words) -> list[Block]:
    dtype = str(np.dtype(data.check.dtype))
    said = words.say("certified_count", c=p.n_certified, n=len(p.rows), dtype=dtype)
    prob = p.n_prob_certified
    said += words.say("prob_none") if prob is None else words.say("prob_count", c=prob, n=len(p.rows))
    flipped = p.flipped
    flip = (words.say("flipped_none") if not flipped else
            words.say("flipped_some", n=len(flipped), list=", ".join(str(i + 1) for i in flipped)))
    return [Para(said), Para(flip)]


def _runner_up(results: list[OutputResult], top: int) -> int:
    """The output (0-based) other than ``top`` whose exact value may come highest."""
    return max((k for k in range(len(results)) if k != top), key=lambda k: results[k].exact.upper)


def _margin(r: Prediction) -> str:
    if r.margin is None:
        return "--"
    return enclosure_significant(r.margin.lower, r.margin.upper, MARGIN_DIGITS).latex


def _uncertified(data: ReportData, p: Predictions, words: Words) -> list[Block]:
    bad = [r for r in p.rows if not r.certified]
    if not bad:
        return [Para(words.say("all_certified"))]
    dtype = str(np.dtype(data.check.dtype))
    tags = data.inputs.index is not None and not _contiguous(data.inputs.index)
    keys = ["col_input"] + (["col_digit"] if tags else []) + ["col_label", "col_class", "col_runner",
                                                             "col_margin", "col_bounds"]
    header = tuple(tuple(words.say(k)) for k in keys)
    body = []
    for r in bad[:MAX_TABLE_ROWS]:
        res = _rows_of(data, r.input)
        top = r.exact_predicted if r.exact_predicted is not None else r.predicted
        j = _runner_up(res, top)
        pair = (res[top].bound_abs, res[j].bound_abs)
        # B_m + B_j rounded up (a bound still): exact sum, then format_bound rounds upward
        both = float_up(Fraction(pair[0]) + Fraction(pair[1])) if all(map(math.isfinite, pair)) else math.inf
        cells: list[Cell] = [(Text(str(r.input + 1)),)]
        if tags:
            cells.append((Text(_tag(data, r.input) or f"#{r.input}"),))
        cells += [(Text("--" if r.label is None else str(r.label)),), (Math(str(r.predicted)),),
                  (Math(str(j)),), (Math(_margin(r)),), (Math(format_bound(both).latex),)]
        body.append(tuple(cells))
    out: list[Block] = [Para(words.say("not_certified", m=len(bad), n=len(p.rows), dtype=dtype)),
                        Table("r" + ("l" if tags else "") + "rrrrr", header, tuple(body))]
    if len(bad) > MAX_TABLE_ROWS:
        out.append(Para(words.say("more_not_certified", shown=MAX_TABLE_ROWS, m=len(bad))))
    return out


def _smallest(p: Predictions, words: Words) -> list[Block]:
    small = p.smallest_margin
    if small is None:
        return []
    if small.label is None:
        return [Para(words.say("smallest_margin_nolabel", m=Math(_margin(small)), k=small.input + 1,
                               c=small.predicted))]
    return [Para(words.say("smallest_margin", m=Math(_margin(small)), k=small.input + 1,
                           c=small.predicted, l=small.label))]


def _bound_meaning(data: ReportData, p: Predictions, words: Words) -> list[Block]:
    """One statement of what the sound bound means for a prediction at this network's size."""
    top = [_rows_of(data, r.input)[r.predicted] for r in p.rows]
    finite = [r for r in top if math.isfinite(r.bound_abs)]
    if not finite:
        return []
    lo = min(Fraction(r.bound_abs) for r in finite)
    hi = max(Fraction(r.bound_abs) for r in finite)
    said = words.say("bound_meaning", lo=outward(lo, 2, down=True), hi=outward(hi, 2, down=False),
                     ulp=format_bound(max(r.bound_ulp for r in finite), 2).latex,
                     dtype=str(np.dtype(data.check.dtype)),
                     worst=format_number(data.check.max_ulp, 3).latex)
    if not p.flipped and all(r.exact_predicted is not None for r in p.rows):
        said += words.say("agree_all")
    return [Para(said)]


def _output_names(k: int) -> str:
    """``y_1, y_2`` for few outputs, ``y_1, \\dots, y_{10}`` for many (math)."""
    if k <= 3:
        return ", ".join(f"y_{{{j}}}" for j in range(1, k + 1))
    return f"y_1, \\dots, y_{{{k}}}"


def predictions_section(data: ReportData, words: Words) -> list[Block]:
    """Accuracy, the digits as a grid, certified predictions (empty without labels).

    Args:
        data: the report's data (``data.predictions`` from nnverify's float forward).
        words: the report's language.
    """
    p = data.predictions
    if p is None:
        return []
    shape = image_shape(data.network.n_inputs)
    heading = "h_predictions_digits" if shape is not None and data.inputs.source == MNIST_DIGITS \
        else "h_predictions"
    out: list[Block] = [Heading(words.say(heading)),
                        Para(words.say("pred_intro", dtype=str(np.dtype(data.check.dtype)),
                                       names=_output_names(data.network.n_outputs))),
                        Para(_accuracy(data, p, words))]
    if shape is not None:
        out += _grid(data, p, shape, words)
    out += _certified(data, p, words)
    out += _uncertified(data, p, words)
    out += _smallest(p, words)
    out += _bound_meaning(data, p, words)
    return out
