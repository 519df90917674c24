"""Loading a user's function from ``path/to/file.py:name`` or ``package.module:name``.

``name`` may be a function, a class (``file.py:Net``) or a class's method
(``file.py:Net.predict``); see :mod:`.adapters` for how nnverify calls each. By default the
module is imported by a worker process (:mod:`.isolation`), never by nnverify's own process. A
file that cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with one
line naming the file and the user's line).
"""

from __future__ import annotations

from nnverify.under_test.calls import DEFAULT_TIMEOUT
from nnverify.under_test.functions import IsolatedFunction, LocalFunction, UserFunction
from nnverify.under_test.importing import ImplementationError, check_file, is_file_target, load_target, split_spec
from nnverify.under_test.isolation import Worker

__all__ = ["ImplementationError", "load_function"]


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
