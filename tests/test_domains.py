"""Input domains on networks (JSON key, NPZ entry, book-mnist) and the book's pickle recognised by content."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from nnverify import Activation, Layer, Network, book_network, load_network, save_network
from nnverify.cli import main
from nnverify.errors import NetworkError, WeightsFileError
from nnverify.weights import network_bytes
from nnverify.weights.known import BOOK_MNIST, arrays_digest, recognise

DATA = Path(__file__).resolve().parents[1] / "nnverify" / "data"
PKL = DATA / "sample_weight.pkl"
SOFTMAX_NET = (Activation.SIGMOID, Activation.SIGMOID, Activation.SOFTMAX)


def test_book_mnist_knows_its_domain_and_book_keeps_none() -> None:
    assert load_network("book-mnist").domain == (0.0, 1.0)
    assert load_network("book").domain is None


def test_domain_survives_dtype_and_activation_changes() -> None:
    net = book_network().with_domain((-1.0, 2.5))
    assert net.astype(np.float32).domain == (-1.0, 2.5)
    assert net.with_activations(["relu", "relu", "identity"]).domain == (-1.0, 2.5)
    assert net.with_domain(None).domain is None


@pytest.mark.parametrize("domain", [(1.0, 0.0), (0.0, 0.0), (0.0, float("inf")), (float("nan"), 1.0),
                                    (0, 1, 2), "01", (True, 2), 5])
def test_a_bad_domain_is_a_one_line_error(domain: object) -> None:
    with pytest.raises(NetworkError, match=r"is not an input interval; give two finite numbers low < high"):
        Network(book_network().layers, domain=domain)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["json", "json-book", "npz"])
def test_every_written_format_keeps_the_domain(tmp_path: Path, fmt: str) -> None:
    net = book_network().with_domain((-0.5, 0.75))
    path = tmp_path / ("w.npz" if fmt == "npz" else "w.json")
    save_network(net, path, fmt)
    assert load_network(path).domain == (-0.5, 0.75)
    save_network(book_network(), path, fmt)
    assert load_network(path).domain is None


def test_a_json_domain_is_read_in_either_layout(tmp_path: Path) -> None:
    doc = json.loads(network_bytes(book_network(), "json"))
    path = tmp_path / "w.json"
    doc["domain"] = [0, 1]
    path.write_text(json.dumps(doc))
    assert load_network(path).domain == (0.0, 1.0)


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ('"[0, 1]"', '"domain" is "[0, 1]"; expected two numbers [low, high], e.g. [0, 1]'),
        ("[0]", "expected two numbers [low, high]"),
        ('[0, "1"]', "expected two numbers [low, high]"),
        ("[1, 0]", "is not an input interval; give two finite numbers low < high"),
        ("[0, 1e999]", "is not an input interval"),
    ],
)
def test_a_bad_json_domain_names_the_key(tmp_path: Path, domain: str, message: str) -> None:
    text = network_bytes(book_network(), "json").decode()
    path = tmp_path / "w.json"
    path.write_text(text.replace('"dtype"', f'"domain": {domain}, "dtype"', 1))
    with pytest.raises(WeightsFileError) as err:
        load_network(path)
    assert "key 'domain'" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize(("value", "message"), [(np.array([0.0, 1.0, 2.0]), "expected [low, high], shape (2,)"),
                                                (np.array(["0", "1"]), "expected two numbers [low, high]"),
                                                (np.array([1.0, 0.0]), "is not an input interval")])
def test_a_bad_npz_domain_names_the_key(tmp_path: Path, value: np.ndarray, message: str) -> None:
    arrays = book_network().to_book_dict()
    path = tmp_path / "w.npz"
    np.savez(path, domain=value, **arrays)  # type: ignore[arg-type]
    with pytest.raises(WeightsFileError) as err:
        load_network(path)
    assert "key 'domain'" in str(err.value) and message in str(err.value)


# -- the book's pickle recognised by content --------------------------------------------------

def _book_arrays() -> dict[str, np.ndarray]:
    return load_network("book-mnist").to_book_dict()


def test_the_books_pickle_by_path_behaves_as_book_mnist() -> None:
    net = load_network(PKL)
    assert net.activations == SOFTMAX_NET and net.domain == (0.0, 1.0)
    assert recognise(net) is BOOK_MNIST


def test_recognition_is_by_content_not_name(tmp_path: Path) -> None:
    renamed = tmp_path / "my_weights.bin"
    renamed.write_bytes(PKL.read_bytes())
    assert load_network(renamed).activations == SOFTMAX_NET
    npz = tmp_path / "w.npz"
    np.savez(npz, **_book_arrays())  # type: ignore[arg-type]  # the book's dict, no activations stored
    assert load_network(npz).activations == SOFTMAX_NET and load_network(npz).domain == (0.0, 1.0)


def test_one_changed_weight_is_not_the_books_network(tmp_path: Path) -> None:
    arrays = _book_arrays()
    arrays["W2"][3, 4] = np.nextafter(arrays["W2"][3, 4], np.float32(1))
    path = tmp_path / "sample_weight.pkl"  # the book's own file name: not enough
    path.write_bytes(pickle.dumps(arrays, protocol=3))
    net = load_network(path)
    assert net.activations[-1] is Activation.IDENTITY and net.domain is None and recognise(net) is None
    assert arrays_digest(arrays) != BOOK_MNIST.digest


def test_given_or_stored_activations_win_but_the_domain_is_still_known(tmp_path: Path) -> None:
    net = load_network(PKL, activations=["sigmoid", "sigmoid", "identity"])
    assert net.activations[-1] is Activation.IDENTITY and net.domain == (0.0, 1.0)
    path = tmp_path / "w.npz"
    save_network(net.with_domain(None), path)  # stores activations (identity) and no domain
    back = load_network(path)
    assert back.activations[-1] is Activation.IDENTITY and back.domain == (0.0, 1.0)


def test_recognise_ignores_float64_copies_and_other_networks() -> None:
    assert recognise(load_network("book-mnist").astype(np.float64)) is None
    assert recognise(book_network()) is None
    big_other = Network((Layer(np.zeros((784, 50), np.float32), np.zeros(50, np.float32)),
                         Layer(np.zeros((50, 100), np.float32), np.zeros(100, np.float32)),
                         Layer(np.zeros((100, 10), np.float32), np.zeros(10, np.float32))))
    assert recognise(big_other) is None


def test_the_cli_says_when_it_recognised_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["forward", "--weights", str(PKL), "--inputs", "mnist-digits", "--first", "1"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.startswith(f"nnverify forward: note: {PKL} holds the book's trained MNIST weights")
    assert "recognised by content: using sigmoid -> sigmoid -> softmax and input domain [0, 1]" in err
    main(["forward", "--weights", "book-mnist", "--inputs", "mnist-digits", "--first", "1"])
    assert capsys.readouterr().err == ""  # the built-in name needs no note


# -- the domain as the default input range, and the hint --------------------------------------

@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parents[1])  # the examples/ paths below are the README's

def _lines(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[str], str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_check_samples_come_from_the_domain_and_a_header_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _lines(capsys, ["check", "--weights", "book-mnist", "--samples", "3"])
    assert out[3] == "inputs: 3 drawn uniformly from [0, 1) with seed 0 (the network's input domain [0, 1])"
    _, out, _ = _lines(capsys, ["check", "--samples", "3"])
    assert out[3] == "inputs: 3 drawn uniformly from [0, 1) with seed 0 (the default; the network declares no input domain)"
    _, out, _ = _lines(capsys, ["check", "--weights", "book-mnist", "--samples", "3", "--low", "0.25"])
    assert out[3] == "inputs: 3 drawn uniformly from [0.25, 1) with seed 0 (--low/--high)"


def test_test_draws_from_the_domain_and_the_reproduce_command_names_only_given_ranges(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, out, _ = _lines(capsys, ["test", "--weights", "book-mnist", "--only", "agreement", "--examples", "3"])
    assert out[3] == "inputs: every value in [0, 1] (the network's input domain)"
    net = book_network().with_domain((-2.0, 3.5))
    path = tmp_path / "w.json"
    save_network(net, path)
    code, out, _ = _lines(capsys, ["test", "--weights", str(path), "--only", "agreement", "--examples", "3", "--json"])
    doc = json.loads("\n".join(out))
    assert code == 0 and all(-2.0 <= v <= 3.5 for v in doc["properties"][0]["worst"]["input"])
    _, out, _ = _lines(capsys, ["test", "--impl", "examples/broken_missing_bias.py:forward", "--only", "agreement",
                                "--examples", "5", "--high", "2"])
    assert out[3] == "inputs: every value in [-10, 2] (--low/--high)"
    reproduce = [line for line in out if "reproduce:" in line][0]
    assert reproduce.endswith("--impl examples/broken_missing_bias.py:forward --high 2.0") and "--low" not in reproduce


def test_the_books_predict_passes_on_the_pickle_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _lines(capsys, ["test", "--weights", str(PKL), "--impl", "examples/ch03_mnist.py:predict",
                                     "--examples", "5"])
    assert code == 0 and "recognised by content" in err
    assert "8 properties: 4 passed, 0 failed, 4 skipped" in out


def test_a_softmax_forward_under_an_identity_output_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _lines(capsys, ["test", "--weights", str(PKL), "--activations", "sigmoid,sigmoid,identity",
                                   "--impl", "examples/ch03_mnist.py:predict", "--only", "agreement", "--examples", "5"])
    assert code == 1
    assert out[-1] == ("hint: your forward's outputs look like probabilities (in [0, 1], summing to 1) but the "
                       "network's output layer is identity; if your code ends in softmax, add --activations "
                       "sigmoid,sigmoid,softmax")
    code, out, _ = _lines(capsys, ["test", "--impl", "examples/broken_missing_bias.py:forward", "--only", "agreement",
                                   "--examples", "5"])
    assert code == 1 and not any(line.startswith("hint:") for line in out)  # wrong, but not probabilities
