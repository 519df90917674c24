"""Predicted classes, accuracy and certified predictions: the rule, its soundness, and the CLI."""

from __future__ import annotations

import dataclasses
import doctest
import json
from fractions import Fraction

import numpy as np
import pytest

import nnverify.predictions
from nnverify import Layer, Network, load_network
from nnverify.certified import Enclosure
from nnverify.cli import main
from nnverify.compare import CheckReport, OutputResult, check
from nnverify.datasets import mnist_digits
from nnverify.errors import InputsError, UsageError
from nnverify.modes import Mode
from nnverify.predictions import looks_like_probabilities, predictions
from nnverify.status import Verdict

# -- the rule on hand-made reports -------------------------------------------------------------

_NET3 = Network((Layer(np.eye(3), np.zeros(3), "identity"),), name="three")


@dataclasses.dataclass(frozen=True)
class _WithProb(OutputResult):
    """A result as the bounds helper will make them: a probabilistic bound per output too."""

    prob_bound_abs: float = 0.0


def _report(rows: list[list[tuple[float, float, float]]], observed: list[list[float]] | None = None,
            prob: list[list[float]] | None = None) -> CheckReport:
    """A report from (exact value, enclosure radius, bound) per output; floats as observed."""
    results = []
    for i, row in enumerate(rows):
        for k, (v, rad, bound) in enumerate(row):
            exact = Enclosure(Fraction(v) - Fraction(rad), Fraction(v) + Fraction(rad))
            value = v if observed is None else observed[i][k]
            kw = dict(input=i, output=k, exact=exact, value=value, abs_error=0.0, rel_error=0.0, ulp=0.0,
                      bound_abs=bound, bound_ulp=0.0, status=Verdict.OK)
            results.append(_WithProb(**kw, prob_bound_abs=prob[i][k]) if prob else OutputResult(**kw))  # type: ignore[arg-type]
    y = np.array([[v for v, _, _ in row] for row in rows] if observed is None else observed)
    return CheckReport(_NET3, np.dtype(np.float64), Mode.BINARY, np.zeros((len(rows), 3)), y, tuple(results))


def test_a_clear_winner_is_certified_with_its_margin() -> None:
    p = predictions(_report([[(0.7, 1e-30, 1e-3), (0.2, 1e-30, 1e-3), (0.1, 1e-30, 1e-3)]]), np.array([0]))
    row = p.rows[0]
    assert (row.predicted, row.exact_predicted, row.certified, row.label) == (0, 0, True, 0)
    assert row.margin is not None and row.margin.contains(Fraction(0.7) - Fraction(0.2))
    assert p.accuracy == 1.0 and p.n_certified == 1 and p.not_certified == () and p.flipped == ()


def test_top_two_alone_is_not_enough_a_wide_third_output_can_overtake() -> None:
    # top-1/top-2: 0.5 - 0.3 = 0.2 > 0.01 + 0.01, yet y3 + B3 = 0.2 + 0.4 > 0.5 - 0.01
    rows = [[(0.5, 0, 0.01), (0.3, 0, 0.01), (0.2, 0, 0.4)]]
    row = predictions(_report(rows)).rows[0]
    assert row.exact_predicted == 0 and not row.certified
    narrow = [[(0.5, 0, 0.01), (0.3, 0, 0.01), (0.2, 0, 0.2)]]  # 0.49 > 0.4: now every pair is separated
    assert predictions(_report(narrow)).rows[0].certified


def test_the_margin_must_exceed_the_two_bounds_strictly() -> None:
    tie = [[(0.75, 0, 0.125), (0.25, 0, 0.375), (0.0, 0, 0.0)]]  # 0.75 - 0.125 == 0.25 + 0.375 exactly
    assert not predictions(_report(tie)).rows[0].certified
    inside = [[(0.75, 0, 0.125), (0.25, 0, 0.375 - 2**-50), (0.0, 0, 0.0)]]
    assert predictions(_report(inside)).rows[0].certified


def test_overlapping_enclosures_leave_the_exact_class_undecided() -> None:
    row = predictions(_report([[(0.5, 1e-3, 1e-9), (0.4995, 1e-3, 1e-9), (0.0, 0, 0)]])).rows[0]
    assert row.exact_predicted is None and not row.certified and not row.flipped
    assert row.margin is not None and row.margin.lower == 0  # the margin's enclosure still holds


