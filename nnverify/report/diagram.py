"""Drawings of the actual network: one layout, drawn twice (TikZ for the PDF, SVG for the web).

The layout is computed here, in centimetres: units in columns, the bias unit "1" on top of
each column as in the book's figures (3-17 to 3-19), every weight label placed near the middle
of its edge where it overlaps no unit and no other label (a greedy search along the edge),
labels and units drawn over the edges. A network too deep for the page is split into rows of
at most :data:`GAPS_PER_ROW` layers (the boundary column repeated), never scaled down; a
layer with more than :data:`DENSE_EDGES` edges is drawn with shaded edges and no labels
(the matrices carry the numbers). All text is built from integers and formatted numbers.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnverify.model import Network
from nnverify.report.lang import Words
from nnverify.report.layout import estimate_width
from nnverify.report.mathml import to_mathml
from nnverify.report.numbers import Number

__all__ = ["DiagramRow", "network_diagram", "summary_diagram", "is_dense", "DENSE_EDGES",
           "GAPS_PER_ROW"]

#: A layer with more edges than this (bias edges included) is drawn shaded, without labels.
DENSE_EDGES = 12
#: Most layer gaps drawn side by side in one row (the text block is 17 cm wide).
GAPS_PER_ROW = 3
_GAP_X = {False: 5.0, True: 3.6}  # cm between columns, labelled or shaded
_GAP_Y = 2.0  # cm between units in a column
_UNIT_H = 0.95
_DIGIT_FOOT = 0.141  # cm per digit width at 8 pt (\footnotesize)
_DIGIT_SCRIPT = 0.123  # cm per digit width at 7 pt (\scriptsize): the smallest text drawn
_LABEL_H = 0.4
_BIAS_R = 0.3
_PX = 37.8  # SVG pixels per cm


@dataclass(frozen=True)
class DiagramRow:
    """One row of a network drawing.

    Args:
        tikz: the ``tikzpicture``.
        svg: the same layout as an ``<svg>`` element (MathML labels).
    """

    tikz: str
    svg: str


@dataclass(frozen=True)
class _Node:
    key: str
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]  # math, one per line
    bias: bool = False


@dataclass(frozen=True)
class _Edge:
    src: _Node
    dst: _Node
    label: str | None  # math
    colour: str = "black!55"
    width: float = 0.4  # pt


@dataclass(frozen=True)
class _Label:
    x: float
    y: float
    w: float
    text: str


def is_dense(network: Network) -> bool:
    """True when some layer is drawn shaded instead of labelled (see the module text)."""
    return any((ly.n_in + 1) * ly.n_out > DENSE_EDGES for ly in network.layers)


def _unit_nodes(network: Network, x: Sequence[str], a: Sequence[Sequence[str]],
                z: Sequence[Sequence[str]], cols: range, slots: int) -> dict[str, _Node]:
    L = len(network.layers)
    nodes: dict[str, _Node] = {}
    top = (slots - 1) / 2 * _GAP_Y
    for c, l in enumerate(cols):
        cx = c * _GAP_X[_dense_row(network, cols)]
        n = network.sizes[l]
        has_bias = l < L and l + 1 in cols
        count = n + (1 if has_bias else 0)
        y0 = top - (slots - count) / 2 * _GAP_Y
        if has_bias:
            nodes[f"u{l}-0"] = _Node(f"u{l}-0", cx, y0, 2 * _BIAS_R, 2 * _BIAS_R, ("1",), bias=True)
        for j in range(1, n + 1):
            y = y0 - (j - 1 + (1 if has_bias else 0)) * _GAP_Y
            if l == 0:
                lines: tuple[str, ...] = (f"x_{{{j}}}", x[j - 1])
            else:
                name = f"y_{{{j}}}" if l == L else f"z^{{({l})}}_{{{j}}}"
                lines = (f"a^{{({l})}}_{{{j}}} \\to {name}", f"{a[l - 1][j - 1]} \\to {z[l - 1][j - 1]}")
            w = max(estimate_width(t) for t in lines) * _DIGIT_FOOT + 0.35
            nodes[f"u{l}-{j}"] = _Node(f"u{l}-{j}", cx, y, max(w, 1.3), _UNIT_H, lines)
    return nodes


def _dense_row(network: Network, cols: range) -> bool:
    return any((network.layers[l - 1].n_in + 1) * network.layers[l - 1].n_out > DENSE_EDGES
               for l in cols if l > cols[0])


def _neg(text: str) -> str:
    """``= -0.2`` with the minus as a sign, not a binary operator (``{-}``)."""
    return "{-}" + text[1:] if text.startswith("-") else text


def _edges(network: Network, nodes: dict[str, _Node], cols: range,
           labels: Sequence[Sequence[Sequence[Number]]]) -> list[_Edge]:
    out = []
    dense = _dense_row(network, cols)
    for l in cols:
        if l == cols[0]:  # the first column's edges come in from the row before
            continue
        layer = network.layers[l - 1]
        scale = float(max(np.max(np.abs(layer.W)), np.max(np.abs(layer.b)), 1e-300))
        for j in range(1, layer.n_out + 1):
            for i in range(0, layer.n_in + 1):
                w = float(layer.b[j - 1]) if i == 0 else float(layer.W[i - 1, j - 1])
                src, dst = nodes[f"u{l - 1}-{i}"], nodes[f"u{l}-{j}"]
                if dense:
                    colour = "red!70!black" if w >= 0 else "blue!70!black"
                    out.append(_Edge(src, dst, None, colour, 0.2 + 1.6 * abs(w) / scale))
                    continue
                name = f"b^{{({l})}}_{{{j}}}" if i == 0 else f"w^{{({l})}}_{{{_ij(j, i)}}}"
                num = labels[l - 1][i][j - 1]
                out.append(_Edge(src, dst, f"{name} {num.relation} {_neg(num.latex)}"))
    return out


def _ij(j: int, i: int) -> str:
    return f"{j}{i}" if j < 10 and i < 10 else f"{j},{i}"


def _border(a: _Node, b: _Node) -> tuple[float, float]:
    """Where the segment from a's centre towards b's leaves a's box (or circle)."""
    dx, dy = b.x - a.x, b.y - a.y
    if a.bias:
        d = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        return a.x + dx / d * _BIAS_R, a.y + dy / d * _BIAS_R
    t = min(a.w / 2 / abs(dx) if dx else 1e9, a.h / 2 / abs(dy) if dy else 1e9)
    return a.x + dx * t, a.y + dy * t


