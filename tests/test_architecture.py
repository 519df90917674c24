"""The architecture as tests: arrows one way, no cycles, one table per backend, light start-up.

``docs/ARCHITECTURE.md`` describes the layers; these tests keep the code true to it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nnverify
from nnverify.model import Activation

PACKAGE = Path(nnverify.__file__).resolve().parent

#: The layers, lowest first. A module may import only from its own layer or lower ones (the root
#: ``nnverify/__init__.py`` is the facade and loads everything lazily, so it is left out).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "status", "limits", "modes", "progress", "lazy", "version", "display", "literal"),
    ("model",),
    ("validate", "numeric", "rationals", "files", "labels"),
    ("inputs", "input_files", "weights", "under_test", "datasets"),
    ("symbolic", "strategies"),
    ("certified",),
    ("bounds",),
    ("compare", "verdicts", "error_ranges", "results", "predictions"),
    ("suite", "testing"),
    ("report",),
    ("cli", "__main__", "pytest_plugin"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """Every nnverify import in ``path``, at any depth: (module, names imported, line)."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "nnverify"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            if base.split(".")[0] == "nnverify":
                found.append((base, [a.name for a in node.names], node.lineno))
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(target: str, names: list[str], modules: dict[str, Path]) -> list[str]:
    """The modules an import reaches: ``from nnverify.x import y`` is ``nnverify.x.y`` when y is a module."""
    out = [target] if target in modules else []
    out += [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
    return out or [target]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, names, _ in _imports(path):
            for t in _resolve(target, names, modules):
                if t != name:
                    graph[name].add(t)
    return graph


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return RANK.get(parts[1]) if len(parts) > 1 else None


def test_every_top_level_module_has_a_layer() -> None:
    top = {m.split(".")[1] for m in _modules() if m.count(".") >= 1}
    missing = sorted(t for t in top if t not in RANK and t != "data")
    assert not missing, f"add {missing} to LAYERS in this test and to docs/ARCHITECTURE.md"


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for name, targets in _graph().items():
        mine = _layer(name)
        if mine is None:
            continue
        for t in targets:
            theirs = _layer(t)
            if theirs is not None and theirs > mine:
                wrong.append(f"{name} imports {t}")
    assert not wrong, "imports against the layers: " + "; ".join(sorted(wrong))


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t not in graph:
                continue
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state and (cycle := visit(t)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_no_private_name_is_imported_across_modules() -> None:
    wrong = []
    for name, path in _modules().items():
        for target, names, line in _imports(path):
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    wrong.append(f"{name}:{line} imports {target}.{n}")
    assert not wrong, "; ".join(wrong)


def test_the_walker_sees_function_level_imports_and_cycles() -> None:
    # the checks above can fail: a function-level import of an upper layer is seen
    found = _imports(PACKAGE / "cli" / "check.py")
    assert any(t.startswith("nnverify.compare") for t, _, _ in found)
    assert _layer("nnverify.compare") > _layer("nnverify.bounds")  # type: ignore[operator]


def _tables() -> dict[str, dict[Activation, object]]:
    from nnverify.bounds import ERROR_BOUNDS
    from nnverify.certified import BALL_ACTIVATIONS
    from nnverify.numeric import ACTIVATIONS
    from nnverify.symbolic import EXPRESSIONS

    return {"numeric.ACTIVATIONS": ACTIVATIONS, "certified.BALL_ACTIVATIONS": BALL_ACTIVATIONS,
            "symbolic.EXPRESSIONS": EXPRESSIONS, "bounds.ERROR_BOUNDS": ERROR_BOUNDS}


@pytest.mark.parametrize("backend", sorted(_tables()))
def test_every_backend_covers_every_activation(backend: str) -> None:
    table = _tables()[backend]
    assert set(table) == set(Activation), f"{backend} lacks {set(Activation) - set(table)}"
    assert all(callable(f) for f in table.values())


def test_the_cli_property_names_are_the_laws() -> None:
    from nnverify.suite.config import PROPERTY_NAMES
    from nnverify.suite.laws import property_names

    assert PROPERTY_NAMES == property_names()


_HEAVY = ("hypothesis", "sympy", "flint")


@pytest.mark.parametrize("argv", [["forward"], ["forward", "--weights", "book-mnist", "--samples", "2"],
                                  ["convert", "--weights", "book", "-o", "{tmp}/w.json"]])
def test_light_commands_import_no_hypothesis_sympy_or_flint(argv: list[str], tmp_path: Path) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code = (
        "import sys, contextlib, io\n"
        "from nnverify.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main({args!r})\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {_HEAVY!r})\n"
        "print(rc, heavy[:3])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0 []", out


def test_the_start_up_check_can_fail() -> None:
    code = "import sys\nfrom nnverify.cli import main\nmain(['check'])\nprint('flint' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "True"


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert nnverify.__version__ == version("nnverify")
