"""Compiling LaTeX to PDF safely and reproducibly.

- a fresh temporary folder holds the only file TeX sees; nothing else is readable there;
- ``pdflatex -interaction=nonstopmode -halt-on-error -no-shell-escape`` with kpathsea told to
  be paranoid (``openin_any=p``, ``openout_any=p``: no absolute paths, no ``..``, no dot
  files) and to run no font generators (no METAFONT writing into the user's home);
- stdin closed, a timeout that kills the whole process group (TeX's children survive a plain
  ``subprocess.run(timeout=...)``);
- success only with exit status 0, a non-empty PDF and no ``!`` error line in the log;
  otherwise the first LaTeX error with its context, in one line;
- reproducible: ``SOURCE_DATE_EPOCH`` with ``FORCE_SOURCE_DATE=1`` (the document itself sets
  ``\\pdftrailerid{}``), so the same ``.tex`` gives the same PDF bytes.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nnverify.errors import NNVerifyError

__all__ = [
    "TexError",
    "TexNotFoundError",
    "CompileResult",
    "find_pdflatex",
    "compile_pdf",
    "INSTALL_HINT",
    "DEFAULT_TIMEOUT",
    "DEFAULT_SOURCE_DATE_EPOCH",
]

#: How to get TeX on Debian/Ubuntu (what ``.ci/run`` installs).
INSTALL_HINT = (
    "apt-get install -y --no-install-recommends texlive-latex-base "
    "texlive-latex-recommended texlive-pictures latexmk"
)
#: Seconds one pdflatex run may take before its process group is killed.
DEFAULT_TIMEOUT = 120.0
#: Timestamp written into the PDF when the environment sets no SOURCE_DATE_EPOCH (2016-01-01,
#: the year of the book's code): a constant, so the PDF is reproducible.
DEFAULT_SOURCE_DATE_EPOCH = 1451606400
#: pdflatex runs at most this many times (cross-references need two).
MAX_RUNS = 3

_RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|There were undefined references")


class TexError(NNVerifyError):
    """pdflatex failed or timed out; the message is one line with the first LaTeX error."""


class TexNotFoundError(NNVerifyError):
    """No ``pdflatex`` on PATH; the message says how to install it."""


@dataclass(frozen=True)
class CompileResult:
    """A compiled PDF.

    Args:
        pdf: the PDF bytes.
        runs: how many pdflatex runs it took.
        log: the last run's log text (for warnings such as overfull boxes).
    """

    pdf: bytes
    runs: int
    log: str

    @property
    def pages(self) -> int:
        """Page count, from the log's "Output written on report.pdf (N pages, ...)"."""
        m = re.search(r"Output written on \S+ \((\d+) pages?", self.log)
        return int(m.group(1)) if m else 0

    @property
    def overfull(self) -> list[str]:
        """The log's "Overfull \\hbox" lines: text that sticks out into the margin."""
        return [ln for ln in self.log.splitlines() if ln.startswith("Overfull \\hbox")]


def find_pdflatex() -> str:
    """The path of ``pdflatex``, or raise :class:`TexNotFoundError` saying how to install it."""
    path = shutil.which("pdflatex")
    if path is None:
        raise TexNotFoundError(f"pdflatex not found on PATH; install TeX Live with: {INSTALL_HINT}")
    return path


def _environment(tmp: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tmp,  # kpathsea's per-user caches land in the temporary folder, not the user's home
        "LANG": "C",
        "LC_ALL": "C",
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        "max_print_line": "1000",
        "MKTEXPK": "0",
        "MKTEXTFM": "0",
        "MKTEXMF": "0",
        "MKTEXTEX": "0",
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", str(DEFAULT_SOURCE_DATE_EPOCH)),
        "FORCE_SOURCE_DATE": "1",
        "TEXMFVAR": os.path.join(tmp, ".texmf-var"),
    }
    return env


