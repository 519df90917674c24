"""A :class:`~nnverify.report.blocks.Doc` as one standalone HTML page: MathML math, SVG pictures.

No script, no font and no style sheet from anywhere else: the math is MathML Core
(:mod:`nnverify.report.mathml`, from the same LaTeX the PDF uses), the pictures are the SVG
drawings of the same layouts as the PDF's TikZ, and a Content-Security-Policy forbids the
page to load or run anything. Every piece of text is HTML-escaped: a title ``<script>`` is
text, never markup.
"""

from __future__ import annotations

import html
import re

from nnverify.report.blocks import (
    Block,
    Box,
    Code,
    Doc,
    Equation,
    Figure,
    Heading,
    Inline,
    Math,
    Para,
    Ref,
    Strong,
    Table,
    Text,
)
from nnverify.report.mathml import aligned_mathml, to_mathml
from nnverify.report.render_md import equation_numbers

__all__ = ["render_html"]

_STYLE = """
body { font-family: "Latin Modern Roman", "CMU Serif", Georgia, "Noto Serif CJK SC", "AR PL SungtiL GB",
  serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #111; }
h1 { text-align: center; font-size: 1.6rem; margin-bottom: 0.2rem; }
.subtitle { text-align: center; font-size: 0.9rem; margin-top: 0; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.eq { display: flex; align-items: center; margin: 0.6rem 0; }
.eq .body { flex: 1; overflow-x: auto; }
.eq .num { min-width: 3rem; text-align: right; }
math[display="block"] { margin: 0.2rem 0; }
table { border-collapse: collapse; margin: 0.8rem auto; font-size: 0.9rem; }
th, td { padding: 0.15rem 0.5rem; border-bottom: 1px solid #ddd; }
thead th { border-bottom: 2px solid #333; border-top: 2px solid #333; }
td.r, th.r { text-align: right; }
.box { border: 1px solid #333; padding: 0.4rem 0.7rem; margin: 0.8rem 0; font-size: 0.92rem; }
figure { margin: 1rem auto; text-align: center; overflow-x: auto; }
figure.half { display: inline-block; width: 49%; vertical-align: top; }
.small { font-size: 0.88rem; }
svg .unit, svg .wlabel { text-align: center; line-height: 1.1; overflow: visible; white-space: nowrap; }
svg .unit { font-size: 9.5px; padding-top: 3px; }
svg .wlabel { background: #fff; font-size: 8px; }
svg foreignObject { overflow: visible; }
code { font-size: 0.92em; }
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _anchor(label: str) -> str:
    return "eq-" + "".join(c if c.isalnum() or c == "-" else "-" for c in label)


def _inline(parts: tuple[Inline, ...], numbers: dict[str, int]) -> str:
    out = []
    for p in parts:
        if isinstance(p, Text):
            out.append(html.escape(p.text))
        elif isinstance(p, Math):
            out.append(to_mathml(p.latex))
        elif isinstance(p, Code):
            out.append(f"<code>{html.escape(p.text)}</code>")
        elif isinstance(p, Ref):
            out.append(f'<a href="#{_anchor(p.label)}">({numbers.get(p.label, "?")})</a>')
        elif isinstance(p, Strong):
            out.append(f"<strong>{html.escape(p.text)}</strong>")
    return "".join(out)


def _table(t: Table, numbers: dict[str, int]) -> list[str]:
    cols = re.findall(r"p\{[^}]*\}|[lrc]", t.align)

    def cls(k: int) -> str:
        return ' class="r"' if k < len(cols) and cols[k] == "r" else ""

    out = ["<table>", "<thead><tr>" + "".join(f"<th{cls(k)}>{_inline(c, numbers)}</th>"
                                               for k, c in enumerate(t.header)) + "</tr></thead>", "<tbody>"]
    for row in t.rows:
        out.append("<tr>" + "".join(f"<td{cls(k)}>{_inline(c, numbers)}</td>" for k, c in enumerate(row))
                   + "</tr>")
    return out + ["</tbody>", "</table>"]


def _block(b: Block, numbers: dict[str, int]) -> list[str]:
    if isinstance(b, Heading):
        tag = "h2" if b.level == 1 else "h3"
        return [f"<{tag}>{_inline(b.parts, numbers)}</{tag}>"]
    if isinstance(b, Para):
        cls = ' class="small"' if b.small else ""
        return [f"<p{cls}>{_inline(b.parts, numbers)}</p>"]
    if isinstance(b, Box):
        return [f'<div class="box">{_inline(b.parts, numbers)}</div>']
    if isinstance(b, Equation):
        out = []
        for part in b.parts:
            ident = f' id="{_anchor(part.label)}"' if part.label else ""
            num = f"({numbers[part.label]})" if part.label else ""
            out.append(f'<div class="eq"{ident}><div class="body">{aligned_mathml(list(part.lines))}</div>'
                       f'<div class="num">{num}</div></div>')
        return out
    if isinstance(b, Table):
        return _table(b, numbers)
    if isinstance(b, Figure):
        cls = ' class="half"' if b.width < 1 else ""
        body = b.svg if b.svg is not None else f"<p>{html.escape(b.alt)}</p>"
        return [f'<figure{cls} aria-label="{html.escape(b.alt)}">', body, "</figure>"]
    raise TypeError(f"no HTML for {type(b).__name__}")


def render_html(doc: Doc, *, standalone: bool = True) -> str:
    """``doc`` as HTML.

    Args:
        doc: the report as blocks.
        standalone: a whole page (``<!DOCTYPE html>`` ... ``</html>``); False gives the body's
            content alone (a notebook's ``_repr_html_``).
    """
    from nnverify import __version__

    numbers = equation_numbers(doc)
    body = [f"<h1>{html.escape(doc.title)}</h1>", f'<p class="subtitle">{html.escape(doc.subtitle)}</p>']
    for b in doc.blocks:
        body += _block(b, numbers)
    if not standalone:
        return f'<div class="nnverify-report"><style>{_STYLE}</style>\n' + "\n".join(body) + "\n</div>\n"
    from nnverify.report.settings import WEB_MARKER

    head = [
        f"{WEB_MARKER} {html.escape(__version__).replace('--', '')} (nnverify report); edits are overwritten -->",
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(doc.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="nnverify {html.escape(__version__)}">',
        f'<meta name="description" content="{html.escape(doc.subject)}">',
        f"<title>{html.escape(doc.title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
    ]
    return "\n".join(head + body + ["</main>", "</body>", "</html>"]) + "\n"
