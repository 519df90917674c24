"""Implementations under test: nnverify's own forward pass, or a user's function.

A user's function is named ``path/to/file.py:forward`` or ``package.module:forward`` and
follows the book's contract ``forward(network, x) -> y``: ``network`` is the book's dict
(``W1, b1, W2, b2, ...`` as NumPy arrays, fresh writable copies on every call) and ``x`` one
input ``(n,)`` or a batch ``(N, n)`` in the network's dtype. Single activations follow
``sigmoid(a) -> z`` and ``softmax(a) -> y`` (``a`` one row or a batch of rows). Classes,
methods and factories plug in too (:mod:`.adapters`).

The user's code runs in a worker process of its own (:mod:`.isolation`, :mod:`.worker`);
nnverify's process, which alone computes exact values, bounds and verdicts, never imports it.
Everything the user's code does wrong is turned into data — a :class:`CallFailure` with the
kind of fault and the user's own frame (file:line), sent back across the process boundary —
never a crash of nnverify:

- it raises (``NameError`` from the book's ``identify_function`` typo, anything else), or calls
  ``sys.exit``;
- it returns something that is not a numeric array, or the wrong shape;
- it returns NaN or an infinity;
- it emits a floating-point warning (overflow, invalid, divide by zero);
- it hangs: the worker's own ``SIGALRM`` stops it after ``timeout`` seconds and reports the
  user's line (even code that swallows the interrupt, see :func:`.sandbox.deadline`); code that
  blocks or ignores the alarm, or sits in one long call into C, is ended ``GRACE`` seconds later
  by killing the worker's process group;
- it ends or breaks the worker: ``os._exit``, a fork, a signal, a closed pipe
  (:class:`ImplementationCrashed`, with the call it happened in).

A file that cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with
one line naming the file and the user's line). ``isolate=False`` runs the same code in-process
(see :mod:`.functions` for the trade-off).

Modules: :mod:`.loader` (``load_function``), :mod:`.importing` (spec parsing, import),
:mod:`.adapters` (functions, classes, factories), :mod:`.functions` (isolated and in-process
functions), :mod:`.isolation` and :mod:`.worker` (the two ends of the pipe), :mod:`.protocol`
(the messages), :mod:`.sandbox` (the deadline), :mod:`.frames` (the user's own file:line),
:mod:`.calls` (one guarded call, the result checks), :mod:`.forward` (the forward pass under test).
"""

from nnverify.under_test.calls import (
    DEFAULT_TIMEOUT,
    CallFailure,
    ImplementationCrashed,
    ImplementationFailed,
    ImplementationHung,
    guarded_call,
)
from nnverify.under_test.forward import ForwardUnderTest
from nnverify.under_test.frames import UserFrame, user_frame
from nnverify.under_test.functions import IsolatedFunction, LocalFunction, UserFunction, local_function
from nnverify.under_test.isolation import Worker
from nnverify.under_test.loader import ImplementationError, load_function

__all__ = [
    "DEFAULT_TIMEOUT",
    "CallFailure",
    "ForwardUnderTest",
    "ImplementationCrashed",
    "ImplementationError",
    "ImplementationFailed",
    "ImplementationHung",
    "IsolatedFunction",
    "LocalFunction",
    "UserFrame",
    "UserFunction",
    "Worker",
    "guarded_call",
    "load_function",
    "local_function",
    "user_frame",
]
