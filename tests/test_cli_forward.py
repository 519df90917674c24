"""``nnverify forward`` end to end, and every bad-input class as a one-line error with exit 2."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnverify import book_network
from nnverify.cli import main
from nnverify.weights import network_bytes

PKL = Path(__file__).resolve().parents[1] / "nnverify" / "data" / "sample_weight.pkl"

BOOK_OUTPUT = """\
network: book (2-3-2-2, float64): sigmoid -> sigmoid -> identity
x  = [1.0, 0.5]
A1 = [0.3, 0.7, 1.1]
Z1 = [0.57444252, 0.66818777, 0.75026011]    # h = sigmoid
A2 = [0.51615984, 1.21402696]
Z2 = [0.62624937, 0.7710107]    # h = sigmoid
A3 = [0.31682708, 0.69627909]
Y  = [0.31682708, 0.69627909]    # sigma = identity
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_forward_on_the_embedded_default_prints_the_books_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "forward")
    assert (code, out, err) == (0, BOOK_OUTPUT, "")


def test_forward_json_has_every_layer_at_full_precision(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "forward", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["dtype"] == "float64"
    assert doc["y"] == doc["layers"][2]["a"]
    assert [len(layer["z"]) for layer in doc["layers"]] == [3, 2, 2]
    assert abs(doc["y"][0] - 0.31682707641102976546) < 1e-15


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".json"])
def test_forward_runs_the_books_pickle_on_a_batch_and_keeps_float32(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    X = (np.random.default_rng(0).integers(0, 256, size=(4, 784)) / 255).astype(np.float32)
    path = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(path, X)
    elif suffix == ".csv":
        path.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in X))
    else:
        path.write_text(json.dumps(X.astype(np.float64).tolist()))
    code, out, err = run(capsys, "forward", "--weights", str(PKL), "--activations", "sigmoid,sigmoid,softmax",
                         "--inputs", str(path), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dtype"] == "float32"
    y = np.array(doc["y"])
    assert y.shape == (4, 10)
    # Every printed value is exactly a float32 (it was computed in float32, not float64).
    assert np.array_equal(y.astype(np.float32).astype(np.float64), y)
    from nnverify import forward, load_network

    expected = forward(load_network("book-mnist"), X).y
    assert np.array_equal(y, expected.astype(np.float64))


def test_forward_with_samples_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "forward", "--weights", "book-mnist", "--samples", "3", "--seed", "7", "--json")
    second = run(capsys, "forward", "--weights", "book-mnist", "--samples", "3", "--seed", "7", "--json")
    assert first == second and first[0] == 0


