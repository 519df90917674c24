"""``nnverify check``: every NumPy output against its certified exact value, within a derived bound."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

import numpy as np

from nnverify.cli.common import (
    add_input_arguments,
    add_network_arguments,
    add_output_arguments,
    inputs_from_args,
    network_from_args,
    print_json,
)
from nnverify.errors import UsageError

if TYPE_CHECKING:
    from nnverify.compare import OutputResult

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
    if args.json:
        print_json(report.to_json())
        return 0 if report.ok else 1

    N = report.x.shape[0]
    u_exp = 53 if report.dtype == np.float64 else 24
    print(f"network: {network.describe()}")
    mode_text = ("the exact value of each stored float" if report.mode.value == "binary"
                 else "the literal text of the weights, 0.1 = 1/10")
    print(f"exact model: {report.mode.value}, {mode_text}; arithmetic: {report.dtype}, u = 2^-{u_exp}")
    print("bound: any summation order, exp/tanh within the stated ulps (README: derive-check)"
          + (f", plus {report.tolerance_ulp:g} ulp tolerance" if report.tolerance_ulp else ""))
    listing = args.all or N <= _LIST_MAX_INPUTS
    by_input: dict[int, list[OutputResult]] = {}
    for r in report.results:
        by_input.setdefault(r.input, []).append(r)
    if listing:
        for i in range(N):
            xs = report.x[i]
            shown = ", ".join(np.format_float_positional(v, unique=True, trim="-") for v in xs[:6])
            more = f", ... ({len(xs)} values)" if len(xs) > 6 else ""
            print(f"input {i + 1}: x = [{shown}{more}]")
            for r in by_input[i]:
                print(_row(r, args.digits))
    else:
        bad = [r for r in report.results if not r.ok]
        for r in bad[:20]:
            print(f"input {r.input + 1}:")
            print(_row(r, args.digits))
        if len(bad) > 20:
            print(f"... and {len(bad) - 20} more outputs not ok (--json or --all lists them)")
    counts = report.counts()
    total = len(report.results)
    print(f"checked {N} input(s) x {report.y.shape[1]} output(s) = {total}: {counts['ok']} ok, "
          f"{counts['failed']} failed, {counts['undecided']} undecided"
          + (f" (precision raised to {report.max_prec_used} bits)" if report.max_prec_used > prec else ""))
    print(f"worst error: {_where(report.worst)}")
    print(f"closest to its bound: {_where(report.tightest)}")
    if report.ok:
        print("verdict: ok — every output is within its derived bound")
        return 0
    print("verdict: FAILED — " + ("some outputs are outside their bound" if counts["failed"]
                                  else "some verdicts stayed undecided at --max-prec"))
    return 1
