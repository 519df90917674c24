"""How nnverify's objects show themselves in Jupyter: HTML tables and LaTeX formulas.

``Network``, ``CheckReport``, ``SuiteResult`` and a ``Derivation`` each have one-line
``_repr_html_`` / ``_repr_latex_`` methods that call the functions here, so a notebook shows
them without printing. The functions read the objects' public attributes only (duck typing):
this module imports nothing of nnverify's, so every layer may use it. Every string that came
from a file or a user (names, messages) is HTML-escaped; every exact value printed is the
certified one, to the digits ``nnverify check`` prints, with its enclosure radius.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["network_html", "network_latex", "report_html", "report_latex", "suite_html", "suite_latex",
           "derivation_html", "derivation_latex", "ROWS_SHOWN"]

#: Rows of a table shown before "... and N more".
ROWS_SHOWN = 40
#: Largest network whose weights are shown in full.
_WEIGHTS_SHOWN = 64

_STYLE = ("border-collapse:collapse;font-family:monospace;font-size:90%")
_COLORS = {"ok": "#1a7f37", "passed": "#1a7f37", "failed": "#cf222e", "undecided": "#9a6700", "skipped": "#6e7781"}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """An HTML table; cells are HTML already (escape them first)."""
    th = "".join(f"<th style='text-align:left;padding:2px 8px'>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption style='text-align:left'>{caption}</caption>" if caption else ""
    return f"<table style='{_STYLE}'>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _word(status: Any) -> str:
    s = str(status)
    return f"<b style='color:{_COLORS.get(s, 'inherit')}'>{_e(s)}</b>"


def _more(n_all: int) -> str:
    return f"<p>... and {n_all - ROWS_SHOWN} more (<code>to_json()</code> has all)</p>" if n_all > ROWS_SHOWN else ""


def _floats(values: Any, limit: int = 8) -> str:
    vals = [float(v) for v in values]
    shown = ", ".join(repr(v) for v in vals[:limit])
    return f"[{shown}{', ...' if len(vals) > limit else ''}]"


# -- Network ---------------------------------------------------------------------------------
def network_html(network: Any) -> str:
    """A network: one row per layer (shapes, activation), and every weight for a small one."""
    rows = []
    for l, layer in enumerate(network.layers, start=1):
        rows.append([str(l), f"W<sub>{l}</sub> {layer.W.shape}", f"b<sub>{l}</sub> {layer.b.shape}",
                     _e(layer.activation.value)])
    out = _table(["layer l", "W", "b", "h (sigma on the output)"], rows, f"<b>{_e(network.describe())}</b>")
    if network.n_params <= _WEIGHTS_SHOWN:
        w_rows = []
        for l, layer in enumerate(network.layers, start=1):
            w_rows.append([f"W<sub>{l}</sub>", _e(layer.W.tolist())])
            w_rows.append([f"b<sub>{l}</sub>", _e(layer.b.tolist())])
        out += _table(["", "values (a = x @ W + b)"], w_rows)
    return out


def network_latex(network: Any) -> str:
    """The layers as the book writes them: ``A^{(l)} = Z^{(l-1)} W^{(l)} + B^{(l)}``, ``Z^{(l)} = h(A^{(l)})``."""
    L = len(network.layers)
    lines = []
    for l, layer in enumerate(network.layers, start=1):
        prev = "X" if l == 1 else f"Z^{{({l - 1})}}"
        h = "\\sigma" if l == L else "h"
        lines.append(f"A^{{({l})}} &= {prev} W^{{({l})}} + B^{{({l})}}, \\quad W^{{({l})}} \\in "
                     f"\\mathbb{{R}}^{{{layer.W.shape[0]} \\times {layer.W.shape[1]}}}, \\quad "
                     f"{'Y' if l == L else f'Z^{{({l})}}'} = {h}(A^{{({l})}}),\\ "
                     f"{h} = \\mathrm{{{layer.activation.value}}}")
    return "$$\\begin{aligned}" + " \\\\ ".join(lines) + "\\end{aligned}$$"


# -- CheckReport -----------------------------------------------------------------------------
def _certify_shown(report: Any) -> None:
    """Three certified digits of each error shown (a check's table fetches what its fast balls lack)."""
    certify = getattr(getattr(report, "table", None), "certify_errors", None)
    if certify is not None:
        certify(range(min(ROWS_SHOWN, len(report.results))))


def _ulp_text(r: Any, report: Any) -> str:
    """The certified error text where the result offers one (a check's results do)."""
    text = getattr(r, "ulp_text", None)
    return str(text(report.dtype)) if callable(text) else f"{r.ulp:.3g}"


def report_html(report: Any) -> str:
    """Every output: the float, the certified exact value, the error in ulps against the bound, the verdict."""
    _certify_shown(report)
    counts = report.counts()
    head = (f"<b>{_e(report.network.describe())}</b>: {len(report.results)} outputs, "
            + ", ".join(f"{_word(k)} {v}" for k, v in counts.items() if v)
            + f"; exact = {_e(getattr(report.mode, 'value', report.mode))} model, {_e(report.dtype)} arithmetic")
    rows = []
    for r in report.results[:ROWS_SHOWN]:
        rows.append([str(r.input + 1), f"y<sub>{r.output + 1}</sub>", _e(repr(float(r.value))),
                     _e(r.exact.digits(20)), f"{float(r.exact.rad):.1e}", _e(_ulp_text(r, report)),
                     f"{r.bound_ulp:.3g}", _word(r.status)])
    return _table(["row", "output", "float", "exact (20 digits)", "radius", "ulp", "bound (ulp)", "verdict"],
                  rows, head) + _more(len(report.results))


def report_latex(report: Any) -> str:
    """The outputs as ``y_k = float`` beside the exact value and the verdict (a LaTeX array)."""
    _certify_shown(report)
    lines = [f"y_{{{r.output + 1}}}^{{[{r.input + 1}]}} & {float(r.value)!r} & {r.exact.digits(20)} & "
             f"{_ulp_text(r, report)} & {r.bound_ulp:.3g} & \\text{{{r.status}}}" for r in report.results[:ROWS_SHOWN]]
    head = "& \\text{float} & \\text{exact} & \\text{ulp} & \\text{bound} & \\text{verdict} \\\\ \\hline "
    return "$$\\begin{array}{lrrrrl}" + head + " \\\\ ".join(lines) + "\\end{array}$$"


# -- SuiteResult -----------------------------------------------------------------------------
def suite_html(result: Any) -> str:
    """One row per property (examples, verdict, worst error), then each failure's counterexample."""
    rows = [[_e(r.name), str(r.examples), _word(r.status), _e(r.worst_text),
             _e(r.reason or "") if str(r.status) != "passed" else ""] for r in result.results]
    n = {s: sum(str(r.status) == s for r in result.results) for s in ("passed", "failed", "skipped")}
    head = (f"<b>{_e(result.implementation)}</b>: {n['passed']} passed, {n['failed']} failed, "
            f"{n['skipped']} skipped (seed {result.seed}, {result.max_examples} examples per property)")
    out = _table(["property", "examples", "verdict", "worst error", "why"], rows, head)
    notes = "".join(f"<li>{_e(note)}</li>" for note in getattr(result, "notes", ()))
    if notes:
        out += f"<ul>{notes}</ul>"
    for r in result.results:
        for cex in getattr(r, "counterexamples", ()):
            details = [[_e(k), _e(v if not isinstance(v, list) or len(v) <= 12 else f"{v[:12]} ...")]
                       for k, v in cex.shown()]
            if cex.call is not None:
                call = cex.call
                shape = tuple(call.get("shape", ()))
                details.append(["call", _e(f"{call.get('function')} on x of shape {shape} {call.get('dtype')}")])
            out += _table(["", ""], details, f"{_word('failed')} {_e(r.name)}: {_e(cex.law)}<br>{_e(cex.message)}")
    return out


def suite_latex(result: Any) -> str:
    rows = [f"\\text{{{r.name}}} & {r.examples} & \\text{{{r.status}}}" for r in result.results]
    return "$$\\begin{array}{lrl}" + " \\\\ ".join(rows) + "\\end{array}$$"


# -- Derivation ------------------------------------------------------------------------------
def _derivation_lines(d: Any) -> list[str]:
    import sympy

    lines = []
    for u in d.units:
        a_sym = f"a^{{({u.layer})}}_{{{u.unit}}}"
        z_sym = f"z^{{({u.layer})}}_{{{u.unit}}}"
        lines.append(f"{a_sym} &= {sympy.latex(u.a)}")
        lines.append(f"{z_sym} &= {sympy.latex(u.z)}")
        if u.z_closed is not None:
            value = f" \\approx {u.z_value}" if u.z_value is not None else ""
            lines.append(f"{z_sym} &= {sympy.latex(u.z_closed)}{value}")
    for o in d.outputs:
        lines.append(f"y_{{{o.output}}} &= {sympy.latex(o.layered)}")
        if o.closed is not None:
            value = f" \\approx {o.value}" if o.value is not None else ""
            lines.append(f"y_{{{o.output}}} &= {sympy.latex(o.closed)}{value}")
    return lines


def derivation_latex(d: Any) -> str:
    """The derivation's definitions and closed forms, one aligned equation a line (``sympy.latex``)."""
    return "$$\\begin{aligned}" + " \\\\ ".join(_derivation_lines(d)) + "\\end{aligned}$$"


def derivation_html(d: Any) -> str:
    """The same formulas for MathJax inside HTML, under a line naming the network and the mode."""
    head = (f"<p><b>{_e(d.network.describe())}</b>, {_e(d.mode.value)} weights"
            + ("" if d.x is None else ", evaluated at the given input") + "</p>")
    return head + "<div>" + html.escape(derivation_latex(d), quote=False) + "</div>"
