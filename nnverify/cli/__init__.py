"""The ``nnverify`` command line: the only place that prints and chooses exit codes.

Exit codes, for every subcommand: 0 ok (verified), 1 a verification failed, 2 bad input or
usage. Errors are one line on stderr; ``--debug`` adds the traceback.

Each subcommand lives in its own module ``nnverify.cli.<name>`` exposing ``HELP`` (one
line), ``add_arguments(parser)`` and ``run(args) -> int``; adding one means adding its name
to ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import io
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from nnverify.errors import NNVerifyError, one_line

__all__ = ["main", "SUBCOMMANDS", "EXIT_OK", "EXIT_FAILED", "EXIT_BAD_INPUT"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = ("forward", "convert", "derive", "check", "test", "report")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2) instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from nnverify import __version__

    parser = _Parser(
        prog="nnverify",
        description="Check a NumPy neural network's forward pass against exact mathematics.",
        epilog="exit codes: 0 ok, 1 a verification failed, 2 bad input or usage",
    )
    parser.add_argument("--version", action="version", version=f"nnverify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"nnverify.cli.{name}")
            module.add_arguments(argparse.ArgumentParser(add_help=False))  # runs its imports first
        except ImportError as exc:
            # a missing dependency disables one subcommand, not the whole command line
            p = sub.add_parser(name, help=f"(unavailable: {exc})", add_help=False, prefix_chars="\0")
            p.add_argument("rest", nargs="*")  # every word, options included, reaches _unavailable
            p.set_defaults(_run=functools.partial(_unavailable, name, str(exc)), debug=False)
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
        p.set_defaults(_run=module.run)
    return parser


def _unavailable(name: str, why: str, args: argparse.Namespace) -> int:
    raise NNVerifyError(f"nnverify {name} is unavailable here ({why}); reinstall nnverify with its "
                        "dependencies: pip install nnverify")


class _PipeGuard(io.TextIOBase):
    """stdout that survives a reader going away (``nnverify check --all | head``): the first
    broken-pipe write is remembered and the rest is dropped, so the command still reaches its
    verdict and exits with its code — never 0 for a failure because the pipe closed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.broken = stream, False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self.broken = True
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.broken = True

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return int(self.stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        # io.StringIO's is None (contextlib.redirect_stdout); str(None) made SymPy's import fail
        return str(getattr(self.stream, "encoding", None) or "utf-8")


def _negative_values(argv: Sequence[str]) -> list[str]:
    """``--x -1e6`` as ``--x=-1e6``: argparse takes a value starting with ``-`` for an option unless
    it looks like a plain negative integer or decimal (``-1e6`` and ``-1,0.5`` do not)."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NEGATIVE.fullmatch(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


_NEGATIVE = re.compile(r"-(?:\d|\.\d)[0-9eE.,+\- ]*")


class Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: raised in the main thread so every ``finally`` runs on the way out
    (pdflatex's process group killed, temporary folders removed, the user's worker ended)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals that stop a run by unwinding it (SIGINT does the same through KeyboardInterrupt).
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _raise_stopped(signum: int, frame: object) -> None:
    _hold_stop_signals()
    raise Stopped(signum)


def _interrupt(signum: int, frame: object) -> None:
    _hold_stop_signals()
    raise KeyboardInterrupt


def _held(signum: int, frame: object) -> None:
    """A stop signal while the run already unwinds: nothing to do, the first one decides."""


def _hold_stop_signals() -> None:
    """The run unwinds from now on: a second SIGTERM, SIGHUP or Ctrl-C must not cut its cleanup
    short (pdflatex not yet killed, a temporary folder half removed); the first signal's exit code
    stands. A no-op Python handler rather than SIG_IGN: a child started now must not inherit it."""
    for sig in (*_STOP_SIGNALS, signal.SIGINT):
        if signal.getsignal(sig) in (_raise_stopped, _interrupt):
            signal.signal(sig, _held)


@contextmanager
def _stop_signals_unwind(*, exiting: bool = False) -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Stopped`, Ctrl-C KeyboardInterrupt, while the CLI runs
    (their default ends the process at once, leaving temporary folders and children behind); the
    previous handlers come back after. A signal ignored on entry stays ignored (``nohup nnverify``
    ignores SIGHUP, a shell's background job SIGINT), and a SIGINT handler of the caller's own stays.

    ``exiting``: the process ends after this (the ``nnverify`` command), so the signals stay held
    instead: the atexit hook that ends the user's worker must run, and the default action of a
    late signal would end nnverify before it and leave the worker running in its own session."""
    saved: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():  # handlers belong to the main thread
        for sig in _STOP_SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                saved[sig] = signal.signal(sig, _raise_stopped)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            saved[signal.SIGINT] = signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, _held if exiting else handler)


def _stopped_code(exc: Stopped, command: str | None) -> int:
    """Exit 128 + the signal's number (143 for SIGTERM, 129 for SIGHUP), with one quiet line."""
    name = signal.Signals(exc.signum).name
    print(f"nnverify{' ' + command if command else ''}: stopped by {name}", file=sys.stderr)
    return 128 + exc.signum


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(_negative_values(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args._run(args))
    except NNVerifyError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"nnverify {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"nnverify {args.command}: interrupted", file=sys.stderr)
        return 130
    except Stopped as exc:
        return _stopped_code(exc, args.command)
    except Exception as exc:  # a bug in nnverify, never the user's fault: say so, in one line
        if args.debug:
            traceback.print_exc()
        first = one_line(str(exc).splitlines()[0]) if str(exc) else ""
        print(
            f"nnverify {args.command}: internal error: {type(exc).__name__}: {first} "
            "(a bug in nnverify; rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    return _main(argv, exiting=False)


def _main(argv: Sequence[str] | None, *, exiting: bool) -> int:
    for stream in (sys.stdout, sys.stderr):
        # a file name that is not UTF-8 arrives as lone surrogates; printing it must not crash
        # (surrogateescape, the C locale's handler, still fails on a lone "\ud800" from JSON)
        if getattr(stream, "errors", None) in ("strict", "surrogateescape") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    real_stdout = sys.stdout
    guard = _PipeGuard(real_stdout)
    sys.stdout = guard
    try:
        with _stop_signals_unwind(exiting=exiting):
            code = _run(argv)  # the subcommands' imports run here too: Ctrl-C at start-up is quiet
    except KeyboardInterrupt:
        print("nnverify: interrupted", file=sys.stderr)
        code = 130
    except Stopped as exc:
        code = _stopped_code(exc, None)
    finally:
        sys.stdout = real_stdout
    if guard.broken:
        _silence_stdout()
    return code


def _silence_stdout() -> None:
    """After a broken pipe, point fd 1 at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def main_entry() -> None:
    """Console-script entry point."""
    try:
        sys.exit(_main(None, exiting=True))
    except KeyboardInterrupt:  # between the interpreter's start and main's own handler
        sys.exit(130)
