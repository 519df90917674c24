"""Implementations under test: nnverify's own forward pass, or a user's function.

A user's function is named ``path/to/file.py:forward`` or ``package.module:forward`` and
follows the book's contract ``forward(network, x) -> y``: ``network`` is the book's dict
(``W1, b1, W2, b2, ...`` as NumPy arrays, fresh writable copies on every call) and ``x`` one
input ``(n,)`` or a batch ``(N, n)`` in the network's dtype. Single activations follow
``sigmoid(a) -> z`` and ``softmax(a) -> y`` (``a`` one row or a batch of rows).

Loading a user file runs that file's code: that is what the user asked for. Everything the
user's code does wrong is turned into data — a :class:`CallFailure` with the kind of fault
and the user's own frame (file:line) — never a crash of nnverify:

- it raises (``NameError`` from the book's ``identify_function`` typo, anything else);
- it returns something that is not a numeric array, or the wrong shape;
- it returns NaN or an infinity;
- it emits a floating-point warning (overflow, invalid, divide by zero);
- it hangs: it is interrupted after ``timeout`` seconds with ``SIGALRM``, even when it
  swallows the interrupt in ``except BaseException`` loops (see :func:`_deadline`); a late
  return after the deadline still counts as a hang. That works only in the main thread of
  the main interpreter on POSIX; it cannot interrupt a single long call into C that does not
  return to Python (one huge BLAS product, a C extension's loop) until that call returns.
  Elsewhere no timeout is applied.

A file that cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with
one line naming the file and the user's line).
"""

from __future__ import annotations

import dis
import functools
import hashlib
import importlib
import importlib.util
import os
import signal
import sys
import sysconfig
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType, TracebackType
from typing import Any

import numpy as np

from nnverify.errors import UsageError
from nnverify.model import Activation, Network
from nnverify.numeric import activate

__all__ = [
    "ImplementationError",
    "UserFrame",
    "CallFailure",
    "ImplementationFailed",
    "ImplementationHung",
    "UserFunction",
    "ForwardUnderTest",
    "load_function",
    "DEFAULT_TIMEOUT",
]

#: Seconds a user's function may run per call before it is reported as hanging.
DEFAULT_TIMEOUT = 10.0


class ImplementationError(UsageError):
    """A user implementation that cannot be loaded (bad spec, missing file, import failure)."""


@dataclass(frozen=True)
class UserFrame:
    """One frame of the user's own code: where their function failed."""

    file: str
    line: int
    function: str
    code: str

    def __str__(self) -> str:
        code = f": {self.code}" if self.code else ""
        func = f" in {self.function}" if self.function else ""
        return f"{self.file}:{self.line}{func}{code}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function, "code": self.code}


#: Fault kinds, in the words the report uses.
KINDS = ("raised", "timeout", "not-numeric", "wrong-shape", "non-finite", "warning")


@dataclass(frozen=True)
class CallFailure:
    """What went wrong in one call of an implementation under test.

    Args:
        kind: one of ``raised``, ``timeout``, ``not-numeric``, ``wrong-shape``,
            ``non-finite``, ``warning``.
        message: one line, e.g. ``NameError: name 'identify_function' is not defined``.
        function: the spec of the function called, e.g. ``examples/ch03_book.py:forward``.
        frame: the deepest frame of the user's own code involved, when there is one.
    """

    kind: str
    message: str
    function: str
    frame: UserFrame | None = None

    def describe(self) -> str:
        where = f" at {self.frame}" if self.frame else ""
        return f"{self.function} {self.kind}: {self.message}{where}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
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


class _TimedOut(BaseException):
    """Raised by the SIGALRM handler inside the user's code."""


# -- frames ----------------------------------------------------------------------------------

_NOT_USER_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {
        os.path.dirname(os.path.abspath(__file__)),
        os.path.dirname(np.__file__),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
    }
)


