"""The report document and ``nnverify report`` without compiling: content, determinism, safety."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import nnverify.compare
from nnverify.cli import main
from nnverify.inputs import parse_x, sample_inputs
from nnverify.report import MARKER, ReportSettings, TestSummary, build_report
from nnverify.report.compile import find_pdflatex
from nnverify.report.escape import escape_text
from nnverify.weights import book_network, load_network

ROOT = Path(__file__).resolve().parent.parent
#: The Makefile's `reports` target, as CLI arguments (kept in step by a test below).
CANONICAL = {
    "book.tex": [],
    "book-zh.tex": ["--lang", "zh"],
    "book.html": [],
    "book-mnist.tex": ["--weights", "book-mnist"],
    "book-mnist.html": ["--weights", "book-mnist"],
}


@pytest.fixture(scope="module")
def book_tex() -> str:
    return build_report(book_network(), parse_x("1.0,0.5")).tex


@pytest.fixture(scope="module")
def mnist_report():
    net = load_network("book-mnist")
    return build_report(net, sample_inputs(net.n_inputs, 20, seed=0))


def test_report_starts_with_the_marker_and_is_a_complete_document(book_tex):
    assert book_tex.startswith(MARKER)
    assert book_tex.rstrip().endswith(r"\end{document}")
    assert r"\pdftrailerid{}" in book_tex


def test_book_report_reproduces_the_books_printed_arrays(book_tex):
    # the book network's exact values (docs/ARCHITECTURE.md): A1, Z1, Z2, Y as the book prints them (8 significant digits).
    for row in (r"0.3 & 0.7 & 1.1", r"0.57444252 & 0.66818777 & 0.75026011",
                r"0.62624937 & 0.7710107", r"0.31682708 & 0.69627909"):
        assert row in book_tex


def test_book_report_table_shows_the_exact_binary_values_and_the_ulp_errors(book_tex):
    table = book_tex[book_tex.index(r"\section*{Verification}"):]
    assert "0.31682707641102976546" in table and "0.69627908986196680381" in table
    assert "0.3168270764110298" in table  # NumPy's float64, as NumPy prints it
    assert r"$y_{1}$ \eqref{eq:z-3-1}, \eqref{eq:y-1}" in table  # linked to derivation and closed form
    assert "& $0.74$ &" in table  # +0.74 ulp, as the book network's exact values (docs/ARCHITECTURE.md) says
    for k in (1, 2):
        assert rf"\label{{eq:y-{k}}}" in book_tex


def test_decimal_mode_shows_the_exact_decimal_values():
    tex = build_report(book_network(), parse_x("1.0,0.5"), ReportSettings(mode="decimal")).tex
    assert "0.31682707641102974743" in tex and "0.69627908986196678148" in tex
    assert r"&= 1.1 \label{eq:a-1-3}" in tex  # exact in decimal mode: "=", not "\approx"


def test_same_inputs_give_byte_identical_tex(book_tex):
    again = build_report(book_network(), parse_x("1.0,0.5")).tex
    assert again.encode() == book_tex.encode()


def test_every_equation_reference_has_its_label(book_tex):
    refs = set(re.findall(r"\\eqref\{([^}]*)\}", book_tex))
    labels = set(re.findall(r"\\label\{([^}]*)\}", book_tex))
    assert refs and refs <= labels


def test_mnist_report_is_a_summary_not_thousands_of_equations(mnist_report):
    tex = mnist_report.tex
    assert mnist_report.detail.value == "summary"
    # the layer equations, and one unit of layer 1 in abbreviated form (a and z: one display)
    assert tex.count(r"\label{eq:a-") == 1 and tex.count(r"\begin{align}") == 2
    assert r"\section*{Weights}" in tex and "784 \\times 50" in tex
    assert len(mnist_report.check.results) == 200  # 20 inputs x 10 outputs
    assert tex.count(r"\\") < 400
    assert len(tex) < 40_000


def test_title_is_escaped_and_never_reaches_tex_as_markup():
    title = r"\input{/etc/passwd} $\x$ 100% #1 ^_~"
    tex = build_report(book_network(), parse_x("1.0,0.5"), ReportSettings(title=title)).tex
    assert r"\textbackslash{}input\{/etc/passwd\}" in tex
    assert r"\input{/etc" not in tex
    assert "100\\% \\#1" in tex


def test_committed_reports_are_up_to_date(tmp_path):
    makefile = (ROOT / "Makefile").read_text()
    for name, args in CANONICAL.items():
        line = " ".join(["$(BIN)/nnverify report", *args, "-o", f"reports/{name}"])
        assert line in makefile, f"the Makefile's reports target no longer runs {line!r}"
        out = tmp_path / name
        assert main(["report", *args, "-o", str(out), "--no-pdf"]) == 0
        committed = (ROOT / "reports" / name).read_bytes()
        assert out.read_bytes() == committed, (
            f"reports/{name} is out of date; run `make reports` and commit the result"
        )


def test_a_failed_verification_is_shown_and_exits_1(tmp_path, monkeypatch, capsys):
    real = nnverify.compare.forward

    def off_by_a_lot(network, x, **kw):
        fp = real(network, x, **kw)
        y = fp.y * (1 + 1e-9)  # far beyond the derived bound of a few ulps
        return type(fp)(fp.x, fp.a, fp.z[:-1] + (y,))

    monkeypatch.setattr(nnverify.compare, "forward", off_by_a_lot)
    out = tmp_path / "r.tex"
    assert main(["report", "-o", str(out), "--no-pdf", "--plot-samples", "0"]) == 1
    assert r"\textbf{FAILED}" in out.read_text()
    assert "NOT verified" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "r.txt"], "ending in .tex"),
        (["--digits", "0"], "--digits 0"),
        (["--step-digits", "40"], "--step-digits 40"),
        (["--weights", "book-mnist", "--mode", "decimal"], "--mode decimal needs"),
        (["--tex-timeout", "0"], "--tex-timeout 0"),
        (["--weights", "book-mnist", "--detail", "full"], "--detail summary"),
        (["--x", "1,2,3"], "takes 2"),
    ],
)
def test_bad_report_arguments_exit_2_with_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--no-pdf", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_file_nnverify_did_not_write_is_not_overwritten_without_force(tmp_path, capsys):
    target = tmp_path / "notes.tex"
    target.write_text("my own notes\n")
    assert main(["report", "-o", str(target), "--no-pdf", "--plot-samples", "0"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert target.read_text() == "my own notes\n"
    assert main(["report", "-o", str(target), "--no-pdf", "--plot-samples", "0", "--force"]) == 0
    assert target.read_text().startswith(MARKER)
    # nnverify's own file is replaced without --force.
    assert main(["report", "-o", str(target), "--no-pdf", "--plot-samples", "0"]) == 0


def test_a_pdf_nnverify_did_not_write_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.5 someone else's\n")
    assert main(["report", "-o", str(tmp_path / "r.tex"), "--plot-samples", "0"]) == 2
    assert "r.pdf: exists and was not written by nnverify" in capsys.readouterr().err
    assert not (tmp_path / "r.tex").exists()  # refused before writing anything


def test_without_tex_the_tex_is_written_and_the_message_says_how_to_get_the_pdf(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr("nnverify.report.compile.shutil.which", lambda name: None)
    out = tmp_path / "r.tex"
    assert main(["report", "-o", str(out), "--plot-samples", "0"]) == 0
    text = capsys.readouterr().out
    assert out.exists() and not out.with_suffix(".pdf").exists()
    assert "apt-get install -y --no-install-recommends texlive-latex-base" in text
    assert "pdflatex" in text


def test_find_pdflatex_names_the_install_command(monkeypatch):
    monkeypatch.setattr("nnverify.report.compile.shutil.which", lambda name: None)
    with pytest.raises(Exception, match="texlive-latex-recommended texlive-pictures"):
        find_pdflatex()


def test_a_weights_file_name_with_tex_specials_is_escaped(tmp_path):
    from nnverify.weights import save_network

    path = tmp_path / "evil_$x$_{a}.json"
    save_network(book_network(), path)
    net = load_network(str(path))
    tex = build_report(net, parse_x("1.0,0.5"), ReportSettings(plot_samples=0)).tex
    assert r"evil\texttt{\char95}\texttt{\char36}x\texttt{\char36}\texttt{\char95}\{a\}.json" in tex


def test_histogram_counts_every_sampled_output(book_tex):
    m = re.search(r"ybar interval.*?coordinates \{([^}]*)\}", book_tex, re.S)
    assert m is not None
    counts = [int(c.split(",")[1].rstrip(")")) for c in m.group(1).split()]
    assert sum(counts) == 400  # 200 random inputs x 2 outputs
    assert np.all(np.array(counts) >= 0)


def test_with_tests_runs_the_property_suite_and_summarises_it(tmp_path, capsys):
    out = tmp_path / "r.tex"
    assert main(["report", "-o", str(out), "--no-pdf", "--plot-samples", "0", "--with-tests"]) == 0
    tex = out.read_text()
    section = tex[tex.index(r"\section*{Property tests}"):]
    from nnverify.suite import property_names

    for name in property_names():
        assert escape_text(name) in section
    assert "examples per property" in section and "seed 0" in section
    assert "property tests: 8 of 8" in capsys.readouterr().out


def test_a_failed_property_is_shown_escaped_and_exits_1(tmp_path, monkeypatch):
    failing = TestSummary((("agreement", "Outputs within bound", 3, "failed", "y_1 off by 7 ulp: x=$1"),
                           ("softmax-laws", "Softmax laws", 0, "skipped", "no softmax")), seed=0)
    monkeypatch.setattr("nnverify.report.suite.run_property_suite", lambda net, seed=0: failing)
    out = tmp_path / "r.tex"
    assert main(["report", "-o", str(out), "--no-pdf", "--plot-samples", "0", "--with-tests"]) == 1
    tex = out.read_text()
    assert r"\textbf{FAILED}" in tex and r"y\texttt{\char95}1 off by 7 ulp: x=\texttt{\char36}1" in tex
    assert "n/a" in tex


def test_test_summary_refuses_an_unknown_status():
    with pytest.raises(Exception, match="expected one of passed, failed, skipped"):
        TestSummary((("p", "law", 1, "maybe", ""),))


def test_an_overflowed_float_result_is_reported_as_undecided_not_a_crash(tmp_path):
    # float32 1e30 * 1e10 = 1e40: every correct float32 computation overflows, which the rounding
    # model leaves out, so the verdict is undecided (not FAILED: that would blame correct code)
    weights = tmp_path / "big.json"
    weights.write_text('{"layers": [{"W": [[1e30]], "b": [0.0], "activation": "identity"}]}')
    out = tmp_path / "big.tex"
    argv = ["report", "--weights", str(weights), "--x", "1e10", "--dtype", "float32", "-o", str(out),
            "--no-pdf", "--plot-samples", "0"]
    with np.errstate(over="ignore"):
        assert main(argv) == 1
    tex = out.read_text()
    assert r"$\infty$ & $\infty$ & $\infty$" in tex and "& undecided" in tex
    assert "which the rounding model leaves out: it stays undecided" in tex
    assert r"1.0000000150474662199 \times 10^{40}" in tex  # the exact value: x * (float32 1e30)


def test_without_printable_closed_forms_the_table_links_only_to_the_derivation(monkeypatch):
    from nnverify.errors import LimitError

    def too_big(*args, **kwargs):
        raise LimitError("the closed form of y_1 would have 999 expression nodes; raise it with --max-ops 999")

    monkeypatch.setattr("nnverify.report.content_full.closed_form_rows", too_big)
    tex = build_report(book_network(), parse_x("1.0,0.5"), ReportSettings(plot_samples=0)).tex
    assert "too large to print here" in tex and "-{}-{}max-{}ops 999" in tex
    refs = set(re.findall(r"\\eqref\{([^}]*)\}", tex))
    labels = set(re.findall(r"\\label\{([^}]*)\}", tex))
    assert refs == {"eq:z-3-1", "eq:z-3-2"} and refs <= labels


def test_the_report_package_exports_what_it_lists():
    import nnverify.report as report

    assert all(hasattr(report, name) for name in report.__all__)
    assert {"build_report", "write_report", "compile_pdf", "escape_text", "format_number"} <= set(report.__all__)
