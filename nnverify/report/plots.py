"""pgfplots figures with their data inline (no external image files).

Curves are sampled here, in Python, and written with fixed decimals, so the ``.tex`` is
byte-stable and pgfplots does no arithmetic of its own beyond drawing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from nnverify.model import Activation
from nnverify.numeric import ACTIVATIONS
from nnverify.report.numbers import format_number

__all__ = ["activation_plot", "ulp_histogram", "histogram_bins"]

#: Largest |a| drawn on an activation plot.
PLOT_LIMIT = 1e4

_MARKS = ("*", "square*", "triangle*", "diamond*", "pentagon*", "o")
_COLOURS = ("red!75!black", "blue!75!black", "green!50!black", "orange!90!black",
            "violet", "black")


def _f(v: float, places: int = 4) -> str:
    s = f"{v:.{places}f}"
    return s if s.strip("-0.") else s.lstrip("-")


def _curve(activation: Activation, a: np.ndarray) -> np.ndarray | None:
    """The curve drawn: nnverify's own (overflow-free) activation; step is drawn as two segments,
    softmax is not elementwise."""
    if activation in (Activation.STEP, Activation.SOFTMAX):
        return None
    return ACTIVATIONS[activation](a)


def activation_plot(
    activation: Activation,
    points: Sequence[tuple[int, Sequence[float], Sequence[float]]],
    *,
    output_layer: bool,
    width_cm: float = 7.6,
) -> str:
    """One ``axis``: the activation's curve and the units' operating points ``(a_j, z_j)``.

    Args:
        activation: the function drawn.
        points: per layer using it, ``(l, a values, z values)`` of the derived input.
        output_layer: name the function sigma (output) rather than h (hidden).
        width_cm: the plot's width.
    """
    # Operating points beyond +-PLOT_LIMIT would squash the curve to a step: they are left out.
    def kept(av: Sequence[float], zv: Sequence[float]) -> tuple[list[float], list[float]]:
        pairs = [(float(a), float(z)) for a, z in zip(av, zv) if abs(float(a)) <= PLOT_LIMIT]
        return [a for a, _ in pairs], [z for _, z in pairs]

    points = [(l, *kept(av, zv)) for l, av, zv in points]
    all_a = [float(v) for _, av, _ in points for v in av]
    lo = math.floor(min([-6.0] + [v - 1 for v in all_a]))
    hi = math.ceil(max([6.0] + [v + 1 for v in all_a]))
    grid = np.linspace(lo, hi, 97)
    fname = r"\sigma" if output_layer else "h"
    title = f"${fname}(a)$: {activation.value}"
    out = [
        r"\begin{tikzpicture}",
        r"\begin{axis}[",
        f"  width={_f(width_cm, 1)}cm, height=5.2cm, title={{{title}}},",
        r"  xlabel={$a$}, grid=major, grid style={black!12},",
        r"  legend pos=north west, legend style={font=\scriptsize, fill=white, fill opacity=0.85,"
        r" text opacity=1},",
        r"  tick label style={font=\scriptsize}, label style={font=\small}, title style={font=\small},",
        f"  xmin={lo}, xmax={hi}]",
    ]
    if activation is Activation.STEP:
        out.append(
            f"\\addplot[black!70, thick, forget plot] coordinates {{({lo},0) (0,0)}};\n"
            f"\\addplot[black!70, thick, forget plot] coordinates {{(0,1) ({hi},1)}};"
        )
    else:
        ys = _curve(activation, grid)
        if ys is not None:
            coords = " ".join(f"({_f(a)},{_f(y)})" for a, y in zip(grid, ys))
            out.append(f"\\addplot[black!70, thick, smooth, forget plot] coordinates {{{coords}}};")
    for k, (l, av, zv) in enumerate(points):
        if not av:
            continue
        mark, colour = _MARKS[k % len(_MARKS)], _COLOURS[k % len(_COLOURS)]
        coords = " ".join(f"({_f(float(a))},{_f(float(z))})" for a, z in zip(av, zv))
        out.append(
            f"\\addplot[only marks, mark={mark}, mark size=2pt, color={colour}] "
            f"coordinates {{{coords}}};"
        )
        out.append(f"\\addlegendentry{{layer {l}}}")
    out += [r"\end{axis}", r"\end{tikzpicture}"]
    return "\n".join(out)


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


def ulp_histogram(values: Sequence[float], *, dtype_name: str, width_cm: float = 12.0) -> str:
    """An ``axis`` with the distribution of ULP errors (``ybar interval``).

    Args:
        values: the ULP errors of all outputs over the sampled inputs.
        dtype_name: the float type the errors are measured in (axis label).
        width_cm: the plot's width.
    """
    edges, counts = histogram_bins(values)
    coords = " ".join(f"({_f(e, 2)},{c})" for e, c in zip(edges, counts + [0]))
    worst = format_number(float(max(values)), 3).latex if len(values) else "0"
    return "\n".join([
        r"\begin{tikzpicture}",
        r"\begin{axis}[",
        f"  width={_f(width_cm, 1)}cm, height=5.5cm, ybar interval, ymin=0,",
        f"  title={{largest error: ${worst}$ ulp}}, title style={{font=\\small}},",
        f"  xlabel={{distance from the exact value (ulp of {dtype_name})}}, ylabel={{outputs}},",
        r"  tick label style={font=\scriptsize}, label style={font=\small},",
        r"  x tick label as interval=false, grid=major, grid style={black!12},",
        r"  xticklabel style={/pgf/number format/fixed}]",
        f"\\addplot[fill=blue!35, draw=blue!60!black] coordinates {{{coords}}};",
        r"\end{axis}",
        r"\end{tikzpicture}",
    ])
