"""Writing a report to disk: the ``.tex`` always, the ``.pdf`` when TeX is there.

Writes are atomic, and a file nnverify did not write is never replaced without ``force``:
a ``.tex`` is nnverify's when it starts with :data:`~nnverify.report.document.MARKER`, a
``.pdf`` when its metadata names nnverify as its creator (the document sets it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nnverify.errors import NNVerifyError, UsageError
from nnverify.files import atomic_write_bytes, check_can_overwrite
from nnverify.report.compile import DEFAULT_TIMEOUT, CompileResult, TexError, TexNotFoundError, compile_pdf
from nnverify.report.settings import MARKER, WEB_MARKER

__all__ = ["WrittenReport", "write_report", "check_paths", "pdf_path_for", "is_nnverify_pdf", "format_for",
           "SUFFIXES"]

#: How hyperref writes ``pdfcreator={nnverify}`` into the PDF's Info dictionary (UTF-16BE).
_PDF_MARKERS = (
    b"/Creator(\\376\\377\\000n\\000n\\000v\\000e\\000r\\000i\\000f\\000y)",
    b"/Creator(nnverify)",
)


@dataclass(frozen=True)
class WrittenReport:
    """What :func:`write_report` wrote.

    Args:
        tex_path: the ``.tex`` written.
        pdf_path: the ``.pdf`` written, or None.
        compiled: the compile result (pages, runs, log), or None.
        no_tex_reason: why no PDF was made when one was wanted (TeX missing), or None.
    """

    tex_path: Path
    pdf_path: Path | None
    compiled: CompileResult | None
    no_tex_reason: str | None


def pdf_path_for(tex_path: str | os.PathLike[str]) -> Path:
    """``reports/book.tex`` -> ``reports/book.pdf``."""
    return Path(tex_path).with_suffix(".pdf")


def is_nnverify_pdf(path: str | os.PathLike[str]) -> bool:
    """True when the PDF at ``path`` names nnverify as its creator."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    return data.startswith(b"%PDF-") and any(m in data for m in _PDF_MARKERS)


def _check_pdf(path: Path, force: bool) -> None:
    if force or not path.exists():
        return
    if path.is_dir():
        raise NNVerifyError(f"{path}: is a folder; give a file name")
    if not is_nnverify_pdf(path):
        raise NNVerifyError(f"{path}: exists and was not written by nnverify; pass --force to overwrite it")


#: File name endings per output format.
SUFFIXES = {"tex": (".tex",), "md": (".md",), "html": (".html", ".htm")}


def format_for(path: str | os.PathLike[str]) -> str:
    """The format a file name asks for by its ending (tex, md, html); error for anything else."""
    suffix = Path(path).suffix.lower()
    for fmt, endings in SUFFIXES.items():
        if suffix in endings:
            return fmt
    raise UsageError(f"-o {path}: give a file name ending in .tex, .md or .html (or --format)")


def check_paths(tex_path: str | os.PathLike[str], *, pdf: bool, force: bool, fmt: str = "tex") -> None:
    """Refuse early (before any work) to write where the report may not go."""
    target = Path(tex_path)
    if target.suffix.lower() not in SUFFIXES[fmt]:
        raise UsageError(f"-o {target}: a {fmt} report needs a file name ending in "
                         f"{' or '.join(SUFFIXES[fmt])}")
    marker = MARKER if fmt == "tex" else WEB_MARKER
    check_can_overwrite(target, force=force, marker=marker.encode())
    if pdf and fmt == "tex":
        _check_pdf(pdf_path_for(target), force)


def write_report(
    tex: str,
    tex_path: str | os.PathLike[str],
    *,
    pdf: bool | None = None,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    fmt: str = "tex",
) -> WrittenReport:
    """Write ``tex`` to ``tex_path`` and, when wanted and possible, the compiled PDF beside it.

    Args:
        tex: the document source (from :func:`~nnverify.report.build_report`).
        tex_path: where the ``.tex`` goes; the PDF gets the same name with ``.pdf``.
        pdf: True/None compile when pdflatex is installed (None: quietly skip without it,
            True: the same, with the reason in the result); False never compiles.
        force: overwrite files nnverify did not write.
        timeout: seconds a pdflatex run may take.
        fmt: ``tex`` (and the PDF), ``md`` or ``html`` (no PDF).

    Raises:
        NNVerifyError: a file in the way, an unwritable folder.
        TexError: LaTeX failed (the ``.tex`` has been written; the message has the first error).
    """
    target = Path(tex_path)
    want_pdf = pdf is not False and fmt == "tex"
    check_paths(target, pdf=want_pdf, force=force, fmt=fmt)
    atomic_write_bytes(target, tex.encode("utf-8"))
    if not want_pdf:
        return WrittenReport(target, None, None, None)
    try:
        result = compile_pdf(tex, timeout=timeout)
    except TexNotFoundError as exc:
        return WrittenReport(target, None, None, str(exc))
    except TexError as exc:
        raise TexError(f"{exc} ({target} was written; no PDF)") from None
    pdf_target = pdf_path_for(target)
    atomic_write_bytes(pdf_target, result.pdf)
    return WrittenReport(target, pdf_target, result, None)
