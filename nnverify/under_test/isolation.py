"""The parent's side of the worker process: start it, send it calls, and end it when it misbehaves.

One :class:`Worker` runs the user's code for a whole run (``--impl``, ``--impl-sigmoid`` and
``--impl-softmax`` share it). nnverify's process never imports the user's code. The deadline is
enforced here, by killing the worker's whole process group (it runs in a session of its own),
so a long call into C, blocked or ignored ``SIGALRM``, non-daemon threads and forks all end. A
worker that exits, is killed, forks, closes its pipe or sends something that is not a message
is the implementation's failure (:class:`ImplementationCrashed`), with the call it happened in;
the next call starts a new worker and imports the user's module again.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnverify.model import Network, network_cache
from nnverify.status import FaultKind
from nnverify.under_test.calls import CallFailure, ImplementationCrashed, ImplementationHung, Outcome
from nnverify.under_test.frames import UserFrame
from nnverify.under_test.importing import ImplementationError
from nnverify.under_test.protocol import PipeClosed, ProtocolError, clean_text, forget, recv, send

__all__ = ["Worker", "default_worker", "network_token", "GRACE", "START_TIMEOUT"]

#: Seconds past the deadline the worker's own alarm gets to stop the user's code (and report
#: the user's line) before the parent kills the process group.
GRACE = 1.0
#: Seconds a new worker may take to start (a Python with NumPy).
START_TIMEOUT = 60.0
#: Networks the worker keeps (the parent tells it which to drop).
_KEEP_NETWORKS = 16

_tokens = itertools.count(1)
_BOOT = "import sys; from nnverify.under_test.worker import main; main(int(sys.argv[1]), int(sys.argv[2]))"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def network_token(network: Network) -> int:
    """A number naming ``network`` for as long as it lives (the worker caches its arrays by it)."""
    cache = network_cache(network, "worker")
    if "token" not in cache:
        cache["token"] = next(_tokens)
    return int(cache["token"])


@dataclass(frozen=True)
class Loaded:
    """What the worker said about a function it loaded."""

    takes_network: bool
    how: str
    definition: UserFrame | None


def _frame(doc: Any) -> UserFrame | None:
    if not isinstance(doc, dict):
        return None
    line = doc.get("line")
    return UserFrame(clean_text(doc.get("file", ""), 300), line if isinstance(line, int) else 0,
                     clean_text(doc.get("function", ""), 100), clean_text(doc.get("code", ""), 200))


def _outcome(doc: Any) -> Outcome:
    """An answer of the worker as an :class:`Outcome`, every field checked (it is the user's process)."""
    if not isinstance(doc, dict):
        raise ProtocolError("an answer is not an object")
    if doc.get("ok") is True:
        y = doc.get("y")
        if not isinstance(y, np.ndarray):
            raise ProtocolError("an answer has no array")
        warning = doc.get("warning")
        return Outcome(value=y, warning=None if warning is None else clean_text(warning),
                       warning_frame=_frame(doc.get("warning_frame")))
    try:
        kind = FaultKind(doc.get("kind"))
    except ValueError:
        raise ProtocolError("an answer names no known fault") from None
    return Outcome(kind=kind, message=clean_text(doc.get("message", "")), frame=_frame(doc.get("frame")))


class Worker:
    """A worker process for the user's code, started on first use and again after it dies.

    Args:
        start_timeout: seconds a new worker may take to start.
    """

    def __init__(self, *, start_timeout: float = START_TIMEOUT) -> None:
        self.start_timeout = start_timeout
        self.incarnation = 0  # bumped on every start: functions loaded earlier must load again
        self._proc: subprocess.Popen[bytes] | None = None
        self._r = self._w = -1
        self._networks: OrderedDict[int, None] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- life ------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _start(self) -> None:
        r_child, w_parent = os.pipe()
        r_parent, w_child = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(r_child), str(w_child)], pass_fds=(r_child, w_child),
                stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        except OSError as exc:
            for fd in (r_child, w_parent, r_parent, w_child):
                os.close(fd)
            raise ImplementationError(f"cannot start the worker process for your code: {exc}") from None
        os.close(r_child)
        os.close(w_child)
        self._proc, self._r, self._w = proc, r_parent, w_parent
        self._networks.clear()
        self.incarnation += 1
        try:
            hello = recv(self._r, time.monotonic() + self.start_timeout)
            send(self._w, {"op": "init", "path": list(sys.path)}, time.monotonic() + self.start_timeout)
            recv(self._r, time.monotonic() + self.start_timeout)
        except (PipeClosed, ProtocolError) as exc:
            self.kill()
            raise ImplementationError(f"the worker process for your code did not start ({exc})") from None
        if not isinstance(hello, dict) or hello.get("op") != "hello":
            self.kill()
            raise ImplementationError("the worker process for your code did not start (no hello)")

    def _ensure(self) -> None:
        if not self.alive:
            self.kill()
            self._start()

    def kill(self) -> None:
        """End the worker and everything it started (its whole process group)."""
        proc, self._proc = self._proc, None
        for fd in (self._r, self._w):
            if fd >= 0:
                forget(fd)
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._r = self._w = -1
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not take this long
            pass

    def close(self) -> None:
        """Stop the worker (its process group too: forks and threads of the user's end with it)."""
        with self._lock:
            self.kill()

    # -- requests --------------------------------------------------------------------
    def _exchange(self, doc: Any, deadline: float | None) -> Any:
        send(self._w, doc, deadline)
        return recv(self._r, deadline)

    def load(self, spec: str | None, role: str, timeout: float | None, factory: str | None) -> tuple[int, Loaded]:
        """Import the spec in the worker; ``(id, what it said)``, or :class:`ImplementationError`."""
        with self._lock:
            self._ensure()
            fid = next(self._ids)
            deadline = None if timeout is None else time.monotonic() + 2 * timeout + GRACE
            req = {"op": "load", "id": fid, "spec": spec, "role": role, "timeout": timeout, "factory": factory,
                   "path": list(sys.path), "cwd": os.getcwd()}  # as they are now (pytest and users change them)
            try:
                doc = self._exchange(req, deadline)
            except (PipeClosed, ProtocolError) as exc:
                status = self._ended_how()
                self.kill()
                what = spec or factory
                if isinstance(exc, PipeClosed) and exc.timed_out:
                    raise ImplementationError(f"{what}: cannot be imported: did not finish importing within "
                                              f"{timeout:g} s") from None
                raise ImplementationError(f"{what}: cannot be imported: the worker process {status} while "
                                          "importing it") from None
            if not isinstance(doc, dict) or doc.get("ok") is not True:
                error = doc.get("error") if isinstance(doc, dict) else None
                raise ImplementationError(clean_text(error or "the worker could not load it", 2000))
            return fid, Loaded(doc.get("takes_network") is not False, clean_text(doc.get("how", ""), 300),
                               _frame(doc.get("definition")))

    def _network_token(self, network: Network, new: dict[str, Any], dropped: list[int]) -> int:
        """The token of ``network``; its arrays go into ``new`` when the worker does not have them yet."""
        token = network_token(network)
        if token in self._networks:
            self._networks.move_to_end(token)
            return token
        arrays = {}
        for l, layer in enumerate(network.layers, start=1):
            arrays[f"W{l}"], arrays[f"b{l}"] = layer.W, layer.b
        new[str(token)] = arrays
        self._networks[token] = None
        while len(self._networks) > _KEEP_NETWORKS:
            dropped.append(self._networks.popitem(last=False)[0])
        return token

    def _ended_how(self) -> str:
        """How the worker ended: "exited with status 0", "was killed by signal SIGSEGV", ..."""
        proc = self._proc
        if proc is None:
            return "ended"
        try:
            rc = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "closed its pipe to nnverify"
        if rc < 0:
            try:
                return f"was killed by signal {signal.Signals(-rc).name}"
            except ValueError:
                return f"was killed by signal {-rc}"
        return f"exited with status {rc}"

    def call(self, fid: int, label: str, calls: Sequence[tuple[Network | None, tuple[np.ndarray, ...]]],
             timeout: float | None, first_call: int) -> list[Outcome]:
        """Run ``calls`` of function ``fid`` in one exchange; the outcomes up to the first fault.

        Raises :class:`ImplementationHung` after the deadline (``timeout`` per call, plus
        :data:`GRACE`) and :class:`ImplementationCrashed` when the worker dies, forks or breaks
        the protocol; either way the worker is killed, with its process group.
        """
        with self._lock:
            deadline = None if timeout is None else time.monotonic() + len(calls) * timeout + GRACE
            n = first_call
            new: dict[str, Any] = {}
            dropped: list[int] = []
            reqs = []
            for network, args in calls:  # new networks travel with the calls: one exchange in all
                token = None if network is None else self._network_token(network, new, dropped)
                reqs.append({"id": fid, "network": token, "args": list(args)})
            try:
                doc = self._exchange({"op": "call", "calls": reqs, "networks": new, "forget": dropped,
                                      "cwd": os.getcwd()}, deadline)
                answers = doc.get("answers") if isinstance(doc, dict) else None
                if not isinstance(answers, list) or not 1 <= len(answers) <= len(calls):
                    raise ProtocolError("the reply does not answer the calls")
                outcomes = [_outcome(a) for a in answers]
            except PipeClosed as exc:
                if exc.timed_out:
                    self.kill()
                    raise ImplementationHung(CallFailure(
                        FaultKind.TIMEOUT, f"did not return within {timeout:g} s (--impl-timeout); stopped by "
                        f"ending its process (call {n})", label)) from None
                status = self._ended_how()
                self.kill()
                kind = FaultKind.EXITED if status.startswith("exited") else FaultKind.CRASHED
                raise ImplementationCrashed(CallFailure(kind, f"{status} during call {n}", label)) from None
            except ProtocolError as exc:
                self.kill()
                raise ImplementationCrashed(CallFailure(
                    FaultKind.CRASHED, f"sent nnverify a malformed reply during call {n} ({exc})", label)) from None
            last = outcomes[-1]
            if last.kind is FaultKind.FORKED:
                self.kill()  # the fork may still run: end the whole group
                raise ImplementationCrashed(CallFailure(
                    FaultKind.FORKED, f"{last.message} (call {n + len(outcomes) - 1})", label, last.frame))
            return outcomes


_default: Worker | None = None
_default_lock = threading.Lock()


def default_worker() -> Worker:
    """The process-wide worker (started on first use, stopped when Python exits)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Worker()
            atexit.register(_default.close)
        return _default
