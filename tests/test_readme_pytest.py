"""The README's pytest example passes as it stands, in a fresh folder and a fresh process.

The block is copied verbatim into an empty folder with ``my_code.py`` (the book's forward) and
run by pytest in a subprocess: no conftest, Hypothesis' own default settings (its 200 ms
deadline included). The same file fails on a broken forward, so the check can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
              if b.startswith("# test_my_forward.py")]
    assert len(blocks) == 1, "the README has one pytest example, starting '# test_my_forward.py'"
    return blocks[0]


@pytest.mark.parametrize("my_code, passes", [("ch03_fixed.py", True), ("broken_plus_1e12.py", False)])
def test_the_readme_pytest_example_passes_verbatim_in_a_fresh_folder(tmp_path: Path, my_code: str,
                                                                      passes: bool) -> None:
    (tmp_path / "test_my_forward.py").write_text(_block())
    shutil.copy(ROOT / "examples" / my_code, tmp_path / "my_code.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPOTHESIS", "NNVERIFY"))}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_forward.py"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env=dict(env, PYTHONPATH=str(ROOT)))
    if passes:
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Flaky" not in out.stdout and "DeadlineExceeded" not in out.stdout
        assert re.search(r"\b6 passed, 4 skipped\b", out.stdout), out.stdout
    else:
        assert out.returncode == 1
        assert "ForwardIncorrect" in out.stdout and "1.8e+04 ulp away" in out.stdout
