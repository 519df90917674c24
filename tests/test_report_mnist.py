"""The MNIST report on real digits: the grid, accuracy, certified predictions, one unit abbreviated.

Every check here can fail: the pictures are decoded back to the shipped pixels, the captions are
compared with predictions computed independently (NumPy's argmax), the uncertified digits with
the list ``nnverify check`` prints, the abbreviated sum with exact rationals of the stored
floats, and a broken forward pass changes what the grid says.
"""

from __future__ import annotations

import base64
import contextlib
import re
import struct
import zlib
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import nnverify.compare
from nnverify.cli import main
from nnverify.datasets import mnist_digits
from nnverify.inputs import Inputs, parse_x, sample_inputs
from nnverify.model import Layer, Network
from nnverify.report import ReportSettings, build_report
from nnverify.report.abbreviated import shown_inputs
from nnverify.report.certdigits import enclosure_significant
from nnverify.report.digits import MAX_GRID, DigitCell, digit_grid
from nnverify.report.images import grey_pixels, pdf_inline_image, png_gray, run_length, run_length_decode
from nnverify.weights import book_network, load_network

QUICK = ReportSettings(plot_samples=0)
#: Digits chosen for what they show (0-based positions in mnist-digits): a 0 predicted right and
#: certified, a 1 taken for a 3 (certified: the network is wrong, not its arithmetic), and the
#: two predictions of the shipped set with the smallest margins — certified by today's sound
#: bound (every shipped digit is), not by the interval bound alone, which the fixtures below use
#: to show how an uncertified prediction reads.
CHOSEN = [0, 51, 91, 7798]


@pytest.fixture(scope="module")
def net() -> Network:
    return load_network("book-mnist")


@contextlib.contextmanager
def interval_bound_only():
    """Checks with the sound bound replaced by the interval bound (~10x looser): #91 and #7798
    are then not certified."""
    import nnverify.compare as compare
    from nnverify.bounds.interval_arrays import interval_bounds
    from nnverify.bounds.tiers import OutputBounds, error_bounds

    def looser(network, bp, *args, **kwargs):  # type: ignore[no-untyped-def]
        b = error_bounds(network, bp, *args, **kwargs)
        today = interval_bounds(network, bp)  # today's chain through every layer
        return OutputBounds(today, b.linear, today, today, b.confidence)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compare, "error_bounds", looser)
        yield


@pytest.fixture(scope="module")
def chosen(net):
    d = mnist_digits(indices=CHOSEN)
    with interval_bound_only():
        return d, build_report(net, d.inputs(), QUICK)


def test_every_chosen_digit_is_certified_by_the_sound_bound(net):
    d = mnist_digits(indices=CHOSEN)
    p = build_report(net, d.inputs(), QUICK).data.predictions
    assert p is not None and p.n_certified == 4 and p.not_certified == ()


def _hexes(tex: str) -> list[bytes]:
    """The data of every inline image in the LaTeX source, RunLength-decoded."""
    found = re.findall(r"ID\n([0-9A-F\n]+)> EI", tex)
    return [run_length_decode(bytes.fromhex(h.replace("\n", ""))) for h in found]


