"""``nnverify test``: run the property suite on a forward pass (nnverify's, or the user's own)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from nnverify.cli.common import (
    add_network_arguments,
    add_output_arguments,
    domain_text,
    network_from_args,
    print_json,
)
from nnverify.errors import UsageError
from nnverify.model import Activation, Network

if TYPE_CHECKING:
    from nnverify.suite import PropertyResult

HELP = "property-based tests (Hypothesis) of a forward pass against the exact model"

_DEFAULT_LOW, _DEFAULT_HIGH = -10.0, 10.0


def _profile_default() -> str:
    env = os.environ.get("NNVERIFY_PROFILE", "")
    return env if env in ("quick", "ci", "thorough") else "ci"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from nnverify.suite.config import PROFILES, PROPERTY_NAMES
    from nnverify.under_test.calls import DEFAULT_TIMEOUT

    add_network_arguments(p)
    g = p.add_argument_group("implementation under test (default: nnverify's NumPy forward pass)")
    g.add_argument("--impl", metavar="FILE.py:forward", default=None,
                   help="a forward(network, x) -> y in the book's contract: network is the dict "
                   "W1, b1, ... of NumPy arrays, x one input or a batch (also package.module:forward, "
                   "FILE.py:Class, FILE.py:Class.method, or predict(x) computing --weights)")
    g.add_argument("--impl-factory", metavar="FILE.py:make", default=None,
                   help="make(network) -> the object (or function of x) to call; for classes nnverify cannot "
                   "build itself")
    g.add_argument("--impl-sigmoid", metavar="FILE.py:sigmoid", default=None,
                   help="a sigmoid(a) to test (used inside nnverify's forward pass unless --impl is given)")
    g.add_argument("--impl-softmax", metavar="FILE.py:softmax", default=None,
                   help="a softmax(a) to test, row by row on batches (used for a softmax output layer)")
    g.add_argument("--impl-timeout", metavar="SECONDS", type=float, default=DEFAULT_TIMEOUT,
                   help="report a user function as hanging after this long per call (default "
                   "%(default)s; 0 = no limit)")
    g.add_argument("--single-input", action="store_true",
                   help="your forward takes one input at a time: batches are passed row by row and "
                   "batch-consistency is skipped")
    g.add_argument("--strict-dtype", action="store_true",
                   help="a result whose dtype is not the network's (float64 from a float32 network) fails")
    g.add_argument("--impl-in-process", action="store_true",
                   help="run your code inside nnverify's process (faster, debuggable) instead of a worker "
                   "process; then your code can end or hang the run")
    r = p.add_argument_group("the run")
    r.add_argument("--profile", choices=tuple(PROFILES), default=_profile_default(),
                   help="examples per property: " + ", ".join(f"{k} {v}" for k, v in PROFILES.items())
                   + " (default: NNVERIFY_PROFILE if it names one, else ci)")
    r.add_argument("--examples", metavar="N", type=int, default=None,
                   help="examples per property (overrides --profile)")
    r.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0): same seed, same run")
    r.add_argument("--only", metavar="NAME", action="append", default=None,
                   help="run only this property (repeatable, or comma-separated): " + ", ".join(PROPERTY_NAMES))
    r.add_argument("--random-networks", action="store_true",
                   help="also draw random networks of the same depth and activations (random widths, weights)")
    r.add_argument("--low", type=float, default=None,
                   help=f"smallest input value drawn (default: the network's input domain, else {_DEFAULT_LOW:g})")
    r.add_argument("--high", type=float, default=None,
                   help=f"largest input value drawn (default: the network's input domain, else {_DEFAULT_HIGH:g})")
    r.add_argument("--sound-only", action="store_true",
                   help="the agreement laws accept an output within its sound bound but outside the "
                   "probabilistic one (suspicious), which otherwise breaks them")
    r.add_argument("--max-failures", metavar="N", type=int, default=3,
                   help="report up to N distinct counterexamples per property (default %(default)s)")
    r.add_argument("--replay", metavar="CASE", default=None,
                   help="run one property (--only NAME) on exactly this case: a counterexample's \"case\" "
                   "as JSON, or @FILE holding it (or a whole --json run)")
    r.add_argument("--list", action="store_true", help="list the properties and exit")
    add_output_arguments(p)


def _only(args: argparse.Namespace) -> list[str] | None:
    if not args.only:
        return None
    from nnverify.suite.config import PROPERTY_NAMES

    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    for n in names:
        if n not in PROPERTY_NAMES:
            raise UsageError(f"--only {n!r} is not a property; expected one of {', '.join(PROPERTY_NAMES)}")
    return names


def _impl_words(args: argparse.Namespace) -> list[str]:
    parts = []
    for opt in ("weights", "activations", "dtype", "impl", "impl_factory", "impl_sigmoid", "impl_softmax"):
        value = getattr(args, opt)
        if value is not None:
            parts += [f"--{opt.replace('_', '-')}", str(value)]
    for flag in ("single_input", "strict_dtype", "impl_in_process"):
        if getattr(args, flag):
            parts.append(f"--{flag.replace('_', '-')}")
    return parts


def replay_command(args: argparse.Namespace, name: str, case: Any) -> str:
    """The command that runs this property on exactly this case (every call as it was made)."""
    import json

    parts = ["nnverify", "test", "--only", name, *_impl_words(args), "--replay",
             json.dumps(case, separators=(",", ":"))]
    return " ".join(shlex.quote(p) for p in parts)


def reproduce_command(args: argparse.Namespace, name: str, max_examples: int) -> str:
    """The one-line command that reruns exactly this property with the same examples."""
    parts = ["nnverify", "test", "--only", name, "--seed", str(args.seed), "--examples", str(max_examples)]
    parts += _impl_words(args)
    if args.random_networks:
        parts.append("--random-networks")
    if getattr(args, "sound_only", False):
        parts.append("--sound-only")
    if args.low is not None:
        parts += ["--low", repr(args.low)]
    if args.high is not None:
        parts += ["--high", repr(args.high)]
    if args.max_failures != 3:
        parts += ["--max-failures", str(args.max_failures)]
    return " ".join(shlex.quote(p) for p in parts)


def input_range(args: argparse.Namespace, network: Network) -> tuple[float, float, str]:
    """``(low, high, why)``: ``--low/--high``, else the network's input domain, else [-10, 10]."""
    domain = network.domain or (_DEFAULT_LOW, _DEFAULT_HIGH)
    low = domain[0] if args.low is None else args.low
    high = domain[1] if args.high is None else args.high
    if args.low is not None or args.high is not None:
        return low, high, "--low/--high"
    if network.domain is not None:
        return low, high, "the network's input domain"
    return low, high, "the default; the network declares no input domain"


