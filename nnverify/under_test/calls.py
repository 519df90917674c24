"""One call of an implementation under test: run it under a deadline and turn every fault into data."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnverify.status import FaultKind
from nnverify.under_test.frames import UserFrame, definition_frame, one_line, user_frame, warning_frame
from nnverify.under_test.sandbox import TimedOut, deadline

__all__ = ["CallFailure", "ImplementationFailed", "ImplementationHung", "UserFunction", "guarded_call",
           "DEFAULT_TIMEOUT"]

#: Seconds a user's function may run per call before it is reported as hanging.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class CallFailure:
    """What went wrong in one call of an implementation under test.

    Args:
        kind: what went wrong (raised, timeout, not-numeric, wrong-shape, non-finite, warning).
        message: one line, e.g. ``NameError: name 'identify_function' is not defined``.
        function: the spec of the function called, e.g. ``examples/ch03_book.py:forward``.
        frame: the deepest frame of the user's own code involved, when there is one.
    """

    kind: FaultKind
    message: str
    function: str
    frame: UserFrame | None = None

    def describe(self) -> str:
        where = f" at {self.frame}" if self.frame else ""
        return f"{self.function} {self.kind}: {self.message}{where}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "function": self.function,
            "frame": self.frame.to_json() if self.frame else None,
        }


class ImplementationFailed(Exception):
    """Raised inside a property when the implementation under test misbehaved (shrinkable)."""

    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


class ImplementationHung(BaseException):
    """Raised when the implementation under test timed out.

    A BaseException on purpose: Hypothesis must not shrink by re-running a function that
    takes ``timeout`` seconds per call; the runner catches this and reports the input.
    """

    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure



@dataclass(frozen=True, eq=False)
class UserFunction:
    """A loaded user function and where it came from.

    Args:
        spec: what the user gave, e.g. ``examples/ch03_book.py:forward``.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        func: the callable.
        timeout: seconds per call before it counts as hanging (None: no limit).
    """

    spec: str
    role: str
    func: Callable[..., Any]
    timeout: float | None = DEFAULT_TIMEOUT

    def call(self, *args: Any, expect_shape: tuple[int, ...]) -> np.ndarray:
        """Call the function and return its result as a float array of ``expect_shape``.

        Raises :class:`ImplementationFailed` for any fault and :class:`ImplementationHung`
        after a timeout.
        """
        return guarded_call(self.func, args, self.spec, expect_shape, self.timeout)


def guarded_call(
    func: Callable[..., Any], args: tuple[Any, ...], label: str, expect_shape: tuple[int, ...],
    timeout: float | None,
) -> np.ndarray:
    """Run ``func(*args)`` with a timeout, warnings recorded and the result checked."""
    def fail(kind: FaultKind, message: str, frame: UserFrame | None = None) -> ImplementationFailed:
        return ImplementationFailed(CallFailure(kind, message, label, frame or definition_frame(func)))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # The user's print() goes to stderr: stdout belongs to nnverify (--json).
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"), \
                    redirect_stdout(sys.stderr), deadline(timeout) as clock:
                result = func(*args)
        except TimedOut as exc:
            raise ImplementationHung(CallFailure(
                FaultKind.TIMEOUT, f"did not return within {timeout:g} s (--impl-timeout)", label,
                user_frame(exc.__traceback__))) from None
        except Exception as exc:
            raise fail(FaultKind.RAISED, one_line(exc), user_frame(exc.__traceback__)) from None
        if clock.expired:  # it caught the interrupt and returned late: still too late
            raise ImplementationHung(CallFailure(
                FaultKind.TIMEOUT, f"did not return within {timeout:g} s (--impl-timeout); it caught the "
                "interrupt and returned later", label, definition_frame(func)))
    fp_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if fp_warnings:
        w = fp_warnings[0]
        raise fail(FaultKind.WARNING, f"{w.category.__name__}: {w.message}", warning_frame(w))
    try:
        arr = np.asarray(result)
    except Exception as exc:
        raise fail(FaultKind.NOT_NUMERIC, f"returned {type(result).__name__} that is not an array ({exc})") from None
    if arr.dtype.kind in "iub":
        raise fail(FaultKind.NOT_NUMERIC, f"returned an array of dtype {arr.dtype}; expected floats")
    if arr.dtype.kind != "f":
        shown = repr(result) if len(repr(result)) <= 40 else repr(result)[:37] + "..."
        raise fail(FaultKind.NOT_NUMERIC, f"returned a {type(result).__name__} ({shown}); expected an array of floats")
    if arr.shape != expect_shape:
        raise fail(FaultKind.WRONG_SHAPE, f"returned shape {arr.shape}; expected {expect_shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise fail(FaultKind.NON_FINITE, f"returned {arr[idx]!r} at index {list(idx)}; outputs must be finite")
    return arr