def test_convert_writes_a_file_that_reads_back(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_path = tmp_path / "book.npz"
    code, out, _ = run(capsys, "convert", "--weights", "book", "-o", str(out_path))
    assert code == 0 and "wrote" in out
    code, _, err = run(capsys, "convert", "--weights", "book", "-o", str(out_path))
    assert code == 2 and "exists; pass --force" in err


def _write(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _evil_pickle(marker: Path) -> bytes:
    # GLOBAL os.system, then REDUCE with a shell command: plain pickle.load would run it.
    cmd = f"touch {marker}".encode()
    return b"\x80\x03cos\nsystem\nq\x00C" + bytes([len(cmd)]) + cmd + b"\x85R."


LAYER = {"W": [[0.1, 0.2], [0.3, 0.4]], "b": [0.1, 0.2], "activation": "sigmoid"}


BAD_WEIGHTS = [
    ("missing", None, "no such file"),
    ("not weights", "hello, I am a text file\n", "is not a weights file: tried JSON, NPZ and pickle by content"),
    ("truncated JSON", '{"layers": [{"W": [[0.1, 0.2]', "is not valid JSON"),
    ("truncated NPZ", lambda: network_bytes(book_network(), "npz")[:200], "(read as NPZ)"),
    ("truncated pickle", lambda: PKL.read_bytes()[:5000], "(read as pickle): is not a valid weights pickle"),
    ("shapes do not chain", json.dumps({"layers": [LAYER, {"W": [[1.0]] * 3, "b": [0.0], "activation": "identity"}]}),
     "W2 (layer 2) has shape (3, 1) but layer 1 outputs 2 units (W1 has shape (2, 2)); expected W2 of shape (2, k)"),
    ("0-D array", json.dumps({"W1": 1.0, "b1": [0.0]}), "W1 (layer 1) is 0-D"),
    ("3-D array", lambda: _npz({"W1": np.ones((2, 2, 2)), "b1": np.ones(2)}), "W1 (layer 1) is 3-D"),
    ("NaN in NPZ", lambda: _npz({"W1": np.array([[1.0, np.nan]]), "b1": np.zeros(2)}), "W1[0, 1] (layer 1) is"),
    ("NaN in JSON", '{"layers": [{"W": [[1.0, NaN]], "b": [0, 0]}]}', "W1[0, 1] is NaN; every weight and bias must be finite"),
    ("Inf in JSON string", json.dumps({"W1": [[1.0, "inf"]], "b1": [0, 0]}), "W1[0, 1] is inf"),
    ("overflowing literal", json.dumps({"W1": [["1e400"]], "b1": [0]}), "W1[0, 0] is 1e400, which overflows float64"),
    ("non-numeric string", json.dumps({"W1": [["zero"]], "b1": [0]}), "W1[0, 0]: 'zero' is not a number"),
    ("unknown activation", json.dumps({"layers": [dict(LAYER, activation="sigmoidd")]}),
     "unknown activation 'sigmoidd'; expected one of identity, sigmoid, relu, step, tanh, softmax"),
    ("softmax in a hidden layer", json.dumps({"layers": [dict(LAYER, activation="softmax"), LAYER]}),
     "layer 1 is a hidden layer with softmax"),
    ("empty network (layers)", json.dumps({"layers": []}), "\"layers\" must be a non-empty list"),
    ("empty network (dict)", "{}", "holds no W1/b1 arrays: the network is empty"),
    ("missing bias", json.dumps({"W1": [[1.0]]}), "key b1 is missing"),
    ("duplicate key", '{"W1": [[1]], "b1": [0], "b1": [1]}', "key 'b1' appears twice"),
    ("non-UTF-8", b'{"W1": [[1]], "b1": [0], "name": "\xff"}', "is not UTF-8 text"),
    ("foreign pickle global", b"\x80\x03cbuiltins\neval\nq\x00.", "refused: the pickle references builtins.eval"),
]


@pytest.mark.parametrize(("case", "content", "message"), BAD_WEIGHTS, ids=[c[0] for c in BAD_WEIGHTS])
def test_bad_weights_give_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, content: object, message: str
) -> None:
    if content is None:
        path = str(tmp_path / "nope.json")
    else:
        data = content() if callable(content) else content
        path = _write(tmp_path, "weights.bin", data)  # type: ignore[arg-type]
    code, out, err = run(capsys, "forward", "--weights", path, "--x", "1,2")
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert path in err and message in err


def test_a_pickle_that_would_run_os_system_is_refused_and_the_file_never_appears(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "created-by-pickle"
    path = _write(tmp_path, "evil.pkl", _evil_pickle(marker))
    code, _, err = run(capsys, "forward", "--weights", path)
    assert code == 2 and "refused: the pickle references os.system" in err
    assert not marker.exists()
    # The payload is real: plain pickle would have run it.
    pickle.loads(Path(path).read_bytes())
    assert marker.exists()


BAD_ARGS = [
    (["forward", "--x", "1,2,3"], "gives 3 values per input but the network takes 2"),
    (["forward", "--x", "1,abc"], "'abc' is not a number"),
    (["forward", "--activations", "sigmoid,relu"], "2 activations given (sigmoid, relu) but the network has 3 layers"),
    (["forward", "--activations", "sigmoid,,identity"], "has an empty name"),
    (["forward", "--weights", "book-mnist"], "the network takes 784 inputs and none were given"),
    (["forward", "--weights", "book-mnist", "--samples", "100000", "--max-inputs", "1000"], "raise it with --max-inputs 78400000"),
    (["forward", "--weights", "book-mnist", "--max-params", "10"], "raise it with --max-params 45360"),
    (["forward", "--dtype", "float16"], "invalid choice: 'float16'"),
    (["forward", "--bogus"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_arguments_give_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_inputs_file_of_the_wrong_width_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, "x.csv", "1,2,3\n4,5,6\n")
    code, _, err = run(capsys, "forward", "--inputs", path)
    assert code == 2 and f"{path}: gives 3 values in its first input but the network takes 2" in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "forward", "--weights", "/nonexistent/w.json", "--debug")
    assert code == 2 and "Traceback" in err


def test_python_m_and_console_script_run(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "nnverify", "forward"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == BOOK_OUTPUT
    bad = subprocess.run([sys.executable, "-m", "nnverify", "forward", "--weights", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "is a folder" in bad.stderr
