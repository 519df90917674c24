"""Recording how nnverify behaves on each class of hostile input or fault.

Every fuzz and fault test sends its cases through :func:`run_cli` (the CLI in-process, under a
wall-clock limit) or :func:`record` (library-level cases), naming the *class* of bad input it
belongs to. Each case gets one outcome:

- ``ok``: exit 0, a valid input handled;
- ``failed``: exit 1, a verification failed (a verdict, for the checking subcommands);
- ``error``: exit 2 with a one-line error on stderr (or the library's one-line error);
- ``crashed``: another exit code, a traceback, a multi-line error, an unexpected exception;
- ``exit 3``: nnverify's own "internal error" exit (a bug caught at the top, never acceptable);
- ``hung``: did not finish within the per-case limit (stopped by SIGALRM);
- ``lost``: a file nnverify should have left alone was changed or a temp file left behind;
- ``ran code``: a hostile file made nnverify run code it did not ship (a side effect seen);
- ``false pass``: exit 0 on a case known to be wrong (a broken implementation, a value that
  must not pass): the worst outcome for a verification tool.

The outcome is recorded *before* the test asserts, so a failing test is counted too. When
``NNVERIFY_RELIABILITY_OUT`` names a file, the counts are written there as JSON at exit;
``scripts/reliability_table.py`` turns that file into the README's reliability table.
"""

from __future__ import annotations

import _thread
import atexit
import faulthandler
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

OUTCOMES = ("ok", "failed", "error", "crashed", "exit 3", "hung", "lost", "ran code", "false pass")
BAD_OUTCOMES = ("crashed", "exit 3", "hung", "lost", "ran code", "false pass")

#: Per-case wall-clock limit for one in-process CLI run (seconds). Subcommands that do real
#: work on valid input (exact models, property runs, TeX) get the longer one.
CASE_LIMIT_S = 5.0
HEAVY_LIMIT_S = 15.0
LIGHT_SUBCOMMANDS = ("forward", "convert")

#: Classes of hostile input and faults, in the order the README lists them.
CLASSES: dict[str, str] = {
    "valid-files": "valid networks, every format (subnormals, -0.0 included): must exit 0",
    "json-truncated": "JSON weights: truncated at every kind of position",
    "json-bitflip": "JSON weights: random bit flips and byte edits",
    "json-structure": "JSON weights: wrong types, nested garbage, bad keys (both layouts)",
    "json-values": "JSON weights: NaN/Inf/overflow, subnormal, -0.0, huge literals",
    "json-duplicate": "JSON weights: duplicate keys",
    "json-encoding": "JSON weights: non-UTF-8 bytes, BOM, control characters",
    "json-deep": "JSON weights: deep nesting (up to 100,000 levels)",
    "npz-truncated": "NPZ weights: truncated archives",
    "npz-bitflip": "NPZ weights: random bit flips",
    "npz-header": "NPZ weights: forged .npy headers (huge shapes, bad dtypes, object arrays)",
    "npz-dtypes": "NPZ weights: mixed, integer, float16, big-endian dtypes; non-finite values",
    "pickle-truncated": "pickle weights: truncated streams",
    "pickle-bitflip": "pickle weights: random bit flips",
    "pickle-structure": "pickle weights: wrong containers, keys, dtypes and shapes",
    "pickle-globals": "pickle weights: forbidden globals (os, builtins, subprocess, numpy ...)",
    "pickle-reduce": "pickle weights: __reduce__ tricks, allowed names misused",
    "pickle-objects": "pickle weights: object arrays, forged dtype state, huge buffers",
    "random-bytes": "weights: random bytes and other files",
    "cli-args": "CLI: malformed arguments, every subcommand",
    "cli-limits": "CLI: options asking for too much (--samples 10**12, huge limits)",
    "cli-paths": "CLI: bad paths (missing, folder, /proc, under a file)",
    "inputs-files": "CLI: malformed --inputs files (.npy, JSON, CSV)",
    "limits": "resource limits: files and options above the stated limits",
    "atomic-fault": "writes: failure or kill in the middle of a write",
    "overwrite": "writes: existing files nnverify did not write (no --force)",
    "unwritable": "writes: unwritable output folder",
    "subprocess": "end to end: the installed command in a subprocess (no traceback)",
    "faults": "faults in user code and tools (NaN, fp warnings, hangs, TeX)",
    "isolation": "user code that exits, forks, patches nnverify, blocks signals, closes stdout",
    "printing": "values beyond the float range or below 2^-4096: printed truthfully, never ok",
    "signals": "signals and closed pipes: SIGINT, SIGTERM, SIGHUP, a reader that stops",
    "resources": "members, names and widths that ask for too much (NPZ, JSON, CSV)",
}

