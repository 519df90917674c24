"""The user's code runs in a worker process: nothing it does can change a verdict or the exit code.

Each hazard of issue 15 is a small user file run through the real command line in a fresh
process (``python -m nnverify test``): the verdict and exit code must be the ones the
mathematics gives, the output must be one report, and the run must end in bounded time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import reliability

import nnverify
from nnverify.under_test import ForwardUnderTest, ImplementationCrashed, ImplementationHung, Worker, load_function

ROOT = Path(__file__).resolve().parents[1]

#: The book's forward, correct; a hazard is put in front of its return.
CORRECT = """
import numpy as np

def _sigmoid(a):
    return 1 / (1 + np.exp(-a))

def _forward(network, x):
    a1 = x @ network["W1"] + network["b1"]
    z1 = _sigmoid(a1)
    a2 = z1 @ network["W2"] + network["b2"]
    z2 = _sigmoid(a2)
    return z2 @ network["W3"] + network["b3"]
"""

#: The same with ``+ 1e-9`` on the output: every correct verdict on it is "failed".
BROKEN = CORRECT + "\ndef _wrong(network, x):\n    return _forward(network, x) + 1e-9\n"


def _cli(tmp_path: Path, body: str, *extra: str, timeout: float = 90) -> tuple[int, str, str, float]:
    path = tmp_path / "user.py"
    path.write_text(textwrap.dedent(body))
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "nnverify", "test", "--only", "agreement", "--examples", "5", "--impl",
         f"{path}:forward", "--impl-timeout", "0.5", *extra],
        capture_output=True, text=True, timeout=timeout, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def _one_report(out: str) -> None:
    assert out.count("implementation: ") == 1 and out.count("1 properties:") == 1, out


HAZARDS = {
    # name: (code, exit code, text the report must hold)
    "sys.exit(0)": (CORRECT + "import sys\ndef forward(network, x):\n    sys.exit(0)\n", 1,
                    "exited: called sys.exit(0) at "),
    "os._exit(0)": (CORRECT + "import os\ndef forward(network, x):\n    os._exit(0)\n", 1,
                    "exited with status 0 during call 1"),
    "atexit os._exit(0), broken": (BROKEN + "import atexit, os\natexit.register(lambda: os._exit(0))\n"
                                   "forward = _wrong\n", 1, "FAILED agreement: outputs within the derived bound"),
    "atexit os._exit(1), correct": (CORRECT + "import atexit, os\natexit.register(lambda: os._exit(1))\n"
                                    "forward = _forward\n", 0, "agreement                   5  passed"),
    "patches nnverify.compare._verdict": (
        BROKEN + "import nnverify.compare as c\nc._verdict = lambda *a, **k: ('ok', None)\n"
        "import nnverify.cli.test as t\nt.run = lambda args: 0\nforward = _wrong\n", 1,
        "FAILED agreement: outputs within the derived bound"),
    "forks on every call": (CORRECT + "import os\ndef forward(network, x):\n    os.fork()\n"
                            "    return _forward(network, x)\n", 1, "forked: started a child process"),
    "result whose __array__ sleeps": (
        CORRECT + "import time\nclass Slow:\n    def __init__(self, y):\n        self.y = y\n"
        "    def __array__(self, dtype=None, copy=None):\n        time.sleep(60)\n        return self.y\n"
        "def forward(network, x):\n    return Slow(_forward(network, x))\n", 1, "timeout: did not return within 0.5 s"),
    "non-daemon thread": (CORRECT + "import threading, time\n"
                          "threading.Thread(target=lambda: time.sleep(3600), daemon=False).start()\n"
                          "forward = _forward\n", 0, "agreement                   5  passed"),
    "SIGALRM blocked": (CORRECT + "import signal, time\ndef forward(network, x):\n"
                        "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\n    time.sleep(60)\n", 1,
                        "timeout: did not return within 0.5 s (--impl-timeout); stopped by ending its process"),
    "SIGALRM ignored": (CORRECT + "import signal, time\ndef forward(network, x):\n"
                        "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    time.sleep(60)\n", 1,
                        "stopped by ending its process"),
    "SIGALRM disarmed": (CORRECT + "import signal, time\ndef forward(network, x):\n"
                         "    signal.setitimer(signal.ITIMER_REAL, 0)\n    time.sleep(60)\n", 1,
                         "stopped by ending its process"),
    "os.close(1), correct": (CORRECT + "import os\ndef forward(network, x):\n    try:\n        os.close(1)\n"
                             "    except OSError:\n        pass\n    return _forward(network, x)\n", 0,
                             "agreement                   5  passed"),
    "os.close(1), broken": (BROKEN + "import os\ndef forward(network, x):\n    try:\n        os.close(1)\n"
                            "    except OSError:\n        pass\n    return _wrong(network, x)\n", 1,
                            "FAILED agreement"),
}


@pytest.mark.parametrize("name", list(HAZARDS))
def test_a_hazard_in_the_users_code_changes_neither_verdict_nor_exit_code(tmp_path: Path, name: str) -> None:
    body, code, text = HAZARDS[name]
    rc, out, err, seconds = _cli(tmp_path, body)
    reliability.record("isolation", reliability.exit_outcome(rc, code, err), seconds, note=f"user code: {name}")
    assert rc == code, (out, err)
    assert text in out, out
    _one_report(out)
    assert seconds < 60


def test_the_json_of_a_hazard_is_one_document(tmp_path: Path) -> None:
    import json

    rc, out, _, _ = _cli(tmp_path, HAZARDS["forks on every call"][0], "--json")
    doc = json.loads(out)
    assert rc == 1 and doc["ok"] is False
    assert doc["properties"][0]["counterexample"]["failure"]["kind"] == "forked"


def _user(tmp_path: Path, body: str) -> str:
    path = tmp_path / "user_api.py"
    path.write_text(textwrap.dedent(body))
    return f"{path}:forward"


def test_nnverify_never_imports_the_users_module(tmp_path: Path) -> None:
    marker = tmp_path / "pid.txt"
    spec = _user(tmp_path, CORRECT + f"import os\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                 "forward = _forward\n")
    fut = ForwardUnderTest(load_function(spec))
    y = fut.run(nnverify.book_network(), nnverify.BOOK_X)
    np.testing.assert_allclose(y, nnverify.forward(nnverify.book_network(), nnverify.BOOK_X).y, rtol=0, atol=1e-15)
    assert int(marker.read_text()) != os.getpid()
    assert not [m for m in sys.modules if m.startswith("_nnverify_user_user_api")]


def test_in_process_loading_is_still_there_when_asked_for(tmp_path: Path) -> None:
    marker = tmp_path / "pid.txt"
    spec = _user(tmp_path, CORRECT + f"import os\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                 "forward = _forward\n")
    fn = load_function(spec, isolate=False)
    ForwardUnderTest(fn).run(nnverify.book_network(), nnverify.BOOK_X)
    assert int(marker.read_text()) == os.getpid() and not fn.isolated


def test_a_crash_names_the_call_and_the_next_call_gets_a_new_worker(tmp_path: Path) -> None:
    counter = tmp_path / "calls.txt"
    spec = _user(tmp_path, CORRECT + f"""
