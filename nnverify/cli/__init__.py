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
import sys
import traceback
from collections.abc import Sequence

from nnverify.errors import NNVerifyError

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


def _one_line(text: str) -> str:
    """``text`` with control characters escaped: names from a file (a pickle's global, a JSON
    key) must neither break the one-line error nor send escape sequences to the terminal."""
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text)


def _unavailable(name: str, why: str, args: argparse.Namespace) -> int:
    raise NNVerifyError(f"nnverify {name} is unavailable here ({why}); reinstall nnverify with its "
                        "dependencies: pip install nnverify")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # a file name that is not UTF-8 arrives as lone surrogates; printing it must not crash
        # (surrogateescape, the C locale's handler, still fails on a lone "\ud800" from JSON)
        if getattr(stream, "errors", None) in ("strict", "surrogateescape") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
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
        print(f"nnverify {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"nnverify {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in nnverify, never the user's fault: say so, in one line
        if args.debug:
            traceback.print_exc()
        first = _one_line(str(exc).splitlines()[0]) if str(exc) else ""
        print(
            f"nnverify {args.command}: internal error: {type(exc).__name__}: {first} "
            "(a bug in nnverify; rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
