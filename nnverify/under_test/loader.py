"""Loading a user's function from ``path/to/file.py:name`` or ``package.module:name``.

``name`` may be a function, a class (``file.py:Net``) or a class's method
(``file.py:Net.predict``); see :mod:`.adapters` for how nnverify calls each. By default the
module is imported by a worker process (:mod:`.isolation`), never by nnverify's own process. A
file that cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with one
line naming the file and the user's line).
"""

from __future__ import annotations

from typing import Any

from nnverify.under_test.calls import DEFAULT_TIMEOUT
from nnverify.under_test.functions import IsolatedFunction, LocalFunction, UserFunction
from nnverify.under_test.importing import ImplementationError, check_file, is_file_target, load_target, split_spec
from nnverify.under_test.isolation import Worker

__all__ = ["ImplementationError", "load_function", "as_user_function"]


def load_function(
    spec: str | None,
    *,
    role: str = "forward",
    timeout: float | None = DEFAULT_TIMEOUT,
    factory: str | None = None,
    isolate: bool = True,
    worker: Worker | None = None,
) -> UserFunction:
    """Load ``path/to/file.py:name`` or ``package.module:name`` (name defaults to ``role``).

    Args:
        spec: the function, class or ``Class.method`` to load (None with a ``factory`` alone).
        role: ``forward``, ``sigmoid`` or ``softmax`` (the default function name).
        timeout: seconds allowed for the import and for each later call (None: no limit).
        factory: ``path/file.py:make``; ``make(network)`` builds the object to call.
        isolate: import and call it in a worker process (default) rather than in this process.
        worker: the worker to use (default: one shared by the whole process).
    """
    for s, default in ((spec, role), (factory, "make")):
        if s is not None:
            target, _ = split_spec(s, default)
            if is_file_target(target):
                check_file(target)
    if spec is None and factory is None:
        raise ImplementationError("no implementation named; give path/to/file.py:forward")
    if not isolate:
        return LocalFunction(load_target(spec, role, timeout, factory), timeout)
    return IsolatedFunction(spec, role, timeout, factory=factory, worker=worker)


def as_user_function(code: Any, *, role: str = "forward", isolate: bool | None = None,
                     timeout: float | None = None) -> UserFunction:
    """The user's code as nnverify calls it: a spec string (isolated by default) or a Python object (in-process).

    Args:
        code: ``"file.py:forward"`` / ``"package.module:Class.method"``, or a function, class or bound
            method (or a :class:`UserFunction` already).
        role: ``forward``, ``sigmoid`` or ``softmax``.
        isolate: run it in a worker process (default: yes for a spec, no for a Python object, which
            cannot be sent to another process).
        timeout: seconds per call (None: no limit; a spec defaults to ``DEFAULT_TIMEOUT``).
    """
    from nnverify.errors import UsageError
    from nnverify.under_test.functions import local_function

    if isinstance(code, UserFunction):
        return code
    if isinstance(code, str):
        return load_function(code, role=role, timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
                             isolate=True if isolate is None else isolate)
    if isolate:
        raise UsageError("isolate=True needs your code by name (\"file.py:forward\"): a Python object cannot be "
                         "sent to the worker process")
    return local_function(code, role=role, timeout=timeout)
