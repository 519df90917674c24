"""``nnverify report``: a LaTeX derivation and verification report, compiled to PDF when TeX is there."""

from __future__ import annotations

import argparse

from nnverify.cli.common import (
    add_input_arguments,
    add_network_arguments,
    inputs_from_args,
    network_from_args,
)
from nnverify.errors import UsageError
from nnverify.weights import BOOK_X_TEXT

HELP = "write a LaTeX report deriving the forward pass step by step, with a verification table, and compile it to PDF"

#: Inputs sampled for a network that is not the book's 2-input one when none are given.
DEFAULT_SAMPLES = 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    from nnverify.report.compile import DEFAULT_TIMEOUT

    add_network_arguments(p)
    add_input_arguments(p)
    g = p.add_argument_group("report")
    g.add_argument("-o", "--output", metavar="PATH.tex", default="report.tex",
                   help="the .tex to write; the PDF goes beside it (default %(default)s)")
    g.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=None,
                   help="compile the PDF (default: when pdflatex is installed)")
    g.add_argument("--title", metavar="TEXT", default=None,
                   help="document title (any text; printed literally)")
    g.add_argument("--mode", choices=("binary", "decimal"), default="binary",
                   help="exact values of the stored floats (binary) or of the file's decimal "
                        "literals (decimal, JSON weights) (default %(default)s)")
    g.add_argument("--digits", metavar="D", type=int, default=20,
                   help="significant digits of the certified exact values (default %(default)s)")
    g.add_argument("--step-digits", metavar="D", type=int, default=8,
                   help="significant digits in the derivation steps (default %(default)s, as the book)")
    g.add_argument("--detail", choices=("auto", "full", "summary"), default="auto",
                   help="full unit-by-unit derivation or a summary; auto: full for small "
                        "networks (default %(default)s)")
    g.add_argument("--plot-samples", metavar="N", type=int, default=200,
                   help="random inputs (seed --seed) behind the ULP-error histogram (default %(default)s)")
    g.add_argument("--with-tests", action="store_true",
                   help="run the property-test suite (20 examples per property, seed --seed) and "
                        "include its summary")
    g.add_argument("--tex-timeout", metavar="SECONDS", type=float, default=DEFAULT_TIMEOUT,
                   help="kill a pdflatex run after this long (default %(default)s)")
    g.add_argument("--force", action="store_true",
                   help="overwrite a .tex/.pdf that nnverify did not write")


def run(args: argparse.Namespace) -> int:
    from nnverify.report import Detail, ReportSettings, build_report
    from nnverify.report.compile import INSTALL_HINT
    from nnverify.report.output import check_paths, write_report

    network = network_from_args(args)
    if (args.x is None and args.inputs is None and args.samples is None
            and network.n_inputs != len(BOOK_X_TEXT)):
        args.samples = DEFAULT_SAMPLES
    inputs = inputs_from_args(args, network)
    if not args.tex_timeout > 0:
        raise UsageError(f"--tex-timeout {args.tex_timeout}: must be a positive number of seconds")
    settings = ReportSettings(
        title=args.title,
        mode=args.mode,
        digits=args.digits,
        step_digits=args.step_digits,
        plot_samples=args.plot_samples,
        seed=args.seed,
        detail=Detail(args.detail),
    )
    # Refuse before the work, not after it.
    check_paths(args.output, pdf=args.pdf is not False, force=args.force)
    tests = None
    if args.with_tests:
        from nnverify.report.suite import run_property_suite

        tests = run_property_suite(network, seed=args.seed)
    report = build_report(network, inputs, settings, tests=tests, progress=True)
    written = write_report(report.tex, args.output, pdf=args.pdf, force=args.force,
                           timeout=args.tex_timeout)
    counts = report.check.counts()
    verdict = "verified" if report.check.ok else "NOT verified"
    print(
        f"wrote {written.tex_path} ({report.detail.value} report; {len(report.check.results)} "
        f"outputs {verdict}: {counts['ok']} ok, {counts['failed']} failed, "
        f"{counts['undecided']} undecided; largest error {report.check.max_ulp:.3g} ulp)"
    )
    if written.compiled is not None:
        print(f"wrote {written.pdf_path} ({written.compiled.pages} pages, "
              f"{written.compiled.runs} pdflatex runs)")
    elif written.no_tex_reason is not None:
        print(
            f"no PDF: pdflatex is not installed. Install TeX Live ({INSTALL_HINT}) and run this "
            f"command again, or run `pdflatex {written.tex_path}` twice (cross-references) where "
            "TeX is installed."
        )
    if tests is not None:
        bad = [row[0] for row in tests.rows if row[3] == "failed"]
        print(f"property tests: {len(tests.rows) - len(bad)} of {len(tests.rows)} held or did not apply"
              + (f"; FAILED: {', '.join(bad)}" if bad else ""))
    ok = report.check.ok and (tests is None or tests.ok)
    return 0 if ok else 1
