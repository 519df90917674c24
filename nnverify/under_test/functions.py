"""A user's function as nnverify calls it: in the worker process (isolated), or in this process.

Both kinds answer :meth:`UserFunction.calls` with checked float arrays and raise
:class:`ImplementationFailed` / :class:`ImplementationHung` / :class:`ImplementationCrashed`.

**Isolated** (the default of :func:`.loader.load_function` and of the command line): the
user's module is imported by a worker process; a ``sys.exit``, ``os._exit``, fork, patched
nnverify, blocked ``SIGALRM``, closed stdout or stray thread cannot touch nnverify's verdicts or
exit code, and a hang is ended by killing the worker. Each call costs a round trip through a
pipe (arrays as raw bytes; see ``benchmarks/bench_properties.py``).

**In-process** (``isolate=False``, and :mod:`nnverify.testing` when it is given a Python
function): no process, no copying through pipes, and your debugger and breakpoints work;
but the user's code runs inside the process that computes the verdicts, and the timeout is
``SIGALRM`` (main thread on POSIX only; a long call into C is stopped only when it returns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnverify.model import Network
from nnverify.status import FaultKind
from nnverify.under_test.adapters import Target, resolve_target
from nnverify.under_test.calls import (
    DEFAULT_TIMEOUT,
    CallFailure,
    ImplementationCrashed,
    ImplementationFailed,
    ImplementationHung,
    Outcome,
    check_result,
    run_guarded,
)
from nnverify.under_test.frames import UserFrame, definition_frame
from nnverify.under_test.importing import ImplementationError
from nnverify.under_test.isolation import Worker, default_worker, network_token

__all__ = ["UserFunction", "LocalFunction", "IsolatedFunction", "Call", "local_function"]

#: One call: the network (None for an activation), the arguments, and the shape expected back.
Call = tuple[Network | None, tuple[np.ndarray, ...], tuple[int, ...]]


def _master(network: Network) -> dict[str, np.ndarray]:
    """The network's arrays by the book's names (read-only; the adapters hand out copies)."""
    out: dict[str, np.ndarray] = {}
    for l, layer in enumerate(network.layers, start=1):
        out[f"W{l}"], out[f"b{l}"] = layer.W, layer.b
    return out


class UserFunction:
    """A function of the user's under test (loaded by :func:`.loader.load_function`).

    Attributes:
        spec: what the user gave, e.g. ``examples/ch03_book.py:forward``.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        timeout: seconds per call before it counts as hanging (None: no limit).
        takes_network: False for a ``predict(x)`` that computes weights of its own.
        how: one line, how nnverify calls it ("called as forward(network, x)").
        definition: where it is defined (the frame of faults in what it returned).
        notes: things worth telling the user once (a ``(1, k)`` result taken as ``(k,)``).
    """

    isolated = False

    def __init__(self, spec: str, role: str, timeout: float | None, *, takes_network: bool = True,
                 how: str = "", definition: UserFrame | None = None) -> None:
        self.spec, self.role, self.timeout = spec, role, timeout
        self.takes_network, self.how, self.definition = takes_network, how, definition
        self.notes: dict[str, None] = {}
        self.n_calls = 0

    def _outcomes(self, calls: Sequence[Call]) -> list[Outcome]:
        raise NotImplementedError

    def calls(self, calls: Sequence[Call]) -> list[np.ndarray]:
        """Run ``calls`` (as one batch where it can) and return each checked result."""
        outcomes = self._outcomes(calls)
        results = []
        for i, ((_, _, shape), out) in enumerate(zip(calls, outcomes)):
            try:
                arr, note = check_result(out, shape, self.spec, self.definition)
            except (ImplementationFailed, ImplementationHung) as exc:
                exc.index = i  # which call of the batch
                raise
            if note is not None:
                self.notes.setdefault(note)
            results.append(arr)
        return results

    def call(self, *args: np.ndarray, expect_shape: tuple[int, ...]) -> np.ndarray:
        """Call an activation ``f(a)`` once."""
        return self.calls([(None, args, expect_shape)])[0]

    def call_forward(self, network: Network, x: np.ndarray, expect_shape: tuple[int, ...]) -> np.ndarray:
        """Call a forward pass once on ``network`` and ``x``."""
        return self.calls([(network, (x,), expect_shape)])[0]

    def close(self) -> None:
        """Release what the function holds (nothing, in-process)."""


class LocalFunction(UserFunction):
    """A user's function called in this process (see the module's notes on the trade-off)."""

    def __init__(self, target: Target, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        definition = definition_frame(target.code) if target.code is not None else None
        super().__init__(target.label, target.role, timeout, takes_network=target.takes_network, how=target.how,
                         definition=definition)
        self.target = target

    def _outcomes(self, calls: Sequence[Call]) -> list[Outcome]:
        outs = []
        for network, args, _ in calls:
            self.n_calls += 1
            net = None if network is None else _master(network)
            key = None if network is None else network_token(network)
            out = run_guarded(self.target.call, (net, key, *(a.copy() for a in args)), self.timeout,
                              code=self.target.code)
            outs.append(out)
            if out.kind is not None:
                break
        return outs


class IsolatedFunction(UserFunction):
    """A user's function called in the worker process (:mod:`.isolation`)."""

    isolated = True

    def __init__(self, spec: str | None, role: str, timeout: float | None, *, factory: str | None = None,
                 worker: Worker | None = None) -> None:
        super().__init__(spec or factory or "", role, timeout)
        self.worker = worker if worker is not None else default_worker()
        self._source = (spec, factory)
        self._fid = 0
        self._incarnation = -1
        self._load()

    def _load(self) -> None:
        spec, factory = self._source
        self._fid, info = self.worker.load(spec, self.role, self.timeout, factory)
        self._incarnation = self.worker.incarnation
        self.takes_network, self.how, self.definition = info.takes_network, info.how, info.definition

    def _outcomes(self, calls: Sequence[Call]) -> list[Outcome]:
        with self.worker._lock:
            if self._incarnation != self.worker.incarnation or not self.worker.alive:
                try:
                    self._load()  # the worker was restarted (after a hang or crash): import again
                except ImplementationError as exc:
                    raise ImplementationCrashed(CallFailure(
                        FaultKind.CRASHED, f"could not be imported again in a new worker: {exc}", self.spec)) from None
            first = self.n_calls + 1
            self.n_calls += len(calls)
            outs = self.worker.call(self._fid, self.spec, [(net, args) for net, args, _ in calls], self.timeout,
                                    first)
        self.n_calls = first - 1 + len(outs)
        return outs


def local_function(obj: Callable[..., Any], *, role: str = "forward", label: str | None = None,
                   timeout: float | None = None) -> LocalFunction:
    """A Python object of the user's (function, class, bound method) as an in-process :class:`UserFunction`.

    Args:
        obj: the function, class or bound method to test.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        label: how it is named in reports (default: its qualified name).
        timeout: seconds per call (``SIGALRM``, main thread only; None: no limit).
    """
    from nnverify.under_test.adapters import ProtocolMismatch

    name = label or getattr(obj, "__qualname__", None) or type(obj).__name__
    try:
        return LocalFunction(resolve_target(obj, name, role), timeout)
    except ProtocolMismatch as exc:
        raise ImplementationError(str(exc)) from None