def _overlap(p: tuple[float, float, float, float], q: tuple[float, float, float, float]) -> float:
    w = min(p[2], q[2]) - max(p[0], q[0])
    h = min(p[3], q[3]) - max(p[1], q[1])
    return w * h if w > 0 and h > 0 else 0.0


def _crosses(seg: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    """True when the segment passes through the box (sampled: labels are small, edges long)."""
    x0, y0, x1, y1 = seg
    for k in range(41):
        t = k / 40
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            return True
    return False


def _place_labels(nodes: dict[str, _Node], edges: list[_Edge]) -> list[_Label]:
    """Greedy: each label at the point along its edge with the least clutter.

    Clutter is overlap with units and earlier labels (weighted heavily) and other edges
    crossing the label (lightly); ties go to the point nearest the middle.
    """
    boxes = [(n.x - n.w / 2 - 0.05, n.y - n.h / 2 - 0.05, n.x + n.w / 2 + 0.05, n.y + n.h / 2 + 0.05)
             for n in nodes.values()]
    segs = [(*_border(e.src, e.dst), *_border(e.dst, e.src)) for e in edges]
    placed: list[_Label] = []
    for k, e in enumerate(edges):
        if e.label is None:
            continue
        x0, y0, x1, y1 = segs[k]
        w = estimate_width(e.label) * _DIGIT_SCRIPT * 1.1 + 0.16
        best: tuple[float, float, float] | None = None
        for t in (0.5, 0.58, 0.42, 0.66, 0.34, 0.74, 0.26, 0.8, 0.2):
            cx, cy = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            box = (cx - w / 2, cy - _LABEL_H / 2, cx + w / 2, cy + _LABEL_H / 2)
            score = 100 * sum(_overlap(box, b) for b in boxes)
            score += 0.2 * sum(1 for m, sg in enumerate(segs) if m != k and _crosses(sg, box))
            if best is None or score < best[0] - 1e-9:
                best = (score, cx, cy)
        assert best is not None
        _, cx, cy = best
        boxes.append((cx - w / 2 - 0.04, cy - _LABEL_H / 2 - 0.04, cx + w / 2 + 0.04, cy + _LABEL_H / 2 + 0.04))
        placed.append(_Label(cx, cy, w, e.label))
    return placed


def _c(v: float) -> str:
    s = f"{v:.3f}"
    return "0.000" if s == "-0.000" else s


def _tikz(nodes: dict[str, _Node], edges: list[_Edge], labels: list[_Label]) -> str:
    out = [
        r"\begin{tikzpicture}[",
        r"  unit/.style={draw, rounded corners=2pt, align=center, inner sep=2pt, fill=white,",
        r"    font=\footnotesize, minimum height=0.95cm},",
        r"  bias/.style={draw, circle, fill=black!8, font=\footnotesize, minimum size=0.6cm, inner sep=0pt},",
        r"  wlabel/.style={font=\scriptsize, fill=white, inner sep=0.6pt}]",
    ]
    for n in nodes.values():
        style = "bias" if n.bias else f"unit, minimum width={_c(n.w)}cm"
        text = "\\\\".join(f"${t}$" for t in n.lines)
        out.append(f"\\node[{style}] ({n.key}) at ({_c(n.x)},{_c(n.y)}) {{{text}}};")
    out.append(r"\begin{pgfonlayer}{background}")
    for e in edges:
        out.append(f"\\draw[-latex, draw={e.colour}, line width={_c(e.width)}pt] "
                   f"({e.src.key}) -- ({e.dst.key});")
    out.append(r"\end{pgfonlayer}")
    for lab in labels:
        out.append(f"\\node[wlabel] at ({_c(lab.x)},{_c(lab.y)}) {{${lab.text}$}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


_SVG_COLOURS = {"black!55": "#737373", "red!70!black": "#b30000", "blue!70!black": "#0000b3"}


def _svg(nodes: dict[str, _Node], edges: list[_Edge], labels: list[_Label]) -> str:
    xs = [n.x - n.w / 2 for n in nodes.values()] + [n.x + n.w / 2 for n in nodes.values()]
    ys = [n.y - n.h / 2 for n in nodes.values()] + [n.y + n.h / 2 for n in nodes.values()]
    x_min, y_max = min(xs) - 0.3, max(ys) + 0.3
    W, H = (max(xs) + 0.3 - x_min) * _PX, (y_max - (min(ys) - 0.3)) * _PX

    def px(x: float, y: float) -> tuple[str, str]:
        return f"{(x - x_min) * _PX:.1f}", f"{(y_max - y) * _PX:.1f}"

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{W:.0f}" height="{H:.0f}" '
           f'viewBox="0 0 {W:.0f} {H:.0f}" role="img">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="#555"/></marker></defs>']
    for e in edges:
        (x0, y0), (x1, y1) = px(*_border(e.src, e.dst)), px(*_border(e.dst, e.src))
        out.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{_SVG_COLOURS[e.colour]}" '
                   f'stroke-width="{e.width * 1.33:.2f}" marker-end="url(#arrow)"/>')
    for n in nodes.values():
        x, y = px(n.x - n.w / 2, n.y + n.h / 2)
        w, h = f"{n.w * _PX:.1f}", f"{n.h * _PX:.1f}"
        if n.bias:
            cx, cy = px(n.x, n.y)
            out.append(f'<circle cx="{cx}" cy="{cy}" r="{_BIAS_R * _PX:.1f}" fill="#ebebeb" stroke="#000"/>')
        else:
            out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3" fill="#fff" stroke="#000"/>')
        body = "<br/>".join(to_mathml(t) for t in n.lines)
        out.append(_foreign(x, y, w, h, body, "unit"))
    for lab in labels:
        x, y = px(lab.x - lab.w / 2, lab.y + _LABEL_H / 2)
        out.append(_foreign(x, y, f"{lab.w * _PX:.1f}", f"{_LABEL_H * _PX:.1f}", to_mathml(lab.text),
                            "wlabel"))
    out.append("</svg>")
    return "\n".join(out)


