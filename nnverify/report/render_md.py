"""A :class:`~nnverify.report.blocks.Doc` as Markdown with KaTeX-compatible math.

Inline math is ``$...$``, displays are ``$$\\begin{aligned} ... \\end{aligned}\\tag{n}$$`` (KaTeX
and MathJax both read them), equation references are links to anchors, tables are pipe
tables. Every piece of text is escaped, so user text (a title, a file name) can neither
start markup nor be read as math. Pictures are drawn in the PDF and HTML versions; here a
line says so, followed by the picture's content as a table when it has one (the digits grid).
"""

from __future__ import annotations

import re

from nnverify.report.blocks import (
    Block,
    Box,
    Code,
    Doc,
    EqPart,
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

__all__ = ["render_markdown", "equation_numbers", "math_only"]

_SPECIAL = re.compile(r"([\\`*_\[\]#|<>$~&])")


def equation_numbers(doc: Doc) -> dict[str, int]:
    """Label -> number, in the order LaTeX numbers them (every labelled display, in order)."""
    out: dict[str, int] = {}
    for b in doc.blocks:
        if isinstance(b, Equation):
            for part in b.parts:
                if part.label is not None:
                    out[part.label] = len(out) + 1
    return out


def _anchor(label: str) -> str:
    return "eq-" + re.sub(r"[^A-Za-z0-9-]", "-", label)


def _text(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def _para(text: str) -> str:
    """A paragraph that cannot start a list or a heading."""
    m = re.match(r"(\d+)([.)])", text)
    if m:
        return m.group(1) + "\\" + text[len(m.group(1)):]
    return ("\\" + text) if text[:1] in "-+=" and text else text


def _code(text: str) -> str:
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(parts: tuple[Inline, ...], numbers: dict[str, int]) -> str:
    out = []
    for p in parts:
        if isinstance(p, Text):
            out.append(_text(p.text))
        elif isinstance(p, Math):
            out.append(f"${p.latex}$")
        elif isinstance(p, Code):
            out.append(_code(p.text))
        elif isinstance(p, Ref):
            out.append(f"[({numbers.get(p.label, '?')})](#{_anchor(p.label)})")
        elif isinstance(p, Strong):
            out.append(f"**{_text(p.text)}**")
    return "".join(out)


def display(part: EqPart, numbers: dict[str, int]) -> str:
    """One numbered display as ``$$\\begin{aligned}...\\end{aligned}\\tag{n}$$``."""
    body = " \\\\\n".join(part.lines)
    tag = f"\\tag{{{numbers[part.label]}}}" if part.label is not None else ""
    return f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}{tag}\n$$"


def _cell(parts: tuple[Inline, ...], numbers: dict[str, int]) -> str:
    return _inline(parts, numbers).replace("|", "\\|")


def _block(b: Block, numbers: dict[str, int]) -> list[str]:
    if isinstance(b, Heading):
        return ["#" * (b.level + 1) + " " + _inline(b.parts, numbers), ""]
    if isinstance(b, Para):
        return [_para(_inline(b.parts, numbers)), ""]
    if isinstance(b, Box):
        return ["> " + _inline(b.parts, numbers), ""]
    if isinstance(b, Equation):
        out = []
        for part in b.parts:
            if part.label is not None:
                out.append(f'<a id="{_anchor(part.label)}"></a>')
            out += [display(part, numbers), ""]
        return out
    if isinstance(b, Table):
        cols = re.findall(r"p\{[^}]*\}|[lrc]", b.align)
        rule = ["---:" if c == "r" else ":---" for c in cols]
        rows = ["| " + " | ".join(_cell(c, numbers) for c in b.header) + " |",
                "| " + " | ".join(rule) + " |"]
        rows += ["| " + " | ".join(_cell(c, numbers) for c in r) + " |" for r in b.rows]
        return rows + [""]
    if isinstance(b, Figure):
        if b.fallback is not None:
            return [f"*{_text(b.alt)} (drawn in the PDF and HTML reports):*", "", *_block(b.fallback, numbers)]
        return [f"*[{_text(b.alt)}: drawn in the PDF and HTML reports]*", ""]
    raise TypeError(f"no Markdown for {type(b).__name__}")


def render_markdown(doc: Doc) -> str:
    """``doc`` as Markdown (KaTeX math).

    Args:
        doc: the report as blocks.
    """
    from nnverify import __version__
    from nnverify.report.settings import WEB_MARKER

    numbers = equation_numbers(doc)
    lines = [f"{WEB_MARKER} {__version__.replace('--', '')} (nnverify report); edits are overwritten -->", "",
             f"# {_text(doc.title)}", "", f"*{_text(doc.subtitle)}*", ""]
    for b in doc.blocks:
        lines += _block(b, numbers)
    return "\n".join(lines).rstrip() + "\n"


def math_only(doc: Doc) -> str:
    """Every display of ``doc``, numbered, for a notebook's MathJax (``_repr_latex_``)."""
    numbers = equation_numbers(doc)
    parts = [display(p, numbers) for b in doc.blocks if isinstance(b, Equation) for p in b.parts]
    return "\n".join(parts) + "\n"
