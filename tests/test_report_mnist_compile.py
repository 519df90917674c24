"""The MNIST report on real digits compiled with pdflatex, in English and Chinese. Skipped without TeX.

One compile per language (TeX is slow); the PDF is read back with poppler when it is there.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from nnverify.datasets import mnist_digits
from nnverify.report import ReportSettings, build_report, compile_pdf
from nnverify.weights import load_network

pytestmark = [
    pytest.mark.tex,
    pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed"),
]


def _poppler(tool: str, pdf: bytes, *args: str) -> str | None:
    if shutil.which(tool) is None:
        return None
    return subprocess.run([tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"],
                          input=pdf, capture_output=True, check=True).stdout.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def english():
    report = build_report(load_network("book-mnist"), mnist_digits(first=100).inputs())
    return compile_pdf(report.tex)


def test_the_mnist_report_compiles_within_the_margins(english):
    assert english.pdf.startswith(b"%PDF-")
    assert english.overfull == [], "text sticks out into the margin"
    assert 3 <= english.pages <= 5


def test_the_pdf_holds_the_hundred_digits_and_their_captions(english):
    listing = _poppler("pdfimages", english.pdf, "-list")
    if listing is None:
        pytest.skip("poppler's pdfimages is not installed")
    inline = [line for line in listing.splitlines() if "[inline]" in line]
    assert len(inline) == 100 and all(" 28    28  gray" in line for line in inline)
    text = _poppler("pdftotext", english.pdf, "-layout")
    assert text is not None
    assert "Predictions on real digits" in text and "Accuracy: 0.94 (94 of 100" in text
    assert "1 → 2" in text and "1 → 2?" not in text.replace(" ?", "?")  # digit 91: wrong, yet certified
    assert "One unit of layer 1, abbreviated" in text


def test_the_chinese_mnist_report_compiles_and_reads_in_chinese():
    report = build_report(load_network("book-mnist"), mnist_digits(indices=[0, 91]).inputs(),
                          ReportSettings(lang="zh"))
    result = compile_pdf(report.tex)
    assert result.overfull == []
    text = _poppler("pdftotext", result.pdf)
    if text is None:
        pytest.skip("pdftotext is not installed")
    for words in ("真实手写数字上的预测", "识别精度", "第 1 层的一个神经元"):
        assert words in text.replace("\n", "")
