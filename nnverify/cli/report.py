"""``nnverify report``: a derivation and verification report (LaTeX and PDF, Markdown or HTML)."""

from __future__ import annotations

import argparse
from typing import Any

from nnverify.cli.common import (
    MNIST_DIGITS,
    add_input_arguments,
    add_network_arguments,
    inputs_from_args,
    network_from_args,
    sample_range,
)
from nnverify.errors import UsageError, one_line

HELP = ("write a report deriving the forward pass step by step, with a verification table: LaTeX "
        "compiled to PDF, Markdown or HTML")

#: Inputs sampled for a big network when none are given (the report says so).
DEFAULT_SAMPLES = 20
#: Real digits a 784-input, 10-class network on [0, 1] gets when no inputs are given: the first
#: 100 of mnist-digits are 10 of each class (the set is interleaved by class), a 10 x 10 grid on
#: one page; with the book's network they hold 6 misclassified digits and 1 prediction that is
#: not certified, so the report shows both kinds of case (the first 20 show neither).
DEFAULT_DIGITS = 100


def add_arguments(p: argparse.ArgumentParser) -> None:
    from nnverify.report.compile import DEFAULT_TIMEOUT

    add_network_arguments(p)
    add_input_arguments(p)
    g = p.add_argument_group("report")
    g.add_argument("-o", "--output", metavar="PATH", default=None,
                   help="the file to write: .tex (the PDF goes beside it), .md or .html "
                        "(default report.tex, or report.md/report.html with --format)")
    g.add_argument("--format", choices=("tex", "md", "html"), default=None,
                   help="LaTeX (and PDF), Markdown with KaTeX math, or a standalone HTML page "
                        "(default: from the -o file name, else tex)")
    g.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of every text in the report: en, or zh (Simplified Chinese) "
                        "(default %(default)s)")
    g.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=None,
                   help="compile the PDF (default: when pdflatex is installed)")
    g.add_argument("--title", metavar="TEXT", default=None,
                   help="document title (any text; printed literally)")
    g.add_argument("--mode", choices=("binary", "decimal"), default=None,
                   help="exact values of the stored floats (binary) or of the file's decimal "
                        "literals (decimal). Default: the derivation uses the literals when the "
                        "file has them, the verification table the stored floats")
    g.add_argument("--digits", metavar="D", type=int, default=20,
                   help="significant digits of the certified exact values (default %(default)s)")
    g.add_argument("--step-digits", metavar="D", type=int, default=8,
                   help="decimals of the numbers in the derivation steps, as NumPy prints "
                        "(default %(default)s)")
    g.add_argument("--units", metavar="LIST", default="all",
                   help="units to derive one by one: all, none, or layers L and units L:J, e.g. "
                        "1,3:2 (every layer's matrix form is always shown; default %(default)s)")
    g.add_argument("--derive-input", metavar="K", type=int, default=1,
                   help="derive the K-th of the verified inputs (default %(default)s)")
    g.add_argument("--detail", choices=("auto", "full", "summary"), default="auto",
                   help="full unit-by-unit derivation or a summary; auto: full for small "
                        "networks (default %(default)s)")
    g.add_argument("--plot-samples", metavar="N", type=int, default=None,
                   help="random inputs (seed --seed) behind the ULP-error histogram (default: the "
                        "verified inputs when they have labels, such as real digits, else 200)")
    g.add_argument("--with-tests", action="store_true",
                   help="run the property-test suite (20 examples per property, seed --seed) and "
                        "include its summary")
    g.add_argument("--impl", metavar="FILE.py:forward", default=None,
                   help="your own forward(network, x): its results go beside the exact ones in the "
                        "verification table, with verdicts from the derived bounds (exit 1 when "
                        "they fail)")
    g.add_argument("--impl-timeout", metavar="SECONDS", type=float, default=10.0,
                   help="seconds your forward may take per call (0 = no limit; default %(default)s)")
    g.add_argument("--tex-timeout", metavar="SECONDS", type=float, default=DEFAULT_TIMEOUT,
                   help="kill a pdflatex run after this long (default %(default)s)")
    g.add_argument("--force", action="store_true",
                   help="overwrite a file that nnverify did not write")


def _inputs(args: argparse.Namespace, network: Any, small: bool) -> tuple[Any, Any]:
    """The inputs and where they came from; small networks default to one input, said so."""
    from nnverify.inputs import sample_inputs
    from nnverify.report.compute import InputsNote

    if args.x is not None:
        return inputs_from_args(args, network), InputsNote("x", "--x")
    if args.inputs is not None:
        return inputs_from_args(args, network), InputsNote("file", args.inputs, select=_selection(args))
    low, high, _ = sample_range(args, network)  # --low/--high, else the network's domain, else [0, 1)
    if args.samples is not None:
        return (inputs_from_args(args, network),
                InputsNote("samples", low=low, high=high, seed=args.seed))
    if network.name == "book" or args.labels is not None:  # --labels alone: inputs_from_args says why not
        return inputs_from_args(args, network), InputsNote("book")
    if _digits_network(network):
        if not any((args.first, args.indices, args.per_class)):
            args.first = DEFAULT_DIGITS
        args.inputs = MNIST_DIGITS
        return inputs_from_args(args, network), InputsNote("default-digits", MNIST_DIGITS,
                                                           select=_selection(args))
    count = 1 if small else DEFAULT_SAMPLES
    inputs = sample_inputs(network.n_inputs, count, low=low, high=high, seed=args.seed)
    return inputs, InputsNote("default-samples", low=low, high=high, seed=args.seed)


