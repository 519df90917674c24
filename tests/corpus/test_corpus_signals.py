"""Issue 15's signals and a full TMPDIR: a stopped run leaves no temporary folder, no child process
and no half-written file, and says so in one line with the shell's exit code (128 + signal).

Was: SIGTERM during pdflatex left ``nnverify-tex-*`` in TMPDIR and pdflatex running in its own
session (the process died at once, no ``finally`` ran); a full TMPDIR during the compile was
exit 3 (``OSError: [Errno 28] No space left on device``).
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import reliability

ROOT = Path(__file__).resolve().parents[2]
needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")


def _processes_in(folder: Path) -> list[int]:
    """The processes whose working folder is inside ``folder`` (pdflatex runs in its temp folder)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                    found.append(int(pid))
            except OSError:
                continue
    return found


def _start(argv: list[str], tmp: Path, ignored: tuple[signal.Signals, ...] = ()) -> subprocess.Popen[str]:
    """``python -m nnverify ARGV`` with TMPDIR=tmp; ``ignored`` signals are ignored on entry (nohup)."""
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))

    def ignore() -> None:
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)

    return subprocess.Popen([sys.executable, "-m", "nnverify", *argv], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore if ignored else None)


def _wait_for(condition: object, seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _signal_during_pdflatex(tmp_path: Path, sig: signal.Signals, *, ignored: tuple[signal.Signals, ...] = (),
                            timeout: float = 30) -> tuple[subprocess.Popen[str], Path, Path, str, float]:
    """Start ``nnverify report`` with its own TMPDIR, send ``sig`` once pdflatex runs, wait for the end:
    (process, TMPDIR, output folder, stderr, start time)."""
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    out.mkdir()
    proc = _start(["report", "-o", str(out / "r.tex")], tmp, ignored=ignored)
    t0 = time.monotonic()
    try:
        assert _wait_for(lambda: glob.glob(f"{tmp}/nnverify-tex-*/report.log")), "pdflatex never started"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc, tmp, out, err, t0


@needs_tex
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_pdflatex_leaves_no_folder_and_no_pdflatex(tmp_path: Path, sig: signal.Signals) -> None:
    proc, tmp, out, err, t0 = _signal_during_pdflatex(tmp_path, sig)
    left, children = os.listdir(tmp), _processes_in(tmp)
    outcome = "ok" if proc.returncode == 128 + sig and not left and not children else (
        "lost" if left or children else "crashed")
    reliability.record("signals", outcome, time.monotonic() - t0, note=f"{sig.name} during pdflatex")
    assert proc.returncode == 128 + sig, err
    said = "interrupted" if sig == signal.SIGINT else f"stopped by {sig.name}"
    assert err.strip() == f"nnverify report: {said}"
    assert left == [] and children == []
    assert not (out / "r.pdf").exists()  # nothing half-written


def test_sigterm_while_the_users_code_runs_ends_its_worker(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    user = tmp_path / "slow.py"
    user.write_text(textwrap.dedent(f"""
        import os, time
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        def forward(network, x):
            time.sleep(3600)
    """))
    proc = _start(["test", "--only", "agreement", "--impl", f"{user}:forward", "--impl-timeout", "600"], tmp_path)
    t0 = time.monotonic()
    try:
        assert _wait_for(pid_file.exists), "the worker never imported the user's file"
        time.sleep(0.3)  # inside forward
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    worker = int(pid_file.read_text())
    alive = _wait_for(lambda: not os.path.exists(f"/proc/{worker}"), 5.0) is False
    reliability.record("signals", "ok" if proc.returncode == 143 and not alive else "lost",
                       time.monotonic() - t0, note="SIGTERM while the user's forward runs")
    assert proc.returncode == 143, err
    assert not alive, "the user's worker outlived nnverify"


def test_a_full_tmpdir_during_the_compile_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tempfile.TemporaryDirectory

    def full(*args: object, **kwargs: object) -> object:
        if kwargs.get("prefix") == "nnverify-tex-":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(tempfile, "TemporaryDirectory", full)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/pdflatex")
    r = reliability.run_cli(["report", "-o", str(tmp_path / "r.tex")], capsys, "signals")
    reliability.assert_clean(r, allowed=("error",))
    assert "(No space left on device); free space there or set TMPDIR to a folder with room" in r.err
    assert not (tmp_path / "r.pdf").exists()


@needs_tex
def test_a_really_full_tmpdir_is_a_clear_error(tmp_path: Path) -> None:
    """On a 256 KiB tmpfs with 4 KiB left (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (mnt / "fill").write_bytes(bytes(252 * 1024))
        proc = _start(["report", "-o", str(tmp_path / "r.tex")], mnt)
        _, err = proc.communicate(timeout=120)
        reliability.record("signals", reliability.exit_outcome(proc.returncode, 2, err), note="a full TMPDIR")
        assert proc.returncode == 2, err
        assert "No space left on device" in err and len(err.strip().splitlines()) == 1
        assert sorted(os.listdir(mnt)) == ["fill"]
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@needs_tex
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=lambda sig: sig.name)
def test_a_signal_ignored_on_entry_stays_ignored(tmp_path: Path, sig: signal.Signals) -> None:
    """``nohup nnverify report ... &`` and a closed terminal: the report is finished, not stopped
    (was exit 129: the CLI put its own handler over nohup's SIG_IGN)."""
    proc, tmp, out, err, t0 = _signal_during_pdflatex(tmp_path, sig, ignored=(sig,), timeout=120)
    reliability.record("signals", reliability.exit_outcome(proc.returncode, 0, err), time.monotonic() - t0,
                       note=f"{sig.name} ignored on entry (nohup), sent during pdflatex")
    assert proc.returncode == 0, err
    assert (out / "r.pdf").exists() and os.listdir(tmp) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda sig: sig.name)
def test_a_second_signal_does_not_cut_the_cleanup_short(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sig: signal.Signals
) -> None:
    """``kill`` twice, or Ctrl-C twice: the second signal lands while the first one's ``finally``
    removes the temporary folder (and kills pdflatex); it must not cut that short (was: the folder
    stayed, as the second signal raised again in the middle of the cleanup)."""
    import nnverify.report.output as output
    from nnverify.cli import main

    folder = tmp_path / "nnverify-tex-stand-in"

    def stopped_while_compiling(tex: str, *, timeout: float) -> object:
        folder.mkdir()
        try:
            os.kill(os.getpid(), sig)
            time.sleep(30)  # the first signal lands here
        finally:
            os.kill(os.getpid(), sig)  # the second one, during the cleanup
            folder.rmdir()
        raise AssertionError("the first signal did not stop the run")

    monkeypatch.setattr(output, "compile_pdf", stopped_while_compiling)
    capsys.readouterr()
    t0 = time.monotonic()
    code = main(["report", "-o", str(tmp_path / "r.tex")])
    err = capsys.readouterr().err
    reliability.record("signals", "ok" if code == 128 + sig and not folder.exists() else "lost",
                       time.monotonic() - t0, note=f"a second {sig.name} during the cleanup")
    assert not folder.exists(), "the cleanup was cut short"
    assert code == 128 + sig and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r.pdf").exists()


def test_no_usable_temporary_folder_at_all_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR, /tmp, /var/tmp, /usr/tmp and the current folder all unusable (a read-only container):
    was exit 3, as naming the folder in the message asked Python for one again."""
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", None)  # forget the folder found earlier in this process
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: [str(blocked / "tmp")])
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/pdflatex")
    r = reliability.run_cli(["report", "-o", str(tmp_path / "r.tex")], capsys, "signals")
    reliability.assert_clean(r, allowed=("error",))
    assert "No usable temporary directory found in" in r.err and "set TMPDIR to a folder" in r.err
    assert not (tmp_path / "r.pdf").exists()


_LATE_SECOND_SIGNAL = """
import os, signal, sys
real_exit = sys.exit
def exit_with_a_second_signal(code):
    os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM after the run, before the atexit hooks
    real_exit(code)
sys.exit = exit_with_a_second_signal
sys.argv = ["nnverify", *sys.argv[1:]]
from nnverify.cli import main_entry
main_entry()
"""


def test_a_second_sigterm_as_nnverify_exits_still_ends_the_users_worker(tmp_path: Path) -> None:
    """The user's worker is ended by an atexit hook; a second SIGTERM between the run's end and that
    hook ended nnverify by its default action and left the worker sleeping in its own session."""
    pid_file = tmp_path / "worker.pid"
    user = tmp_path / "slow.py"
    user.write_text(textwrap.dedent(f"""
        import os, time
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        def forward(network, x):
            time.sleep(3600)
    """))
    argv = ["test", "--only", "agreement", "--impl", f"{user}:forward", "--impl-timeout", "600"]
    with open(tmp_path / "stderr", "w+") as err:  # files, not pipes: a worker left behind holds them
        proc = subprocess.Popen([sys.executable, "-c", _LATE_SECOND_SIGNAL, *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=err, env=dict(os.environ, TMPDIR=str(tmp_path), PYTHONPATH=str(ROOT)))
        t0 = time.monotonic()
        try:
            assert _wait_for(lambda: pid_file.exists() and pid_file.read_text() != ""), "the worker never started"
            time.sleep(0.3)  # inside forward
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        worker = int(pid_file.read_text())
        alive = _wait_for(lambda: not _running(worker), 5.0) is False
        if alive:
            os.kill(worker, signal.SIGKILL)
        err.seek(0)
        said = err.read()
    reliability.record("signals", "ok" if proc.returncode == 143 and not alive else "lost",
                       time.monotonic() - t0, note="a second SIGTERM as nnverify exits")
    assert not alive, "the user's worker outlived nnverify"
    assert proc.returncode == 143 and said.strip() == "nnverify test: stopped by SIGTERM", said


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
