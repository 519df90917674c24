"""examples/notebook.ipynb runs top to bottom and every result shows itself as HTML and LaTeX.

The runner is our own and kernel-free: it executes the code cells in order in one namespace and
displays each cell's last expression the way IPython's display formatter does (``_repr_html_``,
``_repr_latex_``, else ``repr``). nbclient would need a Jupyter kernel (ipykernel, IPython,
pyzmq, tornado, jupyter_client: some twenty packages and a kernel start per run) to do the same
for a notebook that uses no magics; when nbclient and ipykernel are installed, the last test
also runs the notebook in a real kernel.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def _cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def run_notebook(path: Path) -> list[dict[str, str]]:
    """Execute every code cell; for each, the rich outputs of its last expression ({} when none)."""
    ns: dict[str, Any] = {"__name__": "__main__"}
    shown = []
    for i, src in enumerate(_cells(path)):
        assert not any(line.lstrip().startswith(("%", "!")) for line in src.splitlines()), "no magics"
        tree = ast.parse(src)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<cell {i}>", "exec"), ns)
        out: dict[str, str] = {}
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"<cell {i}>", "eval"), ns)
            if value is not None:
                for mime, method in (("text/html", "_repr_html_"), ("text/latex", "_repr_latex_")):
                    if hasattr(value, method):
                        out[mime] = getattr(value, method)()
                out["text/plain"] = repr(value)
        shown.append(out)
    return shown


@pytest.fixture(scope="module")
def outputs() -> list[dict[str, str]]:
    return run_notebook(NOTEBOOK)


def test_the_notebook_runs_and_each_result_renders(outputs: list[dict[str, str]]) -> None:
    rich = [o for o in outputs if "text/html" in o]
    assert len(rich) == 5  # network, report, derivation, failed report, suite
    assert all(o["text/latex"].startswith("$$") and o["text/latex"].endswith("$$") for o in rich)


def test_the_network_shows_its_layers_and_weights(outputs: list[dict[str, str]]) -> None:
    html = outputs[1]["text/html"]
    assert "book, from init_network() (2-3-2-2, float64): sigmoid -&gt; sigmoid -&gt; identity" in html
    assert "W<sub>1</sub> (2, 3)" in html and "[[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]" in html
    assert "A^{(1)} &= X W^{(1)} + B^{(1)}" in outputs[1]["text/latex"]


def test_the_check_shows_exact_values_bounds_and_verdicts(outputs: list[dict[str, str]]) -> None:
    ok, failed = outputs[2]["text/html"], outputs[4]["text/html"]
    assert "0.31682707641102976546" in ok and ">ok</b> 4" in ok and "failed" not in ok
    assert ">failed</b> 2" in failed and "0.3168270764120298" in failed  # the +1e-12 value, not the exact one


def test_the_derivation_renders_the_closed_form(outputs: list[dict[str, str]]) -> None:
    latex = outputs[3]["text/latex"]
    assert latex.startswith("$$\\begin{aligned}a^{(1)}_{1} &= b^{(1)}_1 + w^{(1)}_{11} x_{1}")
    assert "z^{(1)}_{1} &= \\frac{1}{1 + e^{- a^{(1)}_1}}" in latex
    assert "symbolic weights" in outputs[3]["text/html"]


def test_the_suite_shows_every_property(outputs: list[dict[str, str]]) -> None:
    html = outputs[5]["text/html"]
    for name in ("agreement", "batch-consistency", "hidden-permutation", "worst-case"):
        assert f">{name}</td>" in html
    assert "0 failed" in html


def test_the_renderings_escape_what_came_from_a_file() -> None:
    import numpy as np

    from nnverify import Network

    net = Network.from_book_dict({"W1": np.eye(1), "b1": np.zeros(1)}, name="<script>alert(1)</script>")
    assert "<script>" not in net._repr_html_() and "&lt;script&gt;" in net._repr_html_()


def test_the_runner_can_fail(tmp_path: Path) -> None:
    bad = json.loads(NOTEBOOK.read_text())
    bad["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                         "source": ["check_forward(forward, network=network, inputs=[[1.0]])"]})
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(bad))
    from nnverify.errors import UsageError

    with pytest.raises(UsageError, match=r"inputs have shape \(1, 1\)"):
        run_notebook(path)


def test_the_notebook_runs_in_a_real_kernel_when_nbclient_is_installed() -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs if "data" in o
            and "text/html" in o["data"]]
    assert len(html) == 5 and "0.31682707641102976546" in html[1]