def _softmax_hint(network: Network, impl: Any, result: Any, low: float, high: float) -> str | None:
    """A hint when the user's outputs look like probabilities but the output layer is identity
    (the book's pickle loaded without --activations ...,softmax). A hint, never a verdict.

    Only after ``agreement`` failed on values (the user's code ran and returned): the user's
    forward is then called once more, on the middle of the input range.
    """
    from nnverify.numeric import forward
    from nnverify.predictions import looks_like_probabilities
    from nnverify.under_test import ImplementationHung

    if impl.user_forward is None or network.activations[-1] is not Activation.IDENTITY \
            or network.n_outputs < 2:
        return None
    agreement = [r for r in result.results if r.name == "agreement" and r.status == "failed"]
    if not agreement or agreement[0].counterexample is None or agreement[0].counterexample.failure is not None:
        return None
    x = np.full(network.n_inputs, (low + high) / 2, dtype=network.dtype)
    try:
        y = impl.run(network, x)
    except (Exception, ImplementationHung):  # whatever the user's code does wrong, the suite said so
        return None
    if not looks_like_probabilities(y, network.dtype) or looks_like_probabilities(forward(network, x).y, network.dtype):
        return None
    acts = ",".join(a.value for a in network.activations[:-1]) + ",softmax"
    return (f"hint: your forward's outputs look like probabilities (in [0, 1], summing to 1) but the "
            f"network's output layer is identity; if your code ends in softmax, add --activations {acts}")