def _foreign(x: str, y: str, w: str, h: str, body: str, cls: str) -> str:
    return (f'<foreignObject x="{x}" y="{y}" width="{w}" height="{h}">'
            f'<div xmlns="http://www.w3.org/1999/xhtml" class="{cls}">{body}</div></foreignObject>')


def network_diagram(
    network: Network,
    x: Sequence[str],
    a: Sequence[Sequence[str]],
    z: Sequence[Sequence[str]],
    labels: Sequence[Sequence[Sequence[Number]]],
) -> list[DiagramRow]:
    """The network drawn with one input's values on every unit, in rows of a page's width.

    Args:
        network: the network (small: every unit is drawn).
        x: the input's values (formatted math).
        a: per layer, the units' weighted sums ``a^{(l)}_j`` (formatted math).
        z: per layer, the units' outputs ``z^{(l)}_j`` (formatted math).
        labels: per layer ``l``, ``labels[l-1][i][j-1]``: the number printed on the edge from
            unit i (0 = the bias unit) to unit j, with ``=`` or ``\\approx`` as it is exact.
    """
    L = len(network.layers)
    rows = []
    for start in range(0, L, GAPS_PER_ROW):
        cols = range(start, min(start + GAPS_PER_ROW, L) + 1)
        slots = max(network.sizes[l] + (1 if l < cols[-1] else 0) for l in cols)
        nodes = _unit_nodes(network, x, a, z, cols, slots)
        edges = _edges(network, nodes, cols, labels)
        placed = _place_labels(nodes, edges)
        rows.append(DiagramRow(_tikz(nodes, edges, placed), _svg(nodes, edges, placed)))
    return rows


