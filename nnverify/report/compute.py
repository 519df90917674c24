"""The compute step: everything numeric a report shows, in one frozen :class:`ReportData`.

The certified pass of the derived input (raised in precision until its printed digits are
certified), the verdicts on every input (nnverify's NumPy forward pass, or the student's own
``forward()``), the exact balls of every verified output, the softmax pieces, the random
samples behind the histogram, the property-test summary: computed here, once. The render
steps only print them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, ctx

from nnverify.certified import CertifiedPass, certify
from nnverify.compare import CheckReport, check, check_outputs
from nnverify.errors import UsageError
from nnverify.inputs import Inputs, sample_inputs
from nnverify.model import Activation, Network
from nnverify.modes import Mode
from nnverify.predictions import Predictions, predictions
from nnverify.rationals import weight_rationals
from nnverify.report.settings import (
    DEFAULT_SETTINGS,
    MAX_DERIVE_PREC,
    Detail,
    ReportSettings,
    choose_detail,
    parse_units,
)
from nnverify.report.tables import TestSummary

__all__ = ["ReportData", "StudentRun", "InputsNote", "DigitsScore", "compute_report", "first_layer_sums",
           "run_student"]


@dataclass(frozen=True)
class InputsNote:
    """Where the verified inputs came from, for the report's text.

    Args:
        kind: ``book`` (the book's x by default), ``x`` (``--x``), ``file`` (``--inputs``),
            ``samples`` (asked for), ``default-samples`` (drawn because none were given) or
            ``default-digits`` (the shipped MNIST digits, chosen because none were given).
        source: the file name or the option text.
        low: lower end of the sampling range (samples only).
        high: upper end (samples only).
        seed: the sampling seed (samples only).
        select: the options that chose a part of the inputs, e.g. ``--first 100`` (or ``""``).
    """

    kind: str
    source: str = ""
    low: float = 0.0
    high: float = 1.0
    seed: int = 0
    select: str = ""


@dataclass(frozen=True)
class DigitsScore:
    """The float forward's score on every shipped MNIST digit, beside the book's figure.

    Args:
        correct: digits whose predicted class (argmax) equals the label.
        total: the digits scored (all 10,000 shipped).
    """

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total


@dataclass(frozen=True, eq=False)
class StudentRun:
    """The user's own ``forward()`` on the verified inputs.

    Args:
        spec: what the user gave (``student.py:forward``).
        check: its outputs checked against the exact values (rows that returned), or None.
        rows: the input rows (0-based) that ``check`` covers, in order.
        failures: ``(row, one-line description)`` for every row whose call failed.
    """

    spec: str
    check: CheckReport | None
    rows: tuple[int, ...]
    failures: tuple[tuple[int, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failures and self.check is not None and self.check.ok


@dataclass(frozen=True, eq=False)
class ReportData:
    """Everything a report shows, computed: the render step reads nothing else.

    Args:
        network: the network reported on.
        settings: the settings, with ``detail`` resolved to FULL or SUMMARY.
        inputs: the inputs verified (all rows).
        note: where the inputs came from.
        derive_row: the row (0-based) the derivation follows.
        derivation_mode: the derivation's exact model (decimal when the file has text).
        cert: the certified pass of the derived input alone, in ``derivation_mode``.
        a1_exact: the first layer's weighted sums of the derived input as exact rationals.
        softmax: per softmax layer ``l``: the balls of every ``exp(a^{(l)}_k)`` and of their sum.
        check: nnverify's NumPy forward pass on every input, verified (binary by default).
        y_balls: per verified row, the balls of the exact outputs in the check's mode.
        samples: the verification of random inputs behind the histogram, or None.
        tests: a property-test run to summarise, or None.
        student: the user's ``forward()`` checked on the same inputs, or None.
        units: the units derived one by one, ``((layer, (unit, ...)), ...)``.
        predictions: every input's predicted class from ``check`` (0-based), certified or not,
            with the accuracy; None without labels or with fewer than 2 outputs.
        digits_score: the same forward on all shipped MNIST digits, when the inputs are some
            of them; else None.
        book_mnist: the network holds the book's trained MNIST weights and activations (the
            report may then quote the book's ``Accuracy:0.9352``).
    """

    network: Network
    settings: ReportSettings
    inputs: Inputs
    note: InputsNote
    derive_row: int
    derivation_mode: Mode
    cert: CertifiedPass
    a1_exact: tuple[Fraction, ...]
    softmax: dict[int, tuple[tuple[arb, ...], arb]]
    check: CheckReport
    y_balls: tuple[tuple[arb, ...], ...]
    samples: CheckReport | None
    tests: TestSummary | None
    student: StudentRun | None
    units: tuple[tuple[int, tuple[int, ...]], ...]
    predictions: Predictions | None = None
    digits_score: DigitsScore | None = None
    book_mnist: bool = False

    @property
    def detail(self) -> Detail:
        return self.settings.detail

    @property
    def table_check(self) -> CheckReport | None:
        """The verification the table shows: the student's when given, else nnverify's."""
        return self.student.check if self.student is not None else self.check

    @property
    def ok(self) -> bool:
        """Every output verified (the student's, when given)."""
        return self.student.ok if self.student is not None else self.check.ok


def first_layer_sums(network: Network, cert: CertifiedPass, mode: Mode) -> tuple[Fraction, ...]:
    """``a^{(1)}_j`` of row 0 exactly: ``sum_i w_ji x_i + b_j`` over exact rationals."""
    W, b = weight_rationals(network, mode)[0]
    x = cert.x_exact[0]
    out = []
    for j, enc in enumerate(cert.a[0][0]):
        exact = sum((W[i][j] * x[i] for i in range(len(x))), Fraction(0)) + b[j]
        if not enc.contains(exact):
            raise ArithmeticError(f"a^(1)_{j + 1} = {exact} lies outside its certified enclosure")
        out.append(exact)
    return tuple(out)


def _wanted_bits(settings: ReportSettings) -> int:
    """Relative accuracy (bits) a ball needs for every digit the derivation prints."""
    return int(max(settings.digits, settings.step_digits + 9) * 3.33) + 8


def _too_wide(balls: list[arb], bits: int) -> bool:
    return any(not b.is_exact() and (b.contains(0) or b.rel_accuracy_bits() < bits) for b in balls)


def _softmax_balls(network: Network, cert: CertifiedPass) -> dict[int, tuple[tuple[arb, ...], arb]]:
    out = {}
    with ctx.workprec(cert.prec):
        for l, layer in enumerate(network.layers, start=1):
            if layer.activation is Activation.SOFTMAX:
                exps = tuple(a.exp() for a in cert.balls_a[l - 1][0])
                total = exps[0]
                for e in exps[1:]:
                    total = total + e
                out[l] = (exps, total)
    return out


def _certify_derived(network: Network, row: Inputs, mode: Mode, settings: ReportSettings) -> CertifiedPass:
    """The derived input's pass, precision doubled until every ball certifies its digits."""
    prec = max(settings.prec, int(settings.digits * 3.33) + 64)
    bits = _wanted_bits(settings)
    while True:
        cert = certify(network, row, mode=mode, prec=prec)
        balls = [b for layer in cert.balls_a + cert.balls_z for b in layer[0]]
        balls += [b for exps, s in _softmax_balls(network, cert).values() for b in (*exps, s)]
        if not _too_wide(balls, bits) or prec * 2 > MAX_DERIVE_PREC:
            return cert
        prec *= 2


def _row(inputs: Inputs, k: int) -> Inputs:
    text = None if inputs.text is None else inputs.text[k:k + 1]
    return Inputs(inputs.values[k:k + 1], text, inputs.source, single=True)


def _subset(inputs: Inputs, rows: list[int]) -> Inputs:
    text = None if inputs.text is None else tuple(inputs.text[r] for r in rows)
    return Inputs(inputs.values[rows], text, inputs.source)


def run_student(network: Network, inputs: Inputs, impl: Any, spec: str, *, mode: Mode,
                prec: int, digits: int) -> StudentRun:
    """Call the user's forward on each input row (their code, one input at a time), then check.

    Args:
        network: the network (the user's code gets the book's dict of it).
        inputs: the inputs.
        impl: a :class:`nnverify.under_test.ForwardUnderTest` wrapping the user's function.
        spec: the user's ``file.py:function`` (for the report).
        mode: the exact model of the check.
        prec: starting precision of the check.
        digits: digits of the exact values.
    """
    from nnverify.under_test import ImplementationFailed, ImplementationHung

    floats = inputs.as_dtype(network.dtype)
    ys: list[np.ndarray] = []
    rows: list[int] = []
    failures: list[tuple[int, str]] = []
    for r in range(floats.shape[0]):
        try:
            ys.append(np.asarray(impl.run(network, floats[r]), dtype=np.float64).reshape(-1))
            rows.append(r)
        except (ImplementationFailed, ImplementationHung) as exc:
            failures.append((r, exc.failure.describe()))
            if isinstance(exc, ImplementationHung):
                break  # a hung function is not called again
    report = None
    if rows:
        report = check_outputs(network, _subset(inputs, rows), np.array(ys), mode=mode, prec=prec,
                               digits=digits, progress=False)
    return StudentRun(spec, report, tuple(rows), tuple(failures))


def _settled(network: Network, inputs: Inputs, settings: ReportSettings) -> ReportSettings:
    """``settings`` with the level of detail chosen, checked against the network and the inputs."""
    settings = ReportSettings(**{**settings.__dict__, "detail": choose_detail(network, settings.detail)})
    if settings.mode is Mode.DECIMAL and not network.has_text:
        raise UsageError(
            f"--mode decimal needs the weights' literal text but {network.name} was read from a "
            "binary format; use --mode binary or a JSON weights file"
        )
    n_rows = int(inputs.values.shape[0])
    if settings.derive_input > n_rows:
        raise UsageError(f"--derive-input {settings.derive_input}: there are only {n_rows} "
                         f"input(s); give a number from 1 to {n_rows}")
    return settings


def compute_report(
    network: Network,
    inputs: Inputs,
    settings: ReportSettings = DEFAULT_SETTINGS,
    *,
    tests: TestSummary | None = None,
    progress: bool = False,
    note: InputsNote | None = None,
    impl: Any = None,
    impl_spec: str = "",
) -> ReportData:
    """Certify, check and sample: the numbers of a report on ``network`` at ``inputs``.

    Args:
        network: the network (its dtype is the arithmetic checked).
        inputs: the inputs to verify; row ``settings.derive_input`` is derived.
        settings: what to show and how to print numbers.
        tests: a property-test run to summarise, or None.
        progress: show a progress line (on a terminal) while checking many inputs.
        note: where the inputs came from (default: read from ``inputs.source``).
        impl: the user's forward pass (:class:`nnverify.under_test.ForwardUnderTest`), or None.
        impl_spec: its ``file.py:function`` text.
    """
    settings = _settled(network, inputs, settings)
    detail = settings.detail
    k = settings.derive_input - 1
    dmode, cmode = settings.derivation_mode(network), settings.check_mode()
    cert = _certify_derived(network, _row(inputs, k), dmode, settings)
    prec = max(settings.prec, int(settings.digits * 3.33) + 64)
    report = check(network, inputs, mode=cmode, prec=prec, digits=settings.digits, progress=progress)
    y_balls = tuple(tuple(row) for row in certify(network, inputs, mode=cmode, prec=prec).balls_z[-1])
    samples = None
    n_samples = settings.n_plot_samples(labelled=inputs.labels is not None)
    if n_samples > 0:
        rand = sample_inputs(network.n_inputs, n_samples, seed=settings.seed)
        samples = check(network, rand, mode=cmode, progress=progress)
    student = None
    if impl is not None:
        student = run_student(network, inputs, impl, impl_spec, mode=cmode, prec=prec,
                              digits=settings.digits)
    return ReportData(
        network=network, settings=settings, inputs=inputs,
        note=note if note is not None else InputsNote("x" if inputs.source == "--x" else "file",
                                                      inputs.source),
        derive_row=k, derivation_mode=dmode, cert=cert,
        a1_exact=first_layer_sums(network, cert, dmode), softmax=_softmax_balls(network, cert),
        check=report, y_balls=y_balls, samples=samples, tests=tests, student=student,
        units=parse_units(settings.units, network) if detail is Detail.FULL else (),
        predictions=_predictions(network, inputs, report),
        digits_score=_digits_score(network, inputs),
        book_mnist=_is_book_mnist(network),
    )


def _predictions(network: Network, inputs: Inputs, report: CheckReport) -> Predictions | None:
    if inputs.labels is None or network.n_outputs < 2:
        return None
    return predictions(report, inputs.labels)


#: Digits per batch when scoring all shipped digits.
_SCORE_BATCH = 1000


def _digits_score(network: Network, inputs: Inputs) -> DigitsScore | None:
    """The float forward on all 10,000 shipped digits (one batched NumPy pass, as the book's
    accuracy loop), when the report's inputs are some of them."""
    from nnverify.datasets import IMAGE_SHAPE, MNIST_DIGITS, mnist_digits
    from nnverify.numeric import forward

    if inputs.source != MNIST_DIGITS or network.n_inputs != IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        return None
    every = mnist_digits()
    correct = 0
    for start in range(0, len(every), _SCORE_BATCH):  # in batches, as the book's loop: little memory
        rows = slice(start, start + _SCORE_BATCH)
        x = (every.images[rows] / 255).astype(np.float32)  # the book's normalisation (Digits.inputs)
        correct += int((np.argmax(forward(network, x).y, axis=1) == every.labels[rows]).sum())
    return DigitsScore(correct, len(every))


def _is_book_mnist(network: Network) -> bool:
    from nnverify.weights.known import BOOK_MNIST, recognise

    return recognise(network) is BOOK_MNIST and network.activations == BOOK_MNIST.activations
