"""Names a package exports but loads on first use (PEP 562), so importing it stays light.

``import nnverify`` must not import SymPy, python-flint or Hypothesis; the packages that re-export
names from heavy modules declare where each name lives and get a module ``__getattr__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``where[name]`` is the module that defines ``name``.

    Args:
        package: the package's ``__name__`` (for the error message).
        namespace: the package's ``globals()``; a loaded name is stored there, so it loads once.
        where: name -> module path (absolute, e.g. ``"nnverify.compare"``).
    """

    def getattr_(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(where))

    return getattr_, dir_
