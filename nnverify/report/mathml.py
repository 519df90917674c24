"""The LaTeX math nnverify's printer writes, as MathML Core (for the HTML report; no JavaScript).

Not a general TeX engine: it reads exactly the subset the report produces (numbers, names with
sub- and superscripts, ``\\frac``, ``\\exp``-style functions, ``\\left( \\right)``, ``pmatrix``,
``cases``, ``\\text``, relations, spacing) and refuses anything else with an error, so a
change to the printer cannot silently produce wrong math on the web. Browsers with MathML Core
(Chromium 109+, Firefox, Safari) render it natively.
"""

from __future__ import annotations

import html
import re

__all__ = ["to_mathml", "aligned_mathml", "MathMLError"]

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|[A-Za-z]|\s+|.", re.S)

_SYMBOLS = {
    r"\cdot": ("mo", "\u22c5"), r"\times": ("mo", "\u00d7"), r"\approx": ("mo", "\u2248"),
    r"\in": ("mo", "\u2208"), r"\to": ("mo", "\u2192"), r"\le": ("mo", "\u2264"),
    r"\ge": ("mo", "\u2265"), r"\infty": ("mi", "\u221e"), r"\sigma": ("mi", "\u03c3"),
    r"\sum": ("mo", "\u2211"), r"\dots": ("mi", "\u2026"), r"\ldots": ("mi", "\u2026"),
    r"\cdots": ("mi", "\u22ef"), r"\pm": ("mo", "\u00b1"), r"\{": ("mo", "{"), r"\}": ("mo", "}"),
    r"\mid": ("mo", "|"), r"\lvert": ("mo", "|"), r"\rvert": ("mo", "|"),
    r"\neq": ("mo", "\u2260"), r"\lambda": ("mi", "\u03bb"), r"\top": ("mi", "\u22a4"),
    r"\checkmark": ("mi", "\u2713"),
}
_FUNCTIONS = {r"\exp": "exp", r"\tanh": "tanh", r"\max": "max", r"\min": "min", r"\ln": "ln",
              r"\log": "log"}
_SPACES = {r"\quad": "1em", r"\qquad": "2em", r"\,": "0.17em", r"\;": "0.28em", r"\ ": "0.25em",
           r"\!": "0em"}
_NBSP = "\u00a0"
_IGNORED = {r"\nonumber", r"\notag", r"\displaystyle", r"\big", r"\Big"}


class MathMLError(ValueError):
    """The math uses something outside the subset this converter reads."""