def summary_diagram(network: Network, words: Words) -> DiagramRow:
    """A big network summarised: one box per layer with its size and activation.

    Args:
        network: the network.
        words: the report's language (box texts).
    """
    sizes = network.sizes
    L = len(network.layers)
    tikz = [
        r"\begin{tikzpicture}[",
        r"  layer/.style={draw, rounded corners=3pt, align=center, fill=black!4,",
        r"    font=\small, minimum width=2.3cm, minimum height=2.6cm},",
        r"  arrow/.style={-latex, thick, draw=black!65}]",
    ]
    gap = 3.6
    svg_w, svg_h = (gap * L + 2.6) * _PX, 3.2 * _PX
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{svg_w:.0f}" '
           f'height="{svg_h:.0f}" viewBox="0 0 {svg_w:.0f} {svg_h:.0f}" role="img">']
    for l, size in enumerate(sizes):
        lines: tuple[str, ...]
        if l == 0:
            lines = (f"\\text{{{words.word('box_input')}}}", f"x_1, \\dots, x_{{{size}}}",
                     f"\\text{{{words.word('box_units', n=size)}}}")
        else:
            act = network.layers[l - 1].activation.value
            lines = (f"\\text{{{words.word('box_layer', l=l)}}}", "y" if l == L else f"z^{{({l})}}",
                     f"\\text{{{words.word('box_units', n=size)}}}", f"\\text{{{act}}}")
        text = "\\\\".join(f"${t}$" for t in lines)
        tikz.append(f"\\node[layer] (L{l}) at ({_c(l * gap)},0) {{{text}}};")
        x0 = (0.15 + l * gap) * _PX
        svg.append(f'<rect x="{x0:.1f}" y="{0.3 * _PX:.1f}" width="{2.3 * _PX:.1f}" height="{2.6 * _PX:.1f}" '
                   f'rx="4" fill="#f5f5f5" stroke="#000"/>')
        body = "<br/>".join(to_mathml(t) for t in lines)
        svg.append(_foreign(f"{x0:.1f}", f"{0.3 * _PX:.1f}", f"{2.3 * _PX:.1f}", f"{2.6 * _PX:.1f}", body,
                            "unit"))
    for l, layer in enumerate(network.layers, start=1):
        shape = f"{layer.W.shape[0]}\\times{layer.W.shape[1]}"
        tikz.append(f"\\draw[arrow] (L{l - 1}) -- node[above, font=\\scriptsize] {{$W^{{({l})}}$}} "
                    f"node[below, font=\\scriptsize] {{${shape}$}} (L{l});")
        x0, x1 = (2.45 + (l - 1) * gap) * _PX, (0.15 + l * gap) * _PX
        svg.append(f'<line x1="{x0:.1f}" y1="{1.6 * _PX:.1f}" x2="{x1:.1f}" y2="{1.6 * _PX:.1f}" '
                   'stroke="#555" stroke-width="1.5"/>')
        svg.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{1.45 * _PX:.1f}" font-size="11" text-anchor="middle">'
                   f'{html.escape(f"{layer.W.shape[0]}×{layer.W.shape[1]}")}</text>')
    tikz.append(r"\end{tikzpicture}")
    svg.append("</svg>")
    return DiagramRow("\n".join(tikz), "\n".join(svg))
