"""Plots with their data inline, drawn twice: pgfplots for the PDF, SVG for the web.

Curves are sampled here, in Python, with nnverify's own activations (the stable sigmoid: no
overflow warning at a = -1000), and written with fixed decimals, so the output is byte-stable
and neither pgfplots nor the browser does arithmetic of its own beyond drawing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from nnverify.model import Activation
from nnverify.numeric import activate
from nnverify.report.lang import Words
from nnverify.report.numbers import format_number

__all__ = ["activation_plot", "ulp_histogram", "histogram_bins", "PLOT_LIMIT"]

#: Largest |a| drawn on an activation plot.
PLOT_LIMIT = 1e4

_MARKS = ("*", "square*", "triangle*", "diamond*", "pentagon*", "o")
_COLOURS = ("red!75!black", "blue!75!black", "green!50!black", "orange!90!black",
            "violet", "black")
_SVG_COLOURS = ("#bf0000", "#0000bf", "#008000", "#e68a00", "#8f00ff", "#000000")
_W, _H, _PAD = 360.0, 230.0, 38.0  # SVG plot size and margin (px)


def _f(v: float, places: int = 4) -> str:
    s = f"{v:.{places}f}"
    return s if s.strip("-0.") else s.lstrip("-")


def _curve(activation: Activation, a: np.ndarray) -> np.ndarray | None:
    """The curve at the grid ``a``; None for step (two segments) and softmax (not elementwise)."""
    if activation in (Activation.STEP, Activation.SOFTMAX):
        return None
    return np.asarray(activate(activation, a), dtype=np.float64)


def _svg_axes(x_lo: float, x_hi: float, y_lo: float, y_hi: float, title: str, xlabel: str,
              ylabel: str = "") -> tuple[list[str], Callable[[float, float], tuple[float, float]]]:
    """The frame, ticks and labels of an SVG plot; returns the elements and a mapping to px."""
    def to_px(x: float, y: float) -> tuple[float, float]:
        return (_PAD + (x - x_lo) / (x_hi - x_lo) * (_W - 1.5 * _PAD),
                _H - _PAD - (y - y_lo) / (y_hi - y_lo) * (_H - 1.8 * _PAD))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="{_W:.0f}" height="{_H:.0f}" '
           f'viewBox="0 0 {_W:.0f} {_H:.0f}" role="img" font-size="10">',
           f'<text x="{_W / 2:.0f}" y="14" text-anchor="middle" font-size="12">{html.escape(title)}</text>']
    x0, y0 = to_px(x_lo, y_lo)
    x1, y1 = to_px(x_hi, y_hi)
    out.append(f'<rect x="{x0:.1f}" y="{y1:.1f}" width="{x1 - x0:.1f}" height="{y0 - y1:.1f}" '
               'fill="none" stroke="#000"/>')
    for v in _ticks(x_lo, x_hi):
        px, _ = to_px(v, y_lo)
        out.append(f'<line x1="{px:.1f}" y1="{y1:.1f}" x2="{px:.1f}" y2="{y0:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{px:.1f}" y="{y0 + 12:.1f}" text-anchor="middle">{_tick_text(v)}</text>')
    for v in _ticks(y_lo, y_hi):
        _, py = to_px(x_lo, v)
        out.append(f'<line x1="{x0:.1f}" y1="{py:.1f}" x2="{x1:.1f}" y2="{py:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{x0 - 4:.1f}" y="{py + 3:.1f}" text-anchor="end">{_tick_text(v)}</text>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{_H - 6:.0f}" text-anchor="middle">{html.escape(xlabel)}</text>')
    if ylabel:
        out.append(f'<text x="10" y="{(y0 + y1) / 2:.1f}" transform="rotate(-90 10 {(y0 + y1) / 2:.1f})" '
                   f'text-anchor="middle">{html.escape(ylabel)}</text>')
    return out, to_px


def _ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 5)) if span > 0 else 1.0
    for m in (1, 2, 5, 10):
        if span / (step * m) <= 6:
            step *= m
            break
    first = math.ceil(lo / step) * step
    return [round(first + k * step, 10) for k in range(int((hi - first) / step) + 1)]


def _tick_text(v: float) -> str:
    return f"{v:g}".replace("-", "\u2212")


def activation_plot(
    activation: Activation,
    points: Sequence[tuple[int, Sequence[float], Sequence[float]]],
    *,
    output_layer: bool,
    words: Words,
    width_cm: float = 7.6,
) -> tuple[str, str]:
    """The activation's curve and the units' operating points ``(a_j, z_j)``: (pgfplots, SVG).

    Args:
        activation: the function drawn.
        points: per layer using it, ``(l, a values, z values)`` of the derived input.
        output_layer: name the function sigma (output) rather than h (hidden).
        words: the report's language (legend, title).
        width_cm: the plot's width in the PDF.
    """
    # Operating points beyond +-PLOT_LIMIT would squash the curve to a step: they are left out.
    kept: list[tuple[int, list[float], list[float]]] = []
    for l, av, zv in points:
        pairs = [(float(a), float(z)) for a, z in zip(av, zv) if abs(float(a)) <= PLOT_LIMIT]
        kept.append((l, [a for a, _ in pairs], [z for _, z in pairs]))
    all_a = [v for _, av, _ in kept for v in av]
    lo = math.floor(min([-6.0] + [v - 1 for v in all_a]))
    hi = math.ceil(max([6.0] + [v + 1 for v in all_a]))
    grid = np.linspace(lo, hi, 97)
    fname = r"\sigma" if output_layer else "h"
    ys = _curve(activation, grid)
    if activation is Activation.STEP:
        segments = [[(float(lo), 0.0), (0.0, 0.0)], [(0.0, 1.0), (float(hi), 1.0)]]
    elif ys is not None:
        segments = [[(float(a), float(y)) for a, y in zip(grid, ys)]]
    else:
        segments = []
    tikz = [
        r"\begin{tikzpicture}", r"\begin{axis}[",
        f"  width={_f(width_cm, 1)}cm, height=5.2cm, title={{${fname}(a)$: {activation.value}}},",
        r"  xlabel={$a$}, grid=major, grid style={black!12},",
        r"  legend pos=north west, legend style={font=\scriptsize, fill=white, fill opacity=0.85,"
        r" text opacity=1},",
        r"  tick label style={font=\scriptsize}, label style={font=\small}, title style={font=\small},",
        f"  xmin={lo}, xmax={hi}]",
    ]
    for seg in segments:
        coords = " ".join(f"({_f(a)},{_f(y)})" for a, y in seg)
        tikz.append(f"\\addplot[black!70, thick, smooth, forget plot] coordinates {{{coords}}};")
    for k, (l, av, zv) in enumerate(kept):
        if av:
            mark, colour = _MARKS[k % len(_MARKS)], _COLOURS[k % len(_COLOURS)]
            coords = " ".join(f"({_f(a)},{_f(z)})" for a, z in zip(av, zv))
            tikz.append(f"\\addplot[only marks, mark={mark}, mark size=2pt, color={colour}] "
                        f"coordinates {{{coords}}};")
            tikz.append(f"\\addlegendentry{{{words.word('legend_layer', l=l)}}}")
    svg = _svg_activation(lo, hi, segments, kept, f"{'σ' if output_layer else 'h'}(a): {activation.value}",
                          words)
    tikz += [r"\end{axis}", r"\end{tikzpicture}"]
    return "\n".join(tikz), svg


def _svg_activation(lo: float, hi: float, segments: list[list[tuple[float, float]]],
                    kept: list[tuple[int, list[float], list[float]]], title: str, words: Words) -> str:
    """The SVG twin of :func:`activation_plot`'s axis: the curve, the points, the legend."""
    ys_all = [y for seg in segments for _, y in seg] + [z for _, _, zv in kept for z in zv]
    y_lo, y_hi = min(ys_all + [0.0]), max(ys_all + [1.0])
    pad = (y_hi - y_lo) * 0.05 or 0.5
    svg, to_px = _svg_axes(lo, hi, y_lo - pad, y_hi + pad, title, "a")
    for seg in segments:
        pts = " ".join("{:.1f},{:.1f}".format(*to_px(a, y)) for a, y in seg)
        svg.append(f'<polyline points="{pts}" fill="none" stroke="#444" stroke-width="1.6"/>')
    for k, (l, av, zv) in enumerate(kept):
        if not av:
            continue
        for a, z in zip(av, zv):
            px, py = to_px(a, z)
            svg.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.2" fill="{_SVG_COLOURS[k % 6]}"/>')
        svg.append(f'<text x="{_PAD + 8:.0f}" y="{32 + 12 * k}" fill="{_SVG_COLOURS[k % 6]}">'
                   f'\u25cf {html.escape(words.word("legend_layer", l=l))}</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def histogram_bins(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Bin edges (a round width: 0.1, 0.25, 0.5, 1, 2, 5, ...) and counts for ULP errors >= 0.

    Bin k is ``[k w, (k+1) w)``, decided on exact rationals (no float division puts a value
    in its neighbour's bin); at least 4 bins, at most 25.
    """
    vals = [Fraction(float(v)) for v in values]
    top = max(vals, default=Fraction(0))
    width = Fraction(1, 10)
    for w in ("0.1", "0.25", "0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500"):
        width = Fraction(w)
        if top / width <= 24:
            break
    else:
        while top / width > 24:
            width *= 10
    n_bins = max(math.floor(top / width) + 1, 4)
    counts = [0] * n_bins
    for v in vals:
        counts[min(math.floor(v / width), n_bins - 1)] += 1
    edges = [float(k * width) for k in range(n_bins + 1)]
    return edges, counts


def ulp_histogram(values: Sequence[float], *, dtype_name: str, words: Words,
                  width_cm: float = 12.0, worst_latex: str | None = None) -> tuple[str, str]:
    """The distribution of ULP errors: (pgfplots ``ybar interval``, SVG bars).

    Args:
        values: the ULP errors of all outputs over the sampled inputs.
        dtype_name: the float type the errors are measured in (axis label).
        words: the report's language (title, axis labels).
        width_cm: the plot's width in the PDF.
        worst_latex: the largest error as certified (default: the largest of ``values``, which are
            lower bounds of the errors, to 3 figures).
    """
    edges, counts = histogram_bins(values)
    coords = " ".join(f"({_f(e, 2)},{c})" for e, c in zip(edges, counts + [0]))
    if worst_latex is None:
        worst_latex = (format_number(float(max(values)), 3) if len(values) else format_number(0)).latex
    title = words.word("hist_title", worst=worst_latex.replace(r" \times 10^{", "e").rstrip("}"))
    xlabel = words.word("hist_x", dtype=dtype_name)
    ylabel = words.word("hist_y")
    tikz = "\n".join([
        r"\begin{tikzpicture}", r"\begin{axis}[",
        f"  width={_f(width_cm, 1)}cm, height=5.5cm, ybar interval, ymin=0,",
        f"  title={{{words.word('hist_title', worst='$' + worst_latex + '$')}}}, title style={{font=\\small}},",
        f"  xlabel={{{xlabel}}}, ylabel={{{ylabel}}},",
        r"  tick label style={font=\scriptsize}, label style={font=\small},",
        r"  x tick label as interval=false, grid=major, grid style={black!12},",
        r"  xticklabel style={/pgf/number format/fixed}]",
        f"\\addplot[fill=blue!35, draw=blue!60!black] coordinates {{{coords}}};",
        r"\end{axis}", r"\end{tikzpicture}",
    ])
    svg, to_px = _svg_axes(edges[0], edges[-1], 0.0, max(counts + [1]) * 1.05, title, xlabel, ylabel)
    for k, c in enumerate(counts):
        (x0, y0), (x1, y1) = to_px(edges[k], 0.0), to_px(edges[k + 1], float(c))
        svg.append(f'<rect x="{x0:.1f}" y="{y1:.1f}" width="{x1 - x0:.1f}" height="{y0 - y1:.1f}" '
                   'fill="#a6a6ff" stroke="#3d3d99"/>')
    svg.append("</svg>")
    return tikz, "\n".join(svg)
