"""The report's verification sections: tables, verdicts, the bounds explained, plots, tests, weights.

A table has a column per bound, each explained in one sentence: the sound bound always; the
probabilistic bound (``prob_bound_ulp`` on a result, with the verdict ``suspicious``) when the
check that made the results computed one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.compare import CheckReport
from nnverify.error_ranges import error_abs_range, error_ulp_range
from nnverify.model import Activation
from nnverify.report.blocks import Block, Cell, Code, Figure, Heading, Inline, Math, Para, Ref, Strong, Table, Text
from nnverify.report.certdigits import ball_significant
from nnverify.report.compute import ReportData
from nnverify.report.derivation import output_name
from nnverify.report.lang import Words
from nnverify.report.numbers import format_bound, format_number
from nnverify.report.plots import activation_plot, ulp_histogram
from nnverify.report.tables import MAX_SUMMARY_ROWS_WITH_PREDICTIONS, MAX_TABLE_ROWS, TEST_STATUSES, TestSummary

__all__ = ["verification_section", "summary_table_section", "plots_section", "tests_section",
           "weights_section", "status_of"]


def status_of(result: Any) -> str:
    """A result's verdict as text (an enum's value, or the string itself)."""
    s = result.status
    return str(getattr(s, "value", s))


def _float_latex(value: float, dtype: np.dtype) -> str:
    """A float as NumPy prints it (shortest round-trip digits), in our notation."""
    if not math.isfinite(value):
        return r"\mathrm{NaN}" if value != value else (r"\infty" if value > 0 else r"-\infty")
    text = np.format_float_scientific(dtype.type(value), unique=True, trim="-")
    mantissa = text.split("e")[0].lstrip("-")
    sig = len(mantissa.replace(".", "").lstrip("0")) or 1
    return format_number(Fraction(float(dtype.type(value))), sig).latex


def _verdict(status: str, words: Words) -> Cell:
    if status == "failed":
        return (Strong(words.word("v_failed")),)
    return (Text(words.word("v_" + status)),)


def _m(latex: str) -> Cell:
    return (Math(latex),)


def _has_prob(results: Sequence[Any]) -> bool:
    """A column for the probabilistic bound where it says more than the sound one (small sums:
    the two are equal, and the column would only widen the table)."""
    return any(getattr(r, "prob_bound_ulp", None) is not None and r.prob_bound_ulp < r.bound_ulp for r in results)


def _bound_sentences(results: Sequence[Any], words: Words, network: Any) -> list[Inline]:
    out = list(words.say("bound_sound"))
    if _has_prob(results):
        out += [Text(" "), *words.say("bound_prob")]
    if any(ly.activation is Activation.STEP for ly in network.layers):
        out += [Text(" "), *words.say("kink_rule")]
    if any(str(r.status) == "undecided" and not math.isfinite(r.bound_abs) for r in results):
        out += [Text(" "), *words.say("overflow_rule")]
    return out


def _links(data: ReportData, k: int, closed: bool) -> list[Inline]:
    L = len(data.network.layers)
    refs: list[Inline] = []
    if k in dict(data.units).get(L, ()):
        refs.append(Ref(f"eq:z-{L}-{k}"))
    if closed:
        refs.append(Ref(f"eq:y-{k}"))
    return refs


def _error(r: Any, dt: np.dtype, digits: int, *, ulps: bool) -> str:
    """An error as the report prints it: a number where every error the enclosure allows rounds
    to it at ``digits`` figures, else an upper bound (rounded up), never a 0 that is not one."""
    low, high = error_ulp_range(r, dt) if ulps else error_abs_range(r)
    shown = format_number(low, digits)
    if shown.latex == format_number(high, digits).latex:  # (a NaN or infinite value: both inf)
        return shown.latex
    return r"\le " + format_bound(high, digits).latex  # (an unbounded ball: "\le \infty")


def verification_section(data: ReportData, words: Words, *, closed: bool) -> list[Block]:
    """The full verification table: one row per (input, output), linked to the derivation."""
    report = data.table_check
    st = data.student
    dt = np.dtype(data.check.dtype)
    many = data.inputs.values.shape[0] > 1
    if report is not None:  # three certified digits of each error shown
        report.table.certify_errors(range(min(MAX_TABLE_ROWS, len(report.results))))
    results = list(report.results) if report is not None else []
    rows_of = list(st.rows) if st is not None else list(range(data.inputs.values.shape[0]))
    prob = _has_prob(results)
    who: Cell = (Code(st.spec),) if st is not None else (Text(words.word("numpy_col", dtype=str(dt))),)
    out: list[Block] = [Heading(words.say("h_verification"))]
    intro = (words.say("verify_student", spec=Code(st.spec), dtype=str(dt)) if st is not None
             else words.say("verify_intro", dtype=str(dt), digits=data.settings.digits))
    out.append(Para(intro + (Text(" "),) + tuple(_bound_sentences(results, words, data.network))))
    header: list[Cell] = ([(Text(words.word("col_input")),)] if many else []) + [
        (Text(words.word("col_output")),), (Text(words.word("col_exact")),), who,
        (Text(words.word("col_abs")),), (Text(words.word("col_ulp")),),
        (Text(words.word("col_sound")),)] + ([(Text(words.word("col_prob")),)] if prob else []) + [
        (Text(words.word("col_verdict")),)]
    body: list[tuple[Cell, ...]] = []
    for r in results[:MAX_TABLE_ROWS]:
        row = rows_of[r.input]
        k = r.output + 1
        name: list[Inline] = [Math(output_name(k))]
        if row == data.derive_row:
            name += [Text(" "), *_join(_links(data, k, closed))]
        exact = ball_significant(data.y_balls[row][r.output], data.settings.digits)
        cells: list[Cell] = ([(Text(str(row + 1)),)] if many else []) + [
            tuple(name), _m(exact.latex), _m(_float_latex(r.value, dt)),
            _m(_error(r, dt, 2, ulps=False)), _m(_error(r, dt, 3, ulps=True)),
            _m(format_bound(r.bound_ulp).latex)]
        if prob:
            p = getattr(r, "prob_bound_ulp", None)
            cells.append(_m(format_bound(p).latex) if p is not None else (Text("--"),))
        cells.append(_verdict(status_of(r), words))
        body.append(tuple(cells))
    if st is not None:
        for row, _ in st.failures:
            for k in range(data.network.n_outputs):
                exact = ball_significant(data.y_balls[row][k], data.settings.digits)
                cells = ([(Text(str(row + 1)),)] if many else []) + [
                    _m(output_name(k + 1)), _m(exact.latex), (Strong(words.word("no_value")),),
                    (Text("--"),), (Text("--"),), (Text("--"),)] + ([(Text("--"),)] if prob else []) + [
                    (Strong(words.word("v_failed")),)]
                body.append(tuple(cells))
    align = ("r" if many else "") + "lll" + "rrr" + ("r" if prob else "") + "l"
    out.append(Table(align, tuple(header), tuple(body)))
    if len(results) > MAX_TABLE_ROWS:
        out.append(Para(words.say("rows_shown", shown=MAX_TABLE_ROWS, total=len(results))))
    if st is not None:
        for row, text in st.failures:
            out.append(Para(words.say("student_failed", spec=Code(st.spec), row=row + 1, why=Code(text))))
    if report is not None:
        out.append(Para(verdict_line(report, words, rows_of)))
    return out


def _join(refs: list[Inline]) -> list[Inline]:
    out: list[Inline] = []
    for n, ref in enumerate(refs):
        if n:
            out.append(Text(", "))
        out.append(ref)
    return out


def verdict_line(report: CheckReport, words: Words, rows_of: Sequence[int] | None = None) -> tuple[Inline, ...]:
    """Counts, the largest error and the largest bound, in one sentence."""
    counts: dict[str, int] = {}
    for r in report.results:
        counts[status_of(r)] = counts.get(status_of(r), 0) + 1
    worst = report.worst
    row = (rows_of[worst.input] if rows_of is not None else worst.input) + 1
    extra = (words.say("count_suspicious", n=counts["suspicious"]) if counts.get("suspicious") else ())
    return words.say(
        "verdict_line", n=len(report.results), ok=counts.get("ok", 0), failed=counts.get("failed", 0),
        undecided=counts.get("undecided", 0), worst=_error(worst, np.dtype(report.dtype), 3, ulps=True), row=row,
        out=output_name(worst.output + 1),
        bound=format_bound(max(r.bound_ulp for r in report.results)).latex) + extra


def summary_table_section(data: ReportData, words: Words) -> list[Block]:
    """One row per input: its largest output and its worst output (for big networks)."""
    report = data.table_check
    dt = np.dtype(data.check.dtype)
    N, K = data.inputs.values.shape[0], data.network.n_outputs
    out: list[Block] = [Heading(words.say("h_verification")),
                        Para(words.say("summary_intro", dtype=str(dt), n=N, k=K) + (Text(" "),)
                             + tuple(_bound_sentences(report.results if report else [], words, data.network)))]
    labels = data.inputs.labels
    header = tuple((Text(words.word(k)),) for k in (
        "col_input", *(("col_label",) if labels is not None else ()), "col_class", "col_worst", "col_exact",
        "col_numpy_short", "col_ulp", "col_sound", "col_verdict"))
    by_row: dict[int, list[Any]] = {}
    rows_of = list(data.student.rows) if data.student is not None else list(range(N))
    limit = MAX_TABLE_ROWS if data.predictions is None else MAX_SUMMARY_ROWS_WITH_PREDICTIONS
    if report is not None:  # three certified digits of each error shown
        report.table.certify_errors(range(min(limit * K, len(report.results))))
    for r in (report.results if report is not None else ()):
        by_row.setdefault(rows_of[r.input], []).append(r)
    body = []
    for row in sorted(by_row)[:limit]:
        res = by_row[row]
        worst = max(res, key=lambda r: r.ulp)
        cls = int(np.argmax([r.value for r in res]))  # 0-based, as np.argmax (class c is y_{c+1})
        statuses = {status_of(r) for r in res}
        verdict = "ok" if statuses == {"ok"} else ("failed" if "failed" in statuses else
                                                   "suspicious" if "suspicious" in statuses else "undecided")
        exact = ball_significant(data.y_balls[row][worst.output], min(data.settings.digits, 12))
        label: tuple[Cell, ...] = ((Text(str(int(labels[row]))),),) if labels is not None else ()
        body.append(((Text(str(row + 1)),), *label, _m(str(cls)), _m(output_name(worst.output + 1)),
                     _m(exact.latex), _m(_float_latex(worst.value, dt)), _m(_error(worst, dt, 3, ulps=True)),
                     _m(format_bound(worst.bound_ulp).latex), _verdict(verdict, words)))
    out.append(Table("r" + ("r" if labels is not None else "") + "rlllrrl", header, tuple(body)))
    if N > limit:
        out.append(Para(words.say("inputs_shown", shown=limit, total=N)))
    if report is not None:
        out.append(Para(verdict_line(report, words, rows_of)))
        out.append(Para(_looseness(report, words)))
    return out


def _looseness(report: CheckReport, words: Words) -> tuple[Inline, ...]:
    """Why the sound bound is far above the errors seen (measured on this run)."""
    ratios = [r.bound_ulp / r.ulp for r in report.results if r.ulp > 0 and math.isfinite(r.bound_ulp)]
    n_in = max(ly.n_in for ly in report.network.layers)
    if not ratios:
        return words.say("loose_exact", n=n_in)
    return words.say("loose_bound", median=format_number(float(np.median(ratios)), 2).latex, n=n_in)


def plots_section(data: ReportData, words: Words) -> list[Block]:
    """Activation curves with the operating points, and the ULP-error histogram."""
    net = data.network
    L = len(net.layers)
    c = data.cert
    a_rows = [[float(v.mid()) for v in layer[0]] for layer in c.balls_a]
    z_rows = [[float(v.mid()) for v in layer[0]] for layer in c.balls_z]
    by_act: dict[tuple[Activation, bool], list[tuple[int, list[float], list[float]]]] = {}
    for l, layer in enumerate(net.layers, start=1):
        by_act.setdefault((layer.activation, l == L), []).append((l, a_rows[l - 1], z_rows[l - 1]))
    out: list[Block] = [Heading(words.say("h_plots"))]
    soft = any(a is Activation.SOFTMAX for a, _ in by_act)
    out.append(Para(words.say("plots_intro", k=data.derive_row + 1)
                    + (words.say("plots_softmax") if soft else ())))
    for (act, is_out), pts in by_act.items():
        tikz, svg = activation_plot(act, pts, output_layer=is_out, words=words)
        out.append(Figure(tikz, svg, words.word("alt_activation", act=act.value), width=0.49))
    s = data.samples
    if s is None and data.check.x.shape[0] > 1:
        s = data.check
    if s is not None:
        ulps = [r.ulp for r in s.results if np.isfinite(r.ulp)]
        if ulps:
            where = (words.say("samples_where", seed=data.settings.seed) if data.samples is not None
                     else words.say("verified_where"))
            out.append(Para(words.say("hist_intro", dtype=str(np.dtype(s.dtype)), n=s.x.shape[0],
                                      outputs=len(ulps)) + where))
            tikz, svg = ulp_histogram(ulps, dtype_name=str(np.dtype(s.dtype)), words=words,
                                      worst_latex=_error(s.worst, np.dtype(s.dtype), 3, ulps=True))
            out.append(Figure(tikz, svg, words.word("alt_histogram")))
            if s is data.samples:
                out.append(Para(verdict_line(s, words)))
    return out


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def tests_section(summary: TestSummary, words: Words) -> list[Block]:
    """The property-test summary: one row per property."""
    counts = {s: sum(1 for r in summary.rows if r[3] == s) for s in TEST_STATUSES}
    how: list[str] = []
    if summary.examples is not None:
        how.append(words.word("examples_per", n=summary.examples))
    if summary.seed is not None:
        how.append(words.word("seed_is", seed=summary.seed))
    out: list[Block] = [Heading(words.say("h_tests")), Para(words.say(
        "tests_intro", how=(" (" + ", ".join(how) + ")") if how else "", passed=counts["passed"],
        failed=counts["failed"], skipped=counts["skipped"]))]
    header = tuple((Text(words.word(k)),) for k in ("col_property", "col_law", "col_examples",
                                                    "col_result", "col_note"))
    body = []
    for name, law, examples, status, note in summary.rows:
        result: Cell = ((Strong(words.word("t_failed")),) if status == "failed"
                        else (Text(words.word("t_" + status)),))
        body.append(((Text(_clip(name, 40)),), (Text(_clip(law, 110)),), (Text(str(int(examples))),),
                     result, (Text(_clip(note, 80)),)))
    out.append(Table("llrll", header, tuple(body)))
    return out


def weights_section(data: ReportData, words: Words) -> list[Block]:
    """Per weight and bias array: shape, min, max, mean, std, mean magnitude, zeros."""
    header = tuple((Text(words.word(k)),) for k in ("col_array", "col_shape", "col_min", "col_max",
                                                    "col_mean", "col_std", "col_absmean", "col_zeros"))
    body = []
    for l, layer in enumerate(data.network.layers, start=1):
        for name, arr in ((f"W^{{({l})}}", layer.W), (f"b^{{({l})}}", layer.b)):
            v = arr.astype(np.float64)
            shape = r" \times ".join(str(s) for s in arr.shape)
            cells = [_m(format_number(float(f), 3).latex) for f in
                     (v.min(), v.max(), v.mean(), v.std(), np.abs(v).mean())]
            body.append((_m(name), _m(shape), *cells, (Text(str(int(np.count_nonzero(v == 0)))),)))
    return [Heading(words.say("h_weights")), Table("lrrrrrrr", header, tuple(body))]
