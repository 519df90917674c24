"""``nnverify check``: every NumPy output against its certified exact value, within a derived bound."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

import numpy as np

from nnverify.cli.common import (
    MNIST_DIGITS,
    add_input_arguments,
    add_network_arguments,
    add_output_arguments,
    inputs_from_args,
    network_from_args,
    print_json,
    sample_range,
)
from nnverify.errors import UsageError
from nnverify.inputs import Inputs
from nnverify.model import Activation, Network

if TYPE_CHECKING:
    from nnverify.compare import CheckReport, OutputResult
    from nnverify.predictions import Prediction, Predictions

HELP = "check the NumPy forward pass against certified exact values, with a derived error bound"

#: Up to this many inputs every output is listed; beyond it a summary (``--all`` lists all).
_LIST_MAX_INPUTS = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_network_arguments(p)
    add_input_arguments(p)
    add_output_arguments(p)
    g = p.add_argument_group("exact model and verdict")
    g.add_argument("--mode", choices=("binary", "decimal"), default="binary",
                   help="what 'exact' means: binary = the exact value of each stored float "
                   "(default); decimal = the literal text of the weights file (needs JSON weights)")
    g.add_argument("--digits", type=int, default=20, metavar="D",
                   help="significant digits of the exact values shown (default 20)")
    g.add_argument("--prec", type=int, default=128, metavar="BITS",
                   help="starting precision of the ball arithmetic in bits (default 128; raised "
                   "automatically, up to --max-prec, while a verdict is undecided)")
    g.add_argument("--max-prec", type=int, default=2048, metavar="BITS",
                   help="highest precision the automatic raise may use (default 2048)")
    g.add_argument("--tolerance-ulp", type=float, default=0.0, metavar="T",
                   help="explicit extra tolerance in ulps, added on top of the derived bound (default 0)")
    g.add_argument("--all", action="store_true",
                   help=f"list every output even for more than {_LIST_MAX_INPUTS} inputs")


def _g(v: float, digits: int = 3) -> str:
    if math.isinf(v):
        return "inf"
    if math.isnan(v):
        return "nan"
    return f"{v:.{digits}g}"


def _row(r: OutputResult, digits: int) -> str:
    value = np.format_float_positional(r.value, unique=True, trim="-") if math.isfinite(r.value) \
        and 1e-4 <= abs(r.value) < 1e16 else repr(r.value)
    return (
        f"  y{r.output + 1:<3} exact {r.exact.digits(digits)} (± {_g(float(r.exact.rad), 2)})  "
        f"numpy {value}  error {_g(r.ulp)} ulp  bound {_g(r.bound_ulp)} ulp  {r.status}"
    )


def _where(r: OutputResult) -> str:
    return f"input {r.input + 1}, y{r.output + 1}: {_g(r.ulp)} ulp (bound {_g(r.bound_ulp)} ulp)"


def _wants_predictions(network: Network, inputs: Inputs) -> bool:
    """Classes make sense with labels, or for a softmax classifier (and need two outputs)."""
    return network.n_outputs >= 2 and (inputs.labels is not None
                                       or network.activations[-1] is Activation.SOFTMAX)


def inputs_line(args: argparse.Namespace, network: Network, inputs: Inputs) -> str | None:
    """The header line that says where the inputs came from (random samples, the shipped digits)."""
    if getattr(args, "samples", None) is not None and args.x is None and args.inputs is None:
        low, high, why = sample_range(args, network)
        return f"inputs: {args.samples} drawn uniformly from [{low:g}, {high:g}) with seed {args.seed} ({why})"
    if args.inputs == MNIST_DIGITS:
        return (f"inputs: {len(inputs)} real MNIST digit{'' if len(inputs) == 1 else 's'} (mnist-digits; "
                "MNIST database, CC BY-SA 3.0) "
                "as the book normalises them, pixels / 255 in float32, with labels")
    return None


def _rows_text(rows: tuple[int, ...], inputs: Inputs, limit: int = 20) -> str:
    """``inputs 92, 129 (2 in all; --inputs mnist-digits --indices 91,128 selects them)``: rows
    1-based as everywhere, the selection in 0-based positions of the source, ready to paste."""
    shown = rows[:limit]
    where = ",".join(str(int(inputs.index[r]) if inputs.index is not None else r) for r in shown)
    source = inputs.source if inputs.source.startswith("--") else f"--inputs {inputs.source}"
    which = "selects them" if len(shown) == len(rows) else f"selects the first {len(shown)}"
    return (f"inputs {', '.join(str(r + 1) for r in shown)}{', ...' if len(rows) > limit else ''} "
            f"({len(rows)} in all; {source} --indices {where} {which})")


def _prediction_row(p: Prediction) -> str:
    from nnverify.predictions import certified_digits

    label = "" if p.label is None else f", label {p.label}"
    margin = "" if p.margin is None else f", exact margin {certified_digits(p.margin, 6)}"
    verdict = "certified" if p.certified else "NOT certified"
    return f"  predicted class {p.predicted} (y{p.predicted + 1}){label}{margin}: {verdict}"


def prediction_lines(preds: Predictions, inputs: Inputs, dtype: object) -> list[str]:
    """Accuracy, then the certified count, then what is not certified or flipped, and the smallest margin."""
    from nnverify.predictions import certified_digits

    N, lines = len(preds.rows), []
    if preds.accuracy is not None:
        lines.append(f"accuracy: {round(preds.accuracy, 4)} ({preds.n_correct} of {N} labels match the {dtype} "
                     "forward's argmax; classes are 0-based like np.argmax, class 0 is y1)")
    prob = ("not computed (no probabilistic bounds in this check)" if preds.n_prob_certified is None
            else f"{preds.n_prob_certified} of {N}")
    lines.append(f"certified predictions: {preds.n_certified} of {N} (sound: every correct {dtype} "
                 f"computation predicts the same class); {len(preds.flipped)} flipped; "
                 f"probabilistic tier: {prob}")
    if preds.not_certified:
        lines.append(f"not certified: {_rows_text(preds.not_certified, inputs)}")
    if preds.flipped:
        lines.append(f"flipped (the float and the exact class differ): {_rows_text(preds.flipped, inputs)}")
    small = preds.smallest_margin
    if small is not None and small.margin is not None:
        lines.append(f"smallest exact margin (top-1 minus top-2 output): {certified_digits(small.margin, 6)} "
                     f"at input {small.input + 1} (class {small.predicted}"
                     + ("" if small.label is None else f", label {small.label}") + ")")
    return lines


def _print_outputs(report: CheckReport, preds: Predictions | None, inputs: Inputs,
                   args: argparse.Namespace) -> None:
    """Every output of every input (up to ten inputs, or ``--all``), else the outputs not ok."""
    N = report.x.shape[0]
    listing = args.all or N <= _LIST_MAX_INPUTS
    by_input: dict[int, list[OutputResult]] = {}
    for r in report.results:
        by_input.setdefault(r.input, []).append(r)
    if listing:
        for i in range(N):
            xs = report.x[i]
            shown = ", ".join(np.format_float_positional(v, unique=True, trim="-") for v in xs[:6])
            more = f", ... ({len(xs)} values)" if len(xs) > 6 else ""
            where = "" if inputs.index is None else f" (#{int(inputs.index[i])} of {inputs.source})"
            print(f"input {i + 1}{where}: x = [{shown}{more}]")
            for r in by_input[i]:
                print(_row(r, args.digits))
            if preds is not None:
                print(_prediction_row(preds.rows[i]))
    else:
        bad = [r for r in report.results if not r.ok]
        for r in bad[:20]:
            print(f"input {r.input + 1}:")
            print(_row(r, args.digits))
        if len(bad) > 20:
            print(f"... and {len(bad) - 20} more outputs not ok (--json or --all lists them)")


def run(args: argparse.Namespace) -> int:
    from nnverify.certified import check_prec
    from nnverify.compare import check  # the oracle loads python-flint: only when used

    for option, value in (("--prec", args.prec), ("--max-prec", args.max_prec)):
        try:
            check_prec(value)
        except UsageError as exc:
            raise UsageError(f"{option} {value}: {exc}") from None
    if not 1 <= args.digits <= 1000:
        raise UsageError(f"--digits {args.digits}: must be from 1 to 1000")
    network = network_from_args(args)
    inputs = inputs_from_args(args, network)
    # Enough bits for the digits asked: the balls must be far narrower than the last digit.
    prec = max(args.prec, math.ceil(args.digits * math.log2(10)) + 32)
    max_prec = max(args.max_prec, prec)
    report = check(network, inputs, mode=args.mode, prec=prec, tolerance_ulp=args.tolerance_ulp,
                   digits=args.digits, max_prec=max_prec)
    preds = None
    if _wants_predictions(network, inputs):
        from nnverify.predictions import predictions

        preds = predictions(report, inputs.labels)
    if args.json:
        doc = report.to_json()
        if preds is not None:
            doc.update(preds.to_json(inputs.index))
        print_json(doc)
        return 0 if report.ok else 1

    N = report.x.shape[0]
    u_exp = 53 if report.dtype == np.float64 else 24
    print(f"network: {network.describe()}")
    mode_text = ("the exact value of each stored float" if report.mode.value == "binary"
                 else "the literal text of the weights, 0.1 = 1/10")
    print(f"exact model: {report.mode.value}, {mode_text}; arithmetic: {report.dtype}, u = 2^-{u_exp}")
    print("bound: any summation order, exp/tanh within the stated ulps (README: derive-check)"
          + (f", plus {report.tolerance_ulp:g} ulp tolerance" if report.tolerance_ulp else ""))
    source = inputs_line(args, network, inputs)
    if source is not None:
        print(source)
    _print_outputs(report, preds, inputs, args)
    counts = report.counts()
    total = len(report.results)
    print(f"checked {N} input(s) x {report.y.shape[1]} output(s) = {total}: {counts['ok']} ok, "
          f"{counts['failed']} failed, {counts['undecided']} undecided"
          + (f" (precision raised to {report.max_prec_used} bits)" if report.max_prec_used > prec else ""))
    print(f"worst error: {_where(report.worst)}")
    print(f"closest to its bound: {_where(report.tightest)}")
    if preds is not None:
        for line in prediction_lines(preds, inputs, report.dtype):
            print(line)
    if report.ok:
        print("verdict: ok — every output is within its derived bound")
        return 0
    print("verdict: FAILED — " + ("some outputs are outside their bound" if counts["failed"]
                                  else "some verdicts stayed undecided at --max-prec"))
    return 1