def test_a_float_argmax_that_differs_from_the_exact_one_is_flipped() -> None:
    rows = [[(0.5, 0, 1e-2), (0.49, 0, 1e-2), (0.01, 0, 1e-2)]]
    p = predictions(_report(rows, observed=[[0.48, 0.495, 0.01]]), np.array([0]))
    assert p.rows[0].predicted == 1 and p.rows[0].exact_predicted == 0
    assert p.flipped == (0,) and p.not_certified == (0,) and p.accuracy == 0.0


@pytest.mark.parametrize("observed, bound", [([float("nan"), 0.2, 0.1], 1e-3), ([0.7, 0.2, 0.1], float("inf"))])
def test_nan_outputs_or_no_finite_bound_are_never_certified(observed: list[float], bound: float) -> None:
    rows = [[(0.7, 0, bound), (0.2, 0, bound), (0.1, 0, bound)]]
    assert not predictions(_report(rows, observed=[observed])).rows[0].certified


def test_the_probabilistic_tier_is_a_column_when_the_bounds_exist() -> None:
    rows = [[(0.5, 0, 0.2), (0.3, 0, 0.2), (0.2, 0, 0.2)]]  # too wide for the sound tier
    plain = predictions(_report(rows))
    assert plain.rows[0].prob_certified is None and plain.n_prob_certified is None
    assert plain.to_json()["predictions"]["prob_certified"] is None
    tight = predictions(_report(rows, prob=[[0.01, 0.01, 0.01]]))
    assert not tight.rows[0].certified and tight.rows[0].prob_certified is True and tight.n_prob_certified == 1
    loose = predictions(_report(rows, prob=[[0.1, 0.1, 0.1]]))
    assert loose.rows[0].prob_certified is False


def test_json_names_the_issues_fields_with_1_based_inputs_and_0_based_classes() -> None:
    rows = [[(0.7, 0, 1e-3), (0.2, 0, 1e-3), (0.1, 0, 1e-3)], [(0.1, 0, 0.3), (0.6, 0, 0.3), (0.3, 0, 0.3)]]
    doc = predictions(_report(rows), np.array([0, 2])).to_json(index=np.array([17, 42]))
    assert doc["accuracy"] == 0.5
    pred = doc["predictions"]
    assert (pred["certified"], pred["not_certified"], pred["flipped"]) == (1, [2], [])
    second = pred["rows"][1]
    assert second == {"input": 2, "index": 42, "label": 2, "predicted": 1, "exact_predicted": 1,
                      "margin": "0.29999999999999998890", "margin_radius": 0.0, "prediction_certified": False,
                      "prediction_prob_certified": None}
    assert pred["smallest_margin"]["input"] == 2


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (np.array([0, 1]), InputsError, "labels: holds 2 labels for 1 inputs; give one label per input row"),
        (np.array([3]), InputsError, "label 3 (row 0) is outside the network's 3 classes 0..2"),
        (np.array([-1]), InputsError, "label -1 (row 0) is negative"),
        (np.array([0.5]), InputsError, "label 0.5 (row 0) is not a whole number"),
        (np.array(["a"]), InputsError, "labels have dtype <U1; expected whole numbers"),
    ],
)
def test_bad_labels_are_one_line_errors(labels: np.ndarray, error: type, message: str) -> None:
    with pytest.raises(error) as err:
        predictions(_report([[(0.7, 0, 1e-3), (0.2, 0, 1e-3), (0.1, 0, 1e-3)]]), labels)
    assert message in str(err.value)


def test_one_output_has_no_classes() -> None:
    net = Network((Layer(np.ones((2, 1)), np.zeros(1), "sigmoid"),))
    with pytest.raises(UsageError, match="needs? at least 2 outputs"):
        predictions(check(net, np.array([1.0, 0.5]), progress=False))