def _digits_network(network: Any) -> bool:
    """A network for the shipped digits: 28 x 28 inputs, 10 classes, input domain [0, 1]."""
    return bool(network.n_inputs == 784 and network.n_outputs == 10 and network.domain == (0.0, 1.0))


def _selection(args: argparse.Namespace) -> str:
    """The options that chose a part of the inputs (``--first 100``), as the user would type them."""
    for option, value in (("--first", args.first), ("--indices", args.indices), ("--per-class", args.per_class)):
        if value is not None:
            return f"{option} {value}"
    return ""


def _student(args: argparse.Namespace) -> Any:
    if args.impl is None:
        return None
    from nnverify.under_test import ForwardUnderTest, load_function

    if args.impl_timeout < 0:
        raise UsageError(f"--impl-timeout {args.impl_timeout}: must be >= 0 (0 = no limit)")
    return ForwardUnderTest(load_function(args.impl, role="forward", timeout=args.impl_timeout or None))


def run(args: argparse.Namespace) -> int:
    from nnverify.report import Detail, ReportSettings, build_report
    from nnverify.report.compile import INSTALL_HINT
    from nnverify.report.output import check_paths, format_for, write_report
    from nnverify.report.settings import choose_detail

    fmt = args.format or (format_for(args.output) if args.output else "tex")
    output = args.output or f"report.{fmt}"
    network = network_from_args(args)
    if not args.tex_timeout > 0:
        raise UsageError(f"--tex-timeout {args.tex_timeout}: must be a positive number of seconds")
    settings = ReportSettings(
        title=args.title, mode=args.mode, digits=args.digits, step_digits=args.step_digits,
        plot_samples=args.plot_samples, seed=args.seed, detail=Detail(args.detail),
        units=args.units, derive_input=args.derive_input, lang=args.lang,
    )
    small = choose_detail(network, settings.detail) is Detail.FULL
    inputs, note = _inputs(args, network, small)
    # Refuse before the work, not after it.
    check_paths(output, pdf=args.pdf is not False, force=args.force, fmt=fmt)
    impl = _student(args)
    tests = None
    if args.with_tests:
        from nnverify.report.suite import run_property_suite

        tests = run_property_suite(network, seed=args.seed)
    report = build_report(network, inputs, settings, tests=tests, progress=True, note=note,
                          impl=impl, impl_spec=args.impl or "")
    written = write_report(report.text(fmt), output, pdf=args.pdf, force=args.force,
                           timeout=args.tex_timeout, fmt=fmt)
    _say(report, written, fmt, INSTALL_HINT)
    if tests is not None:
        bad = [row[0] for row in tests.rows if row[3] == "failed"]
        print(f"property tests: {len(tests.rows) - len(bad)} of {len(tests.rows)} held or did not apply"
              + (f"; FAILED: {', '.join(bad)}" if bad else ""))
    return 0 if report.ok and (tests is None or tests.ok) else 1


def _say(report: Any, written: Any, fmt: str, hint: str) -> None:
    from nnverify.report.content_check import status_of

    check = report.data.table_check
    student = report.data.student
    counts: dict[str, int] = {"ok": 0, "failed": 0, "undecided": 0}
    results = check.results if check is not None else ()
    for r in results:
        counts[status_of(r)] = counts.get(status_of(r), 0) + 1
    n_failed_calls = len(student.failures) * report.data.network.n_outputs if student else 0
    counts["failed"] += n_failed_calls
    total = len(results) + n_failed_calls
    whose = f"outputs of {student.spec} " if student else "outputs "
    verdict = "verified" if report.ok else "NOT verified"
    largest = f"; largest error {check.worst.ulp_text(check.dtype)} ulp" if check is not None and results else ""
    extra = f", {counts['suspicious']} suspicious" if counts.get("suspicious") else ""
    print(f"wrote {one_line(str(written.tex_path))} ({report.detail.value} report; {total} {whose}{verdict}: "
          f"{counts['ok']} ok, {counts['failed']} failed, {counts['undecided']} undecided{extra}"
          f"{largest})")
    if student is not None:
        for row, text in student.failures:
            print(f"your forward failed on input {row + 1}: {text}")
    if written.compiled is not None:
        print(f"wrote {one_line(str(written.pdf_path))} ({written.compiled.pages} pages, "
              f"{written.compiled.runs} pdflatex runs)")
    elif written.no_tex_reason is not None:
        print(
            f"no PDF: pdflatex is not installed. Install TeX Live ({hint}) and run this "
            f"command again, or run `pdflatex {written.tex_path}` twice (cross-references) where "
            "TeX is installed."
        )
