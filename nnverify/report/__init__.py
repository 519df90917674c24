"""LaTeX derivation reports compiled to PDF: the printer, the document, the safe compile."""

from nnverify.report.compile import (
    CompileResult,
    TexError,
    TexNotFoundError,
    compile_pdf,
    find_pdflatex,
)
from nnverify.report.document import MARKER, Detail, Report, ReportSettings, build_report
from nnverify.report.escape import escape_text
from nnverify.report.numbers import Number, format_number
from nnverify.report.output import WrittenReport, is_nnverify_pdf, write_report
from nnverify.report.printer import LatexPrinter, SymbolTable
from nnverify.report.tables import TestSummary

__all__ = [
    "CompileResult",
    "Detail",
    "LatexPrinter",
    "MARKER",
    "Number",
    "Report",
    "ReportSettings",
    "SymbolTable",
    "TestSummary",
    "TexError",
    "TexNotFoundError",
    "WrittenReport",
    "build_report",
    "compile_pdf",
    "escape_text",
    "find_pdflatex",
    "format_number",
    "is_nnverify_pdf",
    "write_report",
]