def examples(n: int) -> int:
    """Hypothesis examples for a fuzz test: ``n`` under NNVERIFY_PROFILE=ci, fewer in dev.

    ``NNVERIFY_FUZZ_SCALE=K`` multiplies the count, for a deeper run than CI's.
    """
    base = n if os.environ.get("NNVERIFY_PROFILE", "dev") == "ci" else max(5, n // 4)
    return base * max(1, int(os.environ.get("NNVERIFY_FUZZ_SCALE", "1") or 1))


_counts: dict[str, Counter[str]] = defaultdict(Counter)
_slowest: dict[str, float] = defaultdict(float)
_notes: list[dict[str, str]] = []


def record(cls: str, outcome: str, seconds: float = 0.0, note: str = "") -> str:
    """Count one case of class ``cls`` with ``outcome``; returns ``outcome``.

    Args:
        cls: a key of :data:`CLASSES`.
        outcome: one of :data:`OUTCOMES`.
        seconds: how long the case took (the slowest per class is reported).
        note: what the case was; kept for bad outcomes so the README can name them.
    """
    if cls not in CLASSES:
        raise KeyError(f"unknown reliability class {cls!r}; add it to CLASSES")
    if outcome not in OUTCOMES:
        raise KeyError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
    _counts[cls][outcome] += 1
    _slowest[cls] = max(_slowest[cls], seconds)
    if outcome in BAD_OUTCOMES and len(_notes) < 50:
        _notes.append({"class": cls, "outcome": outcome, "note": note[:300]})
    return outcome


def _dump() -> None:
    out = os.environ.get("NNVERIFY_RELIABILITY_OUT")
    if not out:
        return
    doc = {
        "classes": CLASSES,
        "outcomes": list(OUTCOMES),
        "counts": {c: dict(v) for c, v in _counts.items()},
        "slowest_s": {c: round(v, 3) for c, v in _slowest.items()},
        "bad_cases": _notes,
    }
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)  # key order is the README's row order


atexit.register(_dump)


class Hung(BaseException):
    """A case that ran past its limit (a BaseException, so no ``except Exception`` hides it)."""


def call_with_limit(fn: Callable[[], Any], limit_s: float = CASE_LIMIT_S) -> tuple[Any, float]:
    """Run ``fn()``; raise :class:`Hung` if it takes longer than ``limit_s``. Returns (value, s).

    A watchdog thread interrupts the main thread (KeyboardInterrupt) at the limit. Not SIGALRM:
    nnverify's own ``--impl-timeout`` uses the interval timer and would cancel ours.
    """
    fired = threading.Event()
    done = threading.Event()
    lock = threading.Lock()

    def bark() -> None:
        with lock:
            if not done.is_set():
                fired.set()
                _thread.interrupt_main()

    dog = threading.Timer(limit_s, bark)
    dog.daemon = True
    t0 = time.perf_counter()
    try:
        dog.start()
        # last resort for a hang inside C code, which no interrupt reaches: dump every thread's
        # stack and end the process, so CI fails with a traceback instead of stalling
        faulthandler.dump_traceback_later(limit_s + 60, exit=True, file=sys.__stderr__)
        try:
            value = fn()
        finally:
            faulthandler.cancel_dump_traceback_later()
            with lock:
                done.set()
            dog.cancel()
        if fired.is_set():  # fn caught the KeyboardInterrupt (main() returns 130), or it is pending
            try:
                time.sleep(0.2)  # a still-pending interrupt lands here, not in pytest
            except KeyboardInterrupt:
                pass
            raise Hung()
        return value, time.perf_counter() - t0
    except KeyboardInterrupt:
        if fired.is_set():
            raise Hung() from None
        raise


