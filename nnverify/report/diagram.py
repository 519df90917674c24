"""TikZ drawings of the actual network: every unit and weight when small, a summary when big.

All text in a drawing is built from integers, enum values and formatted numbers; no user text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnverify.model import Network
from nnverify.report.numbers import format_number

__all__ = ["network_diagram", "summary_diagram", "is_dense", "DENSE_EDGES", "DENSE_LEGEND",
           "LABELLED_MAX_LAYERS"]

#: A layer with more edges than this (bias edges included) is drawn shaded, without labels.
DENSE_EDGES = 12
#: Networks with more layers than this are drawn shaded: labels need the room of 3 gaps.
LABELLED_MAX_LAYERS = 3
_GAP_X = 5.2  # cm between layer columns
_GAP_Y = 2.5  # cm between units in a column


def _n(value: float, digits: int = 4) -> str:
    return format_number(value, digits).latex


def _coord(v: float) -> str:
    """A TikZ coordinate with fixed decimals (byte-stable output)."""
    s = f"{v:.3f}"
    return "0.000" if s == "-0.000" else s


def _ys(count: int, total: int) -> list[float]:
    """Vertical positions (top to bottom) of ``count`` nodes centred in a column of ``total`` slots."""
    top = (total - 1) / 2 * _GAP_Y
    offset = (total - count) / 2 * _GAP_Y
    return [top - offset - k * _GAP_Y for k in range(count)]


def network_diagram(
    network: Network,
    x: Sequence[float],
    a: Sequence[Sequence[float]],
    z: Sequence[Sequence[float]],
) -> str:
    """A ``tikzpicture`` of a small network with one input's values on every unit.

    Args:
        network: the network (small: every unit is drawn).
        x: the input's values.
        a: per layer, the units' weighted sums ``a^{(l)}_j`` (values to print).
        z: per layer, the units' outputs ``z^{(l)}_j``.

    Units show ``x_i`` or ``a^{(l)}_j \\to z^{(l)}_j`` with values; bias units are the "1"
    of the book's figures. Edges carry ``w^{(l)}_{ij}`` and its value, or, when a layer has
    more than :data:`DENSE_EDGES` edges or the network more than :data:`LABELLED_MAX_LAYERS`
    layers, are shaded by value (red positive, blue negative, thicker for larger magnitude)
    and explained in a legend.
    """
    sizes = network.sizes
    L = len(network.layers)
    slots = max(s + (1 if l < L else 0) for l, s in enumerate(sizes))
    out = [
        r"\begin{tikzpicture}[",
        r"  unit/.style={draw, rounded corners=2pt, align=center, inner sep=2pt, fill=white,",
        r"    font=\footnotesize, minimum width=1.25cm, minimum height=0.9cm},",
        r"  bias/.style={draw, circle, fill=black!8, font=\footnotesize, minimum size=0.6cm},",
        r"  wlabel/.style={font=\scriptsize, fill=white, inner sep=0.5pt},",
        r"  edge/.style={-latex, draw=black!55}]",
    ]
    dense = is_dense(network)
    gap_x = _GAP_X if not dense else 0.7 * _GAP_X
    for l, size in enumerate(sizes):
        cx = _coord(l * gap_x)
        has_bias = l < L
        ys = _ys(size + (1 if has_bias else 0), slots)
        for j in range(1, size + 1):
            y = _coord(ys[j - 1])
            if l == 0:
                text = f"$x_{{{j}}}$\\\\${_n(x[j - 1])}$"
            else:
                av, zv = a[l - 1][j - 1], z[l - 1][j - 1]
                name = f"y_{{{j}}}" if l == L else f"z^{{({l})}}_{{{j}}}"
                text = (
                    f"$a^{{({l})}}_{{{j}}} \\to {name}$\\\\"
                    f"${_n(av)} \\to {_n(zv)}$"
                )
            out.append(f"\\node[unit] (u{l}-{j}) at ({cx},{y}) {{{text}}};")
        if has_bias:
            out.append(f"\\node[bias] (u{l}-0) at ({cx},{_coord(ys[-1])}) {{$1$}};")
    for l, layer in enumerate(network.layers, start=1):
        W, b = layer.W, layer.b
        if dense:
            scale = float(max(np.max(np.abs(W)), np.max(np.abs(b)), 1e-300))
            for i in range(0, W.shape[0] + 1):
                for j in range(1, W.shape[1] + 1):
                    w = float(b[j - 1]) if i == 0 else float(W[i - 1, j - 1])
                    colour = "red!70!black" if w >= 0 else "blue!70!black"
                    width = _coord(0.2 + 1.6 * abs(w) / scale)
                    out.append(
                        f"\\draw[-latex, draw={colour}, line width={width}pt] "
                        f"(u{l - 1}-{i}) -- (u{l}-{j});"
                    )
            continue
        for i in range(0, W.shape[0] + 1):
            for j in range(1, W.shape[1] + 1):
                if i == 0:
                    name, w = f"b^{{({l})}}_{{{j}}}", float(b[j - 1])
                else:
                    name, w = f"w^{{({l})}}_{{{_ij(i, j)}}}", float(W[i - 1, j - 1])
                # Stagger labels along the edge by source so labels of edges that fan out from
                # one unit, or converge on one, do not sit on top of each other.
                pos = "0.2"
                out.append(
                    f"\\draw[edge] (u{l - 1}-{i}) -- node[wlabel, pos={pos}] "
                    f"{{${name}{{=}}{_n(w)}$}} (u{l}-{j});"
                )
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def is_dense(network: Network) -> bool:
    """True when :func:`network_diagram` shades edges instead of labelling them (see there)."""
    return len(network.layers) > LABELLED_MAX_LAYERS or any(
        (ly.n_in + 1) * ly.n_out > DENSE_EDGES for ly in network.layers
    )


#: The legend a document prints under a shaded diagram.
DENSE_LEGEND = (
    r"Edges: red positive, blue negative; line width proportional to $|w|$ within a layer "
    r"(the values are in the matrices below)."
)


def _ij(i: int, j: int) -> str:
    return f"{i}{j}" if i < 10 and j < 10 else f"{i},{j}"


def summary_diagram(network: Network) -> str:
    """A ``tikzpicture`` summarising a big network: one box per layer with its size and activation."""
    sizes = network.sizes
    L = len(network.layers)
    out = [
        r"\begin{tikzpicture}[",
        r"  layer/.style={draw, rounded corners=3pt, align=center, fill=black!4,",
        r"    font=\small, minimum width=2.3cm, minimum height=2.6cm},",
        r"  arrow/.style={-latex, thick, draw=black!65}]",
    ]
    gap = 3.6
    for l, size in enumerate(sizes):
        cx = _coord(l * gap)
        if l == 0:
            text = f"input\\\\$x_1, \\dots, x_{{{size}}}$\\\\[2pt]{size} units"
        else:
            act = network.layers[l - 1].activation.value
            name = "y" if l == L else f"z^{{({l})}}"
            text = (
                f"layer {l}\\\\${name}$\\\\[2pt]{size} units\\\\"
                f"\\textit{{{act}}}"
            )
        out.append(f"\\node[layer] (L{l}) at ({cx},0) {{{text}}};")
    for l, layer in enumerate(network.layers, start=1):
        shape = f"{layer.W.shape[0]}\\times{layer.W.shape[1]}"
        out.append(
            f"\\draw[arrow] (L{l - 1}) -- node[above, font=\\scriptsize] {{$W^{{({l})}}$}} "
            f"node[below, font=\\scriptsize] {{${shape}$}} (L{l});"
        )
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)