def _png_pixels(png: bytes) -> np.ndarray:
    """An independent reader for the 8-bit greyscale PNGs: chunks, CRCs, filter 0 rows."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos:pos + 4])
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 0)
            size = (h, w)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    h, w = size
    rows = [raw[r * (w + 1):(r + 1) * (w + 1)] for r in range(h)]
    assert all(row[0] == 0 for row in rows)
    return np.array([list(row[1:]) for row in rows], dtype=np.uint8)


# -- pictures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x05" * 300, bytes(range(256)) * 2,
                                  b"\xff" * 127 + b"\x01\x02\x02\x03" + b"\xff" * 129])
def test_run_length_round_trips_and_compresses_runs(data):
    enc = run_length(data)
    assert enc.endswith(b"\x80") and run_length_decode(enc) == data
    if data == b"\x05" * 300:
        assert len(enc) == 7  # three repeat records (128, 128, 44) and the end marker


def test_run_length_decoder_can_fail():
    assert run_length_decode(bytes([1, 7, 7, 128])) == b"\x07\x07"
    assert run_length_decode(bytes([255, 7, 128])) != b"\x07"  # 257 - 255 = 2 copies


def test_every_mnist_pixel_byte_is_drawn_with_its_own_grey():
    p = np.arange(256, dtype=np.uint8)
    x = (p / 255).astype(np.float32).astype(np.float64)  # the book's normalisation
    assert (grey_pixels(x, (16, 16)).reshape(-1) == 255 - p).all()


def test_the_png_decodes_to_the_pixels():
    px = (np.arange(28 * 28) % 251).astype(np.uint8).reshape(28, 28)
    assert (_png_pixels(png_gray(px)) == px).all()
    assert not (_png_pixels(png_gray(px.T)) == px).all()  # the reader sees a transposed image


def test_the_inline_image_names_its_size_filters_and_data():
    px = np.zeros((28, 28), dtype=np.uint8)
    text = pdf_inline_image(px)
    assert text.startswith("BI /W 28 /H 28 /CS /G /BPC 8 /F [/AHx /RL] ID\n") and text.endswith("> EI")
    assert set(text.split("ID\n")[1][:-4]) <= set("0123456789ABCDEF\n")


def test_a_grid_needs_digits_and_fits_a_page():
    cell = DigitCell(np.zeros((28, 28), np.uint8), 1, 0, 0, True)
    with pytest.raises(ValueError, match="at least one"):
        digit_grid([], alt="x")
    with pytest.raises(ValueError, match=f"at most {MAX_GRID}"):
        digit_grid([cell] * (MAX_GRID + 1), alt="x")


# -- the grid shows the right digits, labels and predictions ----------------------------------------


def test_the_grid_draws_the_chosen_digits_in_order(chosen):
    d, report = chosen
    drawn = _hexes(report.tex)
    assert len(drawn) == len(CHOSEN)
    for k, data in enumerate(drawn):
        assert data == (255 - d.images[k]).tobytes(), f"picture {k + 1} is not digit #{CHOSEN[k]}"
    pngs = re.findall(r'href="data:image/png;base64,([A-Za-z0-9+/=]+)"', report.html())
    assert [(_png_pixels(base64.b64decode(p)) == 255 - d.images[k].reshape(28, 28)).all()
            for k, p in enumerate(pngs)] == [True] * len(CHOSEN)


def test_the_grid_captions_are_label_prediction_and_mark(chosen, net):
    d, report = chosen
    from nnverify.numeric import forward

    predicted = np.argmax(forward(net, d.inputs().values).y, axis=1)  # the book's np.argmax
    assert predicted.tolist() == [0, 3, 2, 8] and d.labels.tolist() == [0, 1, 1, 8]
    tex = report.tex
    assert r"{$0 \to 0$}" not in tex and r"$0 \to 0$\,\checkmark" in tex  # right and certified
    assert r"\textcolor{red!75!black}{$1 \to 3$}\,\checkmark" in tex  # wrong, yet certified
    assert r"\textcolor{red!75!black}{$1 \to 2$}\,\textcolor{orange!85!black}{\textbf{?}}" in tex
    assert r"$8 \to 8$\,\textcolor{orange!85!black}{\textbf{?}}" in tex  # right, not certified
    assert tex.count("line width=1.2pt") == 2  # the two uncertified digits are framed
    for tag in ("#0", "#51", "#91", "#7798"):  # a selection: each digit's position is shown
        assert "{\\" + tag + "}" in tex and f">{tag}</text>" in report.html()
    md = report.markdown()
    assert r"| 1 | \#0: 0 → 0 ✓ | **\#51: 1 → 3 ✓** | **\#91: 1 → 2 ?** | **\#7798: 8 → 8 ?** |" in md


def test_a_broken_forward_changes_the_grid(monkeypatch, net):
    real = nnverify.compare.forward

    def swapped(network, x, **kw):  # outputs y1 and y9 exchanged: digit 0 now reads as an 8
        fp = real(network, x, **kw)
        y = fp.y.copy()
        y[..., [0, 8]] = y[..., [8, 0]]
        return type(fp)(fp.x, fp.a, fp.z[:-1] + (y,))

    monkeypatch.setattr(nnverify.compare, "forward", swapped)
    report = build_report(net, mnist_digits(indices=[0]).inputs(), QUICK)
    tex = report.tex
    assert r"\textcolor{red!75!black}{$0 \to 8$}\,\textcolor{orange!85!black}{\textbf{?}}" in tex
    assert "Flipped predictions (the float and the exact class differ): 1, inputs 1." in tex
    assert not report.ok


# -- accuracy, certified predictions, uncertified ones with their margins ---------------------------


def test_uncertified_predictions_are_listed_with_their_exact_margins(chosen):
    _, report = chosen
    tex = report.tex
    assert "Certified predictions: 2 of 4." in tex and "Not certified: 2 of 4 predictions." in tex
    # input, digit, label, class, runner-up, margin (certified digits), B of the two
    assert r"3 & \#91 & 1 & $2$ & $1$ & $0.00348593$ &" in tex
    assert r"4 & \#7798 & 8 & $8$ & $2$ & $9.97604 \times 10^{-4}$ &" in tex
    assert r"Smallest exact margin: $9.97604 \times 10^{-4}$, input 4 (class 8, label 8)." in tex
    # the same digits as `nnverify check --inputs mnist-digits` lists (README: real digits)
    p = report.data.predictions
    assert [CHOSEN[i] for i in p.not_certified] == [91, 7798]


def test_margins_print_only_digits_both_ends_share():
    q = Fraction
    assert enclosure_significant(q(12344, 10**7), q(12346, 10**7), 6).latex == "0.00123"
    assert enclosure_significant(q(1, 2), q(1, 2), 6).latex == "0.5"
    assert enclosure_significant(q(0), q(1, 1000), 6).interval  # undecided: an interval, not a digit
    assert enclosure_significant(q(-1, 10**6), q(1, 10**6), 6).latex.startswith("[-")


def test_all_certified_and_the_book_accuracy_sentence(net):
    report = build_report(net, mnist_digits(first=10).inputs(), QUICK)
    tex = report.tex
    assert "Every prediction is certified." in tex and "Certified predictions: 10 of 10." in tex
    assert "Accuracy: 1 (10 of 10 labels match the predicted class)." in tex
    # the book's figure, and this set's, computed for the report (all 10,000 digits, float32)
    assert "The book prints Accuracy:0.9352 for the official MNIST test set" in tex
    assert "scores 0.9374 (9374 of 10000)" in tex
    assert report.data.digits_score is not None and report.data.digits_score.correct == 9374


def test_another_network_on_the_digits_gets_no_sentence_about_the_book():
    net = load_network("book-mnist", activations=["sigmoid", "sigmoid", "identity"])
    tex = build_report(net, mnist_digits(first=10).inputs(), QUICK).tex
    assert "Predictions on real digits" in tex and "Accuracy: " in tex
    assert "0.9352" not in tex


def test_classes_are_zero_based_and_outputs_one_based(chosen):
    _, report = chosen
    tex = report.tex
    assert r"class $c$ is output $y_{c+1}$" in tex and "(digit 0 is $y_1$)" in tex
    table = tex[tex.index(r"\section*{Verification}"):]
    assert "input & label & class & worst output" in table
    assert re.search(r"\n1 & 0 & \$0\$ & \$y_\{\d+\}\$", table)  # digit #0: label 0, class 0
    assert re.search(r"\n2 & 1 & \$3\$ & ", table)  # digit #51: label 1, class 3


# -- one unit of layer 1, abbreviated ---------------------------------------------------------------


def _fixed8(q: Fraction) -> str:
    """``q`` to 8 decimals, half to even, trailing zeros trimmed (NumPy's precision=8), by Decimal."""
    d = (Decimal(q.numerator) / Decimal(q.denominator)).quantize(Decimal("1e-8"))
    return format(d.normalize(), "f")


def test_the_abbreviated_sum_has_the_right_first_and_last_terms(chosen, net):
    d, report = chosen
    tex = report.tex
    sym = (r"a^{(1)}_{1} &= w^{(1)}_{1,1} x_{1} + w^{(1)}_{1,2} x_{2} + w^{(1)}_{1,3} x_{3} + \dots + "
           r"w^{(1)}_{1,782} x_{782} + w^{(1)}_{1,783} x_{783} + w^{(1)}_{1,784} x_{784} + b^{(1)}_{1}")
    assert sym in tex
    W, b = net.layers[0].W, net.layers[0].b
    x = [Fraction(float(v)) for v in d.inputs().values[0]]
    w = [Fraction(float(W[i, 0])) for i in range(784)]
    sub = tex[tex.index(sym) + len(sym):tex.index(r"\label{eq:a-1-1}")]
    numbers = re.findall(r"-?\d+\.\d+|(?<=\\cdot )0|\\dots", sub)
    expected_w = [_fixed8(w[i]) for i in (0, 1, 2, 781, 782, 783)]
    shown_w = [n for n in numbers if n not in ("0", r"\dots")][:6]
    # signs are pulled out of the products ("- 0.0103 \cdot 0"), so compare magnitudes and signs
    assert [s.lstrip("-") for s in shown_w] == [e.lstrip("-") for e in expected_w]
    assert r"\dots" in sub and sub.count(r"\cdot 0") == 6  # border pixels: x = 0
    exact = sum((wi * xi for wi, xi in zip(w, x)), Fraction(0)) + Fraction(float(b[0]))
    assert f"&\\approx {_fixed8(exact)}" in sub and _fixed8(Fraction(float(b[0]))).lstrip("-") in sub
    nz = int(np.count_nonzero(d.images[0]))
    assert f"Of the 784 values of this input, {nz} are not 0" in tex


def test_a_narrow_first_layer_shows_every_term():
    rng = np.random.default_rng(3)
    net = Network((Layer(rng.uniform(-1, 1, (3, 20)), rng.uniform(-1, 1, 20), "sigmoid"),
                   Layer(rng.uniform(-1, 1, (20, 2)), rng.uniform(-1, 1, 2), "identity")), name="wide")
    tex = build_report(net, parse_x("0.25,0.5,1"), QUICK).tex
    assert r"a^{(1)}_{1} &= w^{(1)}_{1,1} x_{1} + w^{(1)}_{1,2} x_{2} + w^{(1)}_{1,3} x_{3} + b^{(1)}_{1}" in tex
    assert r"\dots" not in tex.split("eq:a-1-1")[0].split("abbreviated")[-1]
    assert shown_inputs(784) == ([1, 2, 3, 782, 783, 784], True) and shown_inputs(6) == ([1, 2, 3, 4, 5, 6], False)


def test_equals_only_when_every_omitted_term_is_exact_too(tmp_path):
    import json

    def report(x7: str) -> str:
        W = [[0.5] * 8 for _ in range(8)]
        doc = {"layers": [{"W": W, "b": [0.25] * 8, "activation": "relu"},
                          {"W": [[0.5, 0.5]] * 8, "b": [0, 0], "activation": "identity"}]}
        path = tmp_path / "w.json"
        path.write_text(json.dumps(doc))
        x = ["0.5"] * 8
        x[3] = x7  # a value among the omitted terms
        inputs = Inputs(np.array([[float(v) for v in x]]), (tuple(x),), "--x", single=True)
        return build_report(load_network(str(path)), inputs, ReportSettings(plot_samples=0, mode="decimal",
                                                                            detail="summary")).tex

    exact = report("0.5")
    assert "&= 0.5 \\cdot 0.5 + 0.5 \\cdot 0.5" in exact and "&= 2.25 \\label{eq:a-1-1}" in exact
    rounded = report("0.123456789")  # printed as 0.12345679 if shown; hidden here, still not exact
    assert "&\\approx 0.5 \\cdot 0.5 + 0.5 \\cdot 0.5" in rounded


# -- defaults, formats, language ---------------------------------------------------------------------


def test_the_mnist_report_defaults_to_the_first_100_real_digits(tmp_path, capsys):
    out = tmp_path / "r.tex"
    assert main(["report", "--weights", "book-mnist", "-o", str(out), "--no-pdf"]) == 0
    tex = out.read_text()
    assert "100 real MNIST digits of the 10,000 shipped" in tex and "No inputs were given" in tex
    assert r"\texttt{-{}-{}inputs mnist-{}digits -{}-{}first 100}" in tex
    assert len(_hexes(tex)) == 100 and "Accuracy: 0.94 (94 of 100" in tex
    assert "Certified predictions: 100 of 100." in tex and "Not certified" not in tex
    assert "Distribution of the errors" in tex and "1000 outputs of 100 verified inputs." in tex
    assert "1000 outputs verified" in capsys.readouterr().out


def test_a_selection_of_digits_is_said_and_random_inputs_stay_unlabelled(tmp_path, net):
    out = tmp_path / "r.tex"
    assert main(["report", "--weights", "book-mnist", "--per-class", "1", "-o", str(out), "--no-pdf"]) == 0
    assert r"-{}-{}per-{}class 1}" in out.read_text()
    plain = build_report(net, sample_inputs(784, 3, seed=0), QUICK).tex
    assert "Predictions" not in plain and "ID\n" not in plain  # no labels: no predictions, no grid


def test_labels_on_a_small_network_get_the_section_without_a_grid():
    x = parse_x("1.0,0.5")
    labelled = Inputs(x.values, x.text, x.source, x.single, labels=np.array([1]))
    tex = build_report(book_network(), labelled, QUICK).tex
    assert r"\section*{Predictions}" in tex and "Accuracy: 1 (1 of 1" in tex
    assert "based names $y_{1}, y_{2}$" in tex  # two outputs: no "y_1, ..., y_2"
    assert "tikzpicture" in tex and "ID\n" not in tex and "0.9352" not in tex


def test_explicit_plot_samples_still_draws_random_inputs(net):
    report = build_report(net, mnist_digits(first=2).inputs(), ReportSettings(plot_samples=5))
    assert report.data.samples is not None and report.data.samples.x.shape[0] == 5
    assert build_report(net, mnist_digits(first=2).inputs(), QUICK).data.samples is None


def test_the_chinese_report_has_every_new_text(chosen, net):
    d, _ = chosen
    with interval_bound_only():
        tex = build_report(net, d.inputs(), ReportSettings(plot_samples=0, lang="zh")).tex
    for text in ("真实手写数字上的预测", "识别精度", "经过认证的预测：4 个中 2 个", "第 1 层的一个神经元",
                 "书中对官方 MNIST 测试集"):
        assert text in tex
    assert "Accuracy: " not in tex.replace("Accuracy:0.9352", "")  # no English sentence left


def test_the_html_grid_obeys_the_page_policy(chosen):
    _, report = chosen
    page = report.html()
    assert "default-src 'none'" in page and "img-src data:" in page
    grid = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="digits"'):]
    grid = grid[:grid.index("</svg>")]
    assert grid.count("<image ") == len(CHOSEN) and grid.count("http") == 1  # the xmlns alone
    assert grid.count('href="data:image/png;base64,') == len(CHOSEN)