def _is_user_file(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return False
    if any(resolved.startswith(d) for d in _NOT_USER_DIRS):
        return False
    return "hypothesis" + os.sep not in resolved


def _display_path(filename: str) -> str:
    """Relative to the working folder when the file lies inside it, else as given (no ``../``)."""
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if rel == ".." or rel.startswith(".." + os.sep) else rel


def user_frame(tb: TracebackType | None) -> UserFrame | None:
    """The deepest frame of ``tb`` that lies in the user's code (not nnverify, NumPy, stdlib)."""
    found = None
    for fs in traceback.extract_tb(tb):
        if _is_user_file(fs.filename):
            found = fs
    if found is None:
        return None
    return UserFrame(_display_path(found.filename), int(found.lineno or 0), found.name,
                     (found.line or "").strip())


def _warning_frame(w: warnings.WarningMessage) -> UserFrame | None:
    if not _is_user_file(w.filename):
        return None
    import linecache

    return UserFrame(_display_path(w.filename), int(w.lineno), "",
                     linecache.getline(w.filename, w.lineno).strip())


def _definition(func: Callable[..., Any]) -> UserFrame | None:
    """Where a user's function is defined (for faults in what it returned, not where it raised)."""
    code = getattr(func, "__code__", None)
    if code is None or not _is_user_file(code.co_filename):
        return None
    import linecache

    return UserFrame(_display_path(code.co_filename), code.co_firstlineno, code.co_name,
                     linecache.getline(code.co_filename, code.co_firstlineno).strip())


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# -- timeouts --------------------------------------------------------------------------------


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


#: After the deadline, the alarm repeats this often (seconds) until the user's code has let go.
_REPEAT = 0.05
_NNVERIFY_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_nnverify_frame(frame: FrameType | None) -> bool:
    return frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_NNVERIFY_DIR)


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
        if _is_user_file(f.f_code.co_filename):
            i = f.f_lasti
            if any(start <= i < end for start, end in _protected_ranges(f.f_code)):
                return True
        f = f.f_back
    return False


@dataclass
class _Clock:
    """Set by :func:`_deadline`: did the deadline pass while the user's code ran?"""

    expired: bool = False


@contextmanager
def _deadline(seconds: float | None) -> Iterator[_Clock]:
    """Raise :class:`_TimedOut` in the running code after ``seconds`` (main thread, POSIX only).

    A user's ``try: ... except BaseException: pass`` inside a loop would swallow one
    exception and carry on. So once the deadline has passed, the alarm repeats every
    ``_REPEAT`` s, and every line the user's code executes raises :class:`_TimedOut` again
    (a trace function on the user's frames): the handler that swallowed the first one raises
    the next one itself, outside its ``try``. Tracing costs nothing before the deadline.
    Neither can interrupt one long call into C; it is stopped when it returns to Python.
    """
    clock = _Clock()
    if not seconds or seconds <= 0 or not _can_alarm():
        yield clock
        return
    expired = False

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        if event == "call":
            return tracer if _is_user_file(frame.f_code.co_filename) else None
        # Raise only where no try of the user's can catch it: CPython switches a trace
        # function off once it raises, so the raise has to be the last one needed.
        if expired and event == "line" and not _catchable(frame):
            raise _TimedOut()
        return tracer

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        nonlocal expired
        if _is_nnverify_frame(frame):
            return  # the user's code has returned; the deadline is being lifted
        expired = clock.expired = True
        f = frame
        while f is not None and not _is_nnverify_frame(f):
            if _is_user_file(f.f_code.co_filename):
                f.f_trace = tracer
                f.f_trace_lines = True
            f = f.f_back
        sys.settrace(tracer)
        raise _TimedOut()

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


# -- loading ---------------------------------------------------------------------------------


def _split_spec(spec: str, default_name: str) -> tuple[str, str]:
    target, sep, name = spec.rpartition(":")
    if not sep or os.sep in name or name.endswith(".py"):
        target, name = spec, default_name
    if not target:
        raise ImplementationError(
            f"implementation {spec!r} names no file or module; give path/to/file.py:{default_name} "
            f"or package.module:{default_name}"
        )
    if not name.isidentifier():
        raise ImplementationError(
            f"implementation {spec!r}: {name!r} is not a Python function name; give "
            f"FILE.py:{default_name}"
        )
    return target, name