@dataclass
class CliRun:
    argv: list[str]
    code: int | None
    out: str
    err: str
    seconds: float
    outcome: str

    def describe(self) -> str:
        return (
            f"argv={self.argv!r} -> {self.outcome} (exit {self.code}, {self.seconds:.2f} s)\n"
            f"stderr: {self.err[:2000]!r}"
        )


def classify(code: int | None, err: str, *, verdicts: bool) -> str:
    """The outcome of one CLI run from its exit code and stderr."""
    lines = err.splitlines()
    if "Traceback" in err:
        return "crashed"
    if code == 0:
        return "ok"
    if code == 3:
        return "exit 3"
    if code == 1 and verdicts:
        return "failed"
    if code == 2 and len(lines) == 1 and lines[0].startswith("nnverify") and "internal error" not in err:
        return "error"
    return "crashed"


def run_cli(
    argv: Sequence[str],
    capsys: Any,
    cls: str,
    *,
    limit_s: float | None = None,
    verdicts: bool = False,
    wrong: bool = False,
) -> CliRun:
    """Run ``nnverify.cli.main(argv)`` in-process under a time limit, record and return it.

    Args:
        argv: the arguments after ``nnverify``.
        capsys: pytest's capsys fixture (stdout/stderr are read and cleared).
        cls: the reliability class this case belongs to.
        limit_s: the per-case wall-clock limit (default: 5 s for forward/convert, else 15 s).
        verdicts: exit 1 (a verification failed) is a legitimate outcome for this command.
        wrong: the case is known to be wrong (a broken implementation, a value that must not
            pass), so exit 0 is a ``false pass``.
    """
    from nnverify.cli import main

    capsys.readouterr()
    argv = [str(a) for a in argv]
    if limit_s is None:
        light = not argv or argv[0] in LIGHT_SUBCOMMANDS or argv[0].startswith("-")
        limit_s = CASE_LIMIT_S if light else HEAVY_LIMIT_S
    t0 = time.perf_counter()
    try:
        code, seconds = call_with_limit(lambda: main(argv), limit_s)
    except Hung:
        out, err = capsys.readouterr()
        run = CliRun(argv, None, out, err, time.perf_counter() - t0, "hung")
    except SystemExit as exc:  # main() must return, never exit
        out, err = capsys.readouterr()
        run = CliRun(argv, exc.code if isinstance(exc.code, int) else None, out,
                     err + f"\nSystemExit({exc.code!r}) escaped main()", time.perf_counter() - t0,
                     "crashed")
    except BaseException as exc:  # noqa: BLE001 - anything escaping main() is a crash
        out, err = capsys.readouterr()
        run = CliRun(argv, None, out, err + f"\nTraceback: {type(exc).__name__}: {exc}",
                     time.perf_counter() - t0, "crashed")
    else:
        out, err = capsys.readouterr()
        outcome = classify(code, err, verdicts=verdicts)
        run = CliRun(argv, code, out, err, seconds, "false pass" if wrong and outcome == "ok" else outcome)
    record(cls, run.outcome, run.seconds, note="nnverify " + " ".join(argv))
    return run


def exit_outcome(code: int | None, expected: int, err: str = "") -> str:
    """The outcome of a run in a subprocess from its exit code, given the code the mathematics gives
    (``expected``): exit 0 where 1 is right is a ``false pass``."""
    if code == 3:
        return "exit 3"
    if "Traceback" in err or code is None:
        return "crashed"
    if code == 0:
        return "ok" if expected == 0 else "false pass"
    return {1: "failed", 2: "error"}.get(code, "crashed")


def assert_clean(run: CliRun, allowed: Sequence[str] = ("ok", "error")) -> None:
    """Fail the test unless the run's outcome is one of ``allowed``."""
    assert run.outcome in allowed, run.describe()
