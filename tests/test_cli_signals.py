"""The command line under interruption and closed pipes: quiet, and the exit code tells the truth."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nnverify.cli import main

ROOT = Path(__file__).resolve().parents[1]

_SLOW_START = """
import importlib, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # not what the test runner left us
real = importlib.import_module
def slow(name, *args):
    if name.startswith("nnverify.cli."):
        print("starting", flush=True)
        time.sleep(30)
    return real(name, *args)
importlib.import_module = slow
sys.argv = ["nnverify", "forward"]
from nnverify.cli import main_entry
main_entry()
"""


def test_ctrl_c_during_start_up_exits_130_without_a_traceback() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_START], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"starting"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 130 and "Traceback" not in err and err.strip() == "nnverify: interrupted"


@pytest.mark.parametrize(("argv", "want"), [
    (["test", "--only", "agreement", "--examples", "5", "--impl", "examples/broken_plus_1e12.py:forward"], 1),
    (["forward", "--weights", "book-mnist", "--samples", "3", "--full"], 0),
])
def test_a_closed_pipe_keeps_the_verdicts_exit_code(argv: list[str], want: int) -> None:
    """``nnverify ... | head -c 100`` with pipefail: a failure must not become exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "nnverify", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    code = proc.wait(timeout=120)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert code == want, err
    assert "Traceback" not in err and "BrokenPipe" not in err


@pytest.mark.parametrize(("argv", "shown"), [
    (["forward", "--x", "-1e6,-0.5", "--json"], '"x": [-1000000.0, -0.5]'),
    (["forward", "--x", "-1e6", "-0.5"], None),  # two words: the second is not a value of --x
    (["check", "--samples", "2", "--low", "-1e3", "--high", "-5e2", "--json"], '"n_inputs": 2'),
    (["forward", "--x", "-.5,1e-3", "--json"], '"x": [-0.5, 0.001]'),
])
def test_a_negative_value_after_an_option_is_its_value(
    argv: list[str], shown: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse alone refuses ``--x -1e6`` ("expected one argument"); ``--x=-1e6`` always worked."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert "expected one argument" not in err
    if shown is None:
        assert code == 2 and "unrecognized arguments: -0.5" in err
    else:
        assert code == 0 and shown in out, err


def test_success_messages_escape_control_characters_from_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "evil\x1b[31m\nname.json"
    assert main(["convert", "-o", str(out_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and "\x1b" not in printed and "\\x1b[31m\\nname.json" in printed
    assert main(["forward", "--weights", str(out_path)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "\x1b" not in header and header.startswith("network: evil\\x1b[31m\\nname.json")


def test_stdout_redirected_to_a_string_buffer_has_an_encoding() -> None:
    """Was exit 3 ("LookupError: unknown encoding: None" from SymPy's import) under
    contextlib.redirect_stdout(io.StringIO()): the pipe guard reported the encoding "None"."""
    import io

    from nnverify.cli import _PipeGuard

    assert _PipeGuard(io.StringIO()).encoding == "utf-8"
    code = subprocess.run([sys.executable, "-c", "import contextlib, io, sys\n"
                           "from nnverify.cli import main\n"
                           "buf = io.StringIO()\n"
                           "with contextlib.redirect_stdout(buf):\n"
                           "    code = main(['derive', '--output', '1'])\n"
                           "sys.exit(code if 'y_1' in buf.getvalue() else 9)"],
                          cwd=ROOT, capture_output=True, timeout=120).returncode
    assert code == 0