def test_margins_print_only_digits_both_ends_share() -> None:
    e = Enclosure(Fraction(123456, 10**6), Fraction(123457, 10**6))
    assert e.digits() == "0.12346"  # 0.123456 and 0.123457 agree to 5 digits
    assert Enclosure(Fraction(1, 4), Fraction(1, 4)).digits() == "0.25"
    assert Enclosure(Fraction(-1, 10**6), Fraction(1, 10**6)).digits().startswith("[")


def test_looks_like_probabilities() -> None:
    assert looks_like_probabilities(np.array([0.25, 0.75]), np.float64)
    assert not looks_like_probabilities(np.array([0.25, 0.74]), np.float64)
    assert not looks_like_probabilities(np.array([1.5, -0.5]), np.float64)
    assert not looks_like_probabilities(np.array([1.0]), np.float64)


# -- soundness on the book's network and real digits --------------------------------------------

def _near_the_boundary(net: Network, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A point between digits ``a`` and ``b`` (of different classes) where the float32 forward's
    top output leads the next by only ~1e-5: far more than the rounding errors (~1e-7), far less
    than the bounds (~1e-4): a prediction no bound can certify, the exact class the float one."""
    from nnverify.numeric import forward

    first = int(np.argmax(forward(net, a).y))

    def lead(t: float) -> float:
        y = forward(net, ((1 - t) * a + t * b).astype(np.float32)).y.astype(np.float64)
        return float(y[first] - np.max(np.delete(y, first)))

    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if lead(mid) > 1e-5 else (lo, mid)
    return ((1 - lo) * a + lo * b).astype(np.float32)


@pytest.fixture(scope="module")
def mnist_check() -> tuple[CheckReport, np.ndarray]:
    # 60 digits (all certified by the sound bound), then 4 points near decision boundaries between
    # digits of different classes (labelled like their first digit): not certified
    net = load_network("book-mnist")
    d = mnist_digits(indices=list(range(0, 60)))
    x = np.asarray(d.inputs().values, dtype=np.float32)
    ends = mnist_digits(indices=[0, 1001, 2128, 3119, 4151])  # the digits are grouped by class
    e = np.asarray(ends.inputs().values, dtype=np.float32)
    edge = np.stack([_near_the_boundary(net, e[i], e[i + 1]) for i in range(4)])
    labels = np.concatenate([d.labels, ends.labels[:4]])
    return check(net, np.concatenate([x, edge]), progress=False), labels


def _adversary(report: CheckReport, i: int, k: int, j: int) -> np.ndarray:
    """A float result a correct computation may give (each within its bound of an exact value in
    its enclosure) that pushes output j up and output k down as far as the bounds allow."""
    K = report.y.shape[1]
    res = report.results[i * K:(i + 1) * K]
    y = [Fraction(r.exact.lower) + 0 for r in res]  # any point in the enclosure: the lower end
    y[k] = res[k].exact.lower - Fraction(res[k].bound_abs)
    y[j] = res[j].exact.upper + Fraction(res[j].bound_abs)
    return np.array(y, dtype=object)


def test_certified_rows_survive_the_worst_correct_rounding(mnist_check: tuple[CheckReport, np.ndarray]) -> None:
    report, labels = mnist_check
    p = predictions(report, labels)
    assert p.n_certified == 60 and [report.x.shape[0] - 4 + i for i in range(4)] == list(p.not_certified)
    assert all(p.rows[i].certified for i in range(60))
    for row in p.rows:
        if row.certified:
            for j in range(10):
                if j != row.predicted:
                    y = _adversary(report, row.input, row.predicted, j)
                    assert max(range(10), key=lambda c: y[c]) == row.predicted


def test_uncertified_rows_have_a_correct_rounding_that_ties_or_flips(mnist_check: tuple[CheckReport, np.ndarray]) -> None:
    report, labels = mnist_check
    p = predictions(report, labels)
    for i in p.not_certified:
        row = p.rows[i]
        assert row.exact_predicted == row.predicted  # the bound, not the class, is the problem here
        flips = [j for j in range(10) if j != row.predicted
                 and _adversary(report, i, row.predicted, j)[j] >= _adversary(report, i, row.predicted, j)[row.predicted]]
        assert flips, i


def test_the_fast_rule_on_the_arrays_agrees_with_the_exact_rule_row_by_row(
        mnist_check: tuple[CheckReport, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    report, labels = mnist_check
    fast = nnverify.predictions._fast_predictions(report, labels)
    assert len(fast) == 60  # the fixture's batch took the fast route; its 4 edge points did not pass
    assert all(i < 60 for i in fast)
    monkeypatch.setattr(nnverify.predictions, "_fast_predictions", lambda r, l: {})
    exact = predictions(report, labels)
    for i, p in fast.items():
        q = exact.rows[i]
        assert (p.predicted, p.exact_predicted, p.certified, p.prob_certified, p.label) == (
            q.predicted, q.exact_predicted, q.certified, q.prob_certified, q.label)
        assert p.margin.lower <= q.margin.lower and q.margin.upper <= p.margin.upper


def test_the_fast_rule_declines_a_row_its_floats_cannot_separate(
        mnist_check: tuple[CheckReport, np.ndarray]) -> None:
    report, labels = mnist_check
    table = report.table  # type: ignore[attr-defined]
    # widen one output's bound of row 0 until it reaches the runner-up: the fast rule must leave
    # that row to the exact rule (which then refuses to certify it as well)
    bound = table.floats["bound_abs"]
    saved = bound[0].copy()
    try:
        bound[0, :] = 1.0
        assert 0 not in nnverify.predictions._fast_predictions(report, labels)
    finally:
        bound[0] = saved


def test_the_module_example_runs_the_book_network_on_ten_digits() -> None:
    result = doctest.testmod(nnverify.predictions)
    assert result.attempted >= 1 and result.failed == 0


# -- the command line --------------------------------------------------------------------------

def test_check_text_shows_accuracy_and_certified_counts_in_two_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--weights", "book-mnist", "--inputs", "mnist-digits", "--indices", "0,1,91"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    i = next(n for n, line in enumerate(out) if line.startswith("accuracy:"))
    assert out[i] == ("accuracy: 0.6667 (2 of 3 labels match the float32 forward's argmax; classes are 0-based "
                      "like np.argmax, class 0 is y1)")
    # digit 91 (a 1 the network calls 2) is misclassified, yet certified: every correct float32
    # computation calls it 2 (the sound bound is ~10x tighter than the one that left it uncertified)
    assert out[i + 1] == ("certified predictions: 3 of 3 (sound: every correct float32 computation "
                          "predicts the same class); 0 flipped; probabilistic tier: 3 of 3")
    assert out[i + 2].startswith("smallest exact margin (top-1 minus top-2 output): ")
    assert "input 3 (#91 of mnist-digits): x = [0, 0, 0, 0, 0, 0, ... (784 values)]" in out
    assert any(line.startswith("  predicted class 2 (y3), label 1, exact margin ") and line.endswith(": certified")
               for line in out)


def test_check_json_has_accuracy_and_predictions(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--weights", "book-mnist", "--inputs", "mnist-digits", "--per-class", "2", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["accuracy"] == 1.0 and doc["n_inputs"] == 20
    pred = doc["predictions"]
    assert pred["certified"] == 20 and pred["not_certified"] == [] and pred["flipped"] == []
    assert [r["label"] for r in pred["rows"]] == list(range(10)) * 2
    assert [r["predicted"] for r in pred["rows"]] == list(range(10)) * 2
    assert pred["rows"][3]["index"] == 3 and pred["rows"][3]["input"] == 4


def test_check_of_an_identity_network_without_labels_has_no_predictions(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert "predictions" not in doc and "accuracy" not in doc


def test_forward_prints_predicted_classes_and_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["forward", "--weights", "book-mnist", "--inputs", "mnist-digits"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[-3] == "predicted = [0, 1, 2, ..., 1, 1, 1]    # argmax of Y, 0-based like np.argmax: class 0 is y1"
    assert out[-2] == "labels    = [0, 1, 2, ..., 1, 1, 1]"
    assert out[-1] == "accuracy: 0.9374 (9374 of 10000)"
    main(["forward", "--weights", "book-mnist", "--inputs", "mnist-digits", "--first", "3", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["predicted"] == [0, 1, 2] and doc["labels"] == [0, 1, 2] and doc["accuracy"] == 1.0
