"""The report's tables: verification (full and per-input summary), weight statistics, property tests.

Every cell is a formatted number, an index, or escaped text.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.compare import CheckReport
from nnverify.errors import UsageError
from nnverify.model import Network
from nnverify.report.derivation import enclosed, output_name
from nnverify.report.escape import escape_text
from nnverify.report.numbers import format_number

__all__ = [
    "Lines",
    "TestSummary",
    "TEST_STATUSES",
    "MAX_TABLE_ROWS",
    "verification_table",
    "summary_table",
    "verdict_line",
    "weight_stats",
    "test_section",
]


class Lines:
    """Lines of a LaTeX document, added in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


#: Most rows in the verification table (the rest are counted, and are in ``nnverify check``).
MAX_TABLE_ROWS = 40


#: The verdicts a property can have in a :class:`TestSummary`.
TEST_STATUSES = ("passed", "failed", "skipped")


@dataclass(frozen=True)
class TestSummary:
    """The outcome of a property-test run to include in a report.

    Args:
        rows: per property ``(name, summary, examples, status, note)``; status is one of
            :data:`TEST_STATUSES`; the texts are printed escaped.
        seed: the seed the run used, if any.
        examples: examples asked for per property.
    """

    __test__ = False  # not a pytest class, despite the name

    rows: tuple[tuple[str, str, int, str, str], ...]
    seed: int | None = None
    examples: int | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if row[3] not in TEST_STATUSES:
                raise UsageError(f"property status {row[3]!r}; expected one of {', '.join(TEST_STATUSES)}")

    @property
    def ok(self) -> bool:
        return all(row[3] != "failed" for row in self.rows)


def _float_latex(value: float, dtype: np.dtype) -> str:
    """A float as NumPy prints it (shortest round-trip digits), in our notation."""
    if not np.isfinite(value):
        return r"\mathrm{NaN}" if value != value else (r"\infty" if value > 0 else r"-\infty")
    text = np.format_float_scientific(dtype.type(value), unique=True, trim="-")
    mantissa = text.split("e")[0].lstrip("-")
    sig = len(mantissa.replace(".", "").lstrip("0")) or 1
    return format_number(Fraction(float(dtype.type(value))), sig).latex


def verification_table(tex: Lines, report: CheckReport, digits: int, *,
                       links: dict[int, tuple[str, ...]] | None = None) -> None:
    """The full verification table: one row per (input, output), exact values with ``digits``
    figures; the rows of input 1 link output k to the equations labelled ``links[k]``."""
    dt = np.dtype(report.dtype)
    results = list(report.results)
    shown = results[:MAX_TABLE_ROWS]
    many = report.x.shape[0] > 1
    tex.add(r"\section*{Verification}")
    tex.add(
        f"Each output of NumPy's forward pass in {dt} is compared with the certified exact "
        f"value (an interval from ball arithmetic, {digits} significant digits shown). "
        "The error is the distance from the float to that interval, also in units in the last "
        f"place (ulp) of {dt} at the exact value. The bound is derived from the rounding model "
        "of the arithmetic (any correct summation order and activation implementation), not "
        "chosen: a float within it is \\emph{ok}."
    )
    cols = ("r" if many else "") + "lllrrrl"
    head = ("input & " if many else "") + (
        r"output & exact value & " + f"NumPy {dt}" + r" & abs.\ error & ulp & bound (ulp) & verdict \\"
    )
    tex.add(r"\begin{center}\small\setlength{\tabcolsep}{4pt}", f"\\begin{{tabular}}{{{cols}}}",
            r"\toprule", head, r"\midrule")
    for r in shown:
        k = r.output + 1
        name = f"${output_name(k)}$"
        if links and r.input == 0 and links.get(k):
            name += " " + ", ".join(f"\\eqref{{{label}}}" for label in links[k])
        exact = enclosed(r.exact, digits).latex
        verdict = {"ok": "ok", "failed": r"\textbf{FAILED}", "undecided": "undecided"}[r.status]
        row = (f"{r.input + 1} & " if many else "") + (
            f"{name} & ${exact}$ & ${_float_latex(r.value, dt)}$ & "
            f"${format_number(r.abs_error, 2).latex}$ & ${format_number(r.ulp, 3).latex}$ & "
            f"${format_number(r.bound_ulp, 3).latex}$ & {verdict} \\\\"
        )
        tex.add(row)
    tex.add(r"\bottomrule", r"\end{tabular}", r"\end{center}")
    if len(results) > len(shown):
        tex.add(
            f"The table shows the first {len(shown)} of {len(results)} outputs; all of them are "
            "summarised below."
        )
    verdict_line(tex, report)


