"""LaTeX derivation reports compiled to PDF: the printer, the document, the safe compile.

Names load on first use: the document side imports SymPy, and ``nnverify --help`` or
``nnverify forward`` should not pay for that.
"""

from __future__ import annotations

from nnverify.lazy import lazy_exports

_WHERE = {
    "CompileResult": "compile",
    "TexError": "compile",
    "TexNotFoundError": "compile",
    "compile_pdf": "compile",
    "find_pdflatex": "compile",
    "MARKER": "settings",
    "Detail": "settings",
    "Report": "document",
    "ReportSettings": "settings",
    "build_report": "document",
    "ReportData": "compute",
    "compute_report": "compute",
    "render_latex": "render_latex",
    "build_document": "content",
    "InputsNote": "compute",
    "Format": "document",
    "escape_text": "escape",
    "Number": "numbers",
    "format_number": "numbers",
    "WrittenReport": "output",
    "is_nnverify_pdf": "output",
    "write_report": "output",
    "LatexPrinter": "printer",
    "SymbolTable": "printer",
    "TestSummary": "tables",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, globals(), {k: f"nnverify.report.{v}" for k, v in _WHERE.items()})
