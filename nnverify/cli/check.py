"""``nnverify check``: every output of a forward pass (nnverify's, or yours) against its certified exact value.

Two bounds per output: the sound one (any correct float computation is within it: ``failed``
outside it is proved) and the probabilistic one (a correct computation is within it with
probability >= the confidence, under a stated model: ``suspicious`` outside it, never "failed").
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

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
    from nnverify.under_test import CallFailure

HELP = "check a forward pass (nnverify's or yours) against certified exact values, within derived bounds"

#: Up to this many inputs every output is listed; beyond it a summary (``--all`` lists all).
_LIST_MAX_INPUTS = 10


#: ``nnverify.bounds.probabilistic.DEFAULT_CONFIDENCE`` (a test keeps the two equal): declaring the
#: options must not import the bounds (they load python-flint; ``nnverify forward`` stays light).
DEFAULT_CONFIDENCE = 1 - 1e-6


def add_arguments(p: argparse.ArgumentParser) -> None:
    from nnverify.under_test import DEFAULT_TIMEOUT

    add_network_arguments(p)
    add_input_arguments(p)
    add_output_arguments(p)
    i = p.add_argument_group("implementation checked (default: nnverify's NumPy forward pass)")
    i.add_argument("--impl", metavar="FILE.py:forward", default=None,
                   help="your forward(network, x) -> y in the book's contract (network: the dict W1, b1, "
                   "... of NumPy arrays; x: one input), called once per input (also package.module:forward)")
    i.add_argument("--impl-sigmoid", metavar="FILE.py:sigmoid", default=None,
                   help="your sigmoid(a), used inside nnverify's forward pass (not with --impl)")
    i.add_argument("--impl-softmax", metavar="FILE.py:softmax", default=None,
                   help="your softmax(a), used for a softmax output layer of nnverify's forward pass (not with --impl)")
    i.add_argument("--impl-timeout", metavar="SECONDS", type=float, default=DEFAULT_TIMEOUT,
                   help="report your function as hanging after this long per call (default %(default)s; 0 = no limit)")
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
                   help="explicit extra tolerance in ulps, added on top of both derived bounds (default 0)")
    g.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE, metavar="C",
                   help="the probability that the probabilistic bound holds for one output, in [0.5, 1) "
                   f"(default {DEFAULT_CONFIDENCE:g})")
    g.add_argument("--sound-only", action="store_true",
                   help="exit 0 when every output is within its sound bound, even if some are outside "
                   "the probabilistic one (suspicious)")
    g.add_argument("--all", action="store_true",
                   help=f"list every output even for more than {_LIST_MAX_INPUTS} inputs")


def _g(v: float, digits: int = 3) -> str:
    if math.isinf(v):
        return "inf"
    if math.isnan(v):
        return "nan"
    return f"{v:.{digits}g}"


def _row(r: OutputResult, digits: int, who: str, dtype: np.dtype) -> str:
    value = np.format_float_positional(r.value, unique=True, trim="-") if math.isfinite(r.value) \
        and 1e-4 <= abs(r.value) < 1e16 else repr(r.value)
    return (
        f"  y{r.output + 1:<3} exact {r.exact.digits(digits)} (± {r.exact.rad_text(2)})  "
        f"{who} {value}  error {r.ulp_text(dtype)} ulp  bound {_g(r.bound_ulp)} ulp "
        f"(prob. {_g(math.inf if r.prob_bound_ulp is None else r.prob_bound_ulp)})  "
        f"{r.status}"
    )


def _where(r: OutputResult, dtype: np.dtype) -> str:
    return f"input {r.input + 1}, y{r.output + 1}: {r.ulp_text(dtype)} ulp (bound {_g(r.bound_ulp)} ulp)"


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


def _exact_class(p: Prediction) -> str:
    """The exact top-1 class where the enclosures decide it (the float's, and where they differ)."""
    if p.exact_predicted is None:
        return f"{p.predicted} by the float; the exact top-1 is not decided"
    if p.exact_predicted != p.predicted:
        return f"{p.exact_predicted}; the float says {p.predicted}"
    return str(p.predicted)


def _prediction_row(p: Prediction) -> str:

    label = "" if p.label is None else f", label {p.label}"
    margin = "" if p.margin is None else f", exact margin {p.margin.digits(6)}"
    verdict = "certified" if p.certified else "NOT certified"
    return f"  predicted class {p.predicted} (y{p.predicted + 1}){label}{margin}: {verdict}"


def prediction_lines(preds: Predictions, inputs: Inputs, dtype: object) -> list[str]:
    """Accuracy, then the certified count, then what is not certified or flipped, and the smallest margin."""

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
        lines.append(f"smallest exact margin (top-1 minus top-2 output): {small.margin.digits(6)} "
                     f"at input {small.input + 1} (class {_exact_class(small)}"
                     + ("" if small.label is None else f", label {small.label}") + ")")
    return lines


def _print_outputs(report: CheckReport, preds: Predictions | None, inputs: Inputs,
                   args: argparse.Namespace, who: str) -> None:
    """Every output of every input (up to ten inputs, or ``--all``), else the outputs not ok."""
    N, K = report.y.shape
    listing = args.all or N <= _LIST_MAX_INPUTS
    table = report.table
    if listing:
        table.prefetch(table.rows_needing_digits(args.digits))  # the exact digits shown, in one batch
        table.certify_errors(range(N * K))  # and three digits of each error
        for i in range(N):
            xs = report.x[i]
            shown = ", ".join(np.format_float_positional(v, unique=True, trim="-") for v in xs[:6])
            more = f", ... ({len(xs)} values)" if len(xs) > 6 else ""
            where = "" if inputs.index is None else f" (#{int(inputs.index[i])} of {inputs.source})"
            print(f"input {i + 1}{where}: x = [{shown}{more}]")
            for k in range(K):
                print(_row(table[i * K + k], args.digits, who, report.dtype))
            if preds is not None:
                print(_prediction_row(preds.rows[i]))
    else:
        bad = table.not_ok()
        table.prefetch(sorted({int(i) // K for i in bad[:20]}))
        table.certify_errors(bad[:20])
        for r in (table[int(i)] for i in bad[:20]):
            print(f"input {r.input + 1}:")
            print(_row(r, args.digits, who, report.dtype))
        if len(bad) > 20:
            print(f"... and {len(bad) - 20} more outputs not ok (--json or --all lists them)")


def _options(args: argparse.Namespace) -> tuple[int, int, float]:
    """(prec, max_prec, confidence), validated, naming the option in each error."""
    from nnverify.bounds.probabilistic import check_confidence
    from nnverify.certified import check_prec

    for option, value in (("--prec", args.prec), ("--max-prec", args.max_prec)):
        try:
            check_prec(value)
        except UsageError as exc:
            raise UsageError(f"{option} {value}: {exc}") from None
    if not 1 <= args.digits <= 1000:
        raise UsageError(f"--digits {args.digits}: must be from 1 to 1000")
    confidence = check_confidence(args.confidence, option="--confidence")
    if args.impl and (args.impl_sigmoid or args.impl_softmax):
        raise UsageError("--impl-sigmoid/--impl-softmax swap your functions into nnverify's forward pass; "
                         "with --impl your forward is checked as a whole: give one or the other")
    if args.impl_timeout < 0:
        raise UsageError(f"--impl-timeout {args.impl_timeout}: must be >= 0 (0 = no limit)")
    # Enough bits for the digits asked: the balls must be far narrower than the last digit.
    prec = max(args.prec, math.ceil(args.digits * math.log2(10)) + 32)
    return prec, max(args.max_prec, prec), confidence


def _user_outputs(args: argparse.Namespace, network: Network, inputs: Inputs) -> tuple[str, Any]:
    """(label, y) from your code, one input per call; y is a CallFailure when your code failed."""
    from nnverify.under_test import ForwardUnderTest, ImplementationFailed, ImplementationHung, load_function

    timeout = args.impl_timeout or None
    impl = ForwardUnderTest(
        load_function(args.impl, role="forward", timeout=timeout) if args.impl else None,
        sigmoid=load_function(args.impl_sigmoid, role="sigmoid", timeout=timeout) if args.impl_sigmoid else None,
        softmax=load_function(args.impl_softmax, role="softmax", timeout=timeout) if args.impl_softmax else None,
    )
    x = np.asarray(inputs.values, dtype=network.dtype)
    try:
        y = np.stack([np.asarray(impl.run(network, row)) for row in x])
    except (ImplementationFailed, ImplementationHung) as exc:
        return impl.label, exc.failure
    return impl.label, y


def _print_fault(network: Network, label: str, failure: CallFailure, as_json: bool) -> int:
    if as_json:
        print_json({"ok": False, "sound_ok": False, "network": network.describe(), "implementation": label,
                    "fault": failure.to_json()})
        return 1
    print(f"network: {network.describe()}")
    print(f"implementation: {label}")
    print(f"verdict: FAILED — your code {failure.kind}: {failure.message}")
    if failure.frame is not None:
        func = f" in {failure.frame.function}" if failure.frame.function else ""
        print(f"  in your code: {failure.frame.file}:{failure.frame.line}{func}: {failure.frame.code}")
    return 1


def run(args: argparse.Namespace) -> int:
    from nnverify.compare import check, check_outputs  # the oracle loads python-flint: only when used

    prec, max_prec, confidence = _options(args)
    network = network_from_args(args)
    inputs = inputs_from_args(args, network)
    if args.impl or args.impl_sigmoid or args.impl_softmax:
        label, y = _user_outputs(args, network, inputs)
        if not isinstance(y, np.ndarray):
            return _print_fault(network, label, y, args.json)
        report = check_outputs(network, inputs, y, mode=args.mode, prec=prec, tolerance_ulp=args.tolerance_ulp,
                               digits=args.digits, max_prec=max_prec, confidence=confidence)
        who = "impl"
    else:
        label, who = "nnverify forward", "numpy"
        report = check(network, inputs, mode=args.mode, prec=prec, tolerance_ulp=args.tolerance_ulp,
                       digits=args.digits, max_prec=max_prec, confidence=confidence)
    passed = report.sound_ok if args.sound_only else report.ok
    preds = None
    if _wants_predictions(network, inputs):
        from nnverify.predictions import predictions

        preds = predictions(report, inputs.labels)
    if args.json:
        doc = report.to_json()
        doc["implementation"] = label
        doc["sound_only"] = bool(args.sound_only)
        if preds is not None:
            doc.update(preds.to_json(inputs.index))
        print_json(doc)
        return 0 if passed else 1
    _print_text(report, preds, inputs, args, label, who, prec)
    return 0 if passed else 1


def _print_text(report: CheckReport, preds: Predictions | None, inputs: Inputs, args: argparse.Namespace,
                label: str, who: str, prec: int) -> None:
    N = report.x.shape[0]
    u_exp = 53 if report.dtype == np.float64 else 24
    p = 1 - report.confidence
    print(f"network: {report.network.describe()}")
    if label != "nnverify forward":
        print(f"implementation: {label}")
    mode_text = ("the exact value of each stored float" if report.mode.value == "binary"
                 else "the literal text of the weights, 0.1 = 1/10")
    print(f"exact model: {report.mode.value}, {mode_text}; arithmetic: {report.dtype}, u = 2^-{u_exp}")
    print("bounds: sound = any summation order, exp/tanh within the stated ulps; probabilistic = holds with "
          f"probability >= 1 - {p:.2g} per output if rounding errors are independent, mean zero "
          "(README: derive-check)" + (f"; plus {report.tolerance_ulp:g} ulp tolerance" if report.tolerance_ulp else ""))
    source = inputs_line(args, report.network, inputs)
    if source is not None:
        print(source)
    _print_outputs(report, preds, inputs, args, who)
    counts = report.counts()
    ratios = report.median_ratios()
    print(f"checked {N} input(s) x {report.y.shape[1]} output(s) = {len(report.results)}: {counts['ok']} ok, "
          f"{counts['suspicious']} suspicious, {counts['failed']} failed, {counts['undecided']} undecided"
          + (f" (precision raised to {report.max_prec_used} bits)" if report.max_prec_used > prec else ""))
    print(f"median bound / median error: sound {_g(ratios['sound'])}, probabilistic {_g(ratios['probabilistic'])}")
    print(f"worst error: {_where(report.worst, report.dtype)}")
    print(f"closest to its bound: {_where(report.tightest, report.dtype)}")
    if preds is not None:
        for line in prediction_lines(preds, inputs, report.dtype):
            print(line)
    print(_verdict(report, counts, p, args.sound_only))


def _verdict(report: CheckReport, counts: dict[str, int], p: float, sound_only: bool) -> str:
    if report.ok:
        return "verdict: ok — every output is within both bounds"
    if counts["failed"]:
        return "verdict: FAILED — some outputs are outside their sound bound"
    if counts["undecided"]:
        undecided = [r for r in report.results if r.status == "undecided"]
        if any(not math.isfinite(r.bound_abs) for r in undecided):
            return ("verdict: NOT VERIFIED — some verdicts stayed undecided: no finite bound (a value that may "
                    "overflow the float range, which the rounding model leaves out)")
        from nnverify.verdicts import proves_nothing

        out = report.network.activations[-1]
        if any(proves_nothing(r, out) for r in undecided):
            return (f"verdict: NOT VERIFIED — some verdicts stayed undecided: their bound is as wide as {out.value}'s "
                    "range, so it proves nothing (only a result equal to the exact value passes there)")
        return "verdict: NOT VERIFIED — some verdicts stayed undecided at --max-prec"
    n = counts["suspicious"]
    if sound_only:
        return (f"verdict: ok (sound only) — every output is within its sound bound; {n} outside the "
                "probabilistic bound (suspicious, accepted with --sound-only)")
    return (f"verdict: SUSPICIOUS — every output is within its sound bound (no error is proved), but {n} "
            f"are outside the probabilistic bound, where a correct computation lands with probability "
            f"< {p:.2g} each (under its model); --sound-only accepts this")
