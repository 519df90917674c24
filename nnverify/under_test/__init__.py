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
  swallows the interrupt in ``except BaseException`` loops (see :func:`.sandbox.deadline`); a late
  return after the deadline still counts as a hang. That works only in the main thread of
  the main interpreter on POSIX; it cannot interrupt a single long call into C that does not
  return to Python (one huge BLAS product, a C extension's loop) until that call returns.
  Elsewhere no timeout is applied.

A file that cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with
one line naming the file and the user's line).

Modules: :mod:`.loader` (spec parsing, import), :mod:`.sandbox` (the deadline), :mod:`.frames`
(the user's own file:line), :mod:`.calls` (one guarded call), :mod:`.forward` (the forward pass
under test).
"""

from nnverify.under_test.calls import (
    DEFAULT_TIMEOUT,
    CallFailure,
    ImplementationFailed,
    ImplementationHung,
    UserFunction,
    guarded_call,
)
from nnverify.under_test.forward import ForwardUnderTest
from nnverify.under_test.frames import UserFrame, user_frame
from nnverify.under_test.loader import ImplementationError, load_function

__all__ = [
    "DEFAULT_TIMEOUT",
    "CallFailure",
    "ForwardUnderTest",
    "ImplementationError",
    "ImplementationFailed",
    "ImplementationHung",
    "UserFrame",
    "UserFunction",
    "guarded_call",
    "load_function",
    "user_frame",
]
