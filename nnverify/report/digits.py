"""The checked digits as a grid of pictures, each with its label, prediction and certified mark.

Drawn twice from one layout, like every figure of a report: TikZ for the PDF (each picture an
inline image, :func:`nnverify.report.images.pdf_inline_image`, so the ``.tex`` needs no
other file) and SVG for the HTML page (each picture a PNG ``data:`` URI). Under each digit:
``label -> prediction`` (0-based classes, as ``np.argmax``), red when they differ; a check mark
when the prediction is certified, a framed ``?`` when it is not. The number left of a row is
the input number (1-based, as in the tables) of its first digit; a tag above a digit is its
position in the data set (``#7798``) when the inputs are a selection.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnverify.report.blocks import Cell, Strong, Table, Text
from nnverify.report.images import data_uri, pdf_inline_image, png_gray

__all__ = ["DigitCell", "digit_grid", "digit_table", "GRID_COLUMNS", "MAX_GRID"]

#: Digits per row of the grid.
GRID_COLUMNS = 10
#: Most digits drawn (the rest are counted in the text).
MAX_GRID = 100

# Layout in cm (PDF) and px (SVG): label column, cell width, picture side, caption, tag.
_CM = {"label": 0.75, "cell": 1.55, "side": 1.1, "caption": 0.42, "gap": 0.16, "tag": 0.28}
_PX = {"label": 34.0, "cell": 72.0, "side": 56.0, "caption": 18.0, "gap": 8.0, "tag": 13.0}
_RED, _ORANGE = "red!75!black", "orange!85!black"
_SVG_RED, _SVG_ORANGE = "#bf0000", "#d97000"


@dataclass(frozen=True)
class DigitCell:
    """One digit of the grid.

    Args:
        pixels: ``uint8`` ``(height, width)``, 0 black, first row on top (see
            :func:`nnverify.report.images.grey_pixels`).
        number: the input's number, 1-based as in the report's tables.
        label: its label (0-based class), or None.
        predicted: the float forward's class (0-based, ``np.argmax``).
        certified: whether that prediction is certified.
        tag: its position in the data set (``#7798``), or ``""``.
    """

    pixels: np.ndarray
    number: int
    label: int | None
    predicted: int
    certified: bool
    tag: str = ""

    @property
    def wrong(self) -> bool:
        return self.label is not None and self.label != self.predicted


def _row_height(u: dict[str, float], tags: bool) -> float:
    return (u["tag"] if tags else 0.0) + u["side"] + u["caption"] + u["gap"]


def _f(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _caption_tex(c: DigitCell) -> str:
    text = f"${c.predicted}$" if c.label is None else f"${c.label} \\to {c.predicted}$"
    if c.wrong:
        text = f"\\textcolor{{{_RED}}}{{{text}}}"
    mark = r"\,\checkmark" if c.certified else f"\\,\\textcolor{{{_ORANGE}}}{{\\textbf{{?}}}}"
    return text + mark


def _tikz(cells: Sequence[DigitCell], columns: int) -> str:
    u = _CM
    tags = any(c.tag for c in cells)
    rh = _row_height(u, tags)
    side_bp = u["side"] * 72 / 2.54
    out = [
        # One picture: an hbox of the picture's size whose origin the literal's cm scales from.
        r"\def\nnvdigit#1{\vbox to " + f"{_f(u['side'])}cm" + r"{\vfil\hbox to " + f"{_f(u['side'])}cm"
        + r"{\ifdefined\pdfliteral\pdfliteral{q " + f"{side_bp:.2f} 0 0 {side_bp:.2f}"
        + r" 0 0 cm #1 Q}\fi\hfil}}}",
        r"\begin{tikzpicture}[x=1cm, y=1cm, font=\scriptsize]",
    ]
    for n, c in enumerate(cells):
        r, k = divmod(n, columns)
        x = u["label"] + k * u["cell"] + (u["cell"] - u["side"]) / 2
        top = -r * rh - (u["tag"] if tags else 0.0)
        if k == 0:
            out.append(f"\\node[anchor=east, text=black!60] at ({_f(u['label'] - 0.1)},{_f(top - u['side'] / 2)}) "
                       f"{{{c.number}}};")
        if c.tag:
            out.append(f"\\node[anchor=south, inner sep=1pt, font=\\tiny, text=black!60] at "
                       f"({_f(x + u['side'] / 2)},{_f(top)}) {{\\#{c.tag.lstrip('#')}}};")
        out.append(f"\\node[inner sep=0pt, anchor=north west] at ({_f(x)},{_f(top)}) "
                   f"{{\\nnvdigit{{{pdf_inline_image(c.pixels)}}}}};")
        frame = "draw=black!30, line width=0.3pt" if c.certified else f"draw={_ORANGE}, line width=1.2pt"
        out.append(f"\\draw[{frame}] ({_f(x)},{_f(top)}) rectangle ({_f(x + u['side'])},{_f(top - u['side'])});")
        out.append(f"\\node[anchor=north, inner sep=1pt] at ({_f(x + u['side'] / 2)},{_f(top - u['side'] - 0.03)}) "
                   f"{{{_caption_tex(c)}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def _svg(cells: Sequence[DigitCell], columns: int, alt: str) -> str:
    u = _PX
    tags = any(c.tag for c in cells)
    rh = _row_height(u, tags)
    rows = -(-len(cells) // columns)
    width = u["label"] + min(columns, len(cells)) * u["cell"]
    height = rows * rh
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="digits" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{html.escape(alt)}" font-size="12">']
    for n, c in enumerate(cells):
        r, k = divmod(n, columns)
        x = u["label"] + k * u["cell"] + (u["cell"] - u["side"]) / 2
        top = r * rh + (u["tag"] if tags else 0.0)
        if k == 0:
            out.append(f'<text x="{u["label"] - 6:.0f}" y="{top + u["side"] / 2 + 4:.1f}" text-anchor="end" '
                       f'fill="#666">{c.number}</text>')
        if c.tag:
            out.append(f'<text x="{x + u["side"] / 2:.1f}" y="{top - 3:.1f}" text-anchor="middle" font-size="9" '
                       f'fill="#666">#{html.escape(c.tag.lstrip("#"))}</text>')
        out.append(f'<image x="{x:.1f}" y="{top:.1f}" width="{u["side"]:.0f}" height="{u["side"]:.0f}" '
                   f'style="image-rendering:pixelated" href="{data_uri(png_gray(c.pixels))}"/>')
        stroke = ('stroke="#b3b3b3" stroke-width="0.6"' if c.certified
                  else f'stroke="{_SVG_ORANGE}" stroke-width="2.4"')
        out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{u["side"]:.0f}" height="{u["side"]:.0f}" '
                   f'fill="none" {stroke}/>')
        text = str(c.predicted) if c.label is None else f"{c.label} \u2192 {c.predicted}"
        colour = f' fill="{_SVG_RED}"' if c.wrong else ""
        mark = ("\u2713" if c.certified
                else f'<tspan fill="{_SVG_ORANGE}" font-weight="bold">?</tspan>')
        out.append(f'<text x="{x + u["side"] / 2:.1f}" y="{top + u["side"] + 14:.1f}" text-anchor="middle">'
                   f'<tspan{colour}>{text}</tspan> {mark}</text>')
    out.append("</svg>")
    return "\n".join(out)


def digit_grid(cells: Sequence[DigitCell], *, alt: str, columns: int = GRID_COLUMNS) -> tuple[str, str]:
    """The grid of ``cells``, ``columns`` a row, in reading order: ``(tikz, svg)``.

    Args:
        cells: the digits, in input order (at most :data:`MAX_GRID` fit a page).
        alt: a one-line description (the SVG's ``aria-label``).
        columns: digits per row.
    """
    if not cells:
        raise ValueError("a digit grid needs at least one digit")
    if len(cells) > MAX_GRID:
        raise ValueError(f"{len(cells)} digits: a grid shows at most {MAX_GRID}")
    return _tikz(cells, columns), _svg(cells, columns, alt)


def _caption_text(c: DigitCell) -> str:
    text = str(c.predicted) if c.label is None else f"{c.label} \u2192 {c.predicted}"
    return (f"{c.tag}: " if c.tag else "") + text + (" \u2713" if c.certified else " ?")


def digit_table(cells: Sequence[DigitCell], *, input_header: str, columns: int = GRID_COLUMNS) -> Table:
    """The grid as a table of captions (for Markdown): one row per grid row, wrong ones bold.

    Args:
        cells: the digits, in input order.
        input_header: the header of the first column (the input number of a row's first digit).
        columns: digits per row.
    """
    width = min(columns, len(cells))
    header: tuple[Cell, ...] = ((Text(input_header),), *((Text(f"+{k}"),) for k in range(width)))
    rows = []
    for start in range(0, len(cells), columns):
        row: list[Cell] = [(Text(str(cells[start].number)),)]
        for c in cells[start:start + columns]:
            text = _caption_text(c)
            row.append((Strong(text),) if c.wrong or not c.certified else (Text(text),))
        row += [(Text(""),)] * (width + 1 - len(row))
        rows.append(tuple(row))
    return Table("r" + "l" * width, header, tuple(rows))
