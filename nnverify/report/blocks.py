"""The report as data: blocks of text, math, tables and figures, before any output format.

The content builders (:mod:`nnverify.report.content`) turn a
:class:`~nnverify.report.compute.ReportData` into a :class:`Doc`; each renderer
(:mod:`~nnverify.report.render_latex`, :mod:`~nnverify.report.render_md`,
:mod:`~nnverify.report.render_html`) prints a :class:`Doc` in its format. The math in a block
is LaTeX from nnverify's own printer (names built from integers); every piece of text is
plain text that the renderer escapes for its format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Text", "Math", "Code", "Ref", "Strong", "Inline",
    "Para", "Heading", "EqPart", "Equation", "Table", "Figure", "Box", "Block", "Doc",
]


@dataclass(frozen=True)
class Text:
    """Plain text (escaped by each renderer)."""

    text: str


@dataclass(frozen=True)
class Math:
    """Inline math: LaTeX built by nnverify (never user text)."""

    latex: str


@dataclass(frozen=True)
class Code:
    """User text shown in a typewriter font (a file name, a function spec); escaped."""

    text: str


@dataclass(frozen=True)
class Ref:
    """A reference to a numbered equation by its label."""

    label: str


@dataclass(frozen=True)
class Strong:
    """Bold text (a failed verdict)."""

    text: str


Inline = Text | Math | Code | Ref | Strong


@dataclass(frozen=True)
class Para:
    """A paragraph.

    Args:
        parts: its inline pieces, in order.
        small: set in a smaller font (legends, notes).
    """

    parts: tuple[Inline, ...]
    small: bool = False


@dataclass(frozen=True)
class Heading:
    """A section (level 1) or subsection (level 2) heading; kept with what follows it."""

    parts: tuple[Inline, ...]
    level: int = 1


@dataclass(frozen=True)
class EqPart:
    """Display lines numbered once, at the last line.

    Args:
        lines: each ``left &rel right`` (one ``&`` alignment point), LaTeX math.
        label: the equation label (``eq:a-1-1``) or None for an unnumbered display.
    """

    lines: tuple[str, ...]
    label: str | None


@dataclass(frozen=True)
class Equation:
    """One display of aligned equations (e.g. a unit's ``a`` and ``z``), never split across pages.

    Args:
        parts: the numbered pieces, aligned together.
        breakable: may break across pages (long closed forms).
        size: ``normal``, ``footnotesize`` (8 pt) or ``scriptsize`` (7 pt, the smallest used):
            a wide matrix keeps its digits in a smaller size instead of losing them.
    """

    parts: tuple[EqPart, ...]
    breakable: bool = False
    size: str = "normal"


Cell = tuple[Inline, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row.

    Args:
        align: one letter per column, ``l`` or ``r``.
        header: the header cells.
        rows: the body rows.
    """

    align: str
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A picture in two drawings of the same layout: TikZ for LaTeX, SVG for the web.

    Args:
        tikz: a complete ``tikzpicture`` (or pgfplots ``axis``) environment.
        svg: the same picture as an ``<svg>`` element, or None (the web renderers then say so).
        alt: a one-line description (the HTML ``aria-label``, the Markdown placeholder).
        width: the TikZ picture's fraction of the line it may take side by side (1 = alone).
        fallback: the picture's content as a table, for a format that draws no pictures
            (Markdown), or None (a line then says where the picture is).
    """

    tikz: str
    svg: str | None
    alt: str
    width: float = 1.0
    fallback: Table | None = None


@dataclass(frozen=True)
class Box:
    """A framed note (why 0.1 is not 1/10 in binary mode)."""

    parts: tuple[Inline, ...]


Block = Para | Heading | Equation | Table | Figure | Box


@dataclass(frozen=True)
class Doc:
    """A whole report.

    Args:
        title: the title (user text or built; escaped by the renderers).
        subject: one line for the PDF's Subject and the HTML description.
        lang: the language code (``en``, ``zh``).
        subtitle: the line under the title.
        blocks: the body.
    """

    title: str
    subject: str
    lang: str
    subtitle: str
    blocks: tuple[Block, ...] = field(default=())
