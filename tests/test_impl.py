"""nnverify.under_test: loading a user's function, and turning every fault of theirs into data."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import nnverify
from nnverify.under_test import (
    ForwardUnderTest,
    ImplementationError,
    ImplementationFailed,
    ImplementationHung,
    Worker,
    load_function,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def _run(spec: str, x: np.ndarray | None = None, **kw: float) -> np.ndarray:
    fut = ForwardUnderTest(load_function(spec, **kw))
    return fut.run(nnverify.book_network(), nnverify.BOOK_X if x is None else x)


def test_the_fixed_book_code_gives_the_books_output() -> None:
    y = _run(f"{EXAMPLES}/ch03_fixed.py:forward")
    np.testing.assert_array_equal(y, nnverify.forward(nnverify.book_network(), nnverify.BOOK_X).y)


def test_the_books_typo_is_a_nameerror_with_the_users_own_line() -> None:
    with pytest.raises(ImplementationFailed) as info:
        _run(f"{EXAMPLES}/ch03_book.py:forward")
    f = info.value.failure
    assert f.kind == "raised"
    assert f.message == "NameError: name 'identify_function' is not defined"
    assert f.frame is not None and f.frame.file.endswith("ch03_book.py")
    assert f.frame.function == "forward" and f.frame.code == "y = identify_function(a3)"
    line = (EXAMPLES / "ch03_book.py").read_text().splitlines()[f.frame.line - 1]
    assert "identify_function(a3)" in line


@pytest.mark.parametrize(
    "name, kind, message",
    [
        ("wrong_shape", "wrong-shape", "returned shape (3,); expected (2,)"),
        ("returns_nan", "non-finite", "returned NaN at output 1; outputs must be finite"),
        ("not_an_array", "not-numeric", "returned a str ('0.3168, 0.6963'); expected an array of floats"),
    ],
)
def test_user_errors_are_reported_as_faults_of_the_code_under_test(name: str, kind: str, message: str) -> None:
    with pytest.raises(ImplementationFailed) as info:
        _run(f"{EXAMPLES}/user_errors.py:{name}")
    assert info.value.failure.kind == kind
    assert info.value.failure.message == message


def test_a_floating_point_warning_is_a_fault_with_the_users_line() -> None:
    with pytest.raises(ImplementationFailed) as info:
        fut = ForwardUnderTest(sigmoid=load_function(f"{EXAMPLES}/ch03_fixed.py:sigmoid", role="sigmoid"))
        fut.run_sigmoid(np.array([-1000.0]))
    f = info.value.failure
    assert f.kind == "warning" and "overflow encountered in exp" in f.message
    assert f.frame is not None and f.frame.code == "return 1 / (1 + np.exp(-x))"


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="needs SIGALRM")
def test_a_hanging_implementation_is_stopped_after_the_timeout() -> None:
    start = time.monotonic()
    with pytest.raises(ImplementationHung) as info:
        _run(f"{EXAMPLES}/user_errors.py:hangs", timeout=0.3)
    assert time.monotonic() - start < 5
    f = info.value.failure
    assert f.kind == "timeout" and "did not return within 0.3 s" in f.message
    assert f.frame is not None and f.frame.file.endswith("user_errors.py") and f.frame.function == "hangs"


STUBBORN = {
    "swallow_in_a_loop": """
        def forward(network, x):
            while True:
                try:
                    time.sleep(10)
                except BaseException:
                    pass
        """,
    "nested_swallowers": """
        def forward(network, x):
            while True:
                try:
                    while True:
                        try:
                            time.sleep(10)
                        except BaseException:
                            pass
                except BaseException:
                    continue
        """,
    "busy_loop_in_a_try": """
        def forward(network, x):
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
        """,
    "loop_in_the_handler": """
        def forward(network, x):
            while True:
                try:
                    time.sleep(10)
                except BaseException:
                    while True:
                        try:
                            pass
                        except BaseException:
                            pass
        """,
    "finally_continue": """
        def forward(network, x):
            while True:
                try:
                    time.sleep(1)
                finally:
                    continue
        """,
    "catches_and_returns_late": """
        import numpy as np
        def forward(network, x):
            try:
                time.sleep(10)
            except BaseException:
                time.sleep(0.5)
            return np.zeros(2)
        """,
}


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="needs SIGALRM")
@pytest.mark.parametrize("name", list(STUBBORN))
def test_a_hanging_implementation_cannot_swallow_the_timeout(tmp_path: Path, name: str) -> None:
    spec = _write(tmp_path, f"{name}.py", "import time\n" + textwrap.dedent(STUBBORN[name])) + ":forward"
    start = time.monotonic()
    with pytest.raises(ImplementationHung) as info:
        _run(spec, timeout=0.2)
    assert time.monotonic() - start < 3
    assert info.value.failure.kind == "timeout"
    assert sys.gettrace() is None or "coverage" in type(sys.gettrace()).__module__


def test_the_user_gets_fresh_copies_so_mutating_them_changes_nothing(tmp_path: Path) -> None:
    spec = _write(tmp_path, "mutating.py", """
        import numpy as np
        def forward(network, x):
            network['W1'][:] = 0
            x[...] = 0
            return np.zeros(2)
        """) + ":forward"
    net = nnverify.book_network()
    x = nnverify.BOOK_X.copy()
    ForwardUnderTest(load_function(spec)).run(net, x)
    assert net.layers[0].W[0, 0] == 0.1 and x[0] == 1.0


def test_a_batch_must_come_back_as_a_batch() -> None:
    x = np.array([[1.0, 0.5], [0.0, 0.0]])
    assert _run(f"{EXAMPLES}/correct_einsum.py:forward", x).shape == (2, 2)


def test_module_specs_load_from_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "net.py").write_text((EXAMPLES / "ch03_fixed.py").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    y = _run("mypkg.net:forward")
    assert y.shape == (2,)
    sys.modules.pop("mypkg.net", None)
    sys.modules.pop("mypkg", None)


LOAD_ERRORS = [
    ("missing.py:forward", "missing.py: no such file (from --impl)"),
    ("{tmp}:forward", "is a folder; give a .py file"),
    ("{ex}/ch03_book.py:nope", "has no function 'nope' (it defines forward, identity_function, init_network, sigmoid)"),
    ("{ex}/ch03_book.py:np", "'np' is a module, not a function"),
    ("{ex}/ch03_book.py:forward-x", "is not a Python function name"),
    ("no_such_module_xyz:forward", "module 'no_such_module_xyz' cannot be imported (ModuleNotFoundError"),
    ("{tmp}/syntax.py:forward", "syntax.py: cannot be imported: raised SyntaxError"),
    ("{tmp}/toplevel.py:forward", "toplevel.py: cannot be imported: raised NameError: name 'identify_function' is "
     "not defined at "),
]


@pytest.mark.parametrize("spec, message", LOAD_ERRORS, ids=[m for _, m in LOAD_ERRORS])
def test_a_file_that_cannot_be_loaded_is_a_one_line_error_naming_it(spec: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "syntax.py").write_text("def forward(network, x)\n    return x\n")
    (tmp_path / "toplevel.py").write_text("import numpy as np\n\ny = identify_function(np.zeros(2))\n")
    with pytest.raises(ImplementationError) as info:
        load_function(spec.format(tmp=tmp_path, ex=EXAMPLES))
    text = str(info.value)
    assert message in text and "\n" not in text
    if "toplevel" in spec:
        assert text.endswith("toplevel.py:3 in <module>: y = identify_function(np.zeros(2))")
    if "syntax" in spec:
        assert "syntax.py:1" in text


def test_import_time_hang_is_stopped(tmp_path: Path) -> None:
    spec = _write(tmp_path, "slow_import.py", "import time\ntime.sleep(30)\n") + ":forward"
    with pytest.raises(ImplementationError, match="did not finish importing within 0.2 s"):
        load_function(spec, timeout=0.2)


def test_the_users_prints_go_to_stderr_so_json_stays_clean(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    spec = _write(tmp_path, "chatty.py", """
        import numpy as np
        print("loading")
        def forward(network, x):
            print("y =", x)
            return np.zeros(2)
        """) + ":forward"
    worker = Worker()  # a worker started now writes to the captured stderr
    try:
        ForwardUnderTest(load_function(spec, worker=worker)).run(nnverify.book_network(), nnverify.BOOK_X)
    finally:
        worker.close()
    out, err = capfd.readouterr()
    assert out == "" and "loading" in err and "y = " in err


def test_integer_outputs_are_refused_as_not_floats(tmp_path: Path) -> None:
    spec = _write(tmp_path, "ints.py", """
        import numpy as np
        def forward(network, x):
            return np.zeros(2, dtype=np.int64)
        """) + ":forward"
    with pytest.raises(ImplementationFailed, match="returned an array of dtype int64; expected floats"):
        _run(spec)