def _load_file(path: str, timeout: float | None) -> Any:
    p = Path(path)
    if not p.exists():
        raise ImplementationError(f"{path}: no such file (from --impl); give path/to/file.py:function")
    if p.is_dir():
        raise ImplementationError(f"{path}: is a folder; give a .py file, e.g. {path}/forward.py:forward")
    digest = hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:10]
    mod_name = f"_nnverify_user_{p.stem if p.stem.isidentifier() else 'module'}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, str(p))
    if spec is None or spec.loader is None:
        raise ImplementationError(f"{path}: cannot be loaded as Python source; give a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    # The book's files import their neighbours (``from common.functions import ...``).
    folder = str(p.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        with redirect_stdout(sys.stderr), _deadline(timeout):
            spec.loader.exec_module(module)
    except (_TimedOut, Exception, SystemExit) as exc:
        sys.modules.pop(mod_name, None)
        what = f"did not finish importing within {timeout:g} s" if isinstance(exc, _TimedOut) \
            else f"raised {_one_line(exc)}"
        frame = user_frame(exc.__traceback__)
        if isinstance(exc, SyntaxError) and exc.lineno:
            frame = UserFrame(path, exc.lineno, "<module>", (exc.text or "").strip())
        where = f" at {frame}" if frame else ""
        raise ImplementationError(f"{path}: cannot be imported: {what}{where}") from None
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    return module


def _load_module(name: str, timeout: float | None) -> Any:
    try:
        with redirect_stdout(sys.stderr), _deadline(timeout):
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ImplementationError(
            f"module {name!r} cannot be imported ({_one_line(exc)}); give path/to/file.py:function "
            "or an importable package.module:function"
        ) from None
    except (_TimedOut, Exception, SystemExit) as exc:
        what = "did not finish importing" if isinstance(exc, _TimedOut) else f"raised {_one_line(exc)}"
        frame = user_frame(exc.__traceback__)
        where = f" at {frame}" if frame else ""
        raise ImplementationError(f"module {name!r}: cannot be imported: {what}{where}") from None


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
    def fail(kind: str, message: str, frame: UserFrame | None = None) -> ImplementationFailed:
        return ImplementationFailed(CallFailure(kind, message, label, frame or _definition(func)))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # The user's print() goes to stderr: stdout belongs to nnverify (--json).
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"), \
                    redirect_stdout(sys.stderr), _deadline(timeout) as clock:
                result = func(*args)
        except _TimedOut as exc:
            raise ImplementationHung(CallFailure(
                "timeout", f"did not return within {timeout:g} s (--impl-timeout)", label,
                user_frame(exc.__traceback__))) from None
        except Exception as exc:
            raise fail("raised", _one_line(exc), user_frame(exc.__traceback__)) from None
        if clock.expired:  # it caught the interrupt and returned late: still too late
            raise ImplementationHung(CallFailure(
                "timeout", f"did not return within {timeout:g} s (--impl-timeout); it caught the "
                "interrupt and returned later", label, _definition(func)))
    fp_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if fp_warnings:
        w = fp_warnings[0]
        raise fail("warning", f"{w.category.__name__}: {w.message}", _warning_frame(w))
    try:
        arr = np.asarray(result)
    except Exception as exc:
        raise fail("not-numeric", f"returned {type(result).__name__} that is not an array ({exc})") from None
    if arr.dtype.kind in "iub":
        raise fail("not-numeric", f"returned an array of dtype {arr.dtype}; expected floats")
    if arr.dtype.kind != "f":
        shown = repr(result) if len(repr(result)) <= 40 else repr(result)[:37] + "..."
        raise fail("not-numeric", f"returned a {type(result).__name__} ({shown}); expected an array of floats")
    if arr.shape != expect_shape:
        raise fail("wrong-shape", f"returned shape {arr.shape}; expected {expect_shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise fail("non-finite", f"returned {arr[idx]!r} at index {list(idx)}; outputs must be finite")
    return arr


def load_function(spec: str, *, role: str = "forward", timeout: float | None = DEFAULT_TIMEOUT) -> UserFunction:
    """Load ``path/to/file.py:name`` or ``package.module:name`` (name defaults to ``role``).

    Args:
        spec: the function to load.
        role: ``forward``, ``sigmoid`` or ``softmax`` (the default function name).
        timeout: seconds allowed for the import and for each later call.
    """
    target, name = _split_spec(spec, role)
    is_file = target.endswith(".py") or os.sep in target or Path(target).is_file()
    module = _load_file(target, timeout) if is_file else _load_module(target, timeout)
    where = target if is_file else f"module {target!r}"
    if not hasattr(module, name):
        defined = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        hint = f" (it defines {', '.join(defined[:8])})" if defined else ""
        raise ImplementationError(f"{where}: has no function {name!r}{hint}; give {target}:NAME")
    func = getattr(module, name)
    if not callable(func):
        raise ImplementationError(f"{where}: {name!r} is a {type(func).__name__}, not a function")
    return UserFunction(spec, role, func, timeout)


# -- the forward pass under test -------------------------------------------------------------


class ForwardUnderTest:
    """The forward pass the property suite checks.

    Args:
        forward: a user's ``forward(network_dict, x)``, or None for nnverify's own.
        sigmoid: a user's ``sigmoid(a)`` used for every sigmoid layer of nnverify's forward.
        softmax: a user's ``softmax(a)`` used for a softmax output layer of nnverify's forward.

    With a user ``forward``, the ``sigmoid``/``softmax`` functions are tested on their own only.
    """

    def __init__(
        self,
        forward: UserFunction | None = None,
        *,
        sigmoid: UserFunction | None = None,
        softmax: UserFunction | None = None,
    ) -> None:
        self.user_forward = forward
        self.sigmoid = sigmoid
        self.softmax = softmax

    @property
    def label(self) -> str:
        if self.user_forward is not None:
            return self.user_forward.spec
        swaps = [f.spec for f in (self.sigmoid, self.softmax) if f is not None]
        return "nnverify forward" + (f" with {', '.join(swaps)}" if swaps else "")

    @property
    def exposes_a(self) -> bool:
        """True when ``a^{(L)}`` is visible (nnverify's forward; the book's contract returns only y)."""
        return self.user_forward is None

    def run_sigmoid(self, a: np.ndarray) -> np.ndarray:
        """The sigmoid under test on ``a`` (user's, else nnverify's), checked like any call."""
        if self.sigmoid is not None:
            return self.sigmoid.call(a.copy(), expect_shape=a.shape)
        return guarded_call(activate, (Activation.SIGMOID, a), "nnverify sigmoid", a.shape, None)

    def run_softmax(self, a: np.ndarray) -> np.ndarray:
        """The softmax under test on ``a`` (user's, else nnverify's)."""
        if self.softmax is not None:
            return self.softmax.call(a.copy(), expect_shape=a.shape)
        return guarded_call(activate, (Activation.SOFTMAX, a), "nnverify softmax", a.shape, None)

    def run_layers(self, network: Network, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """nnverify's forward (with any user activations swapped in): every ``a`` and ``z``."""
        z = np.asarray(x, dtype=network.dtype)
        a_list, z_list = [], []
        for layer in network.layers:
            a = z @ layer.W + layer.b
            if layer.activation is Activation.SIGMOID and self.sigmoid is not None:
                z = self.run_sigmoid(a)
            elif layer.activation is Activation.SOFTMAX and self.softmax is not None:
                z = self.run_softmax(a)
            else:
                z = guarded_call(activate, (layer.activation, a), "nnverify forward", a.shape, None)
            a_list.append(a)
            z_list.append(z)
        return a_list, z_list

    def run(self, network: Network, x: np.ndarray) -> np.ndarray:
        """``y`` for one input ``(n,)`` or a batch ``(N, n)``; shape ``(k,)`` or ``(N, k)``."""
        x = np.asarray(x, dtype=network.dtype)
        expect = x.shape[:-1] + (network.n_outputs,)
        if self.user_forward is None:
            return self.run_layers(network, x)[1][-1]
        return self.user_forward.call(network.to_book_dict(), x.copy(), expect_shape=expect)
