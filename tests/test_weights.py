"""Weight files: every format round-trips; the book's pickle loads safely and stays float32."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnverify import Activation, Layer, Network, book_network, load_network, save_network
from nnverify.errors import LimitError, WeightsFileError
from nnverify.limits import Limits
from nnverify.weights import detect_format, network_bytes, read_network_bytes

DATA = Path(__file__).resolve().parents[1] / "nnverify" / "data"


def _same(a: Network, b: Network) -> None:
    assert a.activations == b.activations
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert la.W.dtype == lb.W.dtype and la.W.shape == lb.W.shape
        assert np.array_equal(la.W.view(np.uint8), lb.W.view(np.uint8))  # bit for bit, -0.0 too
        assert np.array_equal(la.b.view(np.uint8), lb.b.view(np.uint8))


def test_shipped_book_pickle_loads_as_float32_784_50_100_10() -> None:
    net = load_network("book-mnist")
    assert net.sizes == (784, 50, 100, 10)
    assert net.dtype == np.float32
    assert net.activations == (Activation.SIGMOID, Activation.SIGMOID, Activation.SOFTMAX)
    by_path = load_network(DATA / "sample_weight.pkl")  # recognised by content (tests/test_domains.py)
    assert by_path.activations == net.activations and by_path.domain == net.domain == (0.0, 1.0)
    _same(net, by_path)


def test_shipped_pickle_carries_its_licence() -> None:
    text = (DATA / "LICENSE-sample_weight.txt").read_text()
    assert "Copyright (c) 2016 Koki Saitoh" in text and "MIT" in text


@pytest.mark.parametrize("fmt", ["json", "json-book", "npz"])
@pytest.mark.parametrize("source", ["book", "book-mnist", "odd"])
def test_every_format_round_trips_bit_for_bit(tmp_path: Path, fmt: str, source: str) -> None:
    if source == "odd":
        W = np.array([[-0.0, 5e-324], [1.7976931348623157e308, -1 / 3]])
        net = Network((Layer(W, np.array([0.1, -2.5e-8]), "tanh"), Layer(np.ones((2, 1)), np.zeros(1), "step")))
    else:
        net = load_network(source)
    path = tmp_path / ("w.npz" if fmt == "npz" else "w.json")
    save_network(net, path, fmt)
    back = load_network(path)
    _same(net, back)
    if fmt != "npz" and net.has_text:
        assert back.layers[0].W_text == net.layers[0].W_text


def test_json_keeps_the_literal_text_of_every_number(tmp_path: Path) -> None:
    doc = {"layers": [{"W": [["0.1", 0.3], ["1/3", 2e-3]], "b": [0, "-0.5"], "activation": "relu"}]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(doc))
    net = load_network(path)
    assert net.layers[0].W_text == (("0.1", "0.3"), ("1/3", "0.002"))
    assert net.layers[0].b_text == ("0", "-0.5")
    assert net.layers[0].W[1, 0] == 1 / 3
    assert net.activations == (Activation.RELU,)


def test_json_float32_values_are_rounded_once_from_the_literal(tmp_path: Path) -> None:
    # 1 + 2^-24 + 2^-60 rounds up to 1 + 2^-23 in float32 directly, but via float64 it would
    # first lose the 2^-60 and then tie to even, giving 1.0: a double rounding.
    literal = "1.000000059604644775390625000000000867361737988403547205962240695953369140625"
    doc = {"dtype": "float32", "layers": [{"W": [[literal]], "b": ["0"], "activation": "identity"}]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(doc))
    W = load_network(path).layers[0].W
    assert W.dtype == np.float32 and W[0, 0] == np.float32(1 + 2**-23)


def test_book_dict_json_takes_activations_from_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"W1": [[1, 2]], "b1": [0, 0], "W2": [[1], [1]], "b2": [0]}))
    assert load_network(path).activations == (Activation.SIGMOID, Activation.IDENTITY)
    assert load_network(path, activations=["tanh", "sigmoid"]).activations == (Activation.TANH, Activation.SIGMOID)


def test_format_is_chosen_by_content_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"  # really an NPZ
    path.write_bytes(network_bytes(book_network(), "npz"))
    assert detect_format(path.read_bytes()) == "npz"
    assert load_network(path).sizes == (2, 3, 2, 2)


def test_npz_declaring_absurd_sizes_is_refused_before_allocating(tmp_path: Path) -> None:
    # An .npy header declaring 10^12 float64 values (8 TB) but carrying no data.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("W1.npy", _npy_bytes_with_header((10**6, 10**6)))
        zf.writestr("b1.npy", _npy_bytes_with_header((10**6,)))
    path = tmp_path / "huge.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(LimitError, match=r"declares 1,000,001,000,000 weights and biases, above the limit of 20,000,000; raise it with --max-params"):
        load_network(path)


def _npy_bytes_with_header(shape: tuple[int, ...]) -> bytes:
    """Only the .npy header (magic included): the shape is declared, no data follows."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return out.getvalue()


def test_limits_can_be_raised() -> None:
    with pytest.raises(LimitError, match="--max-params 45360"):
        load_network("book-mnist", limits=Limits(max_params=1000))


def test_pickle_referencing_os_system_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):  # noqa: ANN204
            import os

            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps({"W1": Evil()}, protocol=3)
    with pytest.raises(WeightsFileError, match=r"refused: the pickle references posix\.system"):
        read_network_bytes(payload, "evil.pkl")
    assert not marker.exists()


def test_foreign_class_in_pickle_is_refused_before_import(tmp_path: Path) -> None:
    payload = b"\x80\x03cnot_a_real_module_xyz\nthing\nq\x00."
    with pytest.raises(WeightsFileError, match="not_a_real_module_xyz.thing"):
        read_network_bytes(payload, "x.pkl")
