"""Nothing lost: every write is temp file + rename in the same folder; failures leave the old file.

Faults are injected where a real run can fail — the data write, fsync, the rename — and by
interrupting or killing a real ``nnverify convert`` in the middle of its write. After each,
the previous file is byte-for-byte intact and no temp file is left (except after SIGKILL,
which no process can clean up after: there the old file is still intact and the leftover is
a hidden ``.NAME.*.tmp`` beside it).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import reliability

from nnverify.cli import SUBCOMMANDS
from nnverify.errors import NNVerifyError
from nnverify.files import atomic_write_bytes

OLD = b"the previous version, which must survive\n"


def _record_fs(cls: str, folder: Path, target: Path, expect: bytes, *, temps_allowed: bool = False,
               record: bool = True) -> None:
    """Record 'lost' if ``target`` changed or a temp file was left in ``folder``; else 'error'."""
    temps = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    intact = target.read_bytes() == expect if target.exists() else False
    outcome = "error" if intact and (temps_allowed or not temps) else "lost"
    if record:
        reliability.record(cls, outcome, note=f"write of {target.name}")
    assert intact, f"{target} changed: {target.read_bytes()[:80] if target.exists() else 'gone'}"
    if not temps_allowed:
        assert temps == [], f"temp files left: {temps}"


def _fail_with(exc: BaseException) -> Any:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise exc
    return boom


FAULTS = {
    "rename fails (EXDEV)": ("os.replace", OSError(errno.EXDEV, "Invalid cross-device link")),
    "rename fails (EACCES)": ("os.replace", PermissionError(errno.EACCES, "Permission denied")),
    "disk full on fsync": ("os.fsync", OSError(errno.ENOSPC, "No space left on device")),
    "I/O error on fsync": ("os.fsync", OSError(errno.EIO, "Input/output error")),
    "chmod fails": ("os.chmod", PermissionError(errno.EPERM, "Operation not permitted")),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failed_write_leaves_the_previous_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    target = tmp_path / "net.json"
    target.write_bytes(OLD)
    where, exc = FAULTS[fault]
    monkeypatch.setattr(where, _fail_with(exc))
    with pytest.raises(NNVerifyError) as info:
        atomic_write_bytes(target, b"new content " * 1000)
    monkeypatch.undo()
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(target)) and exc.strerror in msg
    _record_fs("atomic-fault", tmp_path, target, OLD)


def test_a_failed_data_write_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "net.json"
    target.write_bytes(OLD)
    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes half the data, then the disk is full."""

        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *a: Any) -> None:
            self.fh.close()

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.fh, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r": HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(NNVerifyError, match="No space left on device"):
        atomic_write_bytes(target, b"x" * 100_000)
    monkeypatch.undo()
    _record_fs("atomic-fault", tmp_path, target, OLD)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(1), MemoryError()],
                         ids=["KeyboardInterrupt", "SystemExit", "MemoryError"])
def test_an_interrupted_write_cleans_up_and_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    target = tmp_path / "net.json"
    target.write_bytes(OLD)
    monkeypatch.setattr(os, "fsync", _fail_with(exc))
    with pytest.raises(type(exc)):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    _record_fs("atomic-fault", tmp_path, target, OLD)


def test_the_write_goes_through_a_temp_file_in_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What makes it atomic: rename(temp, target) within one folder (one file system)."""
    seen: list[tuple[str, str]] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append((str(a), str(b))), real_replace(a, b))[1])
    target = tmp_path / "net.json"
    atomic_write_bytes(target, b"new")
    assert len(seen) == 1
    tmp, dst = seen[0]
    assert Path(tmp).parent == tmp_path and Path(tmp).name.startswith(".net.json.") and dst == str(target)
    assert target.read_bytes() == b"new"


# -- a real run interrupted or killed in the middle of its write -----------------------------------

_SLOW_WRITER = """
import os, signal, sys, time
# What SIGINT does must not depend on what this process inherited (a shell running CI in the
# background starts children with SIGINT ignored): Python's own handler, as in a terminal.
signal.signal(signal.SIGINT, signal.default_int_handler)
real_fsync = os.fsync
def slow_fsync(fd):
    real_fsync(fd)
    print("writing", flush=True)  # the temp file holds the new data; the rename has not happened
    time.sleep(60)