def verdict_line(tex: Lines, report: CheckReport) -> None:
    """Counts, the largest error and the largest bound, in one sentence."""
    counts = report.counts()
    worst = report.worst
    tex.add(
        f"Outputs checked: {len(report.results)}; ok: {counts['ok']}, failed: {counts['failed']}, "
        f"undecided: {counts['undecided']}. Largest error: "
        f"${format_number(worst.ulp, 3).latex}$ ulp (input {worst.input + 1}, "
        f"${output_name(worst.output + 1)}$); largest bound: "
        f"${format_number(max(r.bound_ulp for r in report.results), 3).latex}$ ulp."
    )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def test_section(tex: Lines, summary: TestSummary) -> None:
    """The "Property tests" section: one row per property."""
    tex.add(r"\section*{Property tests}")
    counts = {s: sum(1 for r in summary.rows if r[3] == s) for s in TEST_STATUSES}
    how = []
    if summary.examples is not None:
        how.append(f"{summary.examples} examples per property")
    if summary.seed is not None:
        how.append(f"seed {summary.seed}")
    tex.add(
        "Hypothesis properties run on NumPy's forward pass of this network"
        + (f" ({', '.join(how)})" if how else "")
        + f": {counts['passed']} held, {counts['failed']} failed, {counts['skipped']} did not apply. "
        "Every tolerance is the derived bound; ``of bound'' is the largest fraction of it used."
    )
    tex.add(r"\begin{center}\small", r"\begin{tabular}{p{3.1cm}p{6.2cm}rlp{3.6cm}}", r"\toprule",
            r"property & law & examples & result & note \\", r"\midrule")
    for name, law, examples, status, note in summary.rows:
        result = {"passed": "held", "failed": r"\textbf{FAILED}", "skipped": "n/a"}[status]
        tex.add(f"{escape_text(_clip(name, 40))} & {escape_text(_clip(law, 110))} & {int(examples)} "
                f"& {result} & {escape_text(_clip(note, 80))} \\\\")
    tex.add(r"\bottomrule", r"\end{tabular}", r"\end{center}")


def weight_stats(tex: Lines, net: Network) -> None:
    """Per weight and bias array: shape, min, max, mean, std, mean magnitude, zeros."""
    tex.add(r"\section*{Weights}")
    tex.add(r"\begin{center}\small", r"\begin{tabular}{lrrrrrrr}", r"\toprule",
            r"array & shape & min & max & mean & std & mean $|\cdot|$ & zeros \\", r"\midrule")
    for l, layer in enumerate(net.layers, start=1):
        for name, arr in ((f"W^{{({l})}}", layer.W), (f"b^{{({l})}}", layer.b)):
            v = arr.astype(np.float64)
            shape = r" \times ".join(str(s) for s in arr.shape)
            cells = [format_number(float(f), 3).latex for f in
                     (v.min(), v.max(), v.mean(), v.std(), np.abs(v).mean())]
            tex.add(f"${name}$ & ${shape}$ & " + " & ".join(f"${c}$" for c in cells)
                    + f" & {int(np.count_nonzero(v == 0))} \\\\")
    tex.add(r"\bottomrule", r"\end{tabular}", r"\end{center}")


def summary_table(tex: Lines, report: CheckReport, digits: int) -> None:
    """One row per input: its largest output and its worst output (for big networks)."""
    dt = np.dtype(report.dtype)
    N, K = report.y.shape
    tex.add(r"\section*{Verification}")
    tex.add(
        f"NumPy's forward pass in {dt} on {N} input{'s' if N != 1 else ''}, each of the {K} "
        "outputs compared with its certified exact value under the derived bound (see the "
        "full report of a small network for the method). One row per input: its largest output "
        "(the predicted class) and the output farthest from its exact value."
    )
    tex.add(r"\begin{center}\small", r"\begin{tabular}{rrlllrrl}", r"\toprule",
            r"input & largest & worst output & exact value & NumPy & ulp & bound (ulp) & verdict \\",
            r"\midrule")
    by_row: dict[int, list[Any]] = {}
    for r in report.results:
        by_row.setdefault(r.input, []).append(r)
    for row in sorted(by_row)[:MAX_TABLE_ROWS]:
        res = by_row[row]
        worst = max(res, key=lambda r: r.ulp)
        cls = int(np.argmax(report.y[row])) + 1
        statuses = {r.status for r in res}
        verdict = ("ok" if statuses == {"ok"} else
                   r"\textbf{FAILED}" if "failed" in statuses else "undecided")
        exact = enclosed(worst.exact, min(digits, 12)).latex
        tex.add(
            f"{row + 1} & {output_name(cls).join('$$')} & ${output_name(worst.output + 1)}$ & "
            f"${exact}$ & ${_float_latex(worst.value, dt)}$ & "
            f"${format_number(worst.ulp, 3).latex}$ & ${format_number(worst.bound_ulp, 3).latex}$ & "
            f"{verdict} \\\\"
        )
    tex.add(r"\bottomrule", r"\end{tabular}", r"\end{center}")
    if N > MAX_TABLE_ROWS:
        tex.add(f"The table shows the first {MAX_TABLE_ROWS} of {N} inputs.")
    verdict_line(tex, report)
