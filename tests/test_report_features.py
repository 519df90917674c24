"""Issue 13's report features: certified digits on extreme networks, the book's notation, the
student's own forward(), --units/--derive-input, Markdown/HTML, Chinese, teaching defaults."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_report_digits import certified_by

from nnverify.cli import main
from nnverify.inputs import parse_x
from nnverify.model import Layer, Network
from nnverify.report import ReportSettings, build_report
from nnverify.report.blocks import Table
from nnverify.report.content_check import verification_section
from nnverify.report.lang import Lang, words_for
from nnverify.report.numbers import Number
from nnverify.weights import book_network

ROOT = Path(__file__).resolve().parent.parent
QUICK = ReportSettings(plot_samples=0)


@pytest.fixture(scope="module")
def book():
    return build_report(book_network(), parse_x("1.0,0.5"), QUICK)


# -- the book's notation ------------------------------------------------------------------------


def test_the_book_report_uses_the_books_subscripts_and_matrix(book):
    tex = book.tex
    assert r"a^{(1)}_{1} &= w^{(1)}_{11} x_{1} + w^{(1)}_{12} x_{2} + b^{(1)}_{1}" in tex
    assert (r"W^{(1)} &= \begin{pmatrix} w^{(1)}_{11} & w^{(1)}_{21} & w^{(1)}_{31} \\ "
            r"w^{(1)}_{12} & w^{(1)}_{22} & w^{(1)}_{32} \end{pmatrix}") in tex
    assert "x_{1} w^{(1)}" not in tex  # weight before signal, everywhere


def test_decimal_derivation_is_exact_and_the_table_stays_binary(book):
    tex = book.tex
    assert r"&= 0.1 \cdot 1 + 0.2 \cdot 0.5 + 0.1" in tex and r"&= 0.3 \label{eq:a-1-1}" in tex
    assert "0.31682707641102976546" in tex  # the table: the stored floats (binary)
    assert "1/10" in tex and r"\fbox" not in tex  # the decimal note, no binary box


def test_binary_mode_has_the_box_on_why_01_is_not_a_tenth():
    tex = build_report(book_network(), parse_x("1.0,0.5"), ReportSettings(mode="binary", plot_samples=0)).tex
    box = tex[tex.index(r"\fbox"):][:400]
    assert r"\frac{3602879701896397}{2^{55}}" in box and "0.100000000000000005551" in box
    assert r"&\approx 0.1 \cdot 1 + 0.2 \cdot 0.5 + 0.1" in tex  # rounded numbers: approx


# -- certified digits only -----------------------------------------------------------------------


def _printed(tex: str, label: str) -> Number:
    """The number on the labelled line of a derivation, with its relation."""
    line = next(ln for ln in tex.splitlines() if f"\\label{{{label}}}" in ln)
    m = re.search(r"&(=|\\approx|\\in) (.*?) \\label", line)
    assert m, line
    rel, text = m.groups()
    return Number(text, text.startswith("-"), rel == "=", interval=rel == r"\in")


def _check_every_printed_digit(report) -> int:
    data, tex = report.data, report.tex
    n = 0
    for l, layer in enumerate(data.network.layers, start=1):
        for j in range(1, layer.n_out + 1):
            for kind, balls in (("a", data.cert.balls_a), ("z", data.cert.balls_z)):
                if l == 1 and kind == "a":
                    continue  # exact rationals, not balls
                num = _printed(tex, f"eq:{kind}-{l}-{j}")
                assert certified_by(num, balls[l - 1][0][j - 1]), (kind, l, j, num)
                n += 1
    return n


def _sigmoid_1_1(x: float) -> tuple[Network, object]:
    net = Network((Layer(np.array([[1.0]]), np.array([0.0]), "sigmoid"),))
    return net, parse_x(repr(x))


@pytest.mark.parametrize("x", [-3000.0, -1e6])
def test_values_below_2_to_minus_4096_print_their_true_certified_digits(x):
    net, inputs = _sigmoid_1_1(x)
    report = build_report(net, inputs, QUICK)
    assert _check_every_printed_digit(report) == 1
    y = _printed(report.tex, "eq:z-1-1").latex
    expected = {-3000.0: r"\times 10^{-1303}", -1e6: r"\times 10^{-434295}"}[x]
    assert y.endswith(expected) and "1234" not in report.tex  # never the clamp's 5e-1234


def test_the_6_6_6_softmax_net_with_huge_inputs_prints_only_certified_digits():
    rng = np.random.default_rng(3)
    net = Network((Layer(rng.uniform(-1, 1, (6, 6)), rng.uniform(-1, 1, 6), "sigmoid"),
                   Layer(rng.uniform(-2000, 2000, (6, 6)), rng.uniform(-1, 1, 6), "softmax")))
    x = "12345.678,-9876.5,4321.25,-12345.678,777.5,-3333.25"
    report = build_report(net, parse_x(x), QUICK)
    assert _check_every_printed_digit(report) == 18  # z1 (6), a2 (6), y (6)
    tiny = [_printed(report.tex, f"eq:z-1-{j}").latex for j in range(1, 7)]
    assert any(re.search(r"10\^\{-\d{4,}\}", t) for t in tiny)  # e.g. 2.1e-2735, from the ball
    table = report.tex[report.tex.index(r"\section*{Verification}"):]
    for k in range(6):
        ball = report.data.y_balls[0][k]
        shown = re.findall(r"\$y_\{" + str(k + 1) + r"\}\$[^&]*& \$([^$]*)\$", table)[0]
        assert certified_by(Number(shown, shown.startswith("-"), False, shown.startswith("[")), ball)


def test_the_digit_check_fails_on_a_wrong_digit():
    net, inputs = _sigmoid_1_1(-3000.0)
    report = build_report(net, inputs, QUICK)
    num = _printed(report.tex, "eq:z-1-1")
    wrong = Number(num.latex.replace("1.30783902", "1.30783903"), False, False)
    assert wrong.latex != num.latex
    assert not certified_by(wrong, report.data.cert.balls_z[0][0][0])


# -- choices: units, the derived input, defaults ------------------------------------------------------


def test_units_choose_which_units_are_derived():
    tex = build_report(book_network(), parse_x("1.0,0.5"), ReportSettings(plot_samples=0, units="2:1")).tex
    assert r"\label{eq:a-2-1}" in tex and r"\label{eq:a-1-1}" not in tex and r"\label{eq:a-2-2}" not in tex
    assert r"\label{eq:A-1}" in tex  # every layer's matrix form stays
    assert "not derived one by one" in tex


@pytest.mark.parametrize(("units", "message"), [("4", "layer 4 does not exist"), ("1:9", "units 1 to 3"),
                                                ("x", "is not L or L:J")])
def test_bad_units_are_one_line_errors(tmp_path, capsys, units, message):
    assert main(["report", "--no-pdf", "-o", str(tmp_path / "r.tex"), "--units", units]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_derive_input_k_follows_that_input(tmp_path):
    inputs = tmp_path / "x.csv"
    inputs.write_text("1.0,0.5\n-2.0,3.0\n")
    out = tmp_path / "r.tex"
    assert main(["report", "--no-pdf", "--plot-samples", "0", "--inputs", str(inputs), "--derive-input", "2",
                 "-o", str(out)]) == 0
    tex = out.read_text()
    assert r"X &= \begin{pmatrix} -2 & 3 \end{pmatrix}" in tex and "follows input 2" in tex
    assert main(["report", "--no-pdf", "--inputs", str(inputs), "--derive-input", "3", "-o", str(out)]) == 2


def test_default_inputs_are_said_small_networks_get_one(tmp_path):
    weights = tmp_path / "w.json"
    weights.write_text('{"layers": [{"W": [[1.0], [2.0], [3.0]], "b": [0.0], "activation": "sigmoid"}]}')
    out = tmp_path / "r.tex"
    assert main(["report", "--no-pdf", "--plot-samples", "0", "--weights", str(weights), "-o", str(out)]) == 0
    tex = out.read_text()
    assert "1 input(s) drawn uniformly" in tex and "No inputs were given" in tex and "from -{}-{}x" not in tex
    assert main(["report", "--no-pdf", "--plot-samples", "0", "-o", str(out)]) == 0
    assert "the book'{}s $x = (1, 0.5)$" in out.read_text()


# -- the student's own forward() ------------------------------------------------------------------------


def test_a_students_broken_forward_is_shown_failed_and_exits_1(tmp_path, capsys):
    out = tmp_path / "r.tex"
    spec = str(ROOT / "examples" / "broken_plus_1e12.py") + ":forward"
    assert main(["report", "--no-pdf", "--plot-samples", "0", "--impl", spec, "-o", str(out)]) == 1
    tex = out.read_text()
    table = tex[tex.index(r"\section*{Verification}"):]
    assert r"\textbf{FAILED}" in table and "broken\\texttt{\\char95}plus" in table
    assert "NOT verified" in capsys.readouterr().out


def test_a_student_forward_that_raises_is_reported_in_the_table(tmp_path, capsys):
    out = tmp_path / "r.tex"
    spec = str(ROOT / "examples" / "ch03_book.py") + ":forward"  # the book's identify_function typo
    assert main(["report", "--no-pdf", "--plot-samples", "0", "--impl", spec, "-o", str(out)]) == 1
    tex = out.read_text()
    assert "NameError" in tex and "identify" in tex and "no value" in tex
    assert "your forward failed on input 1" in capsys.readouterr().out


def test_a_correct_student_forward_passes(tmp_path):
    out = tmp_path / "r.tex"
    spec = str(ROOT / "examples" / "ch03_fixed.py") + ":forward"
    assert main(["report", "--no-pdf", "--plot-samples", "0", "--impl", spec, "-o", str(out)]) == 0
    assert r"\textbf{FAILED}" not in out.read_text()


# -- the verification table's bound columns ---------------------------------------------------------


def test_a_probabilistic_bound_gets_its_own_column_and_suspicious_shows(book):
    data = book.data
    results = tuple(dataclasses.replace(r, prob_bound_ulp=0.5) for r in data.check.results)
    results = (dataclasses.replace(results[0], status="suspicious"),) + results[1:]
    faked = dataclasses.replace(data, check=dataclasses.replace(data.check, results=results))
    words = words_for(Lang.EN)
    blocks = verification_section(faked, words, closed=True)
    table = next(b for b in blocks if isinstance(b, Table))
    assert [c[0].text for c in table.header][-2:] == ["prob. bound (ulp)", "verdict"]
    assert table.rows[0][-1][0].text == "suspicious"
    text = " ".join(p.text for b in blocks if hasattr(b, "parts") for p in b.parts if hasattr(p, "text"))
    assert "probabilistic bound holds with probability" in text
    # the book's sums have 2 and 3 terms: its probabilistic bound is the sound one, no column for it
    assert all(r.prob_bound_ulp == r.bound_ulp for r in data.check.results)
    plain = verification_section(data, words, closed=True)
    assert "prob. bound (ulp)" not in [c[0].text for c in next(b for b in plain if isinstance(b, Table)).header]


# -- Markdown, HTML, notebooks -------------------------------------------------------------------------


def test_markdown_has_katex_math_numbered_equations_and_escaped_text(tmp_path):
    out = tmp_path / "r.md"
    assert main(["report", "--plot-samples", "0", "--title", "<b>*x*</b> $y$", "-o", str(out)]) == 0
    md = out.read_text()
    assert md.startswith("<!-- Generated by nnverify")
    assert r"# \<b\>\*x\*\</b\> \$y\$" in md  # user text can start no markup and no math
    assert "\\begin{aligned}\na^{(1)}_{1} &= w^{(1)}_{11} x_{1}" in md and "\\tag{3}" in md
    assert "](#eq-eq-z-3-1)" in md and '<a id="eq-eq-z-3-1"></a>' in md
    assert "| output | exact value |" in md


def test_html_is_standalone_mathml_and_svg_and_a_script_title_is_text(tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", "--plot-samples", "0", "--title", "<script>alert(1)</script>", "-o", str(out)]) == 0
    page = out.read_text()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "http://" not in page.replace("http://www.w3.org/", "")
    assert page.count("<math") > 50 and "<svg" in page and 'id="eq-eq-a-1-1"' in page
    assert main(["report", "--plot-samples", "0", "-o", str(tmp_path / "r.txt")]) == 2


def test_a_report_shows_itself_in_a_notebook(book):
    assert "\\tag{1}" in book._repr_latex_() and "\\begin{aligned}" in book._repr_latex_()
    html = book._repr_html_()
    assert html.startswith('<div class="nnverify-report">') and "<math" in html and "<html" not in html


# -- Chinese ------------------------------------------------------------------------------------------


def test_every_language_table_has_the_same_keys():
    from nnverify.report.lang import en, zh

    assert set(en.STRINGS) == set(zh.STRINGS)


def test_a_chinese_report_writes_chinese_everywhere(tmp_path):
    report = build_report(book_network(), parse_x("1.0,0.5"), ReportSettings(plot_samples=0, lang="zh"))
    tex = report.tex
    assert r"\usepackage{CJKutf8}" in tex and r"\begin{CJK}{UTF8}{gbsn}" in tex
    assert "逐层前向传播" in tex and "验证" in tex and "[U+" not in tex
    assert "Verification" not in tex and "Forward pass" not in tex


# -- teaching defaults ----------------------------------------------------------------------------------


def test_step_networks_state_the_kink_rule_and_cases_say_if():
    net = Network((Layer(np.array([[1.0], [-1.0]]), np.array([0.0]), "step"),
                   Layer(np.array([[1.0]]), np.array([0.0]), "identity")))
    tex = build_report(net, parse_x("1.0,0.5"), QUICK).tex
    assert "kink rule" in tex and r"\text{if }" in tex


def test_no_1x1_matrices_and_numbers_as_numpy_prints_them():
    net = Network((Layer(np.array([[0.63696169]]), np.array([-1.0]), "sigmoid"),))
    tex = build_report(net, parse_x("2"), QUICK).tex
    assert r"\label{eq:A-1}" not in tex  # no (0.63696169)(2)+(-1)
    assert "1.21402696" in build_report(book_network(), parse_x("1.0,0.5"), QUICK).tex


def test_the_plot_of_a_saturated_sigmoid_warns_nothing():
    net = Network((Layer(np.array([[1.0]]), np.array([0.0]), "sigmoid"),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_report(net, parse_x("-1000"), ReportSettings(plot_samples=20))


def test_units_derivations_are_kept_on_one_page(book):
    tex = book.tex
    assert r"\allowdisplaybreaks" not in tex.split(r"\section*{Closed form")[0]
    block = tex[tex.index(r"a^{(1)}_{1} &= w"):]
    assert block.index(r"\label{eq:z-1-1}") < block.index(r"\end{align}")  # a and z: one display


def test_mnist_summary_explains_why_the_bound_is_loose():
    from nnverify.inputs import sample_inputs
    from nnverify.weights import load_network

    net = load_network("book-mnist")
    tex = build_report(net, sample_inputs(784, 3, seed=0), QUICK).tex
    assert "Why the bound is so far above the errors" in tex and "784" in tex


def test_json_is_untouched_by_the_report():  # the report adds no key to check's JSON
    from nnverify.compare import check

    doc = check(book_network(), parse_x("1.0,0.5")).to_json()
    assert set(doc["results"][0]) == {"input", "output", "exact", "radius", "value", "abs_error", "rel_error",
                                      "ulp", "bound_abs", "bound_ulp", "prob_bound_abs", "prob_bound_ulp",
                                      "status", "sound_status", "prob_status", "ok"}
