"""Text-mode escaping of user strings (titles, file names) for LaTeX.

Every character is either printable ASCII that means nothing to TeX, a LaTeX command that
typesets exactly that character, or a visible ``[U+XXXX]`` code: no user string can reach
TeX as markup. ``^``, ``~`` and ``_`` come from the typewriter font (``\\char94`` etc.) because
the text fonts' ``\\textasciicircum``/``\\_`` are accents and rules that a PDF reader cannot copy
as the character; the backslash and braces copy correctly through ``glyphtounicode``.
"""

from __future__ import annotations

__all__ = ["escape_text", "is_cjk", "pdf_string"]

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\texttt{\char36}",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "^": r"\texttt{\char94}",
    "~": r"\texttt{\char126}",
    "_": r"\texttt{\char95}",
    # OT1 text fonts put other glyphs at these ASCII slots (< > | print as ¡ ¿ —).
    "<": r"\texttt{\char60}",
    ">": r"\texttt{\char62}",
    "|": r"\texttt{\char124}",
    '"': r"\texttt{\char34}",
    # A run of hyphens would become an en or em dash, and `` '' would become curly quotes.
    "-": r"-{}",
    "`": r"\texttt{\char18}",
    # Roman apostrophe (typographic), kept from pairing into a closing double quote.
    "'": "'{}",
}


def is_cjk(ch: str) -> bool:
    """True for the Chinese characters and punctuation a CJK document typesets."""
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF
            or code in (0x2018, 0x2019, 0x201C, 0x201D, 0x2014, 0x2026, 0x00B7))


#: How a character that means something to TeX is written inside a PDF string (hyperref's PU).
_PDF_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "$": r"\textdollar{}",
    "&": r"\&", "#": r"\#", "%": r"\%", "^": r"\textasciicircum{}", "_": r"\textunderscore{}",
    "~": r"\textasciitilde{}",
}


def pdf_string(text: str, *, cjk: bool = False) -> str:
    """``text`` for a PDF metadata field (hyperref's ``pdftitle``): every character literal.

    Args:
        text: any string; control characters become spaces, and characters outside printable
            ASCII a visible ``[U+XXXX]`` (Chinese passes when ``cjk`` is set).
        cjk: let Chinese characters through (a Chinese document).
    """
    out: list[str] = []
    for ch in str(text):
        code = ord(ch)
        if ch in _PDF_SPECIAL:
            out.append(_PDF_SPECIAL[ch])
        elif code < 32 or code == 127:
            out.append(" ")
        elif code > 126 and not (cjk and is_cjk(ch)):
            out.append(f"[U+{code:04X}]")
        else:
            out.append(ch)
    return "".join(out)


def escape_text(text: str, *, cjk: bool = False) -> str:
    """``text`` as LaTeX text-mode source that typesets exactly those characters.

    Args:
        text: any string (a title, a file name); control characters become spaces and
            characters outside printable ASCII become a visible ``[U+XXXX]``.
        cjk: let Chinese characters and punctuation through (a document set with CJKutf8).

    Example:
        >>> escape_text(r"\\input{/etc/passwd}")
        '\\\\textbackslash{}input\\\\{/etc/passwd\\\\}'
    """
    out: list[str] = []
    for ch in str(text):
        code = ord(ch)
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif code < 32 or code == 127:
            out.append(" ")
        elif code > 126 and not (cjk and is_cjk(ch)):
            out.append(f"[U+{code:04X}]")
        else:
            out.append(ch)
    return "".join(out)
