"""Compiling reports with pdflatex: safe, reproducible, literal titles. Skipped without TeX.

Each document is compiled at most twice in the whole module (TeX is slow); the fixtures are
shared.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from nnverify.cli import main
from nnverify.inputs import parse_x, sample_inputs
from nnverify.model import Layer, Network
from nnverify.report import build_report, compile_pdf
from nnverify.report.compile import TexError
from nnverify.report.output import check_paths, is_nnverify_pdf
from nnverify.weights import load_network

pytestmark = [
    pytest.mark.tex,
    pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed"),
]

INJECTION = r"\input{/etc/passwd} 100% $x$ #1"


def _pdftotext(pdf: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The book report with a hostile title, written and compiled by the CLI (one compile)."""
    folder = tmp_path_factory.mktemp("book")
    tex = folder / "book.tex"
    assert main(["report", "-o", str(tex), "--title", INJECTION]) == 0
    return tex, tex.with_suffix(".pdf")


@pytest.fixture(scope="module")
def mnist():
    net = load_network("book-mnist")
    report = build_report(net, sample_inputs(net.n_inputs, 20, seed=0))
    return compile_pdf(report.tex)


@pytest.fixture(scope="module")
def mixed():
    """A small network with every elementwise activation and a softmax output, wide rows."""
    rng = np.random.default_rng(1)
    sizes, acts = (2, 3, 3, 3, 3), ("relu", "tanh", "step", "softmax")
    net = Network(tuple(
        Layer(rng.uniform(-1, 1, (sizes[i], sizes[i + 1])), rng.uniform(-1, 1, sizes[i + 1]), acts[i])
        for i in range(4)
    ), name="mixed_{activations}")
    return compile_pdf(build_report(net, parse_x("0.25,-1.5")).tex)


def test_book_report_compiles_to_a_pdf(book):
    tex, pdf = book
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    assert is_nnverify_pdf(pdf)


def test_title_appears_literally_in_the_pdf(book):
    tex, pdf = book
    text = _pdftotext(pdf)
    if text is None:
        pytest.skip("pdftotext is not installed")
    assert INJECTION in text
    # and the numbers of the book network's exact values (docs/ARCHITECTURE.md) are there, as the reader sees them
    assert "0.31682707641102976546" in text and "0.57444252" in text


def test_same_tex_compiles_to_the_same_pdf_bytes(book):
    tex, pdf = book
    again = compile_pdf(tex.read_text())  # second compile of this document
    assert again.pdf == pdf.read_bytes()
    assert again.overfull == [], "text sticks out into the margin"
    assert 4 <= again.pages <= 6


def test_mnist_report_compiles_and_stays_within_the_margins(mnist):
    assert mnist.pdf.startswith(b"%PDF-")
    assert mnist.overfull == []
    assert 1 <= mnist.pages <= 3


def test_every_activation_and_a_deep_network_compile_within_the_margins(mixed):
    assert mixed.pdf.startswith(b"%PDF-")
    assert mixed.overfull == []


def test_an_nnverify_pdf_may_be_replaced_but_not_another(book, tmp_path):
    tex, pdf = book
    check_paths(tex, pdf=True, force=False)  # ours: fine
    other = tmp_path / "x.tex"
    other.with_suffix(".pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(Exception, match="not written by nnverify"):
        check_paths(other, pdf=True, force=False)


_MINIMAL = "\\documentclass{article}\n\\begin{document}\n%s\n\\end{document}\n"


def test_a_latex_error_is_reported_in_one_line_with_its_line_number():
    with pytest.raises(TexError) as info:
        compile_pdf(_MINIMAL % "fine\n\\undefinedmacro")
    message = str(info.value)
    assert "Undefined control sequence" in message and "line 4" in message
    assert "\n" not in message


def test_tex_cannot_read_absolute_paths_even_unescaped():
    # Belt and braces: escaping keeps user text out of TeX, and openin_any=p refuses anyway.
    with pytest.raises(TexError, match="passwd"):
        compile_pdf(_MINIMAL % "\\input{/etc/passwd}")


def test_tex_cannot_run_shell_commands(tmp_path):
    marker = tmp_path / "ran"
    compile_pdf(_MINIMAL % f"\\immediate\\write18{{touch {marker}}}x")
    assert not marker.exists()


def test_a_runaway_document_is_killed_at_the_timeout():
    start = time.monotonic()
    with pytest.raises(TexError, match="longer than 1 s"):
        compile_pdf(_MINIMAL % "\\def\\loop{\\loop}\\loop", timeout=1)
    assert time.monotonic() - start < 10


def _pdfinfo(pdf: Path) -> str | None:
    if shutil.which("pdfinfo") is None:
        return None
    return subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout


def test_the_pdf_metadata_has_title_and_subject(book):
    _, pdf = book
    info = _pdfinfo(pdf)
    if info is None:
        pytest.skip("pdfinfo is not installed")
    assert f"Title:           {INJECTION}" in info  # literally, hostile characters and all
    assert "Subject:         The forward pass of the 2-3-2-2 network book" in info


@pytest.mark.skipif(shutil.which("kpsewhich") is None or subprocess.run(
    ["kpsewhich", "CJKutf8.sty"], capture_output=True).returncode != 0,
    reason="CJKutf8 is not installed (latex-cjk-common, latex-cjk-chinese-arphic-gbsn00lp)")
def test_a_chinese_report_compiles_and_its_characters_are_in_the_pdf(tmp_path):
    tex = tmp_path / "zh.tex"
    assert main(["report", "--lang", "zh", "--plot-samples", "0", "--title", "第三章 神经网络", "-o", str(tex)]) == 0
    pdf = tex.with_suffix(".pdf")
    text = _pdftotext(pdf)
    if text is None:
        pytest.skip("pdftotext is not installed")
    for words in ("逐层前向传播", "验证", "精确值", "0.31682707641102976546"):
        assert words in text.replace(" ", "").replace("\n", "") or words in text
    info = _pdfinfo(pdf)
    assert info is not None and "第三章 神经网络" in info
