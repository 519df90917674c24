"""A :class:`~nnverify.report.blocks.Doc` as a complete LaTeX document (pdflatex; CJKutf8 for Chinese).

Layout rules: a unit's derivation is one ``align`` and never breaks across pages (only the long
closed forms may); every heading asks for room for what follows it (``\\nnvkeep``, a copy of
``needspace``'s one macro, so no package beyond TeX Live's base sets is needed); units and
labels are drawn over the edges (a pgf background layer). Chinese is set with CJKutf8 and the
Arphic GB Song font (``gbsn``): the same pdflatex, the same sandboxed compile, the same
byte-reproducible PDF as English. The PDF's Title and Subject are filled in.
"""

from __future__ import annotations

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
from nnverify.report.escape import escape_text, pdf_string
from nnverify.report.settings import MARKER

__all__ = ["render_latex"]

_SIZE = {"normal": "", "footnotesize": r"\footnotesize", "scriptsize": r"\scriptsize"}


class _Writer:
    def __init__(self, cjk: bool) -> None:
        self.cjk = cjk
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self, text: str) -> str:
        return escape_text(text, cjk=self.cjk)

    def inline(self, parts: tuple[Inline, ...]) -> str:
        out = []
        for p in parts:
            if isinstance(p, Text):
                out.append(self.text(p.text))
            elif isinstance(p, Math):
                out.append(f"${p.latex}$")
            elif isinstance(p, Code):
                out.append(f"\\texttt{{{self.text(p.text)}}}")
            elif isinstance(p, Ref):
                out.append(f"\\eqref{{{p.label}}}")
            elif isinstance(p, Strong):
                out.append(f"\\textbf{{{self.text(p.text)}}}")
        return "".join(out)


def _preamble(w: _Writer, doc: Doc) -> None:
    from nnverify import __version__

    w.add(
        MARKER + f" {escape_text(__version__)} (nnverify report); edits are overwritten.",
        r"\documentclass[10pt,a4paper]{article}",
        r"\pdfoutput=1",
        r"\input{glyphtounicode}\pdfgentounicode=1",
        r"\pdftrailerid{}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{booktabs}",
        r"\usepackage{tikz}",
        r"\usepackage{pgfplots}",
        r"\pgfplotsset{compat=1.18}",
        r"\pgfdeclarelayer{background}\pgfsetlayers{background,main}",
    )
    if w.cjk:
        w.add(r"\usepackage{CJKutf8}")
    w.add(
        r"\usepackage[hidelinks,unicode,pdfcreator={nnverify},pdfproducer={nnverify report}]{hyperref}",
        f"\\hypersetup{{pdftitle={{{pdf_string(doc.title, cjk=w.cjk)}}}, "
        f"pdfsubject={{{pdf_string(doc.subject, cjk=w.cjk)}}}}}",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{4pt}",
        r"\makeatletter",
        r"\newcommand{\nnvkeep}[1]{\par\penalty-100\begingroup\setlength{\dimen@}{#1}%",
        r"  \dimen@ii\pagegoal\advance\dimen@ii-\pagetotal",
        r"  \ifdim\dimen@>\dimen@ii\ifdim\dimen@ii>\z@\vfil\fi\break\fi\endgroup}",
        r"\makeatother",
        r"\begin{document}",
    )
    if w.cjk:
        w.add(r"\begin{CJK}{UTF8}{gbsn}")
    w.add(
        r"\begin{center}",
        f"{{\\Large\\bfseries {w.text(doc.title)}\\par}}",
        r"\smallskip",
        f"{{\\small {w.text(doc.subtitle)}\\par}}",
        r"\end{center}",
    )


def _equation(w: _Writer, eq: Equation) -> None:
    body: list[str] = []
    for part in eq.parts:
        for n, line in enumerate(part.lines):
            last = n == len(part.lines) - 1
            tag = (f" \\label{{{part.label}}}" if part.label else r" \nonumber") if last else r" \nonumber"
            body.append(line + tag)
    size = _SIZE[eq.size]
    open_, close = [], []
    if size or eq.breakable:
        open_.append("{" + (size + " " if size else "") + (r"\allowdisplaybreaks" if eq.breakable else ""))
        close.append("}")
    w.add(*open_, r"\begin{align}", " \\\\\n".join(body), r"\end{align}", *close)


def _table(w: _Writer, t: Table) -> None:
    w.add(r"\begin{center}\small\setlength{\tabcolsep}{4pt}", f"\\begin{{tabular}}{{{t.align}}}",
          r"\toprule", " & ".join(w.inline(c) for c in t.header) + r" \\", r"\midrule")
    for row in t.rows:
        w.add(" & ".join(w.inline(c) for c in row) + r" \\")
    w.add(r"\bottomrule", r"\end{tabular}", r"\end{center}")


def _figures(w: _Writer, figs: list[Figure]) -> None:
    w.add(r"\begin{center}")
    for n, f in enumerate(figs):
        w.add(f.tikz)
        if n + 1 < len(figs):
            w.add(r"\hfill" if f.width < 1 and n % 2 == 0 else r"\par\medskip")
    w.add(r"\end{center}")


def _block(w: _Writer, b: Block) -> None:
    if isinstance(b, Heading):
        cmd = "section" if b.level == 1 else "subsection"
        w.add(r"\nnvkeep{10\baselineskip}", f"\\{cmd}*{{{w.inline(b.parts)}}}")
    elif isinstance(b, Para):
        text = w.inline(b.parts)
        w.add(f"{{\\small {text}\\par}}" if b.small else text, "")
    elif isinstance(b, Box):
        w.add(r"\begin{center}\fbox{\parbox{0.96\linewidth}{\small " + w.inline(b.parts) + r"}}\end{center}")
    elif isinstance(b, Equation):
        _equation(w, b)
    elif isinstance(b, Table):
        _table(w, b)


def render_latex(doc: Doc) -> str:
    """The complete LaTeX source of ``doc`` (byte-stable: same blocks, same text).

    Args:
        doc: the report as blocks (:func:`~nnverify.report.content.build_document`).
    """
    w = _Writer(cjk=doc.lang == "zh")
    _preamble(w, doc)
    figs: list[Figure] = []
    for b in doc.blocks:
        if isinstance(b, Figure):
            figs.append(b)
            continue
        if figs:
            _figures(w, figs)
            figs = []
        _block(w, b)
    if figs:
        _figures(w, figs)
    if w.cjk:
        w.add(r"\end{CJK}")
    w.add(r"\end{document}")
    text = "\n".join(w.lines) + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)