class _Parser:
    def __init__(self, latex: str) -> None:
        self.tokens = _TOKEN.findall(latex)
        self.pos = 0

    def _skip_space(self) -> None:
        while self.pos < len(self.tokens) and self.tokens[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str | None:
        self._skip_space()
        tok: str | None = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        return tok

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise MathMLError("unexpected end of math")
        self.pos += 1
        return tok

    def take_raw(self) -> str:
        """The next token, spaces included (inside ``\\text{...}``)."""
        if self.pos >= len(self.tokens):
            raise MathMLError("unexpected end of math")
        self.pos += 1
        tok: str = self.tokens[self.pos - 1]
        return tok

    def group(self) -> str:
        """A ``{...}`` argument (or one token) as MathML."""
        if self.peek() == "{":
            self.take()
            inner = self.sequence(stop={"}"})
            self.take()
            return _row(inner)
        return _row(self.atom_list())

    def raw_group(self) -> str:
        """A ``{...}`` argument as its source text (``\\text``, ``\\begin`` names)."""
        if self.take() != "{":
            raise MathMLError("expected {")
        depth, out = 1, list[str]()
        while True:
            tok = self.take_raw()
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0:
                    return "".join(out)
            out.append(tok)

    def atom_list(self) -> list[str]:
        atom = self.atom()
        return [] if atom is None else [atom]

    def sequence(self, stop: set[str]) -> list[str]:
        out: list[str] = []
        while self.peek() is not None and self.peek() not in stop:
            tok = self.peek()
            if tok in ("^", "_"):
                base = out.pop() if out else "<mrow></mrow>"
                out.append(self.scripts(base))
                continue
            atom = self.atom()
            if atom is not None:
                out.append(atom)
        return out

    def scripts(self, base: str) -> str:
        sub = sup = None
        while self.peek() in ("^", "_"):
            if self.take() == "^":
                sup = self.group()
            else:
                sub = self.group()
        if sub is not None and sup is not None:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        if sup is not None:
            return f"<msup>{base}{sup}</msup>"
        return f"<msub>{base}{sub}</msub>"

    def atom(self) -> str | None:  # noqa: C901 (one branch per token kind, a flat table)
        tok = self.take()
        if tok == "{":
            inner = self.sequence(stop={"}"})
            self.take()
            return _row(inner)
        if tok[0].isdigit():
            return f"<mn>{tok}</mn>"
        if tok.isalpha() and len(tok) == 1:
            return f"<mi>{tok}</mi>"
        if tok in _IGNORED:
            return None
        if tok in (r"\left", r"\right", r"\middle"):  # a delimiter that grows with its content
            delim = self.take()
            char = {r"\{": "{", r"\}": "}", ".": ""}.get(delim, delim)
            return f'<mo stretchy="true">{html.escape(char)}</mo>' if char else None
        if tok == r"\frac":
            return f"<mfrac>{self.group()}{self.group()}</mfrac>"
        if tok == r"\sqrt":
            return f"<msqrt>{self.group()}</msqrt>"
        if tok in (r"\text", r"\mathrm", r"\textrm", r"\mathit"):
            text = self.raw_group()
            if tok == r"\text":
                shown = html.escape(text.replace("~", " ")).replace(" ", _NBSP)  # keep edge spaces
                return f"<mtext>{shown}</mtext>"
            return f'<mi mathvariant="normal">{html.escape(text)}</mi>'
        if tok in (r"\label", r"\eqref", r"\tag"):
            self.raw_group()
            return None
        if tok == r"\begin":
            return self.environment(self.raw_group())
        if tok in _FUNCTIONS:
            return f'<mi>{_FUNCTIONS[tok]}</mi><mo>\u2061</mo>'
        if tok in _SPACES:
            return f'<mspace width="{_SPACES[tok]}"></mspace>'
        if tok in _SYMBOLS:
            kind, char = _SYMBOLS[tok]
            return f"<{kind}>{html.escape(char)}</{kind}>" if kind else None
        if tok in "()[]|":
            return f'<mo stretchy="false">{html.escape(tok)}</mo>'
        if tok in "+-=<>,/:;!.'*":
            char = {"-": "\u2212", "*": "\u2217"}.get(tok, tok)
            return f"<mo>{html.escape(char)}</mo>"
        raise MathMLError(f"no MathML for {tok!r}")

    def environment(self, name: str) -> str:
        rows: list[list[str]] = [[]]
        cell: list[str] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise MathMLError(f"\\begin{{{name}}} is not closed")
            if tok == r"\end":
                self.take()
                self.raw_group()
                break
            if tok == "&":
                self.take()
                rows[-1].append(_row(cell))
                cell = []
            elif tok == r"\\":
                self.take()
                rows[-1].append(_row(cell))
                rows.append([])
                cell = []
            else:
                cell = cell + self.sequence(stop={"&", r"\\", r"\end"})
        rows[-1].append(_row(cell))
        table = "".join("<mtr>" + "".join(f"<mtd>{c}</mtd>" for c in r) + "</mtr>" for r in rows)
        if name == "pmatrix":
            return f'<mrow><mo stretchy="true">(</mo><mtable>{table}</mtable><mo stretchy="true">)</mo></mrow>'
        if name == "cases":
            return (f'<mrow><mo>{{</mo><mtable columnalign="left left">{table}</mtable></mrow>')
        if name in ("aligned", "align", "align*"):
            return f'<mtable columnalign="right left">{table}</mtable>'
        raise MathMLError(f"no MathML for the environment {name}")


def _row(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "<mrow>" + "".join(items) + "</mrow>"


def to_mathml(latex: str, *, display: bool = False) -> str:
    """``latex`` (the report's math subset) as a ``<math>`` element.

    Args:
        latex: math-mode LaTeX as nnverify's printer writes it.
        display: a display (block) formula rather than inline.

    Example:
        >>> to_mathml("x_{1}")
        '<math><msub><mi>x</mi><mn>1</mn></msub></math>'
    """
    p = _Parser(latex)
    body = p.sequence(stop=set())
    attr = ' display="block"' if display else ""
    return f"<math{attr}>{_row(body)}</math>"


def aligned_mathml(lines: list[str]) -> str:
    """Display lines ``left &rel right`` as one aligned ``<math display="block">`` table."""
    rows = []
    for line in lines:
        left, _, right = line.partition("&")
        rows.append(f"<mtr><mtd>{_row(_Parser(left).sequence(stop=set()))}</mtd>"
                    f"<mtd>{_row(_Parser(right).sequence(stop=set()))}</mtd></mtr>")
    return ('<math display="block"><mtable displaystyle="true" columnalign="right left" columnspacing="0">'
            + "".join(rows) + "</mtable></math>")
