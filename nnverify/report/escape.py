"""Text-mode escaping of user strings (titles, file names) for LaTeX.

Every character is either printable ASCII that means nothing to TeX, a LaTeX command that
typesets exactly that character, or a visible ``[U+XXXX]`` code: no user string can reach
TeX as markup. ``^``, ``~`` and ``_`` come from the typewriter font (``\\char94`` etc.) because
the text fonts' ``\\textasciicircum``/``\\_`` are accents and rules that a PDF reader cannot copy
as the character; the backslash and braces copy correctly through ``glyphtounicode``.
"""

from __future__ import annotations

__all__ = ["escape_text"]

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


def escape_text(text: str) -> str:
    """``text`` as LaTeX text-mode source that typesets exactly those characters.

    Args:
        text: any string (a title, a file name); control characters become spaces and
            characters outside printable ASCII become a visible ``[U+XXXX]``.

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
        elif code > 126:
            out.append(f"[U+{code:04X}]")
        else:
            out.append(ch)
    return "".join(out)