def _fmt_value(v: Any, *, limit: int = 12) -> str:
    """Lists as ``[a, b, ...]``; long ones cut to their ends (``--json`` has every value)."""
    if isinstance(v, list):
        if len(v) > limit:
            head = ", ".join(_fmt_value(u) for u in v[:6])
            tail = ", ".join(_fmt_value(u) for u in v[-3:])
            return f"[{head}, ..., {tail}] ({len(v)} values; --json has all)"
        return "[" + ", ".join(_fmt_value(u) for u in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


#: Longest replay command printed in the text output (--json always has it whole).
_REPLAY_SHOWN = 2000


def _print_call(call: Any, shown_input: Any) -> None:
    shape = tuple(call.get("shape", []))
    row = call.get("row")
    where = f"; the failing row is {row} of {shape[0]}" if row and shape else ""
    print(f"  call: {call.get('function')} on x of shape {shape} {call.get('dtype')}{where}")
    if call.get("x") != shown_input:  # a batch, or another x than the input shown above
        print(f"  x as passed: {_fmt_value(call.get('x'))}")


def _print_counterexample(name: str, cex: Any, command: str, replay: str | None, other: bool) -> None:
    print(f"\nFAILED {name}{' (another failure)' if other else ''}: {cex.law}")
    print(f"  {cex.message}")
    if cex.network is not None:
        print(f"  network: {cex.network.get('describe')}")
        if "weights" in cex.network:
            print("  weights: " + ", ".join(f"{k}={_fmt_value(v)}" for k, v in cex.network["weights"].items()))
    for key, value in cex.shown():
        extra = ""
        if key == "exact" and "exact_radius" in cex.details:
            extra = f" (shown to 20 digits; certified enclosure radius {cex.details['exact_radius']:.2g})"
        print(f"  {key}: {_fmt_value(value)}{extra}")
    if cex.call is not None:
        _print_call(cex.call, cex.details.get("input"))
    frame = cex.failure.frame if cex.failure is not None else None
    if frame is not None:
        func = f" in {frame.function}" if frame.function else ""
        print(f"  in your code: {frame.file}:{frame.line}{func}: {frame.code}")
    print(f"  reproduce: {command}")
    if replay is not None:
        if len(replay) <= _REPLAY_SHOWN:
            print(f"  replay this case: {replay}")
        else:
            short = replay.split(" --replay ")[0]
            print(f"  replay this case: save the run with --json > run.json, then: {short} --replay @run.json")


def _print_failure(res: PropertyResult, command: str, args: argparse.Namespace | None = None) -> None:
    for i, cex in enumerate(res.counterexamples):
        replay = replay_command(args, res.name, cex.case) if args is not None and cex.case is not None else None
        _print_counterexample(res.name, cex, command, replay if i == 0 else None, i > 0)


def _load_impl(args: argparse.Namespace) -> Any:
    from nnverify.under_test import ForwardUnderTest, load_function

    timeout = args.impl_timeout or None
    iso = not args.impl_in_process

    def load(spec: str | None, role: str, factory: str | None = None) -> Any:
        return load_function(spec, role=role, timeout=timeout, factory=factory, isolate=iso)

    forward = load(args.impl, "forward", args.impl_factory) if (args.impl or args.impl_factory) else None
    return ForwardUnderTest(
        forward,
        sigmoid=load(args.impl_sigmoid, "sigmoid") if args.impl_sigmoid else None,
        softmax=load(args.impl_softmax, "softmax") if args.impl_softmax else None,
        single_input=args.single_input, strict_dtype=args.strict_dtype,
    )


def _check_args(args: argparse.Namespace, only: list[str] | None) -> None:
    if args.impl_timeout < 0:
        raise UsageError(f"--impl-timeout {args.impl_timeout}: must be >= 0 (0 = no limit)")
    if args.max_failures < 1:
        raise UsageError(f"--max-failures {args.max_failures}: must be at least 1")
    if args.replay is not None and (only is None or len(only) != 1):
        raise UsageError("--replay runs one property on one case; name it with --only NAME")


def _print_table(args: argparse.Namespace, network: Any, result: Any, max_examples: int, inputs_line: str) -> None:
    print(f"network: {network.describe()}")
    print(f"implementation: {result.implementation}")
    if args.replay is not None:
        print("replaying one case (--replay)")
    else:
        print(f"seed {args.seed}, {max_examples} examples per property"
              + ("" if args.examples is not None else f" (profile {args.profile})")
              + (", random networks too" if args.random_networks else ""))
        print(inputs_line)
    for note in result.notes:
        print(note if note.startswith("warning:") else f"note: {note}")
    print()
    print(f"{'property':<20} {'examples':>8}  {'verdict':<8} worst error")
    for r in result.results:
        print(f"{r.name:<20} {r.examples:>8}  {r.status:<8} {r.worst_text}")
    counts = {s: sum(r.status == s for r in result.results) for s in ("passed", "failed", "skipped")}
    print(f"\n{len(result.results)} properties: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    for r in result.results:
        if r.status == "skipped":
            print(f"  skipped {r.name}: {r.reason}")
    for r in result.results:
        if r.name == "worst-case" and r.worst and r.status == "passed":
            w = r.worst
            print(f"worst case found: x = {_fmt_value(w['input'])}, y{w['output']} = {w['observed']!r}, "
                  f"exact {w['exact']}, {w.get('ulp_text', format(w['ulp'], '.3g'))} ulp "
                  f"(bound {w['bound_ulp']:.3g} ulp)")


def run(args: argparse.Namespace) -> int:
    from nnverify.progress import Progress
    from nnverify.suite import PROFILES, PROPERTIES, SuiteConfig, run_suite
    from nnverify.suite.replay import read_case
    from nnverify.suite.results import SuiteResult
    from nnverify.suite.runner import run_property

    if args.list:
        for prop in PROPERTIES:
            print(f"{prop.name:20} {prop.summary}")
        return 0
    only = _only(args)
    max_examples = args.examples if args.examples is not None else PROFILES[args.profile]
    if max_examples < 1:
        raise UsageError(f"--examples {max_examples}: must be at least 1")
    _check_args(args, only)
    case = read_case(args.replay, only[0]) if args.replay is not None and only else None
    network = network_from_args(args)
    impl = _load_impl(args)
    low, high, why = input_range(args, network)
    ctx = SuiteConfig(network, impl, random_networks=args.random_networks, min_value=low, max_value=high,
                      sound_only=args.sound_only)
    if case is not None and only:
        res = run_property(only[0], ctx, max_examples=1, replay=case, max_failures=args.max_failures)
        result = SuiteResult((res,), args.seed, 1, impl.label, impl.notes)
    else:
        n_props = len(only) if only else len(PROPERTIES)
        with Progress("nnverify test", total=n_props * max_examples) as progress:
            result = run_suite(ctx, only=only, max_examples=max_examples, seed=args.seed,
                               tick=lambda name: progress.advance(note=name), max_failures=args.max_failures)
    commands = {r.name: reproduce_command(args, r.name, max_examples) for r in result.results}
    if args.json:
        doc = result.to_json()
        doc["network"] = network.describe()
        for prop, r in zip(doc["properties"], result.results):
            if prop["status"] == "failed":
                prop["reproduce"] = commands[prop["name"]]
                if r.counterexample is not None and r.counterexample.case is not None:
                    prop["replay"] = replay_command(args, r.name, r.counterexample.case)
        print_json(doc)
        return 0 if result.ok else 1
    _print_table(args, network, result, max_examples, f"inputs: every value in {domain_text((low, high))} ({why})")
    for r in result.results:
        if r.status == "failed":
            _print_failure(r, commands[r.name], args)
    hint = None if result.ok else _softmax_hint(network, impl, result, low, high)
    if hint:
        print(f"\n{hint}")
    sys.stdout.flush()
    return 0 if result.ok else 1
