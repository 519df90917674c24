"""The README's pasted command output is what the commands print today.

Every fenced block that starts with ``$ nnverify ...`` is run through ``main(argv)``; its
stdout and stderr together must equal the pasted lines. A line ``...`` in the README stands
for lines left out (what comes before and after must still match, in order).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from nnverify.cli import main

ROOT = Path(__file__).resolve().parents[1]

#: Commands shown but not rerun here: they need a file the README only describes, or they
#: write the canonical reports (tests/test_report_document.py checks those byte for byte).
NOT_RERUN = ("--weights evil.pkl", "nnverify report")


def _blocks() -> list[tuple[str, list[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M):
        lines = block.splitlines()
        if not lines or not lines[0].startswith("$ nnverify"):
            continue
        cmd, out = None, []
        for line in lines + ["$ END"]:
            if line.startswith("$ "):
                if cmd is not None:
                    found.append((cmd, out))
                cmd, out = line[2:], []
            else:
                out.append(line)
    return [(c, o) for c, o in found if not any(skip in c for skip in NOT_RERUN)]


def _matches(expected: list[str], actual: list[str]) -> bool:
    """``...`` lines in ``expected`` match any run of lines (possibly empty)."""
    pattern = "\n".join(".*?" if line.strip() == "..." else re.escape(line) for line in expected)
    return re.fullmatch(pattern.replace("\n.*?\n", "\n(?:.*\n)*?"), "\n".join(actual), flags=re.S) is not None


BLOCKS = _blocks()


def test_the_readme_shows_commands_to_check() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize(("cmd", "expected"), BLOCKS, ids=[c for c, _ in BLOCKS])
def test_readme_output_is_what_the_command_prints(
    cmd: str, expected: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    argv = shlex.split(cmd)[1:]
    main(argv)
    out, err = capsys.readouterr()
    actual = (out + err).rstrip("\n").splitlines()
    assert _matches(expected, actual), "\n".join(["README shows:", *expected, "", "the command prints:", *actual])


def test_the_matcher_needs_every_shown_line_in_order() -> None:
    actual = ["a", "b", "c", "d"]
    assert _matches(["a", "...", "d"], actual)
    assert _matches(["...", "c", "d"], actual)
    assert _matches(["a", "b", "c", "d"], actual)
    assert not _matches(["a", "...", "c"], actual)  # d is not shown and not elided
    assert not _matches(["a", "c", "b", "d"], actual)
    assert not _matches(["a", "b", "c", "d2"], actual)
