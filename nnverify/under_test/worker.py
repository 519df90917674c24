"""The worker process: it imports the user's module and answers calls over a pipe.

Started by :class:`.isolation.Worker` as ``python -c ... READ_FD WRITE_FD`` in a session of its
own. nnverify's process never imports the user's code; whatever the user's code does here —
exit, fork, patch nnverify, block signals, close file descriptors, start threads — it can at
worst break this process, which the parent then reports as the implementation's failure.

Requests (see :mod:`.protocol`): ``init`` (the parent's ``sys.path``), ``load`` (a spec, its
role, timeout and factory) and ``call`` (a batch of calls, answered together, with the arrays of
networks the worker has not seen yet under their tokens and the tokens it may drop; the first
fault ends the batch). Everything printed goes to stderr: file descriptor 1 is made a copy of 2 first.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nnverify.under_test.adapters import Target

__all__ = ["main"]


def _frame(frame: Any) -> dict[str, Any] | None:
    return frame.to_json() if frame is not None else None


class _Forks:
    """Set by ``os.register_at_fork``: did the user's code fork while it ran?"""

    forked = False


def _children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)  # reaps one that ended; raises when there are none at all
    except ChildProcessError:
        return False
    return True


def _follow(cwd: object) -> None:
    """Work in the parent's folder (relative paths in the user's code and in messages)."""
    if isinstance(cwd, str):
        try:
            if os.getcwd() != cwd:
                os.chdir(cwd)
        except OSError:
            pass


def _set_path(path: object) -> None:
    if isinstance(path, list):
        sys.path[:] = [p for p in path if isinstance(p, str)]


class _Server:
    """The worker's state: the loaded targets and the networks the parent has sent, by token."""

    def __init__(self, wfd: int) -> None:
        self.wfd = wfd
        self.pid = os.getpid()
        self.targets: dict[int, tuple[Target, float | None]] = {}
        self.networks: dict[int, dict[str, np.ndarray]] = {}

    def reply(self, doc: Any) -> None:
        if os.getpid() != self.pid:  # a fork of the user's that came back here: it must not answer
            os._exit(0)
        from nnverify.under_test.protocol import send

        send(self.wfd, doc)

    def load(self, req: dict[str, Any]) -> None:
        from nnverify.under_test.frames import definition_frame
        from nnverify.under_test.importing import ImplementationError, load_target

        _set_path(req.get("path"))
        try:
            t = load_target(req.get("spec"), req["role"], req.get("timeout"), req.get("factory"), reuse=True)
        except ImplementationError as exc:
            self.reply({"ok": False, "error": str(exc)})
            return
        self.targets[req["id"]] = (t, req.get("timeout"))
        self.reply({"ok": True, "takes_network": t.takes_network, "how": t.how,
                    "definition": _frame(definition_frame(t.code) if t.code is not None else None)})

    def call(self, req: dict[str, Any]) -> None:
        for token in req.get("forget", ()):
            self.networks.pop(token, None)
        for token, arrays in req.get("networks", {}).items():
            for v in arrays.values():
                v.setflags(write=False)
            self.networks[int(token)] = arrays
        answers = []
        for c in req["calls"]:
            answer = self._one(c)
            answers.append(answer)
            if not answer["ok"]:  # the first fault ends the batch
                break
        self.reply({"answers": answers})

    def _one(self, c: dict[str, Any]) -> dict[str, Any]:
        from nnverify.under_test.calls import run_guarded

        target, timeout = self.targets[c["id"]]
        token = c.get("network")
        net = self.networks[token] if token is not None else None
        _Forks.forked = False
        out = run_guarded(target.call, (net, token, *c["args"]), timeout, code=target.code, redirect=False)
        if os.getpid() != self.pid:
            os._exit(0)
        if _Forks.forked or _children_left():
            return {"ok": False, "kind": "forked", "message": "started a child process (os.fork or "
                    "multiprocessing); a forward pass must not fork", "frame": None}
        if out.kind is not None:
            return {"ok": False, "kind": out.kind.value, "message": out.message, "frame": _frame(out.frame)}
        return {"ok": True, "y": out.value, "warning": out.warning, "warning_frame": _frame(out.warning_frame)}


def _serve(rfd: int, wfd: int) -> None:
    from nnverify.under_test.protocol import PipeClosed, ProtocolError, recv_blocking

    server = _Server(wfd)
    server.reply({"op": "hello", "pid": server.pid})
    while True:
        try:
            req = recv_blocking(rfd)
        except (PipeClosed, ProtocolError):
            os._exit(0)
        op = req.get("op")
        _follow(req.get("cwd"))
        if op == "init":
            _set_path(req.get("path"))
            server.reply({"ok": True})
        elif op == "load":
            server.load(req)
        elif op == "call":
            server.call(req)
        else:
            server.reply({"ok": False, "error": f"unknown request {op!r}"})


def main(rfd: int, wfd: int) -> None:
    """Serve requests on ``rfd``, answer on ``wfd``, until the parent closes the pipe."""
    os.dup2(2, 1)  # the user's print() and C's printf go to stderr; the parent's stdout is its own
    sys.stdout = sys.stderr  # line-buffered: nothing printed is lost when the worker ends with os._exit

    def in_fork_child() -> None:
        for fd in (rfd, wfd):  # a fork of the user's can never speak for the worker
            try:
                os.close(fd)
            except OSError:
                pass

    def in_parent() -> None:
        _Forks.forked = True

    os.register_at_fork(after_in_child=in_fork_child, after_in_parent=in_parent)
    try:
        _serve(rfd, wfd)
    except BaseException as exc:  # noqa: BLE001 - whatever broke, the parent reports the pipe closing
        try:
            os.write(2, f"nnverify worker stopped: {type(exc).__name__}: {exc}\n".encode(errors="replace")[:500])
        except OSError:
            pass
    os._exit(0)  # never atexit hooks or non-daemon threads: the user's code ends with this process


if __name__ == "__main__":  # pragma: no cover - started by isolation.Worker
    main(int(sys.argv[1]), int(sys.argv[2]))
