"""Importing the user's module and finding the object a spec names (runs where the user's code runs).

In an isolated run this happens inside the worker process (:mod:`.worker`); nnverify's own
process never imports the user's code. With ``isolate=False`` it happens in-process.
Loading a user file runs that file's code: that is what the user asked for. A file that
cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with one line
naming the file and the user's line).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from nnverify.errors import UsageError
from nnverify.under_test.adapters import ProtocolMismatch, Target, resolve_target
from nnverify.under_test.frames import UserFrame, one_line, user_frame
from nnverify.under_test.sandbox import TimedOut, deadline

__all__ = ["ImplementationError", "split_spec", "is_file_target", "check_file", "import_target", "lookup",
           "load_target"]


class ImplementationError(UsageError):
    """A user implementation that cannot be loaded (bad spec, missing file, import failure)."""


def split_spec(spec: str, default_name: str) -> tuple[str, str]:
    """``("path/file.py", "Net.predict")`` from ``path/file.py:Net.predict`` (the name defaults to the role)."""
    target, sep, name = spec.rpartition(":")
    if not sep or os.sep in name or name.endswith(".py"):
        target, name = spec, default_name
    if not target:
        raise ImplementationError(
            f"implementation {spec!r} names no file or module; give path/to/file.py:{default_name} "
            f"or package.module:{default_name}"
        )
    parts = name.split(".")
    if len(parts) > 2 or not all(p.isidentifier() for p in parts):
        raise ImplementationError(
            f"implementation {spec!r}: {name!r} is not a Python function name; give "
            f"FILE.py:{default_name}, FILE.py:Class or FILE.py:Class.method"
        )
    return target, name


def is_file_target(target: str) -> bool:
    return target.endswith(".py") or os.sep in target or Path(target).is_file()


def check_file(path: str) -> None:
    """Refuse a missing file or a folder before anything is started."""
    p = Path(path)
    if not p.exists():
        raise ImplementationError(f"{path}: no such file (from --impl); give path/to/file.py:function")
    if p.is_dir():
        raise ImplementationError(f"{path}: is a folder; give a .py file, e.g. {path}/forward.py:forward")


def _import_failed(where: str, exc: BaseException, timeout: float | None, path: str | None) -> ImplementationError:
    what = f"did not finish importing within {timeout:g} s" if isinstance(exc, TimedOut) and timeout \
        else f"raised {one_line(exc)}"
    frame = user_frame(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.lineno and path is not None:
        frame = UserFrame(path, exc.lineno, "<module>", (exc.text or "").strip())
    at = f" at {frame}" if frame else ""
    return ImplementationError(f"{where}: cannot be imported: {what}{at}")


#: The file version each reused module was imported from: an edited file is imported again.
_VERSIONS: dict[str, tuple[int, int]] = {}


def _load_file(path: str, timeout: float | None, reuse: bool) -> Any:
    check_file(path)
    p = Path(path)
    digest = hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:10]
    mod_name = f"_nnverify_user_{p.stem if p.stem.isidentifier() else 'module'}_{digest}"
    stat = p.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    if reuse and mod_name in sys.modules and _VERSIONS.get(mod_name) == version:
        return sys.modules[mod_name]
    _VERSIONS[mod_name] = version
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
        with redirect_stdout(sys.stderr), deadline(timeout):
            spec.loader.exec_module(module)
    except (TimedOut, Exception, SystemExit, KeyboardInterrupt) as exc:
        sys.modules.pop(mod_name, None)
        raise _import_failed(path, exc, timeout, path) from None
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    return module


def _load_module(name: str, timeout: float | None) -> Any:
    try:
        with redirect_stdout(sys.stderr), deadline(timeout):
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ImplementationError(
            f"module {name!r} cannot be imported ({one_line(exc)}); give path/to/file.py:function "
            "or an importable package.module:function"
        ) from None
    except (TimedOut, Exception, SystemExit, KeyboardInterrupt) as exc:
        raise _import_failed(f"module {name!r}", exc, timeout, None) from None


def import_target(target: str, timeout: float | None, reuse: bool = False) -> Any:
    """The module of a spec's target (a file path or a module name), imported under ``timeout``.

    A file is executed afresh unless ``reuse`` (one worker imports a file once for all its roles).
    """
    return _load_file(target, timeout, reuse) if is_file_target(target) else _load_module(target, timeout)


def _defined_names(module: Any) -> list[str]:
    """Functions and classes defined in the module itself (not the names it imported)."""
    return sorted(n for n, v in vars(module).items()
                  if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                  and getattr(v, "__module__", None) == module.__name__)


def lookup(module: Any, target: str, name: str) -> tuple[Any, str | None]:
    """``(object, method)`` for ``name`` (``forward``, ``Net`` or ``Net.predict``) in ``module``."""
    where = target if is_file_target(target) else f"module {target!r}"
    head, _, method = name.partition(".")
    if not hasattr(module, head):
        defined = _defined_names(module)
        hint = f" (it defines {', '.join(defined)})" if defined else " (it defines no function or class)"
        raise ImplementationError(f"{where}: has no function {head!r}{hint}; give {target}:NAME")
    obj = getattr(module, head)
    if not callable(obj) and not method:
        raise ImplementationError(f"{where}: {head!r} is a {type(obj).__name__}, not a function")
    return obj, method or None


def load_target(spec: str | None, role: str, timeout: float | None, factory: str | None = None, *,
                reuse: bool = False) -> Target:
    """Import the spec's module and build the :class:`Target` (in the process that will call it).

    Args:
        spec: ``path/file.py:name``, ``path/file.py:Class.method`` or ``package.module:name``; None
            with a ``factory`` alone.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        timeout: seconds allowed for each import.
        factory: ``path/file.py:make``, a function building the object to call from the network.
        reuse: import each file once per process (the worker) instead of afresh.
    """
    make = None
    if factory is not None:
        f_target, f_name = split_spec(factory, "make")
        make, _ = lookup(import_target(f_target, timeout, reuse), f_target, f_name)
        if not callable(make):
            raise ImplementationError(f"{factory}: is a {type(make).__name__}, not a function")
    try:
        if spec is None:
            if make is None:
                raise ImplementationError("no implementation named; give --impl FILE.py:forward")
            return resolve_target(None, factory or "", role, factory=make)
        target, name = split_spec(spec, role)
        obj, method = lookup(import_target(target, timeout, reuse), target, name)
        return resolve_target(obj, spec, role, method=method, factory=make)
    except ProtocolMismatch as exc:
        raise ImplementationError(str(exc)) from None
