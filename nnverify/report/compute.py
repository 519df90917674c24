"""The compute step: everything numeric a report shows, in one frozen :class:`ReportData`.

The certified pass of the derived input, the verdicts on every input, the random samples
behind the histogram, the property-test summary: computed here, once; the render step
(:mod:`nnverify.report.latex_doc`) only prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from nnverify.certified import CertifiedPass, certify, weight_rationals
from nnverify.compare import CheckReport, check
from nnverify.errors import UsageError
from nnverify.inputs import Inputs, sample_inputs
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.report.settings import DEFAULT_SETTINGS, Detail, ReportSettings, choose_detail
from nnverify.report.tables import TestSummary

__all__ = ["ReportData", "compute_report"]


@dataclass(frozen=True, eq=False)
class ReportData:
    """Everything a report shows, computed: the render step reads nothing else.

    Args:
        network: the network reported on.
        settings: the settings, with ``detail`` resolved to FULL or SUMMARY.
        inputs: the inputs verified (all rows); the first row is derived.
        cert: the certified pass of the derived input (one row).
        a1_exact: the first layer's weighted sums of the derived input as exact rationals
            (sums of products of exact numbers; each checked against its enclosure).
        check: the verification of every input (the table's numbers).
        samples: the verification of random inputs behind the histogram, or None.
        tests: a property-test run to summarise, or None.
    """

    network: Network
    settings: ReportSettings
    inputs: Inputs
    cert: CertifiedPass
    a1_exact: tuple[Fraction, ...]
    check: CheckReport
    samples: CheckReport | None
    tests: TestSummary | None

    @property
    def detail(self) -> Detail:
        return self.settings.detail


def _first_layer_sums(network: Network, cert: CertifiedPass, mode: Mode) -> tuple[Fraction, ...]:
    """``a^{(1)}_j`` of row 0 exactly: ``sum_i x_i w_ij + b_j`` over exact rationals."""
    W, b = weight_rationals(network, mode)[0]
    x = cert.x_exact[0]
    out = []
    for j, enc in enumerate(cert.a[0][0]):
        exact = sum((x[i] * W[i][j] for i in range(len(x))), Fraction(0)) + b[j]
        if not enc.contains(exact):
            raise ArithmeticError(f"a^(1)_{j + 1} = {exact} lies outside its certified enclosure")
        out.append(exact)
    return tuple(out)


def compute_report(
    network: Network,
    inputs: Inputs,
    settings: ReportSettings = DEFAULT_SETTINGS,
    *,
    tests: TestSummary | None = None,
    progress: bool = False,
) -> ReportData:
    """Certify, check and sample: the numbers of a report on ``network`` at ``inputs``.

    Args:
        network: the network (its dtype is the arithmetic checked).
        inputs: the inputs to derive (the first row) and verify (all rows).
        settings: what to show and how to print numbers.
        tests: a property-test run to summarise, or None.
        progress: show a progress line (on a terminal) while checking many inputs.
    """
    detail = choose_detail(network, settings.detail)
    settings = ReportSettings(**{**settings.__dict__, "detail": detail})
    if settings.mode is Mode.DECIMAL and not network.has_text:
        raise UsageError(
            f"--mode decimal needs the weights' literal text but {network.name} was read from a "
            "binary format; use --mode binary or a JSON weights file"
        )
    prec = max(settings.prec, int(settings.digits * 3.33) + 64)
    first = Inputs(
        inputs.values[:1],
        None if inputs.text is None else inputs.text[:1],
        inputs.source,
        single=True,
    )
    cert = certify(network, first, mode=settings.mode, prec=prec)
    report = check(network, inputs, mode=settings.mode, prec=prec, digits=settings.digits,
                   progress=progress)
    samples = None
    if settings.plot_samples > 0:
        rand = sample_inputs(network.n_inputs, settings.plot_samples, seed=settings.seed)
        samples = check(network, rand, mode=settings.mode, progress=progress)
    a1 = _first_layer_sums(network, cert, settings.mode)
    return ReportData(network, settings, inputs, cert, a1, report, samples, tests)