def _first_error(log: str) -> str:
    """The first ``! ...`` error of a TeX log with the ``l.N context`` line after it, as one line."""
    lines = log.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("!"):
            message = line[1:].strip()
            for follow in lines[k + 1 : k + 12]:
                m = re.match(r"l\.(\d+) ?(.*)", follow)
                if m:
                    context = m.group(2).strip()
                    where = f" at line {m.group(1)} of the generated .tex"
                    return f"{message}{where}" + (f" (near {context[-60:]!r})" if context else "")
            return message
    tail = [ln for ln in lines if ln.strip()][-1:] or ["(empty log)"]
    return f"no error line in the log; it ends with {tail[0].strip()[:120]!r}"


def _run_once(pdflatex: str, folder: str, env: dict[str, str], timeout: float) -> int:
    cmd = [
        pdflatex,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        "report.tex",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # TeX may have children (mktex* scripts); kill the whole group it leads.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        raise TexError(
            f"pdflatex took longer than {timeout:g} s and was stopped; raise the limit with "
            "--tex-timeout SECONDS"
        ) from None
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def compile_pdf(tex: str, *, timeout: float = DEFAULT_TIMEOUT) -> CompileResult:
    """Compile the LaTeX document ``tex`` to PDF in a fresh temporary folder.

    Args:
        tex: the complete document source.
        timeout: seconds each pdflatex run may take before its process group is killed.

    Raises:
        TexNotFoundError: no pdflatex on PATH (the message says how to install it).
        TexError: a LaTeX error (first error and its line, in one line) or a timeout.
    """
    if not timeout > 0:
        raise TexError(f"--tex-timeout {timeout}: must be a positive number of seconds")
    pdflatex = find_pdflatex()
    try:
        return _compile_in_a_fresh_folder(pdflatex, tex, timeout)
    except OSError as exc:  # the temporary folder: full, read-only, gone
        raise TexError(_temp_folder_trouble(exc)) from None


def _temp_folder_trouble(exc: OSError) -> str:
    """One line for an OSError in the temporary folder, naming it, or every folder Python tried when
    none is usable (TMPDIR, /tmp, /var/tmp, /usr/tmp and the current folder: asking again raises)."""
    try:
        where = tempfile.gettempdir()
    except OSError:
        return f"could not compile the PDF: {exc.strerror or exc}; set TMPDIR to a folder nnverify may write to"
    fix = ("free space there or set TMPDIR to a folder with room" if exc.errno == errno.ENOSPC
           else "set TMPDIR to a folder nnverify may write to")
    return f"could not compile the PDF in the temporary folder {where} ({exc.strerror or exc}); {fix}"


def _short_of_space(folder: str, need: int = 1 << 20) -> bool:
    """Whether the file system holding ``folder`` has less than ``need`` bytes free."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < need


def _compile_in_a_fresh_folder(pdflatex: str, tex: str, timeout: float) -> CompileResult:
    with tempfile.TemporaryDirectory(prefix="nnverify-tex-") as folder:
        Path(folder, "report.tex").write_text(tex, encoding="utf-8")
        env = _environment(folder)
        log = ""
        for run in range(1, MAX_RUNS + 1):  # noqa: B007 (the count is reported after the loop)
            status = _run_once(pdflatex, folder, env, timeout)
            log_path = Path(folder, "report.log")
            log = log_path.read_text(encoding="latin-1") if log_path.exists() else ""
            pdf_path = Path(folder, "report.pdf")
            has_error = any(line.startswith("!") for line in log.splitlines())
            if status != 0 or has_error or not pdf_path.exists() or pdf_path.stat().st_size == 0:
                if _short_of_space(folder) and not has_error:  # TeX could not write its output
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                detail = _first_error(log)
                raise TexError(f"pdflatex failed (exit status {status}): {detail}")
            if not _RERUN.search(log):
                break
        return CompileResult(pdf_path.read_bytes(), run, log)
