"""A deadline for the user's code: SIGALRM, and a trace function for code that swallows it."""

from __future__ import annotations

import dis
import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from nnverify.under_test.frames import NNVERIFY_DIR, is_user_file

__all__ = ["TimedOut", "Clock", "deadline"]


class TimedOut(BaseException):
    """Raised by the SIGALRM handler inside the user's code."""


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


#: After the deadline, the alarm repeats this often (seconds) until the user's code has let go.
_REPEAT = 0.05


def _is_nnverify_frame(frame: FrameType | None) -> bool:
    return frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(NNVERIFY_DIR)


@functools.lru_cache(maxsize=256)
def _protected_ranges(code: CodeType) -> tuple[tuple[int, int], ...]:
    """Byte ranges ``[start, end)`` of ``code`` that an exception handler covers (3.11+)."""
    try:
        return tuple((e.start, e.end) for e in dis._parse_exception_table(code))  # type: ignore[attr-defined]
    except (AttributeError, ValueError, TypeError):  # before 3.11: unknown, say "none"
        return ()


def _catchable(frame: FrameType | None) -> bool:
    """Could an exception raised now be caught by a ``try`` in the user's own frames?"""
    f = frame
    while f is not None and not _is_nnverify_frame(f):
        if is_user_file(f.f_code.co_filename):
            i = f.f_lasti
            if any(start <= i < end for start, end in _protected_ranges(f.f_code)):
                return True
        f = f.f_back
    return False


@dataclass
class Clock:
    """Set by :func:`deadline`: did the deadline pass while the user's code ran?"""

    expired: bool = False


@contextmanager
def deadline(seconds: float | None) -> Iterator[Clock]:
    """Raise :class:`TimedOut` in the running code after ``seconds`` (main thread, POSIX only).

    A user's ``try: ... except BaseException: pass`` inside a loop would swallow one
    exception and carry on. So once the deadline has passed, the alarm repeats every
    ``_REPEAT`` s, and every line the user's code executes raises :class:`TimedOut` again
    (a trace function on the user's frames): the handler that swallowed the first one raises
    the next one itself, outside its ``try``. Tracing costs nothing before the deadline.
    Neither can interrupt one long call into C; it is stopped when it returns to Python.
    """
    clock = Clock()
    if not seconds or seconds <= 0 or not _can_alarm():
        yield clock
        return
    expired = False

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        if event == "call":
            return tracer if is_user_file(frame.f_code.co_filename) else None
        # Raise only where no try of the user's can catch it: CPython switches a trace
        # function off once it raises, so the raise has to be the last one needed.
        if expired and event == "line" and not _catchable(frame):
            raise TimedOut()
        return tracer

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        nonlocal expired
        if _is_nnverify_frame(frame):
            return  # the user's code has returned; the deadline is being lifted
        expired = clock.expired = True
        f = frame
        while f is not None and not _is_nnverify_frame(f):
            if is_user_file(f.f_code.co_filename):
                f.f_trace = tracer
                f.f_trace_lines = True
            f = f.f_back
        sys.settrace(tracer)
        raise TimedOut()

    previous_trace = sys.gettrace()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
    try:
        yield clock
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if expired:
            sys.settrace(previous_trace)

