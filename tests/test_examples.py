"""examples/README.md's table is true: each command ends as the table says.

Every row is run through ``nnverify.cli.main`` (the ``quick`` profile, to keep the suite
fast); "fails: a, b" means at least those properties fail. Every example file is in the table.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from nnverify.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "examples" / "README.md"


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in README.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2].startswith("`nnverify test"):
            rows.append((cells[0].strip("`"), cells[2].strip("`"), cells[3]))
    return rows


ROWS = _rows()


def test_the_table_covers_every_example_file() -> None:
    files = {p.relative_to(ROOT / "examples").as_posix() for p in (ROOT / "examples").rglob("*.py")
             if "common" not in p.parts}  # book_layout/common/ holds the neighbour module it imports
    assert files == {f for f, _, _ in ROWS}
    assert len(ROWS) >= 20


@pytest.mark.parametrize("file, command, verdict", ROWS, ids=[c.split(" ", 2)[2] for _, c, _ in ROWS])
def test_each_example_ends_as_the_table_says(
    file: str, command: str, verdict: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command)
    assert argv[:2] == ["nnverify", "test"] and f"examples/{file}:" in command
    code = main(argv[1:] + ["--profile", "quick", "--json"])
    doc = json.loads(capsys.readouterr().out)
    failed = {p["name"] for p in doc["properties"] if p["status"] == "failed"}
    if verdict == "passes":
        assert code == 0 and not failed, [p["reason"] for p in doc["properties"] if p["status"] == "failed"]
    else:
        m = re.fullmatch(r"fails: ([a-z\-, ]+)", verdict)
        assert m, verdict
        expected = {n.strip() for n in m.group(1).split(",")}
        assert code == 1 and expected <= failed, (expected, failed)
        for p in doc["properties"]:
            if p["status"] == "failed":
                assert p["counterexample"]["law"] and "input" in p["counterexample"]
                assert p["reproduce"].startswith(f"nnverify test --only {p['name']} --seed 0 --examples 20")
