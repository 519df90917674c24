"""One call of an implementation under test: run it under a deadline and turn every fault into data.

:func:`run_guarded` runs the user's code where it lives (the worker process, or in-process)
and returns an :class:`Outcome`; :func:`check_result` then decides, in nnverify's own process,
whether the array that came back is a plain float array of the right shape with finite values.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from contextlib import nullcontext, redirect_stdout
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnverify.status import FaultKind
from nnverify.under_test.frames import UserFrame, definition_frame, one_line, user_frame, warning_frame
from nnverify.under_test.sandbox import TimedOut, deadline

__all__ = ["CallFailure", "ImplementationFailed", "ImplementationHung", "ImplementationCrashed", "Outcome",
           "run_guarded", "check_result", "guarded_call", "DEFAULT_TIMEOUT"]

#: Seconds a user's function may run per call before it is reported as hanging.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class CallFailure:
    """What went wrong in one call of an implementation under test.

    Args:
        kind: what went wrong (raised, timeout, not-numeric, wrong-shape, non-finite, warning, ...).
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


class _CallFault(BaseException):
    """What both faults carry: the failure, and where in a batch of calls it happened."""

    index: int | None = None
    case: int | None = None
    row: int | None = None

    def __init__(self, failure: CallFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


class ImplementationFailed(_CallFault, Exception):
    """Raised inside a property when the implementation under test misbehaved (shrinkable).

    ``index`` is the call of a batch of calls that failed; ``case`` and ``row`` the ``(network, x)``
    of :meth:`.forward.ForwardUnderTest.run_many` and the row passed alone (``--single-input``).
    """


class ImplementationHung(_CallFault):
    """Raised when the implementation under test timed out.

    A BaseException on purpose: Hypothesis must not shrink by re-running a function that
    takes ``timeout`` seconds per call; the runner catches this and reports the input.
    """


class ImplementationCrashed(ImplementationHung):
    """The worker running the user's code died or broke its pipe (it exited, forked, was killed).

    A kind of :class:`ImplementationHung` so that every handler of a hang handles it: each
    further call would have to start a new worker, so Hypothesis must not shrink on it either.
    """


@dataclass(frozen=True)
class Outcome:
    """What one call of the user's code gave: an array (and the first floating-point warning), or a fault."""

    value: np.ndarray | None = None
    kind: FaultKind | None = None
    message: str = ""
    frame: UserFrame | None = None
    warning: str | None = None
    warning_frame: UserFrame | None = None


def _as_array(result: Any) -> tuple[np.ndarray | None, str]:
    """The result as a numeric array, or None and why not (converted where the user's code runs)."""
    try:
        arr = np.asarray(result)
    except Exception as exc:
        return None, f"returned {type(result).__name__} that is not an array ({one_line(exc)})"
    if arr.dtype.kind in "iub":
        return arr, ""  # the dtype is reported by check_result
    if arr.dtype.kind != "f":
        text = repr(result)
        shown = text if len(text) <= 40 else text[:37] + "..."
        if isinstance(result, np.ndarray):
            return None, f"returned an array of dtype {arr.dtype}; expected floats"
        return None, f"returned a {type(result).__name__} ({shown}); expected an array of floats"
    return arr, ""


def run_guarded(func: Callable[..., Any], args: tuple[Any, ...], timeout: float | None,
                code: Callable[..., Any] | None = None, *, redirect: bool = True) -> Outcome:
    """Run ``func(*args)`` under ``timeout`` with warnings recorded; the result converted to an array.

    Args:
        func: what to call.
        args: its arguments.
        timeout: seconds (None: no limit); see :func:`.sandbox.deadline`.
        code: the user's function, whose definition is the frame of faults in what it returned.
        redirect: send ``print()`` to stderr (the worker has made its file descriptor 1 stderr already).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # The user's print() goes to stderr: stdout belongs to nnverify (--json).
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"), \
                    redirect_stdout(sys.stderr) if redirect else nullcontext(), deadline(timeout) as clock:
                arr, why = _as_array(func(*args))  # a slow __array__ runs under the deadline too
        except TimedOut as exc:
            return Outcome(kind=FaultKind.TIMEOUT, message=f"did not return within {timeout:g} s (--impl-timeout)",
                           frame=user_frame(exc.__traceback__))
        except (SystemExit, KeyboardInterrupt) as exc:
            what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else "raised KeyboardInterrupt"
            return Outcome(kind=FaultKind.EXITED, message=what, frame=user_frame(exc.__traceback__))
        except Exception as exc:
            return Outcome(kind=FaultKind.RAISED, message=one_line(exc), frame=user_frame(exc.__traceback__))
        if clock.expired:  # it caught the interrupt and returned late: still too late
            return Outcome(kind=FaultKind.TIMEOUT, message=f"did not return within {timeout:g} s (--impl-timeout); "
                           "it caught the interrupt and returned later", frame=definition_frame(code or func))
    fp = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    warning = f"{fp[0].category.__name__}: {fp[0].message}" if fp else None
    wframe = warning_frame(fp[0]) if fp else None
    if arr is None:
        return Outcome(kind=FaultKind.NOT_NUMERIC, message=why, frame=definition_frame(code or func))
    return Outcome(value=arr, warning=warning, warning_frame=wframe)


def _position(idx: tuple[int, ...], shape: tuple[int, ...]) -> str:
    if len(idx) == 1:
        return f"output {idx[0] + 1}"
    if len(idx) == 2:
        return f"output {idx[1] + 1} of row {idx[0] + 1} (in a batch of {shape[0]})"
    return f"index {list(idx)}"


def check_result(outcome: Outcome, expect_shape: tuple[int, ...], label: str,
                 definition: UserFrame | None) -> tuple[np.ndarray, str | None]:
    """The checked float array of ``expect_shape`` and a note (a ``(1, k)`` result taken as ``(k,)``).

    Raises :class:`ImplementationFailed` for a fault and :class:`ImplementationHung` for a timeout.
    NaN and infinities are reported first ("returned nan at output 2"), before any warning text.
    """
    def fail(kind: FaultKind, message: str, frame: UserFrame | None = None) -> ImplementationFailed:
        return ImplementationFailed(CallFailure(kind, message, label, frame or definition))

    if outcome.kind is FaultKind.TIMEOUT:
        raise ImplementationHung(CallFailure(FaultKind.TIMEOUT, outcome.message, label, outcome.frame))
    if outcome.kind is not None:
        raise fail(outcome.kind, outcome.message, outcome.frame)
    arr = outcome.value
    assert arr is not None
    if arr.dtype.kind != "f":
        raise fail(FaultKind.NOT_NUMERIC, f"returned an array of dtype {arr.dtype}; expected floats")
    note = None
    if arr.shape != expect_shape:
        if len(expect_shape) == 1 and arr.shape == (1,) + expect_shape:
            note = (f"{label} returned shape {arr.shape} for one input; taken as {expect_shape} "
                    "(a batch of one row)")
            arr = arr.reshape(expect_shape)
        else:
            raise fail(FaultKind.WRONG_SHAPE, f"returned shape {arr.shape}; expected {expect_shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        value = float(arr[idx])
        shown = "NaN" if value != value else ("inf" if value > 0 else "-inf")
        after = f" (after {outcome.warning})" if outcome.warning else ""
        raise fail(FaultKind.NON_FINITE, f"returned {shown} at {_position(idx, arr.shape)}; outputs must be "
                   f"finite{after}", outcome.warning_frame)
    if outcome.warning is not None:
        raise fail(FaultKind.WARNING, outcome.warning, outcome.warning_frame)
    return arr, note


def guarded_call(
    func: Callable[..., Any], args: tuple[Any, ...], label: str, expect_shape: tuple[int, ...],
    timeout: float | None,
) -> np.ndarray:
    """Run ``func(*args)`` in this process with a timeout, warnings recorded and the result checked."""
    arr, _ = check_result(run_guarded(func, args, timeout), expect_shape, label, definition_frame(func))
    return arr
