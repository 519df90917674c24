"""Where a fault lies in the user's own code: frames outside nnverify, NumPy and the stdlib."""

from __future__ import annotations

import linecache
import os
import sysconfig
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

__all__ = ["UserFrame", "is_user_file", "display_path", "user_frame", "warning_frame", "definition_frame",
           "one_line", "NNVERIFY_DIR"]

#: nnverify's own source folder (frames in it are never the user's).
NNVERIFY_DIR = str(Path(__file__).resolve().parent.parent) + os.sep


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




_NOT_USER_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {
        NNVERIFY_DIR,
        os.path.dirname(np.__file__),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
    }
)


def is_user_file(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return False
    if any(resolved.startswith(d) for d in _NOT_USER_DIRS):
        return False
    return "hypothesis" + os.sep not in resolved


def display_path(filename: str) -> str:
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
        if is_user_file(fs.filename):
            found = fs
    if found is None:
        return None
    return UserFrame(display_path(found.filename), int(found.lineno or 0), found.name,
                     (found.line or "").strip())


def warning_frame(w: warnings.WarningMessage) -> UserFrame | None:
    if not is_user_file(w.filename):
        return None
    return UserFrame(display_path(w.filename), int(w.lineno), "",
                     linecache.getline(w.filename, w.lineno).strip())


def definition_frame(func: Callable[..., Any]) -> UserFrame | None:
    """Where a user's function is defined (for faults in what it returned, not where it raised)."""
    code = getattr(func, "__code__", None)
    if code is None or not is_user_file(code.co_filename):
        return None
    return UserFrame(display_path(code.co_filename), code.co_firstlineno, code.co_name,
                     linecache.getline(code.co_filename, code.co_firstlineno).strip())


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__

