"""Loading a user's function from ``path/to/file.py:name`` or ``package.module:name``.

Loading a user file runs that file's code: that is what the user asked for. A file that
cannot even be imported raises :class:`ImplementationError` (the CLI exits 2 with one line
naming the file and the user's line).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from nnverify.errors import UsageError
from nnverify.under_test.calls import DEFAULT_TIMEOUT, UserFunction
from nnverify.under_test.frames import UserFrame, one_line, user_frame
from nnverify.under_test.sandbox import TimedOut, deadline

__all__ = ["ImplementationError", "load_function"]


class ImplementationError(UsageError):
    """A user implementation that cannot be loaded (bad spec, missing file, import failure)."""



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
        with redirect_stdout(sys.stderr), deadline(timeout):
            spec.loader.exec_module(module)
    except (TimedOut, Exception, SystemExit) as exc:
        sys.modules.pop(mod_name, None)
        what = f"did not finish importing within {timeout:g} s" if isinstance(exc, TimedOut) \
            else f"raised {one_line(exc)}"
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
        with redirect_stdout(sys.stderr), deadline(timeout):
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ImplementationError(
            f"module {name!r} cannot be imported ({one_line(exc)}); give path/to/file.py:function "
            "or an importable package.module:function"
        ) from None
    except (TimedOut, Exception, SystemExit) as exc:
        what = "did not finish importing" if isinstance(exc, TimedOut) else f"raised {one_line(exc)}"
        frame = user_frame(exc.__traceback__)
        where = f" at {frame}" if frame else ""
        raise ImplementationError(f"module {name!r}: cannot be imported: {what}{where}") from None



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