import os
def forward(network, x):
    path = {str(counter)!r}
    n = int(open(path).read()) + 1 if os.path.exists(path) else 1
    open(path, "w").write(str(n))
    if n == 3:
        os._exit(7)
    return _forward(network, x)
""")
    worker = Worker()
    try:
        fut = ForwardUnderTest(load_function(spec, worker=worker))
        net = nnverify.book_network()
        fut.run(net, nnverify.BOOK_X)
        fut.run(net, nnverify.BOOK_X)
        with pytest.raises(ImplementationCrashed) as info:
            fut.run(net, nnverify.BOOK_X)
        assert info.value.failure.message == "exited with status 7 during call 3"
        assert info.value.failure.kind == "exited"
        first = worker.incarnation
        assert fut.run(net, nnverify.BOOK_X).shape == (2,)  # a new worker, the module imported again
        assert worker.incarnation == first + 1
    finally:
        worker.close()


def test_a_hang_in_c_is_ended_by_killing_the_worker(tmp_path: Path) -> None:
    spec = _user(tmp_path, CORRECT + """
import ctypes, signal
def forward(network, x):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    ctypes.CDLL(None).sleep(60)   # one long call into C
""")
    worker = Worker()
    try:
        fut = ForwardUnderTest(load_function(spec, worker=worker, timeout=0.3))
        start = time.monotonic()
        with pytest.raises(ImplementationHung) as info:
            fut.run(nnverify.book_network(), nnverify.BOOK_X)
        assert time.monotonic() - start < 10
        assert "stopped by ending its process" in info.value.failure.message
        assert not worker.alive
    finally:
        worker.close()


def test_the_users_line_survives_the_process_boundary(tmp_path: Path) -> None:
    from nnverify.under_test import ImplementationFailed

    spec = _user(tmp_path, CORRECT + "def forward(network, x):\n    return identify_function(x)\n")
    with pytest.raises(ImplementationFailed) as info:
        ForwardUnderTest(load_function(spec)).run(nnverify.book_network(), nnverify.BOOK_X)
    frame = info.value.failure.frame
    assert frame is not None and frame.file.endswith("user_api.py") and frame.function == "forward"
    assert frame.code == "return identify_function(x)" and frame.line == CORRECT.count("\n") + 2


def test_an_edited_file_is_imported_again_by_the_same_worker(tmp_path: Path) -> None:
    path = tmp_path / "edited.py"
    path.write_text("import numpy as np\ndef forward(network, x):\n    return np.zeros(2)\n")
    worker = Worker()
    try:
        first = ForwardUnderTest(load_function(f"{path}:forward", worker=worker)).run(nnverify.book_network(),
                                                                                     nnverify.BOOK_X)
        path.write_text("import numpy as np\ndef forward(network, x):\n    return np.ones(2)  # edited\n")
        second = ForwardUnderTest(load_function(f"{path}:forward", worker=worker)).run(nnverify.book_network(),
                                                                                      nnverify.BOOK_X)
        assert first.tolist() == [0.0, 0.0] and second.tolist() == [1.0, 1.0]
    finally:
        worker.close()