os.fsync = slow_fsync
from nnverify.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_killing_convert_mid_write_keeps_the_previous_file(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "net.json"
    target.write_bytes(OLD)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, "convert", "--weights", "book-mnist", "-o", str(target),
         "--force"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else b""
        assert line.strip() == b"writing", proc.stderr.read() if proc.stderr else b""
        proc.send_signal(sig)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code != 0
    # SIGINT unwinds (the temp file is removed); TERM and KILL end the process where it stands
    _record_fs("atomic-fault", tmp_path, target, OLD, temps_allowed=sig != signal.SIGINT)
    if sig == signal.SIGINT:
        assert code == 130
        assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()


# -- never overwrite what nnverify did not write; unwritable places --------------------------------

def _run(argv: list[str], capsys: pytest.CaptureFixture[str], cls: str) -> reliability.CliRun:
    return reliability.run_cli(argv, capsys, cls)


@pytest.mark.parametrize("name", ["notes.json", "weights.npz", "precious.txt"])
def test_convert_does_not_overwrite_an_existing_file_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    target = tmp_path / name
    target.write_bytes(OLD)
    r = _run(["convert", "-o", str(target)], capsys, "overwrite")
    reliability.assert_clean(r, allowed=("error",))
    assert "--force" in r.err
    assert target.read_bytes() == OLD
    r = _run(["convert", "-o", str(target), "--force", "--format", "json"], capsys, "overwrite")
    reliability.assert_clean(r, allowed=("ok",))
    assert target.read_bytes() != OLD  # --force does replace it


@pytest.mark.skipif("report" not in SUBCOMMANDS, reason="nnverify report is not registered yet")
@pytest.mark.parametrize("suffix", [".tex", ".pdf"])
def test_report_does_not_overwrite_a_file_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    tex = tmp_path / "sheet.tex"
    foreign = tmp_path / f"sheet{suffix}"
    foreign.write_bytes(OLD)
    r = _run(["report", "-o", str(tex), "--no-pdf" if suffix == ".tex" else "--pdf"], capsys, "overwrite")
    if suffix == ".pdf" and r.outcome == "ok":
        pytest.fail(f"report replaced or kept {foreign} silently: {r.describe()}")
    reliability.assert_clean(r, allowed=("error",))
    assert "--force" in r.err
    assert foreign.read_bytes() == OLD


UNWRITABLE = {
    "under a regular file": ("afile/out.json", "is a file, not a folder"),
    "missing folder": ("nowhere/out.json", "does not exist"),
    "/proc": ("/proc/nnverify-out.json", "cannot write in /proc"),
    "/sys": ("/sys/nnverify-out.json", "cannot write in /sys"),
    "an existing folder": ("folder", "is a folder"),
    "a named pipe": ("pipe", "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(UNWRITABLE))
def test_unwritable_output_gives_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    (tmp_path / "afile").write_bytes(OLD)
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    monkeypatch.chdir(tmp_path)
    path, what = UNWRITABLE[case]
    r = _run(["convert", "-o", path, "--force"], capsys, "unwritable")
    reliability.assert_clean(r, allowed=("error",))
    assert what in r.err
    assert (tmp_path / "afile").read_bytes() == OLD
    assert Path("pipe").is_fifo()  # not swapped for a regular file, even with --force
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.skipif("report" not in SUBCOMMANDS, reason="nnverify report is not registered yet")
@pytest.mark.parametrize("case", ["under a regular file", "/proc", "a named pipe"])
def test_report_to_an_unwritable_place_gives_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    (tmp_path / "afile").write_bytes(OLD)
    os.mkfifo(tmp_path / "pipe.tex")
    monkeypatch.chdir(tmp_path)
    path = {"under a regular file": "afile/out.tex", "/proc": "/proc/nnverify-out.tex",
            "a named pipe": "pipe.tex"}[case]
    r = _run(["report", "-o", path, "--no-pdf", "--force"], capsys, "unwritable")
    reliability.assert_clean(r, allowed=("error",))
    assert Path("pipe.tex").is_fifo()


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """_record_fs sees a changed file and a leftover temp (so the tests above can fail)."""
    target = tmp_path / "t"
    target.write_bytes(b"changed")
    with pytest.raises(AssertionError):
        _record_fs("atomic-fault", tmp_path, target, OLD, record=False)
    target.write_bytes(OLD)
    (tmp_path / ".t.x.tmp").write_bytes(b"")
    with pytest.raises(AssertionError):
        _record_fs("atomic-fault", tmp_path, target, OLD, record=False)
