"""Fitting math on the page: width estimates and line breaks between terms.

Widths are estimated in *digit widths* (one digit of the body font, 5 pt at 10 pt) from the
LaTeX source: a fraction is as wide as its wider part, scripts are 70 % size, binary
operators carry their spacing. The estimate only has to be good enough to decide where to
break; the rendered pages are the final judge (see the tests and the README).
"""

from __future__ import annotations

__all__ = ["estimate_width", "break_terms"]

_COMMAND_WIDTHS = {
    "cdot": 1.6, "times": 1.9, "exp": 2.6, "tanh": 3.2, "max": 2.8, "min": 2.6, "ln": 1.6,
    "approx": 2.2, "quad": 2.0, "qquad": 4.0, "left": 0.0, "right": 0.0, ",": 0.35,
    ";": 0.55, "!": -0.35, "mathrm": 0.0, "text": 0.0, "mathit": 0.0, "ge": 2.2, "le": 2.2,
    "sigma": 1.2, "nonumber": 0.0, "notag": 0.0, "label": 0.0,
}
_BINARY = {"+": 1.9, "-": 1.9, "=": 2.2, ">": 2.2, "<": 2.2}
_NARROW = {"(": 0.8, ")": 0.8, "[": 0.6, "]": 0.6, ",": 0.6, ".": 0.55, "|": 0.5}


def _group(s: str, i: int) -> tuple[str, int]:
    """The content of the brace group opening at ``s[i] == "{"`` and the index after it."""
    depth, j = 0, i
    while j < len(s):
        if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif s[j] == "}" and (j == 0 or s[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return s[i + 1 : j], j + 1
        j += 1
    return s[i + 1 :], len(s)


def _argument(s: str, i: int) -> tuple[str, int]:
    """One macro argument at ``s[i]``: a brace group or a single token."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i < len(s) and s[i] == "{":
        return _group(s, i)
    if i < len(s) and s[i] == "\\":
        j = i + 1
        while j < len(s) and s[j].isalpha():
            j += 1
        return s[i : max(j, i + 2)], max(j, i + 2)
    return s[i : i + 1], i + 1


def estimate_width(latex: str) -> float:
    """Estimated printed width of math-mode ``latex`` in digit widths.

    Example:
        >>> round(estimate_width(r"\\frac{1}{1 + \\exp(-0.3)}"), 1)
        10.7
    """
    width, i, n = 0.0, 0, len(latex)
    while i < n:
        c = latex[i]
        if c == "\\":
            j = i + 1
            while j < n and latex[j].isalpha():
                j += 1
            name = latex[i + 1 : j] if j > i + 1 else latex[i + 1 : i + 2]
            j = max(j, i + 2)
            if name == "frac":
                top, j = _argument(latex, j)
                bottom, j = _argument(latex, j)
                width += max(estimate_width(top), estimate_width(bottom)) + 0.6
            elif name in ("text", "mathrm", "mathit", "mathbf", "operatorname"):
                arg, j = _argument(latex, j)
                width += len(arg) if name == "text" else estimate_width(arg)
            elif name in ("label", "eqref", "tag", "hyperref", "begin", "end"):
                _, j = _argument(latex, j)
                if name == "eqref":
                    width += 3.5
            elif name == "sqrt":
                arg, j = _argument(latex, j)
                width += estimate_width(arg) + 1.2
            elif name == "\\":
                pass
            else:
                width += _COMMAND_WIDTHS.get(name, 1.0)
            i = j
        elif c in "^_":
            arg, i = _argument(latex, i + 1)
            width += 0.7 * estimate_width(arg)
        elif c == "{":
            arg, i = _group(latex, i)
            width += estimate_width(arg)
        elif c in " &}":
            i += 1
        else:
            width += _BINARY.get(c, _NARROW.get(c, 1.0))
            i += 1
    return width


def break_terms(terms: list[str], budget: float, *, first_budget: float | None = None) -> list[str]:
    """Pack signed terms (``["a", "+ b", "- c"]``) into lines no wider than ``budget``.

    Args:
        terms: the pieces of a sum in order, as :meth:`LatexPrinter.terms` returns them.
        budget: width of a continuation line, in digit widths.
        first_budget: width available to the first line (it shares its line with the
            left-hand side); default ``budget``.

    A single term wider than the budget gets a line of its own (the caller abbreviates
    inner terms so that this does not happen).
    """
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    limit = budget if first_budget is None else first_budget
    for term in terms:
        w = estimate_width(term)
        if current and used + w > limit:
            lines.append(" ".join(current))
            current, used, limit = [], 0.0, budget
        current.append(term)
        used += w
    if current:
        lines.append(" ".join(current))
    return lines
